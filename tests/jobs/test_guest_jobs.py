"""The jobs of a VM made from an image: user_data reaches the create's run but never its job row
or events, and a guest that stops or is deleted keeps no address."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, Job, JobEvent, JobKind, JobStatus, User, VMStatus
from api.services import vms as vm_service
from jobs import vms as vm_jobs
from tests.conftest import Factory
from tests.helpers import ssh_keys
from tests.helpers.images import stored_image
from tests.helpers.runner_fakes import FakeRunner, success_events

SECRET = "s3cr3t-user-data-value"
USER_DATA = f"#cloud-config\nchpasswd:\n  users: [{{name: debian, password: {SECRET}}}]\n"
ADDRESS = {"mac": "52:54:00:12:34:56", "ip": "10.0.2.15", "prefix": 24, "source": "agent"}


@pytest.fixture
def admin(make: Factory) -> User:
    make.baremetal("bm-a")
    return make.user(is_admin=True)


@pytest.fixture
def queued(db: Session, make: Factory, admin: User) -> tuple[VM, Job]:
    """A pending VM from an image, with keys and user_data, and its queued create job."""
    request = vm_service.VMRequest(
        make.tenant().id,
        "web",
        1,
        256,
        2,
        image_id=stored_image(db).id,
        ssh_authorized_keys=[ssh_keys.ED25519],
        user_data=USER_DATA,
    )
    job = vm_service.create_vm(db, admin, request, "r-1")
    return db.get_one(VM, job.vm_id), job


def test_provision_gives_user_data_to_the_run_only(
    db: Session, queued: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = queued
    runner.events = success_events(vm.domain_name)
    assert vm_jobs.provision(str(job.id)) == "successful"
    [run] = runner.runs
    [spec] = run.extravars["virtflow_guests"]
    assert spec["user_data"] == USER_DATA
    assert spec["ssh_authorized_keys"] == [ssh_keys.ED25519]
    db.expire_all()
    job = db.get_one(Job, job.id)
    assert job.status == JobStatus.SUCCESSFUL
    assert "user_data" not in job.extravars["virtflow_guests"][0]
    stored = db.scalars(select(JobEvent).where(JobEvent.job_id == job.id))
    assert all(SECRET not in repr(vars(row)) for row in stored)
    assert SECRET not in (job.stdout or "") and SECRET not in repr(job.artifacts)
    assert db.get_one(VM, vm.id).status == VMStatus.RUNNING


def test_provision_of_a_vm_without_user_data_adds_none(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    request = vm_service.VMRequest(make.tenant().id, "blank", 1, 64, 1)
    job = vm_service.create_vm(db, admin, request, None)
    vm = db.get_one(VM, job.vm_id)
    runner.events = success_events(vm.domain_name)
    assert vm_jobs.provision(str(job.id)) == "successful"
    [run] = runner.runs
    assert run.extravars == job.extravars


def _running(db: Session, vm: VM, job: Job) -> None:
    job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.RUNNING
    vm.addresses = [ADDRESS]
    db.flush()


def test_a_stopped_guest_keeps_no_address(
    db: Session, queued: tuple[VM, Job], admin: User, runner: FakeRunner
) -> None:
    vm, create_job = queued
    _running(db, vm, create_job)
    stop = vm_service.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    runner.events = success_events(vm.domain_name, state="stopped")
    assert vm_jobs.stop(str(stop.id)) == "successful"
    db.expire_all()
    vm = db.get_one(VM, vm.id)
    assert (vm.status, vm.addresses) == (VMStatus.STOPPED, [])


def test_a_deleted_guest_keeps_no_address(
    db: Session, queued: tuple[VM, Job], admin: User, runner: FakeRunner
) -> None:
    vm, create_job = queued
    _running(db, vm, create_job)
    delete = vm_service.request_delete(db, admin, vm.id, None)
    assert delete is not None
    runner.events = success_events(vm.domain_name, state="absent")
    assert vm_jobs.destroy(str(delete.id)) == "successful"
    db.expire_all()
    vm = db.get_one(VM, vm.id)
    assert (vm.status, vm.addresses) == (VMStatus.DELETED, [])
