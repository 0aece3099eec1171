"""host.prepare below RQ, with a fake run_playbook: the host ends active, or new with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.models import Baremetal, HostState, Job, JobStatus
from api.services import hosts, libvirt_state
from api.services import vms as vm_service
from jobs import base
from jobs import hosts as host_jobs
from jobs.runner import PlaybookRun
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, event


@pytest.fixture
def preparing(db: Session, make: Factory) -> tuple[Baremetal, Job]:
    host = make.baremetal("bm-new", state=HostState.NEW, prepared_at=None)
    job = hosts.request_prepare(db, host, "r-1")
    db.flush()
    return host, job


def reload(db: Session, *objs: Any) -> None:
    db.expire_all()
    for obj in objs:
        db.refresh(obj)


def test_host_prepare_success_makes_the_host_active(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    runner.events = [event(1, "playbook_on_start"), event(2, "playbook_on_stats")]
    assert host_jobs.prepare(str(job.id)) == "successful"
    reload(db, host, job)
    assert (job.status, job.worker) == (JobStatus.SUCCESSFUL, base.worker_identity())
    assert (host.state, host.state_reason) == (HostState.ACTIVE, None)
    assert host.prepared_at is not None
    assert runner.runs == [PlaybookRun(str(job.id), "host_prepare.yml", "bm-new", {})]


def test_host_prepare_failure_leaves_the_host_new_with_the_reason(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    gone = {"msg": "Failed to connect to the host via ssh", "unreachable": True}
    runner.events = [event(1, "runner_on_unreachable", task="Ping", host="bm-new", res=gone)]
    runner.status, runner.rc = "failed", 4
    assert host_jobs.prepare(str(job.id)) == "failed"
    reload(db, host, job)
    assert (
        job.explanation
        == "task 'Ping' unreachable on bm-new: Failed to connect to the host via ssh"
    )
    assert (host.state, host.state_reason, host.prepared_at) == (
        HostState.NEW,
        job.explanation,
        None,
    )


def test_host_prepare_crash_leaves_the_host_new(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError):
        host_jobs.prepare(str(job.id))
    reload(db, host, job)
    assert job.status == JobStatus.ERROR
    assert (host.state, host.state_reason) == (HostState.NEW, job.explanation)


def test_host_prepare_skips_a_job_no_longer_queued(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    _host, job = preparing
    job.status = JobStatus.CANCELED
    db.flush()
    assert host_jobs.prepare(str(job.id)) == "skipped"
    assert runner.runs == []


def test_host_prepare_canceled_before_it_ran_gives_the_host_back(
    db: Session, make: Factory, preparing: tuple[Baremetal, Job]
) -> None:
    host, job = preparing
    admin = make.user(is_admin=True)
    canceled, change = vm_service.cancel_job(db, admin, job.id)
    reload(db, host)
    assert (canceled.status, change) == (JobStatus.CANCELED, None)
    assert host.state == HostState.NEW  # never prepared before


def test_host_domains_jobs_failing_in_a_row_take_the_host_offline(
    db: Session, make: Factory, runner: FakeRunner
) -> None:
    host = make.baremetal("bm-far")
    gone = {"msg": "Failed to connect to the host via ssh: No route to host", "unreachable": True}
    runner.events = [event(1, "runner_on_unreachable", task="List", host="bm-far", res=gone)]
    runner.status, runner.rc = "failed", 4
    for expected in (HostState.ACTIVE, HostState.OFFLINE):
        job = libvirt_state.request_host_check(db, host)
        db.flush()
        assert host_jobs.domains(str(job.id)) == "failed"
        reload(db, host)
        assert host.state == expected
    assert "failed 2 health checks in a row" in (host.state_reason or "")
    assert "No route to host" in (host.state_reason or "")
