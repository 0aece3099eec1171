"""VM, job and user services below the HTTP layer: state transitions and their guards."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from api.errors import InvalidCredentials, InvalidState, NameTaken
from api.models import VM, Job, JobKind, JobStatus, Tenant, User, VMStatus
from api.services import jobs, users, vms
from tests.conftest import PASSWORD, Factory


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    make.baremetal("bm-1")
    return make.tenant()


def new_vm(db: Session, admin: User, tenant: Tenant, name: str = "web") -> tuple[VM, Job]:
    req = vms.VMRequest(tenant.id, name, 1, 64, 1)
    job = vms.create_vm(db, admin, req, "req-1")
    return db.get_one(VM, job.vm_id), job


def test_domain_name_is_readable_and_unique_per_vm() -> None:
    vm_id = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
    assert vms.domain_name("web", vm_id) == "vf-web-12345678"
    # The longest VM name still fits libvirt's and the role's 63-character limit.
    assert len(vms.domain_name("a" * 48, vm_id)) <= 63


def test_guest_spec_carries_sizes_and_ids(db: Session, admin: User, tenant: Tenant) -> None:
    vm, job = new_vm(db, admin, tenant)
    assert vms.guest_spec(vm) == {
        "name": vm.domain_name,
        "uuid": str(vm.id),
        "vcpus": 1,
        "ram_mb": 64,
        "disk_gb": 1,
    }
    # A blank VM's create also names its NIC's MAC (no image: nothing for cloud-init).
    assert job.extravars == {"virtflow_guests": [{**vms.guest_spec(vm), "mac": vm.mac}]}
    assert (job.request_id, job.created_by_id, job.limit) == ("req-1", admin.id, "bm-1")


def test_create_vm_duplicate_name_is_name_taken(db: Session, admin: User, tenant: Tenant) -> None:
    new_vm(db, admin, tenant)
    with pytest.raises(NameTaken):
        new_vm(db, admin, tenant)


def test_request_delete_of_a_vm_whose_create_never_ran_deletes_it_at_once(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, create_job = new_vm(db, admin, tenant)
    assert vms.request_delete(db, admin, vm.id, "req-2") is None
    assert create_job.status == JobStatus.CANCELED
    assert (vm.status, vm.deleted_at is not None) == (VMStatus.DELETED, True)
    assert vm.status_reason == "its create job never ran: the VM was deleted first"


def test_request_delete_cancels_queued_jobs_and_queues_the_delete(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, create_job = new_vm(db, admin, tenant)
    create_job.status = JobStatus.SUCCESSFUL
    vm.status = VMStatus.RUNNING
    db.flush()
    stop_job = vms.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    delete_job = vms.request_delete(db, admin, vm.id, "req-2")
    assert delete_job is not None
    assert stop_job.status == JobStatus.CANCELED
    assert vm.status == VMStatus.DELETING
    assert delete_job.extravars == {
        "virtflow_guests": [{"name": vm.domain_name, "uuid": str(vm.id)}]
    }
    assert delete_job.limit == "bm-1"


def test_request_delete_while_a_job_runs_queues_the_delete_behind_it(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, create_job = new_vm(db, admin, tenant)
    create_job.status = JobStatus.RUNNING
    vm.status = VMStatus.PROVISIONING
    db.flush()
    delete_job = vms.request_delete(db, admin, vm.id, None)
    assert delete_job is not None and delete_job.status == JobStatus.QUEUED
    assert create_job.status == JobStatus.RUNNING  # left to finish
    assert vm.status == VMStatus.DELETING


def test_request_delete_without_host_is_invalid_state(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, job = new_vm(db, admin, tenant)
    job.status = JobStatus.ERROR
    vm.status = VMStatus.ERROR
    vm.baremetal_id = None
    db.flush()
    with pytest.raises(InvalidState):
        vms.request_delete(db, admin, vm.id, None)


@pytest.mark.parametrize("final", [VMStatus.DELETED, VMStatus.RUNNING])
def test_apply_job_error_keeps_final_vm_states(
    db: Session, admin: User, tenant: Tenant, final: VMStatus
) -> None:
    vm, job = new_vm(db, admin, tenant)
    vm.status = final
    db.flush()
    vms.apply_job_error(db, job, "boom")
    assert (vm.status, vm.status_reason) == (final, None)


def test_apply_job_error_marks_vm(db: Session, admin: User, tenant: Tenant) -> None:
    vm, job = new_vm(db, admin, tenant)
    vms.apply_job_error(db, job, "boom")
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, "boom")


def test_jobs_claim_only_from_queued(db: Session, admin: User, tenant: Tenant) -> None:
    _vm, job = new_vm(db, admin, tenant)
    claimed = jobs.claim(db, job.id)
    assert claimed is job
    assert (job.status, job.started_at is not None) == (JobStatus.RUNNING, True)
    assert jobs.claim(db, job.id) is None
    assert jobs.claim(db, uuid.uuid4()) is None


def test_jobs_finish_keeps_first_terminal_outcome(db: Session, admin: User, tenant: Tenant) -> None:
    _vm, job = new_vm(db, admin, tenant)
    jobs.finish(db, job.id, JobStatus.FAILED, rc=2, explanation="first", stdout="out")
    jobs.finish(db, job.id, JobStatus.ERROR, rc=9, explanation="second", stdout="later")
    assert (job.status, job.rc, job.explanation, job.stdout) == ("failed", 2, "first", "out")
    assert job.finished_at is not None


def test_users_authenticate(db: Session, make: Factory) -> None:
    user = make.user("alice")
    assert users.authenticate(db, "alice", PASSWORD) is user
    for name, password in (("alice", "wrong"), ("bob", PASSWORD)):
        with pytest.raises(InvalidCredentials):
            users.authenticate(db, name, password)


def test_users_authenticate_rehashes_weak_hash(db: Session, make: Factory) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user = make.user("alice")
    user.password_hash = weak
    db.flush()
    users.authenticate(db, "alice", PASSWORD)
    assert user.password_hash != weak
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_users_create_and_ensure_admin(db: Session) -> None:
    user, created = users.ensure_admin(db, "root", "pw-1")
    assert created and user.is_admin
    again, created = users.ensure_admin(db, "root", "other")
    assert (again, created) == (user, False)
    with pytest.raises(NameTaken):
        users.create_user(db, "root", "x")
    assert users.get_active_user(db, user.id) is user
    user.is_active = False
    assert users.get_active_user(db, user.id) is None
