"""host.domains and vm.refresh below RQ with a fake run_playbook, and the sweep queuing them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import AuditLog, Baremetal, HostState, Job, JobKind, JobStatus, VMStatus
from api.services import libvirt_state
from api.settings import Settings
from jobs import base, reconcile
from jobs import hosts as host_jobs
from jobs.runner import PlaybookRun
from tests.conftest import Factory
from tests.helpers.libvirt_domains import add_vm, domain, domains_events
from tests.helpers.runner_fakes import FakeRunner, event


@pytest.fixture
def host(make: Factory) -> Baremetal:
    return make.baremetal("bm-a")


def test_host_domains_job_reconciles_the_vms_with_the_report(
    db: Session, make: Factory, host: Baremetal, runner: FakeRunner
) -> None:
    tenant = make.tenant()
    stopped_by_ops = add_vm(db, tenant, host, VMStatus.RUNNING, "web")
    undefined_by_ops = add_vm(db, tenant, host, VMStatus.STOPPED, "db")
    stranger = {
        "name": "ops-vm",
        "uuid": "0b5e55ed-0000-4000-8000-000000000001",
        "state": "running",
        "vcpus": 2,
        "ram_mb": 1024,
    }
    runner.events = domains_events("bm-a", [domain(stopped_by_ops, "shutoff"), stranger])
    job = libvirt_state.request_host_check(db, host)
    assert host_jobs.domains(str(job.id)) == "successful"
    db.expire_all()
    assert (job.status, job.worker) == (JobStatus.SUCCESSFUL, base.worker_identity())
    assert job.artifacts["virtflow_domains"]["host"] == "bm-a"
    assert runner.runs == [PlaybookRun(str(job.id), "host_domains.yml", "bm-a", {})]
    assert stopped_by_ops.status == VMStatus.STOPPED
    assert (undefined_by_ops.status, undefined_by_ops.status_reason) == (
        VMStatus.ERROR,
        "domain missing on host bm-a",
    )
    assert host.unmanaged_domains == [stranger]
    rows = db.scalars(select(AuditLog).where(AuditLog.outcome == "out_of_band"))
    assert sorted(r.object_id for r in rows) == sorted(
        [str(stopped_by_ops.id), str(undefined_by_ops.id)]
    )


def test_host_domains_job_that_fails_changes_no_vm(
    db: Session, make: Factory, host: Baremetal, runner: FakeRunner
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    gone = {"msg": "Failed to connect to the host via ssh", "unreachable": True}
    runner.events = [event(1, "runner_on_unreachable", task="List", host="bm-a", res=gone)]
    runner.status, runner.rc = "failed", 4
    job = libvirt_state.request_host_check(db, host)
    assert host_jobs.domains(str(job.id)) == "failed"
    db.expire_all()
    assert (vm.status, host.domains_checked_at) == (VMStatus.RUNNING, None)


def test_host_domains_job_without_a_report_changes_no_vm(
    db: Session, make: Factory, host: Baremetal, runner: FakeRunner
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    runner.events = [event(1, "playbook_on_start"), event(2, "playbook_on_stats")]
    job = libvirt_state.request_host_check(db, host)
    assert host_jobs.domains(str(job.id)) == "successful"
    db.expire_all()
    assert vm.status == VMStatus.RUNNING  # an empty listing is not "every domain is missing"


def test_vm_refresh_job_brings_an_error_vm_back_to_its_real_state(
    db: Session, make: Factory, host: Baremetal, runner: FakeRunner
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")
    job = libvirt_state.request_refresh(db, make.user(is_admin=True), vm.id, "r-9")
    runner.events = domains_events("bm-a", [domain(vm, "running")])
    assert host_jobs.domains(str(job.id)) == "successful"
    db.expire_all()
    assert (vm.status, vm.status_reason) == (VMStatus.RUNNING, None)
    # Read-only: the run carries no vm_id, so it never reaps the playbook of the VM's jobs.
    assert runner.runs[0].vm_id is None
    assert runner.runs[0].extravars == {"virtflow_domain_uuids": [str(vm.id)]}


def test_vm_refresh_job_crash_leaves_the_vm_as_it_was(
    db: Session, make: Factory, host: Baremetal, runner: FakeRunner
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")
    vm.status_reason = "the first reason"
    job = libvirt_state.request_refresh(db, make.user(is_admin=True), vm.id, None)
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError):
        host_jobs.domains(str(job.id))
    db.expire_all()
    assert job.status == JobStatus.ERROR
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, "the first reason")


def test_host_domains_job_crash_leaves_a_preparing_host_preparing(
    db: Session, host: Baremetal, runner: FakeRunner
) -> None:
    job = libvirt_state.request_host_check(db, host)
    host.state = HostState.PREPARING
    db.flush()
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError):
        host_jobs.domains(str(job.id))
    db.expire_all()
    assert host.state == HostState.PREPARING


def test_sweep_queues_one_domain_check_per_due_host(
    db: Session, make: Factory, redis: Redis, settings: Settings
) -> None:
    make.baremetal("bm-a")
    make.baremetal("bm-b")
    make.baremetal("bm-new", state=HostState.NEW)
    assert reconcile.sweep()["domain_checks"] == 2
    checks = list(db.scalars(select(Job).where(Job.kind == JobKind.HOST_DOMAINS)))
    assert sorted(j.limit for j in checks) == ["bm-a", "bm-b"]
    queued = Queue(settings.queue_name, connection=redis).job_ids
    assert {str(j.id) for j in checks} <= set(queued)
    assert reconcile.sweep()["domain_checks"] == 0  # one in flight per host


def test_sweep_queues_a_new_check_once_the_last_is_older_than_the_interval(
    db: Session, make: Factory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = make.baremetal("bm-a")
    last = libvirt_state.request_host_check(db, host)
    last.status = JobStatus.SUCCESSFUL
    last.created_at = utcnow() - dt.timedelta(seconds=30)
    db.flush()
    assert reconcile.sweep()["domain_checks"] == 0
    quick = dataclasses.replace(settings, domain_check_interval_seconds=20)
    monkeypatch.setattr(base, "settings", lambda: quick)
    assert reconcile.sweep()["domain_checks"] == 1
