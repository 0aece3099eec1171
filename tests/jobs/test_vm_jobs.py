"""provision and destroy, end to end below RQ, with a fake run_playbook feeding runner events."""

from __future__ import annotations

import subprocess
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from rq.exceptions import AbandonedJobError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.models import VM, Job, JobEvent, JobKind, JobStatus, User, VMStatus
from api.services import lifecycle
from api.services import vms as vm_service
from api.settings import Settings
from jobs import base, execution, reaper
from jobs import vms as vm_jobs
from jobs.runner import PlaybookRun
from tests.conftest import Factory
from tests.helpers.runner_fakes import (
    LIBVIRT_UUID,
    FakeRunner,
    event,
    failed_events,
    stats,
    success_events,
)


@pytest.fixture
def admin(make: Factory) -> User:
    make.baremetal("bm-a")
    return make.user(is_admin=True)


@pytest.fixture
def queued(db: Session, make: Factory, admin: User) -> tuple[VM, Job]:
    """A pending VM with its queued create job, as POST /vm/ leaves them."""
    tenant = make.tenant()
    job = vm_service.create_vm(db, admin, vm_service.VMRequest(tenant.id, "web", 2, 512, 5), "r-1")
    return db.get_one(VM, job.vm_id), job


def reload(db: Session, *objs: Any) -> None:
    db.expire_all()
    for obj in objs:
        db.refresh(obj)


def events_of(db: Session, job: Job) -> list[JobEvent]:
    return list(db.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)))


def test_provision_success(db: Session, queued: tuple[VM, Job], runner: FakeRunner) -> None:
    vm, job = queued
    runner.events = success_events(vm.domain_name)
    assert vm_jobs.provision(str(job.id)) == "successful"
    reload(db, vm, job)
    assert (job.status, job.rc, job.explanation) == (JobStatus.SUCCESSFUL, 0, None)
    assert job.started_at is not None and job.finished_at is not None
    assert job.artifacts["virtflow_guests"][vm.domain_name]["state"] == "running"
    assert "changed: [bm-a]" in job.stdout and "PLAY RECAP" in job.stdout
    assert vm.status == VMStatus.RUNNING
    assert vm.domain_uuid == uuid.UUID(LIBVIRT_UUID)
    assert vm.status_reason is None

    [run] = runner.runs
    assert run == PlaybookRun(str(job.id), "vm_create.yml", "bm-a", job.extravars, str(vm.id))

    stored = events_of(db, job)
    assert [e.counter for e in stored] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.event for e in stored][-1] == "playbook_on_stats"
    define = stored[3]
    assert (define.task, define.host, define.status, define.changed) == (
        "Define the domain",
        "bm-a",
        "changed",
        True,
    )
    assert stored[5].status == "ok"


def test_provision_moves_vm_to_provisioning_while_running(
    sessions: Any, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    seen: list[tuple[str, str]] = []

    def look() -> None:
        with sessions() as s:
            seen.append((s.get_one(VM, vm.id).status, s.get_one(Job, job.id).status))

    runner.events = success_events(vm.domain_name)
    runner.during = look
    vm_jobs.provision(str(job.id))
    assert seen == [(VMStatus.PROVISIONING, JobStatus.RUNNING)]


def test_provision_failed_run(db: Session, queued: tuple[VM, Job], runner: FakeRunner) -> None:
    vm, job = queued
    runner.events, runner.status, runner.rc = failed_events(), "failed", 2
    assert vm_jobs.provision(str(job.id)) == "failed"
    reload(db, vm, job)
    assert (job.status, job.rc) == (JobStatus.FAILED, 2)
    assert job.explanation is not None
    assert "Create the disk" in job.explanation and "No space left on device" in job.explanation
    assert "second failure" not in job.explanation
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == job.explanation
    assert [e.status for e in events_of(db, job)][2:4] == ["failed", "failed"]


def test_provision_runner_error(db: Session, queued: tuple[VM, Job], runner: FakeRunner) -> None:
    vm, job = queued
    runner.events = [event(1, "verbose", stdout="ERROR! the playbook could not be found")]
    runner.status, runner.rc = "error", 1
    assert vm_jobs.provision(str(job.id)) == "error"
    reload(db, vm, job)
    assert (job.status, job.rc) == (JobStatus.ERROR, 1)
    assert job.explanation
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == job.explanation


def test_provision_timeout_is_failed(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner, settings: Any
) -> None:
    vm, job = queued
    runner.events, runner.status, runner.rc = [event(1, "playbook_on_start")], "timeout", 254
    assert vm_jobs.provision(str(job.id)) == "failed"
    reload(db, vm, job)
    assert job.status == JobStatus.FAILED
    assert f"timed out after {settings.job_timeout_seconds}s" in (job.explanation or "")
    assert vm.status == VMStatus.ERROR


def test_provision_runner_canceled_without_a_cancel_request_is_error(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    """Only a lost lease stops a run unasked; canceled is the outcome of an asked cancel only."""
    vm, job = queued
    runner.status, runner.rc = "canceled", None
    assert vm_jobs.provision(str(job.id)) == "error"
    reload(db, vm, job)
    assert (job.status, job.explanation) == (JobStatus.ERROR, execution.LEASE_LOST)
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, execution.LEASE_LOST)


def test_provision_unknown_runner_status_is_error(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    _vm, job = queued
    runner.status = "exploded"
    assert vm_jobs.provision(str(job.id)) == "error"
    reload(db, job)
    assert "exploded" in (job.explanation or "")


def test_provision_success_without_reported_state_is_vm_error(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = [event(1, "playbook_on_start"), stats(2, None)]
    assert vm_jobs.provision(str(job.id)) == "successful"
    reload(db, vm, job)
    assert job.status == JobStatus.SUCCESSFUL
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == "the playbook did not report the domain state"


def test_provision_success_with_domain_not_running_is_vm_error(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = [stats(1, {vm.domain_name: {"state": "shutoff", "host": "bm-a"}})]
    vm_jobs.provision(str(job.id))
    reload(db, vm)
    assert (vm.status, vm.status_reason) == (
        VMStatus.ERROR,
        "libvirt reported the domain as shutoff",
    )


def test_provision_runner_crash_marks_error_and_reraises(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = [event(1, "playbook_on_start"), event(2, "playbook_on_task_start", task="t")]
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError, match="pexpect died"):
        vm_jobs.provision(str(job.id))
    reload(db, vm, job)
    assert job.status == JobStatus.ERROR
    assert job.finished_at is not None
    assert job.explanation == "the job crashed (RuntimeError); the worker log has the details"
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == job.explanation
    assert [e.counter for e in events_of(db, job)] == [1, 2]


def test_provision_crash_explanation_holds_no_sql_or_parameters(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    orig = Exception("server closed the connection unexpectedly")
    runner.raises = OperationalError("UPDATE vm SET status=%(s)s", {"s": "secret-param"}, orig)
    with pytest.raises(OperationalError):
        vm_jobs.provision(str(job.id))
    reload(db, vm, job)
    assert job.status == JobStatus.ERROR
    assert job.explanation == (
        "the job lost its connection to the database; the worker log has the details"
    )
    assert vm.status_reason == job.explanation


def test_provision_explanation_is_bounded(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    huge = {"failed": True, "msg": "x" * 100_000}
    runner.events = [event(1, "runner_on_failed", task="t", host="bm-a", res=huge)]
    runner.status, runner.rc = "failed", 2
    vm_jobs.provision(str(job.id))
    reload(db, vm, job)
    assert job.explanation is not None and len(job.explanation) <= 2048
    assert vm.status_reason == job.explanation


def test_provision_whose_lease_was_taken_keeps_the_sweeps_outcome(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner, sessions: Any
) -> None:
    vm, job = queued

    def sweep_fails_it() -> None:
        base.record_crash(job.id, "the worker running this job stopped")

    runner.during = sweep_fails_it
    runner.status, runner.rc = "canceled", None  # the lost lease cancelled the playbook
    vm_jobs.provision(str(job.id))
    reload(db, vm, job)
    assert (job.status, job.explanation) == (JobStatus.ERROR, "the worker running this job stopped")
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, job.explanation)


def test_provision_records_its_worker_and_lease(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = success_events(vm.domain_name)
    vm_jobs.provision(str(job.id))
    reload(db, job)
    assert job.worker == base.worker_identity()
    assert job.heartbeat_at is not None and job.heartbeat_at >= job.started_at


def test_provision_first_kills_an_earlier_playbook_of_the_same_vm(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner, settings: Settings
) -> None:
    vm, job = queued
    tags = reaper.tags(settings.runs_dir, str(uuid.uuid4()), str(vm.id))  # a dead job's run
    earlier = subprocess.Popen(["sleep", "120"], env=tags)
    seen_alive: list[bool] = []
    runner.during = lambda: seen_alive.append(earlier.poll() is None)
    try:
        vm_jobs.provision(str(job.id))
        assert seen_alive == [False]  # gone before the new playbook started
        assert earlier.wait(timeout=5) == -9
    finally:
        earlier.kill()
        earlier.wait()


@pytest.mark.parametrize(
    "status", [JobStatus.RUNNING, JobStatus.CANCELED, JobStatus.SUCCESSFUL, JobStatus.ERROR]
)
def test_provision_job_not_queued_is_skipped(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner, status: JobStatus
) -> None:
    vm, job = queued
    job.status = status
    db.flush()
    assert vm_jobs.provision(str(job.id)) == "skipped"
    reload(db, vm, job)
    assert job.status == status
    assert job.started_at is None and job.finished_at is None
    assert vm.status == VMStatus.PENDING
    assert runner.runs == []
    assert events_of(db, job) == []


def test_provision_unknown_job_is_skipped(runner: FakeRunner) -> None:
    assert vm_jobs.provision(str(uuid.uuid4())) == "skipped"
    assert runner.runs == []


def test_provision_vm_not_pending_cancels_job(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    vm.status = VMStatus.DELETING
    db.flush()
    assert vm_jobs.provision(str(job.id)) == "skipped"
    reload(db, vm, job)
    assert job.status == JobStatus.CANCELED
    assert job.explanation == "VM is deleting, not pending"
    assert job.finished_at is not None
    assert vm.status == VMStatus.DELETING
    assert runner.runs == []


@pytest.fixture
def deleting(db: Session, queued: tuple[VM, Job], admin: User) -> tuple[VM, Job]:
    """A running VM with its queued delete job."""
    vm, create_job = queued
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.RUNNING
    db.flush()
    job = vm_service.request_delete(db, admin, vm.id, "r-2")
    db.flush()
    return vm, job


def test_destroy_success_deletes_vm(
    db: Session, deleting: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = deleting
    runner.events = success_events(vm.domain_name, state="absent")
    assert vm_jobs.destroy(str(job.id)) == "successful"
    reload(db, vm, job)
    assert job.status == JobStatus.SUCCESSFUL
    assert vm.status == VMStatus.DELETED
    assert vm.deleted_at is not None
    assert vm.status_reason is None
    [run] = runner.runs
    assert (run.playbook, run.limit) == ("vm_delete.yml", "bm-a")
    assert run.extravars == {"virtflow_guests": [{"name": vm.domain_name, "uuid": str(vm.id)}]}


def test_destroy_success_without_absent_state_is_vm_error(
    db: Session, deleting: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = deleting
    runner.events = [stats(1, {vm.domain_name: {"state": "running", "host": "bm-a"}})]
    vm_jobs.destroy(str(job.id))
    reload(db, vm)
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == "libvirt reported the domain as running"
    assert vm.deleted_at is None


def test_destroy_failed_is_vm_error_with_reason(
    db: Session, deleting: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = deleting
    runner.events, runner.status, runner.rc = failed_events(), "failed", 2
    assert vm_jobs.destroy(str(job.id)) == "failed"
    reload(db, vm, job)
    assert job.status == JobStatus.FAILED
    assert vm.status == VMStatus.ERROR
    assert "No space left on device" in (vm.status_reason or "")


def test_destroy_vm_not_deleting_cancels_job(
    db: Session, deleting: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = deleting
    vm.status = VMStatus.RUNNING
    db.flush()
    assert vm_jobs.destroy(str(job.id)) == "skipped"
    reload(db, job)
    assert job.status == JobStatus.CANCELED
    assert runner.runs == []


def test_on_rq_failure_marks_running_job_error(db: Session, queued: tuple[VM, Job]) -> None:
    vm, job = queued
    job.status = JobStatus.RUNNING
    vm.status = VMStatus.PROVISIONING
    db.flush()
    rq_job = SimpleNamespace(id=str(job.id))
    base.on_rq_failure(rq_job, None, TimeoutError, TimeoutError("work-horse timed out"), None)
    reload(db, vm, job)
    assert job.status == JobStatus.ERROR
    assert job.explanation == "the job ran past its time limit and was stopped"
    assert job.finished_at is not None
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == job.explanation


def test_on_rq_failure_for_an_abandoned_job_says_the_worker_stopped(
    db: Session, queued: tuple[VM, Job]
) -> None:
    job = queued[1]
    job.status = JobStatus.RUNNING
    db.flush()
    exc = AbandonedJobError("abandoned")
    base.on_rq_failure(SimpleNamespace(id=str(job.id)), None, AbandonedJobError, exc, None)
    reload(db, job)
    assert job.explanation == base.worker_gone("RQ found the job abandoned")


def test_on_rq_failure_keeps_finished_job(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = success_events(vm.domain_name)
    vm_jobs.provision(str(job.id))
    base.on_rq_failure(SimpleNamespace(id=str(job.id)), None, RuntimeError, RuntimeError("x"), None)
    reload(db, vm, job)
    assert job.status == JobStatus.SUCCESSFUL
    assert vm.status == VMStatus.RUNNING


def test_on_rq_failure_ignores_foreign_job_ids(db: Session, queued: tuple[VM, Job]) -> None:
    _vm, job = queued
    base.on_rq_failure(SimpleNamespace(id="not-a-uuid"), None, None, None, None)
    reload(db, job)
    assert job.status == JobStatus.QUEUED


class FakeClock:
    """jobs.vms's view of time: each sleep advances it, and may run something meanwhile."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.meanwhile: Any = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.meanwhile is not None:
            self.meanwhile()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(vm_jobs, "time", fake)
    return fake


@pytest.fixture
def delete_behind_a_stop(db: Session, queued: tuple[VM, Job], admin: User) -> tuple[VM, Job, Job]:
    """A VM whose stop job is running when its delete is requested."""
    vm, create_job = queued
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.RUNNING
    db.flush()
    stop = vm_service.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    stop.status, vm.status = JobStatus.RUNNING, VMStatus.STOPPING
    db.flush()
    delete = vm_service.request_delete(db, admin, vm.id, None)
    assert delete is not None
    db.flush()
    return vm, stop, delete


def test_destroy_waits_for_the_running_job_of_its_vm(
    db: Session,
    delete_behind_a_stop: tuple[VM, Job, Job],
    runner: FakeRunner,
    clock: FakeClock,
) -> None:
    vm, stop, delete = delete_behind_a_stop

    def stop_ends_after_three_looks() -> None:
        if clock.sleeps == 3:  # the stop's worker finishes it: its result leaves VM deleting
            assert not lifecycle.job_finished(
                vm, lifecycle.operation(JobKind.VM_STOP), "stopped", None
            )
            assert vm.status == VMStatus.DELETING
            stop.status = JobStatus.SUCCESSFUL
            db.flush()

    clock.meanwhile = stop_ends_after_three_looks
    runner.events = success_events(vm.domain_name, state="absent")
    assert vm_jobs.destroy(str(delete.id)) == "successful"
    reload(db, vm, delete)
    assert clock.sleeps == 3  # it did not start while the stop ran
    assert [run.playbook for run in runner.runs] == ["vm_delete.yml"]
    assert (delete.status, vm.status) == (JobStatus.SUCCESSFUL, VMStatus.DELETED)


def test_destroy_gives_up_when_the_job_it_waits_for_outlasts_the_job_timeout(
    db: Session,
    delete_behind_a_stop: tuple[VM, Job, Job],
    runner: FakeRunner,
    clock: FakeClock,
    settings: Settings,
) -> None:
    vm, stop, delete = delete_behind_a_stop
    assert vm_jobs.destroy(str(delete.id)) == "error"
    reload(db, vm, delete, stop)
    assert clock.now >= settings.job_timeout_seconds
    assert runner.runs == []  # the delete playbook never ran next to the stop's
    assert delete.status == JobStatus.ERROR
    assert delete.explanation == (
        f"an earlier job of the VM was still running after {settings.job_timeout_seconds} s; "
        "nothing was done"
    )
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, delete.explanation)
    assert stop.status == JobStatus.RUNNING


def test_provision_of_a_domain_smaller_than_asked_is_vm_error(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued  # 2 vCPUs, 512 MiB, 5 GiB
    allocated = {"state": "running", "uuid": LIBVIRT_UUID, "host": "bm-a", "vcpus": 2}
    runner.events = [stats(1, {vm.domain_name: {**allocated, "ram_mb": 512, "disk_gb": 1}})]
    assert vm_jobs.provision(str(job.id)) == "successful"  # the playbook did run
    reload(db, vm, job)
    assert (vm.status, vm.status_reason) == (
        VMStatus.ERROR,
        "the domain got 1 GiB of disk instead of 5",
    )
