"""A VM's action history below the HTTP layer: its jobs, hand runs naming it, and the changes
without a job (out of band, force delete), from the rows that already record them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import NotFound
from api.models import VM, AuditOutcome, Baremetal, Job, JobKind, JobStatus, Tenant, User
from api.services import actions, audit, force_delete, libvirt_state, ops_runs, vms
from api.services.actions import Action
from tests.conftest import Factory
from tests.helpers.libvirt_domains import domain, report, started


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def host(make: Factory) -> Baremetal:
    return make.baremetal("bm-1")


@pytest.fixture
def tenant(make: Factory, host: Baremetal) -> Tenant:
    return make.tenant()


def new_vm(db: Session, admin: User, tenant: Tenant, name: str = "web") -> tuple[VM, Job]:
    """A VM as its create job left it: running."""
    job = vms.create_vm(db, admin, vms.VMRequest(tenant.id, name, 1, 64, 1), f"req-{name}")
    ended(db, job, JobStatus.SUCCESSFUL)
    vm = db.get_one(VM, job.vm_id)
    vm.status = "running"
    db.flush()
    return vm, job


def ended(db: Session, job: Job, status: JobStatus, explanation: str | None = None) -> Job:
    """job as a worker leaves it: started, then ended in status."""
    job.started_at = utcnow()
    job.status, job.finished_at, job.explanation = status, utcnow(), explanation
    db.flush()
    return job


def history(db: Session, vm: VM, **filters: Any) -> list[Action]:
    return list(db.scalars(actions.history(vm, **filters)))


def hand_run(db: Session, limit: str, guest: dict[str, str], failed: bool = False) -> Job:
    """A hand run of vm_stop.yml by ops (what the callback plugin records)."""
    begun = utcnow()
    run = ops_runs.OpsRun(
        os_user="carol",
        playbook="vm_stop.yml",
        limit=limit,
        extra_vars={"virtflow_guests": [guest]},
        started_at=begun,
        finished_at=begun + dt.timedelta(seconds=5),
        failed=failed,
        stats={limit: {"ok": 2, "failures": int(failed)}},
        first_failure="task 'Stop' failed on bm-1: boom" if failed else None,
    )
    return ops_runs.record_run(db, run)


def test_history_of_a_vm_lists_its_jobs_newest_first_with_status_times_and_actor(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, create = new_vm(db, admin, tenant)
    stop = vms.request_power(db, admin, vm.id, JobKind.VM_STOP, "req-stop")
    ended(db, stop, JobStatus.FAILED, "task 'Shut down' failed")
    rows = history(db, vm)
    assert [(r.action, r.result, r.job_id) for r in rows] == [
        ("vm.stop", "failed", stop.id),
        ("vm.create", "successful", create.id),
    ]
    first = rows[0]
    assert (first.request_id, first.source, first.message) == (
        "req-stop",
        "api",
        "task 'Shut down' failed",
    )
    assert first.actor == {"id": admin.id, "username": admin.username}
    assert (first.requested_at, first.started_at, first.finished_at) == (
        stop.created_at,
        stop.started_at,
        stop.finished_at,
    )
    assert (first.audit_id, first.status_before, first.status_after) == (None, None, None)


def test_history_leaves_out_other_vms(db: Session, admin: User, tenant: Tenant) -> None:
    vm, create = new_vm(db, admin, tenant, "one")
    new_vm(db, admin, tenant, "two")
    assert [r.job_id for r in history(db, vm)] == [create.id]


def test_history_shows_an_out_of_band_change_the_reconciler_followed(
    db: Session, admin: User, tenant: Tenant, host: Baremetal
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    check = started(db, libvirt_state.request_host_check(db, host))
    parsed = libvirt_state.parse_report(report(host.name, [domain(vm, "shutoff")]))
    assert parsed is not None
    libvirt_state.reconcile(db, check, parsed)
    newest = history(db, vm)[0]
    assert (newest.action, newest.result, newest.source, newest.actor) == (
        "vm.reconcile",
        "out_of_band",
        "reconciler",
        None,
    )
    assert (newest.status_before, newest.status_after) == ("running", "stopped")
    assert (newest.job_id, newest.message) == (check.id, "libvirt reported the domain shutoff")
    assert newest.audit_id is not None


def test_history_of_a_missing_domain_says_why(
    db: Session, admin: User, tenant: Tenant, host: Baremetal
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    check = started(db, libvirt_state.request_host_check(db, host))
    libvirt_state.reconcile(db, check, [])
    newest = history(db, vm)[0]
    assert (newest.status_before, newest.status_after, newest.message) == (
        "running",
        "error",
        f"domain missing on host {host.name}",
    )


def record_request(db: Session, user: User, vm: VM, action: str, **change: Any) -> int:
    """The audit row a successful request on vm leaves (api/web/audit.py writes it so)."""
    entry = audit.Entry(action=action, request_id=f"req-{uuid.uuid4().hex[:8]}")
    entry.actor(user)
    entry.target("vm", vm.id, vm.tenant_id)
    entry.before, entry.after = change.get("before", {}), change.get("after", {})
    return audit.record(db, entry, AuditOutcome.SUCCESS, 200, None).id


def test_history_shows_a_force_delete_without_a_job(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    done = force_delete.force_delete(db, admin, vm.id)
    after = {"status": vm.status, "status_reason": vm.status_reason}
    audit_id = record_request(
        db, admin, vm, "vm.force_delete", before={"status": done.before}, after=after
    )
    newest = history(db, vm)[0]
    assert (newest.action, newest.result, newest.job_id, newest.audit_id) == (
        "vm.force_delete",
        "successful",
        None,
        audit_id,
    )
    assert (newest.status_before, newest.status_after) == ("running", "deleted")
    assert newest.message == vm.status_reason
    assert newest.actor == {"id": admin.id, "username": admin.username}


def test_history_does_not_repeat_a_request_that_made_a_job(
    db: Session, admin: User, tenant: Tenant
) -> None:
    """The audit row of a stop names the same request as its job: the job is the action."""
    vm, create = new_vm(db, admin, tenant)
    stop = vms.request_power(db, admin, vm.id, JobKind.VM_STOP, "req-stop")
    entry = audit.Entry(action="vm.stop", request_id="req-stop")
    entry.target("vm", vm.id, vm.tenant_id)
    audit.record(db, entry, AuditOutcome.SUCCESS, 202, None)
    # A grant on the VM is no operation on it; a refused request did nothing.
    record_request(db, admin, vm, "permission.grant")
    denied = audit.Entry(action="vm.start", request_id="req-denied")
    denied.target("vm", vm.id, vm.tenant_id)
    audit.record(db, denied, AuditOutcome.DENIED, 409, "INVALID_STATE")
    assert [(r.action, r.job_id) for r in history(db, vm)] == [
        ("vm.stop", stop.id),
        ("vm.create", create.id),
    ]


@pytest.mark.parametrize("by", ["uuid", "name"])
def test_history_shows_a_hand_run_that_named_the_vm(
    db: Session, admin: User, tenant: Tenant, host: Baremetal, by: str
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    guest = {"uuid": str(vm.id)} if by == "uuid" else {"name": vm.domain_name}
    run = hand_run(db, host.name, guest, failed=True)
    newest = history(db, vm)[0]
    assert (newest.action, newest.job_id, newest.result, newest.source, newest.actor) == (
        "ops.run",
        run.id,
        "failed",
        "ops:carol",
        None,
    )
    assert (newest.started_at, newest.finished_at) == (run.started_at, run.finished_at)
    assert newest.message == "task 'Stop' failed on bm-1: boom"
    assert newest.audit_id is not None


def test_history_leaves_out_hand_runs_on_other_vms_or_hosts(
    db: Session, make: Factory, admin: User, tenant: Tenant, host: Baremetal
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    other, _ = new_vm(db, admin, tenant, "other")
    make.baremetal("bm-2")
    hand_run(db, host.name, {"uuid": str(other.id), "name": other.domain_name})
    hand_run(db, "bm-2", {"uuid": str(vm.id), "name": vm.domain_name})  # not where the VM is
    hand_run(db, "nowhere", {"uuid": str(vm.id)})  # a host VirtFlow does not know
    assert [r.action for r in history(db, vm)] == ["vm.create"]
    assert [r.action for r in history(db, other)] == ["ops.run", "vm.create"]


def test_history_filters_by_action_and_result(db: Session, admin: User, tenant: Tenant) -> None:
    vm, _ = new_vm(db, admin, tenant)
    stop = vms.request_power(db, admin, vm.id, JobKind.VM_STOP, "req-stop")
    ended(db, stop, JobStatus.SUCCESSFUL)
    vm.status = "stopped"
    start = vms.request_power(db, admin, vm.id, JobKind.VM_START, "req-start")
    ended(db, start, JobStatus.ERROR, "could not run")
    assert [r.job_id for r in history(db, vm, action="vm.start")] == [start.id]
    assert [r.action for r in history(db, vm, result="successful")] == ["vm.stop", "vm.create"]
    assert history(db, vm, action="vm.stop", result="error") == []


def test_vm_history_is_404_for_a_caller_who_cannot_see_the_vm(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    vm, _ = new_vm(db, admin, tenant)
    stranger = make.user()
    with pytest.raises(NotFound):
        actions.vm_history(db, stranger, vm.id)
    with pytest.raises(NotFound):
        actions.vm_history(db, admin, uuid.uuid4())
    viewer = make.user()
    make.member(viewer, tenant, "viewer")
    assert [r.action for r in db.scalars(actions.vm_history(db, viewer, vm.id))] == ["vm.create"]


def test_results_are_the_job_statuses_and_out_of_band() -> None:
    assert set(actions.RESULTS) == {s.value for s in JobStatus} | {"out_of_band"}
