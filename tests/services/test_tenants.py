"""Tenant services: renaming, each deletion precondition, and deletion racing a VM request.

The race tests need two real connections, so they commit their rows through `World`
(tests/services/conftest.py: sessions on the engine, not the savepoint) and delete them again
at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from api.errors import InvalidState, NameTaken, NotFound, PermissionDenied, TenantNotEmpty
from api.models import (
    VM,
    Job,
    JobKind,
    JobStatus,
    Membership,
    ObjectPermission,
    Tenant,
    TenantStatus,
    User,
    VMStatus,
)
from api.services import jobs, lifecycle, tenants, vms
from api.services.permissions import Perm, Target, assign_perm
from tests.conftest import Factory
from tests.services.conftest import World

LOCK_WAIT = 0.5  # long enough for a blocked statement to show up as waiting in pg_stat_activity


def waiting_on_lock(engine: Engine) -> int:
    """How many other sessions of this database wait for a lock right now."""
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


def in_thread(func: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run func in a thread; the dict receives its result or exception."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = func()
        except Exception as exc:
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def new_vm(db: Session, user: User, tenant: Tenant, name: str = "web") -> tuple[VM, Job]:
    job = vms.create_vm(db, user, vms.VMRequest(tenant.id, name, 1, 64, 1), None)
    return db.get_one(VM, job.vm_id), job


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    make.baremetal("bm-1")
    return make.tenant()


def test_rename_tenant_changes_name(db: Session, make: Factory, tenant: Tenant) -> None:
    tenants.rename_tenant(db, tenant, "renamed")
    assert db.get_one(Tenant, tenant.id).name == "renamed"
    make.tenant("taken")
    with pytest.raises(NameTaken):
        tenants.rename_tenant(db, tenant, "taken")


@pytest.mark.parametrize(
    ("vm_status", "job_status"),
    [
        (VMStatus.RUNNING, None),
        (VMStatus.PENDING, JobStatus.QUEUED),
        (VMStatus.PROVISIONING, JobStatus.RUNNING),
        (VMStatus.ERROR, None),
        (VMStatus.STOPPED, JobStatus.QUEUED),
        (VMStatus.STOPPED, JobStatus.RUNNING),
    ],
)
def test_request_delete_refuses_with_blockers(
    db: Session,
    admin: User,
    tenant: Tenant,
    vm_status: VMStatus,
    job_status: JobStatus | None,
) -> None:
    vm, job = new_vm(db, admin, tenant)
    vm.status = vm_status
    job.status = job_status or JobStatus.SUCCESSFUL
    db.flush()
    with pytest.raises(TenantNotEmpty) as exc:
        tenants.request_delete(db, admin, tenant.id, None)
    blockers = exc.value.details
    blocking_vms = [] if vm_status == VMStatus.STOPPED else [str(vm.id)]
    assert [v["id"] for v in blockers["vms"]] == blocking_vms
    assert [j["id"] for j in blockers["jobs"]] == ([str(job.id)] if job_status else [])
    assert db.get_one(Tenant, tenant.id).status == TenantStatus.ACTIVE


def test_request_delete_stopped_vms_get_delete_jobs(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm, job = new_vm(db, admin, tenant)
    vm.status, job.status = VMStatus.STOPPED, JobStatus.SUCCESSFUL
    gone, old = new_vm(db, admin, tenant, "gone")
    gone.status, old.status = VMStatus.DELETED, JobStatus.SUCCESSFUL
    db.flush()
    delete_jobs = tenants.request_delete(db, admin, tenant.id, "req-d")
    assert [(j.vm_id, j.kind, j.request_id) for j in delete_jobs] == [(vm.id, "vm.delete", "req-d")]
    assert (tenant.status, vm.status) == (TenantStatus.DELETING, VMStatus.DELETING)
    with pytest.raises(InvalidState):
        tenants.request_delete(db, admin, tenant.id, None)
    # The delete job's success ends the tenant: the last VM gone, members and grants dropped.
    lifecycle.job_finished(vm, lifecycle.operation(JobKind.VM_DELETE), "absent", None)
    db.flush()
    assert tenants.finish_deletion_if_empty(db, tenant.id)
    assert tenant.status == TenantStatus.DELETED
    grants = select(ObjectPermission).where(ObjectPermission.tenant_id == tenant.id)
    assert db.scalars(grants).all() == []


def test_request_delete_empty_tenant_is_deleted_at_once(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    member, grantee = make.user(), make.user()
    make.member(member, tenant, "tenant_user")
    assign_perm(db, grantee.id, Perm.TENANT_ADMIN, Target(tenant.id), admin)
    assert tenants.request_delete(db, grantee, tenant.id, None) == []
    assert tenant.status == TenantStatus.DELETED
    assert db.scalars(select(Membership).where(Membership.tenant_id == tenant.id)).all() == []
    assert (
        db.scalars(select(ObjectPermission).where(ObjectPermission.tenant_id == tenant.id)).all()
        == []
    )
    # The record stays for the audit history; only admins still see it.
    assert db.get(Tenant, tenant.id) is not None
    with pytest.raises(NotFound):
        tenants.get_tenant(db, grantee, tenant.id, Perm.TENANT_VIEW)


def test_request_delete_needs_tenant_admin(db: Session, make: Factory, tenant: Tenant) -> None:
    member, outsider = make.user(), make.user()
    make.member(member, tenant, "tenant_user")
    with pytest.raises(PermissionDenied):
        tenants.request_delete(db, member, tenant.id, None)
    with pytest.raises(NotFound):
        tenants.request_delete(db, outsider, tenant.id, None)
    assert tenant.status == TenantStatus.ACTIVE


def test_finish_deletion_if_empty_leaves_active_tenant(
    db: Session, admin: User, tenant: Tenant
) -> None:
    assert not tenants.finish_deletion_if_empty(db, tenant.id)
    assert tenant.status == TenantStatus.ACTIVE


def test_request_delete_waits_for_a_vm_request_then_refuses(world: World) -> None:
    """A VM create holds the tenant share lock; the deletion waits, then sees its job."""
    tenant_id, admin_id = world.setup()
    with world.sessions() as creating:
        admin = creating.get_one(User, admin_id)
        job = vms.create_vm(creating, admin, vms.VMRequest(tenant_id, "racer", 1, 64, 1), None)

        def attempt() -> list[Job]:
            with world.sessions() as deleting:
                return tenants.request_delete(
                    deleting, deleting.get_one(User, admin_id), tenant_id, None
                )

        thread, out = in_thread(attempt)
        time.sleep(LOCK_WAIT)
        assert thread.is_alive() and waiting_on_lock(creating.get_bind()) == 1
        creating.commit()
    thread.join(10)
    assert isinstance(out.get("error"), TenantNotEmpty), out
    assert [j["id"] for j in out["error"].details["jobs"]] == [str(job.id)]
    assert [v["status"] for v in out["error"].details["vms"]] == ["pending"]
    with world.sessions() as check:
        assert check.get_one(Tenant, tenant_id).status == TenantStatus.ACTIVE


def test_vm_request_waits_for_a_deletion_then_sees_it(world: World) -> None:
    """A deletion holds the tenant row; a VM create waits, then finds the tenant not active."""
    tenant_id, admin_id = world.setup()
    with world.sessions() as deleting:
        tenants.request_delete(deleting, deleting.get_one(User, admin_id), tenant_id, None)

        def attempt() -> Job:
            with world.sessions() as creating:
                request = vms.VMRequest(tenant_id, "late", 1, 64, 1)
                return vms.create_vm(creating, creating.get_one(User, admin_id), request, None)

        thread, out = in_thread(attempt)
        time.sleep(LOCK_WAIT)
        assert thread.is_alive() and waiting_on_lock(deleting.get_bind()) == 1
        deleting.commit()
    thread.join(10)
    assert isinstance(out.get("error"), InvalidState), out
    assert out["error"].details == {"tenant_status": "deleted"}
    with world.sessions() as check:
        assert check.scalars(select(VM).where(VM.tenant_id == tenant_id)).all() == []
        assert check.scalars(select(Job).where(Job.tenant_id == tenant_id)).all() == []


def test_jobs_claim_locks_the_vm_before_the_job(world: World) -> None:
    """Worker and API lock a VM row before its jobs, so they never wait on each other in a cycle."""
    tenant_id, admin_id = world.setup()
    with world.sessions() as session:
        admin = session.get_one(User, admin_id)
        job = vms.create_vm(session, admin, vms.VMRequest(tenant_id, "order", 1, 64, 1), None)
        session.commit()
    with world.sessions() as worker, world.sessions() as api:
        vm_id = job.vm_id
        api.execute(select(VM.id).where(VM.id == vm_id).with_for_update())

        def claim() -> Job | None:
            return jobs.claim(worker, job.id)

        thread, out = in_thread(claim)
        time.sleep(LOCK_WAIT)
        assert thread.is_alive()
        # The worker waits on the VM row, so the API can still take the job row it needs.
        locked = api.execute(
            select(Job.id).where(Job.id == job.id).with_for_update(nowait=True)
        ).scalar()
        assert locked == job.id
        api.commit()
        thread.join(10)
        assert out.get("result") is not None, out
        worker.rollback()


def test_vm_request_delete_twice_at_once_queues_one_delete(world: World) -> None:
    """The second delete waits for the VM row, then sees `deleting` (not its stale read)."""
    tenant_id, admin_id = world.setup()
    with world.sessions() as session:
        admin = session.get_one(User, admin_id)
        job = vms.create_vm(session, admin, vms.VMRequest(tenant_id, "twice", 1, 64, 1), None)
        session.get_one(VM, job.vm_id).status = VMStatus.RUNNING
        session.get_one(Job, job.id).status = JobStatus.SUCCESSFUL
        session.commit()
    vm_id = job.vm_id
    assert vm_id is not None
    with world.sessions() as first:
        first_job = vms.request_delete(first, first.get_one(User, admin_id), vm_id, None)

        def second() -> Job:
            with world.sessions() as session:
                return vms.request_delete(session, session.get_one(User, admin_id), vm_id, None)

        thread, out = in_thread(second)
        time.sleep(LOCK_WAIT)
        assert thread.is_alive()
        first.commit()
    thread.join(10)
    assert isinstance(out.get("error"), InvalidState), out
    with world.sessions() as check:
        delete_jobs = check.scalars(select(Job).where(Job.kind == "vm.delete", Job.vm_id == vm_id))
        assert [(j.id, j.status) for j in delete_jobs] == [(first_job.id, JobStatus.QUEUED)]
