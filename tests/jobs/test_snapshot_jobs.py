"""The snapshot jobs below RQ, with a fake run_playbook reporting as the role's entry points do."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from api.models import VM, Job, JobStatus, Snapshot, SnapshotStatus, User, VMStatus
from api.services import snapshots
from api.services import vms as vm_service
from jobs import vms as vm_jobs
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, event, failed_events, success_events
from tests.helpers.snapshots import ready_snapshot


@pytest.fixture
def admin(make: Factory) -> User:
    make.baremetal("bm-a")
    return make.user(is_admin=True)


def settled(db: Session, make: Factory, admin: User, status: VMStatus) -> VM:
    """A VM whose create job has run, in status."""
    tenant = make.tenant()
    job = vm_service.create_vm(db, admin, vm_service.VMRequest(tenant.id, "web", 1, 64, 1), None)
    job.status = JobStatus.SUCCESSFUL
    vm = db.get_one(VM, job.vm_id)
    vm.status = status
    db.flush()
    return vm


def reload(db: Session, *rows: object) -> None:
    db.expire_all()
    for row in rows:
        db.refresh(row)


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_snapshot_job_makes_the_snapshot_ready_and_the_vm_follows_libvirt(
    db: Session, make: Factory, admin: User, runner: FakeRunner, state: str
) -> None:
    vm = settled(db, make, admin, VMStatus(state))
    done = snapshots.request_create(db, admin, vm.id, "snap-1", None, request_id="r-1")
    runner.events = success_events(vm.domain_name, state)
    assert vm_jobs.snapshot(str(done.job.id)) == "successful"
    [run] = runner.runs
    assert (run.playbook, run.limit) == ("vm_snapshot.yml", "bm-a")
    reload(db, vm, done.job, done.snapshot)
    assert (vm.status, done.job.status) == (state, JobStatus.SUCCESSFUL)
    assert (done.snapshot.status, done.snapshot.power_state) == (SnapshotStatus.READY, state)


def test_revert_job_ends_the_vm_in_the_state_libvirt_reports(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    # A running VM reverted to a snapshot taken stopped: the role reports it shut off.
    vm = settled(db, make, admin, VMStatus.RUNNING)
    snap = ready_snapshot(db, vm, power_state="stopped")
    done = snapshots.request_revert(db, admin, vm.id, snap.id, None)
    runner.events = success_events(vm.domain_name, "stopped")
    assert vm_jobs.revert(str(done.job.id)) == "successful"
    assert runner.runs[0].extravars["virtflow_guests"][0]["snapshot"] == "snap-1"
    reload(db, vm, snap)
    assert (vm.status, snap.status) == (VMStatus.STOPPED, SnapshotStatus.READY)


def test_snapshot_job_whose_domain_ends_paused_is_an_error(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    vm = settled(db, make, admin, VMStatus.RUNNING)
    done = snapshots.request_create(db, admin, vm.id, "snap-1", None, request_id=None)
    runner.events = success_events(vm.domain_name, "paused")
    vm_jobs.snapshot(str(done.job.id))
    reload(db, vm, done.snapshot)
    assert (vm.status, vm.status_reason) == (
        VMStatus.ERROR,
        "libvirt reported the domain as paused",
    )
    assert done.snapshot.status == SnapshotStatus.ERROR
    assert done.snapshot.status_reason == (
        "its take job did not succeed (libvirt reported the domain as paused); "
        "libvirt may still hold it"
    )


def test_snapshot_delete_job_that_failed_leaves_the_snapshot_in_error(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    vm = settled(db, make, admin, VMStatus.STOPPED)
    snap = ready_snapshot(db, vm)
    done = snapshots.request_delete(db, admin, vm.id, snap.id, None)
    runner.events, runner.status, runner.rc = failed_events(), "failed", 2
    assert vm_jobs.snapshot_delete(str(done.job.id)) == "failed"
    reload(db, vm, snap)
    assert (vm.status, snap.status) == (VMStatus.ERROR, SnapshotStatus.ERROR)
    assert snap.status_reason is not None and "No space left on device" in snap.status_reason


def test_snapshot_job_that_crashed_leaves_the_snapshot_in_error(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    vm = settled(db, make, admin, VMStatus.RUNNING)
    done = snapshots.request_create(db, admin, vm.id, "snap-1", None, request_id=None)
    runner.events = [event(1, "playbook_on_start")]
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError):
        vm_jobs.snapshot(str(done.job.id))
    reload(db, vm, done.snapshot)
    assert (vm.status, done.snapshot.status) == (VMStatus.ERROR, SnapshotStatus.ERROR)
    assert done.snapshot.status_reason == (
        "its take job did not succeed (the job crashed (RuntimeError); the worker log has the "
        "details); libvirt may still hold it"
    )


def test_delete_job_of_the_vm_deletes_its_snapshots(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    vm = settled(db, make, admin, VMStatus.STOPPED)
    snaps = [ready_snapshot(db, vm, name) for name in ("a", "b")]
    job = vm_service.request_delete(db, admin, vm.id, None)
    assert isinstance(job, Job)
    runner.events = success_events(vm.domain_name, "absent")
    assert vm_jobs.destroy(str(job.id)) == "successful"
    reload(db, vm, *snaps)
    assert vm.status == VMStatus.DELETED
    assert [(s.status, s.deleted_at is not None) for s in snaps] == [("deleted", True)] * 2
    assert db.get_one(Snapshot, snaps[0].id).status_reason == "deleted with VM web"
