"""A cancel of a running job: the worker's watch sees it within a poll, the playbook stops, the
job ends canceled and its VM error, read back from libvirt by a vm.refresh job (fake runner)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import VM, Job, JobKind, JobStatus, User, VMStatus
from api.services import jobs, outcomes
from api.services import vms as vm_service
from api.settings import Settings
from jobs import cancel
from jobs import vms as vm_jobs
from jobs.cancel import CancelWatch
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, success_events

# Longer than the cancel request a test makes in FakeRunner.during takes, so the watch's first
# read never shares the test's connection with it (savepoint sessions serve one thread at a time).
POLL = 0.3


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cancel, "POLL_SECONDS", POLL)


@pytest.fixture
def admin(make: Factory) -> User:
    make.baremetal("bm-a")
    return make.user("root", is_admin=True)


@pytest.fixture
def running_vm(db: Session, make: Factory, admin: User) -> VM:
    """A VM whose create job succeeded: running, nothing in flight."""
    request = vm_service.VMRequest(make.tenant().id, "web", 1, 64, 1)
    create = vm_service.create_vm(db, admin, request, "r-1")
    create.status = JobStatus.SUCCESSFUL
    vm = db.get_one(VM, create.vm_id)
    vm.status = VMStatus.RUNNING
    db.flush()
    return vm


def asks_cancel(db: Session, admin: User, job_id: Any) -> None:
    """What POST /job/{id}/cancel/ does to a running job, as the fake playbook runs."""
    job, change = vm_service.cancel_job(db, admin, job_id)
    assert (job.status, change) == (JobStatus.RUNNING, None)
    db.flush()


def refreshes(db: Session, vm: VM) -> list[Job]:
    query = select(Job).where(Job.vm_id == vm.id, Job.kind == JobKind.VM_REFRESH)
    return list(db.scalars(query))


@pytest.fixture
def rq_queue(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis)


@pytest.fixture
def ended(monkeypatch: pytest.MonkeyPatch) -> list[outcomes.Outcome]:
    """Every outcome outcomes.ended was called with."""
    seen: list[outcomes.Outcome] = []
    real = outcomes.ended

    def record(session: Session, job: Job, vm: VM, outcome: outcomes.Outcome, *rest: Any) -> None:
        seen.append(outcome)
        real(session, job, vm, outcome, *rest)

    monkeypatch.setattr(outcomes, "ended", record)
    return seen


def test_cancel_watch_sees_a_requested_cancel(
    db: Session, sessions: sessionmaker[Session], claimed: tuple[VM, Job]
) -> None:
    job = claimed[1]
    watch = CancelWatch(sessions, [job.id], every=60)
    watch.check()
    assert (watch.requested, watch.explanation) == (False, None)
    admin = db.scalars(select(User).where(User.is_admin)).one()
    asks_cancel(db, admin, job.id)
    watch.check()
    assert watch.requested
    assert watch.explanation == f"canceled by {admin.username} while it ran"


def test_cancel_watch_ignores_a_job_that_is_not_running(
    db: Session, sessions: sessionmaker[Session], claimed: tuple[VM, Job]
) -> None:
    job = claimed[1]
    job.cancel_requested_at = job.started_at
    jobs.finish(db, job.id, JobStatus.SUCCESSFUL)
    db.flush()
    watch = CancelWatch(sessions, [job.id], every=60)
    watch.check()
    assert not watch.requested


def test_stop_canceled_while_running_ends_canceled_and_the_vm_is_read_back(
    db: Session,
    running_vm: VM,
    runner: FakeRunner,
    rq_queue: Queue,
    ended: list[outcomes.Outcome],
) -> None:
    admin = db.get_one(User, running_vm.created_by_id)
    stop = vm_service.request_power(db, admin, running_vm.id, JobKind.VM_STOP, "r-stop")
    db.flush()
    runner.during = lambda: asks_cancel(db, admin, stop.id)
    runner.waits_for_cancel = 10
    started = time.monotonic()
    assert vm_jobs.stop(str(stop.id)) == "canceled"
    assert time.monotonic() - started < 3  # a poll, not a lease renewal (15 s by default)
    assert runner.canceled_after is not None and runner.canceled_after < 2 * POLL + 1
    db.expire_all()
    job, vm = db.get_one(Job, stop.id), db.get_one(VM, running_vm.id)
    assert (job.status, job.explanation) == (JobStatus.CANCELED, "canceled by root while it ran")
    assert job.finished_at is not None
    assert (vm.status, vm.status_reason) == (
        VMStatus.ERROR,
        "its stop job was canceled while it ran; libvirt's state is being read back",
    )
    assert ended == [outcomes.Outcome.CANCELED]
    [refresh] = refreshes(db, vm)
    assert (refresh.status, refresh.request_id, refresh.limit) == (
        JobStatus.QUEUED,
        "r-stop",
        "bm-a",
    )
    assert str(refresh.id) in rq_queue.job_ids  # enqueued when the job's end committed


def test_create_canceled_while_running_says_delete_the_vm(
    db: Session, make: Factory, admin: User, runner: FakeRunner, ended: list[outcomes.Outcome]
) -> None:
    request = vm_service.VMRequest(make.tenant().id, "half", 1, 64, 1)
    create = vm_service.create_vm(db, admin, request, "r-1")
    db.flush()
    runner.during = lambda: asks_cancel(db, admin, create.id)
    runner.waits_for_cancel = 10
    assert vm_jobs.provision(str(create.id)) == "canceled"
    db.expire_all()
    vm = db.get_one(VM, create.vm_id)
    assert (vm.status, vm.status_reason) == (
        VMStatus.ERROR,
        "its create job was canceled while it ran; delete the VM",
    )
    assert refreshes(db, vm) == []  # nothing to go back to: the reason says what to do
    assert ended == [outcomes.Outcome.CANCELED]


def test_a_cancel_while_a_delete_waits_leaves_the_vm_deleting(
    db: Session, admin: User, running_vm: VM, runner: FakeRunner
) -> None:
    stop = vm_service.request_power(db, admin, running_vm.id, JobKind.VM_STOP, None)
    db.flush()

    def delete_then_cancel() -> None:
        assert vm_service.request_delete(db, admin, running_vm.id, None) is not None
        asks_cancel(db, admin, stop.id)

    runner.during = delete_then_cancel
    runner.waits_for_cancel = 10
    assert vm_jobs.stop(str(stop.id)) == "canceled"
    db.expire_all()
    assert db.get_one(VM, running_vm.id).status == VMStatus.DELETING  # the delete job runs next
    assert refreshes(db, running_vm) == []


def test_a_playbook_that_ends_before_the_cancel_lands_keeps_its_outcome(
    db: Session, admin: User, running_vm: VM, runner: FakeRunner
) -> None:
    stop = vm_service.request_power(db, admin, running_vm.id, JobKind.VM_STOP, None)
    db.flush()
    runner.events = success_events(running_vm.domain_name, state="stopped")
    runner.during = lambda: asks_cancel(db, admin, stop.id)  # too late: the run has ended
    assert vm_jobs.stop(str(stop.id)) == "successful"
    db.expire_all()
    job = db.get_one(Job, stop.id)
    assert (job.status, job.explanation) == (JobStatus.SUCCESSFUL, None)
    assert job.cancel_requested_at is not None  # asked, but the playbook had finished
    assert db.get_one(VM, running_vm.id).status == VMStatus.STOPPED
