"""Snapshots through the service: requests, quota, permissions, and what each end of a job does."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import (
    InvalidState,
    NameTaken,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ResourceBusy,
    TenantNotEmpty,
)
from api.models import (
    VM,
    Job,
    JobStatus,
    Snapshot,
    SnapshotStatus,
    Tenant,
    User,
    VMStatus,
)
from api.services import force_delete, jobs, outcomes, quotas, snapshots, tenants, vms
from tests.conftest import Factory
from tests.helpers.snapshots import ready_snapshot
from tests.helpers.vm_jobs import queued_refresh


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    make.baremetal("bm-1")
    return make.tenant()


def vm_in(db: Session, admin: User, tenant: Tenant, status: VMStatus, name: str = "web") -> VM:
    """A VM whose create job has finished, left in the given status."""
    job = vms.create_vm(db, admin, vms.VMRequest(tenant.id, name, 1, 64, 1), None)
    job.status = JobStatus.SUCCESSFUL
    vm = db.get_one(VM, job.vm_id)
    vm.status = status
    db.flush()
    return vm


def take(db: Session, user: User, vm: VM, name: str = "snap-1") -> snapshots.Queued:
    return snapshots.request_create(db, user, vm.id, name, "before the upgrade", request_id="r-1")


def finish(db: Session, job: Job, outcome: outcomes.Outcome, report: dict[str, str]) -> None:
    """The job ran and ended with outcome, its playbook having reported report."""
    job.started_at = utcnow()
    job.status = JobStatus.SUCCESSFUL if outcome == "succeeded" else JobStatus.FAILED
    job.explanation = None if outcome == "succeeded" else "task 'Take the snapshots' failed"
    outcomes.ended(db, job, db.get_one(VM, job.vm_id), outcome, report)


@pytest.mark.parametrize("status", [VMStatus.RUNNING, VMStatus.STOPPED])
def test_snapshot_request_queues_a_take_and_the_vm_shows_snapshotting(
    db: Session, admin: User, tenant: Tenant, status: VMStatus
) -> None:
    vm = vm_in(db, admin, tenant, status)
    done = take(db, admin, vm)
    snap, job = done.snapshot, done.job
    assert (snap.status, snap.name, snap.description) == (
        SnapshotStatus.CREATING,
        "snap-1",
        "before the upgrade",
    )
    assert (snap.tenant_id, snap.vm_id, snap.created_by_id) == (tenant.id, vm.id, admin.id)
    assert (vm.status, done.before, done.after) == (VMStatus.SNAPSHOTTING, status, "snapshotting")
    assert (job.kind, job.status, job.playbook) == ("vm.snapshot", "queued", "vm_snapshot.yml")
    assert (job.snapshot_id, job.prior_status, job.request_id) == (snap.id, status, "r-1")
    assert job.extravars == {
        "virtflow_guests": [{"name": vm.domain_name, "uuid": str(vm.id), "snapshot": "snap-1"}]
    }
    db.expire_all()
    assert db.get_one(Snapshot, snap.id).job_id == job.id


def test_snapshot_name_is_unique_among_the_vms_live_snapshots(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    other = vm_in(db, admin, tenant, VMStatus.RUNNING, "db")
    old = ready_snapshot(db, vm, "snap-1")
    with pytest.raises(NameTaken) as taken:
        take(db, admin, vm)
    assert taken.value.details == {"field": "name"}
    assert vm.status == VMStatus.RUNNING
    assert take(db, admin, other).snapshot.name == "snap-1"  # another VM's name space
    old.status = SnapshotStatus.DELETED
    db.flush()
    vm.status = VMStatus.RUNNING
    assert take(db, admin, vm).snapshot.status == SnapshotStatus.CREATING


def test_snapshot_quota_counts_every_snapshot_not_deleted(
    db: Session, admin: User, make: Factory
) -> None:
    make.baremetal("bm-1")
    tenant = make.tenant(quota={"snapshots": 2})
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    ready_snapshot(db, vm, "a")
    failed = ready_snapshot(db, vm, "b")
    failed.status = SnapshotStatus.ERROR
    gone = ready_snapshot(db, vm, "c")
    gone.status = SnapshotStatus.DELETED
    db.flush()
    assert quotas.usage(db, tenant.id).snapshots == 2
    [(limit, used)] = quotas.usage_by_tenant(db, [tenant.id], quotas.DEFAULTS).values()
    assert (limit.snapshots, used.snapshots, used.vms) == (2, 2, 1)
    with pytest.raises(QuotaExceeded) as over:
        take(db, admin, vm, "d")
    assert over.value.details["exceeded"] == [
        {"resource": "snapshots", "requested": 1, "used": 2, "limit": 2}
    ]
    assert db.scalar(select(Snapshot).where(Snapshot.name == "d")) is None
    failed.status = SnapshotStatus.DELETED
    db.flush()
    assert take(db, admin, vm, "d").snapshot.status == SnapshotStatus.CREATING
    assert quotas.usage(db, tenant.id).snapshots == 2


def test_snapshot_request_refused_while_another_job_of_the_vm_is_unfinished(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    queued_refresh(db, vm)
    for act in (
        lambda: take(db, admin, vm, "snap-2"),
        lambda: snapshots.request_delete(db, admin, vm.id, snap.id, None),
        lambda: snapshots.request_revert(db, admin, vm.id, snap.id, None),
    ):
        with pytest.raises(ResourceBusy):
            act()
    assert (vm.status, snap.status) == (VMStatus.RUNNING, SnapshotStatus.READY)


def test_snapshot_request_refusal_names_the_operation_in_flight(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    take(db, admin, vm)
    with pytest.raises(InvalidState) as refused:
        take(db, admin, vm, "snap-2")
    assert refused.value.detail_message == (
        "cannot snapshot VM web while it is snapshotting (a vm.snapshot job is in flight); "
        "it must be running or stopped"
    )


@pytest.mark.parametrize("status", [SnapshotStatus.CREATING, SnapshotStatus.DELETING])
def test_snapshot_delete_and_revert_need_a_settled_snapshot(
    db: Session, admin: User, tenant: Tenant, status: SnapshotStatus
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.STOPPED)
    snap = ready_snapshot(db, vm)
    snap.status = status
    db.flush()
    with pytest.raises(InvalidState) as refused:
        snapshots.request_delete(db, admin, vm.id, snap.id, None)
    assert refused.value.detail_message == (
        f"cannot delete snapshot snap-1 while it is {status}; it must be error or ready"
    )
    with pytest.raises(InvalidState) as refused:
        snapshots.request_revert(db, admin, vm.id, snap.id, None)
    assert refused.value.details == {"snapshot_status": status}
    assert vm.status == VMStatus.STOPPED


def test_snapshot_in_error_can_be_deleted_but_not_reverted_to(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    snap.status, snap.status_reason = SnapshotStatus.ERROR, "its take job did not succeed"
    db.flush()
    with pytest.raises(InvalidState):
        snapshots.request_revert(db, admin, vm.id, snap.id, None)
    done = snapshots.request_delete(db, admin, vm.id, snap.id, None)
    assert (snap.status, snap.status_reason) == (SnapshotStatus.DELETING, None)
    assert (done.job.kind, done.job.snapshot_id) == ("vm.snapshot_delete", snap.id)
    assert vm.status == VMStatus.SNAPSHOTTING


def test_snapshot_permissions_follow_the_vm(
    db: Session, admin: User, tenant: Tenant, make: Factory
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    viewer, outsider = make.user(), make.user()
    make.member(viewer, tenant, "viewer")
    assert list(db.scalars(snapshots.snapshots_query(db, viewer, vm.id))) == [snap]
    assert snapshots.get_snapshot(db, viewer, vm.id, snap.id, snapshots.Perm.VM_VIEW) is snap
    for act in (
        lambda: take(db, viewer, vm, "snap-2"),
        lambda: snapshots.request_delete(db, viewer, vm.id, snap.id, None),
        lambda: snapshots.request_revert(db, viewer, vm.id, snap.id, None),
    ):
        with pytest.raises(PermissionDenied):
            act()
    for act in (
        lambda: snapshots.snapshots_query(db, outsider, vm.id),
        lambda: take(db, outsider, vm, "snap-2"),
        lambda: snapshots.request_revert(db, outsider, vm.id, snap.id, None),
    ):
        with pytest.raises(NotFound):
            act()
    assert vm.status == VMStatus.RUNNING


def test_snapshot_of_another_vm_is_not_found(db: Session, admin: User, tenant: Tenant) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    other = vm_in(db, admin, tenant, VMStatus.RUNNING, "db")
    snap = ready_snapshot(db, other)
    with pytest.raises(NotFound):
        snapshots.request_revert(db, admin, vm.id, snap.id, None)
    with pytest.raises(NotFound):
        snapshots.get_snapshot(db, admin, vm.id, uuid.uuid4(), snapshots.Perm.VM_VIEW)


def test_snapshot_list_leaves_deleted_ones_out_unless_asked(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    live, gone = ready_snapshot(db, vm, "a"), ready_snapshot(db, vm, "b")
    gone.status = SnapshotStatus.DELETED
    db.flush()
    assert list(db.scalars(snapshots.snapshots_query(db, admin, vm.id))) == [live]
    assert list(db.scalars(snapshots.snapshots_query(db, admin, vm.id, "deleted"))) == [gone]


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_snapshot_take_that_succeeded_is_ready_in_the_state_it_holds(
    db: Session, admin: User, tenant: Tenant, state: str
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    done = take(db, admin, vm)
    finish(db, done.job, outcomes.Outcome.SUCCEEDED, {"state": "running", "snapshot_state": state})
    assert (done.snapshot.status, done.snapshot.power_state) == (SnapshotStatus.READY, state)


def test_snapshot_take_that_failed_is_error_with_the_reason(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    done = take(db, admin, vm)
    finish(db, done.job, outcomes.Outcome.FAILED, {})
    assert done.snapshot.status == SnapshotStatus.ERROR
    assert done.snapshot.status_reason == (
        "its take job did not succeed (task 'Take the snapshots' failed); libvirt may still hold it"
    )
    assert quotas.usage(db, tenant.id).snapshots == 1  # until deleted


def test_snapshot_take_canceled_before_it_ran_never_existed(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.STOPPED)
    done = take(db, admin, vm)
    job, change = vms.cancel_job(db, admin, done.job.id)
    assert change == (VMStatus.SNAPSHOTTING, VMStatus.STOPPED)
    assert (job.status, done.snapshot.status) == (JobStatus.CANCELED, SnapshotStatus.DELETED)
    assert done.snapshot.deleted_at is not None
    assert quotas.usage(db, tenant.id).snapshots == 0
    assert take(db, admin, vm).snapshot.name == "snap-1"  # its name is free again


def test_snapshot_take_canceled_while_it_ran_is_error(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    done = take(db, admin, vm)
    done.job.started_at, done.job.status = utcnow(), JobStatus.CANCELED
    outcomes.ended(db, done.job, vm, outcomes.Outcome.CANCELED, {})
    assert done.snapshot.status == SnapshotStatus.ERROR


def test_snapshot_delete_that_succeeded_is_deleted_and_frees_the_quota(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    done = snapshots.request_delete(db, admin, vm.id, snap.id, None)
    assert (snap.status, done.job.prior_status) == (SnapshotStatus.DELETING, "running")
    assert quotas.usage(db, tenant.id).snapshots == 1
    finish(db, done.job, outcomes.Outcome.SUCCEEDED, {"state": "running"})
    assert snap.status == SnapshotStatus.DELETED and snap.deleted_at is not None
    assert quotas.usage(db, tenant.id).snapshots == 0


def test_snapshot_delete_canceled_before_it_ran_is_ready_again(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm, power_state="stopped")
    done = snapshots.request_delete(db, admin, vm.id, snap.id, None)
    vms.cancel_job(db, admin, done.job.id)
    assert (vm.status, snap.status, snap.power_state) == (
        VMStatus.RUNNING,
        SnapshotStatus.READY,
        "stopped",
    )


def test_snapshot_delete_that_failed_is_error(db: Session, admin: User, tenant: Tenant) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    done = snapshots.request_delete(db, admin, vm.id, snap.id, None)
    finish(db, done.job, outcomes.Outcome.FAILED, {"state": "running"})
    assert snap.status == SnapshotStatus.ERROR
    assert snap.status_reason is not None and snap.status_reason.startswith(
        "its delete job did not succeed"
    )


@pytest.mark.parametrize("outcome", list(outcomes.Outcome))
def test_snapshot_revert_leaves_its_snapshot_ready(
    db: Session, admin: User, tenant: Tenant, outcome: outcomes.Outcome
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.STOPPED)
    snap = ready_snapshot(db, vm, power_state="running")
    done = snapshots.request_revert(db, admin, vm.id, snap.id, "r-2")
    assert (vm.status, done.job.kind, done.job.playbook) == (
        VMStatus.REVERTING,
        "vm.revert",
        "vm_revert.yml",
    )
    assert done.job.extravars["virtflow_guests"][0]["snapshot"] == "snap-1"
    finish(db, done.job, outcome, {"state": "running"})
    assert (snap.status, snap.power_state) == (SnapshotStatus.READY, "running")


def test_snapshot_take_queued_when_the_vm_is_deleted_is_canceled_and_gone(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    done = take(db, admin, vm)
    delete = vms.request_delete(db, admin, vm.id, None)
    assert delete is not None and done.job.status == JobStatus.CANCELED
    assert done.snapshot.status == SnapshotStatus.DELETED
    assert vm.status == VMStatus.DELETING


def test_snapshot_rows_are_deleted_with_their_vm(db: Session, admin: User, tenant: Tenant) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.STOPPED)
    a, b = ready_snapshot(db, vm, "a"), ready_snapshot(db, vm, "b")
    b.status = SnapshotStatus.ERROR
    other = ready_snapshot(db, vm_in(db, admin, tenant, VMStatus.STOPPED, "db"))
    snapshots.vm_deleted(db, vm)
    assert [s.status for s in (a, b, other)] == ["deleted", "deleted", "ready"]
    assert a.status_reason == "deleted with VM web"
    assert quotas.usage(db, tenant.id).snapshots == 1


def test_snapshot_rows_are_deleted_by_a_force_delete(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm)
    done = force_delete.force_delete(db, admin, vm.id)
    assert done.vm.status == VMStatus.DELETED
    assert (snap.status, quotas.usage(db, tenant.id).snapshots) == (SnapshotStatus.DELETED, 0)


def test_snapshot_job_queued_blocks_the_tenants_deletion(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.STOPPED)
    done = take(db, admin, vm)
    with pytest.raises(TenantNotEmpty) as blocked:
        tenants.request_delete(db, admin, tenant.id, None)
    assert blocked.value.details["jobs"] == [
        {"id": str(done.job.id), "kind": "vm.snapshot", "status": "queued"}
    ]
    assert db.get_one(Tenant, tenant.id).status == "active"
    # Running, it still blocks; once it has ended, the stopped VM's tenant may go.
    jobs.claim(db, done.job.id, "host:1")
    with pytest.raises(TenantNotEmpty):
        tenants.request_delete(db, admin, tenant.id, None)
    done.job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.STOPPED
    db.flush()
    assert [j.kind for j in tenants.request_delete(db, admin, tenant.id, None)] == ["vm.delete"]
