"""Quotas: what counts as used, what is refused, and admission under real concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import QuotaExceeded
from api.models import VM, Tenant, User, VMStatus
from api.services import quotas, vms
from tests.conftest import Factory
from tests.services.conftest import World


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def host(make: Factory) -> None:
    make.baremetal("bm-1", capacity_vcpus=64, capacity_ram_mb=1_000_000, capacity_disk_gb=100_000)


def request(tenant: Tenant, name: str, vcpus: int = 1) -> vms.VMRequest:
    return vms.VMRequest(tenant.id, name, vcpus, 64, 1)


def test_usage_counts_every_vm_that_is_not_deleted(
    db: Session, make: Factory, admin: User, host: None
) -> None:
    tenant = make.tenant()
    statuses = [s for s in VMStatus]
    for i, status in enumerate(statuses):
        job = vms.create_vm(db, admin, request(tenant, f"vm-{i}", vcpus=2), None)
        db.get_one(VM, job.vm_id).status = status
    db.flush()
    live = len(statuses) - 1
    assert quotas.usage(db, tenant.id) == quotas.Amounts(
        vcpus=2 * live, ram_mb=64 * live, disk_gb=live, vms=live
    )
    assert quotas.usage(db, make.tenant().id) == quotas.Amounts()


def test_exceeded_lists_each_resource_over_its_limit() -> None:
    limit = quotas.Amounts(vcpus=4, ram_mb=1024, disk_gb=10, vms=2)
    used = quotas.Amounts(vcpus=3, ram_mb=512, disk_gb=10, vms=1)
    assert quotas.exceeded(limit, used, quotas.Amounts(vcpus=1, ram_mb=512, vms=1)) == []
    assert quotas.exceeded(limit, used, quotas.Amounts(vcpus=2, disk_gb=1, vms=1)) == [
        {"resource": "vcpus", "requested": 2, "used": 3, "limit": 4},
        {"resource": "disk_gb", "requested": 1, "used": 10, "limit": 10},
    ]


def test_admit_refuses_with_the_first_exceeded_resource(
    db: Session, make: Factory, admin: User, host: None
) -> None:
    tenant = make.tenant(quota={"vms": 1, "vcpus": 2})
    vms.create_vm(db, admin, request(tenant, "one"), None)
    with pytest.raises(QuotaExceeded) as exc:
        quotas.admit(db, tenant.id, quotas.Amounts(vcpus=2, vms=1), quotas.DEFAULTS)
    assert exc.value.details == {
        "resource": "vcpus",
        "requested": 2,
        "used": 1,
        "limit": 2,
        "exceeded": [
            {"resource": "vcpus", "requested": 2, "used": 1, "limit": 2},
            {"resource": "vms", "requested": 1, "used": 1, "limit": 1},
        ],
    }
    quotas.admit(db, tenant.id, quotas.Amounts(vcpus=1), quotas.DEFAULTS)


def test_limits_creates_the_row_from_defaults(db: Session, make: Factory) -> None:
    tenant = Tenant(name="no-quota-row")
    db.add(tenant)
    db.flush()
    defaults = quotas.Amounts(vcpus=3, ram_mb=4, disk_gb=5, vms=6, snapshots=7)
    assert quotas.as_amounts(quotas.limits(db, tenant.id, defaults)) == defaults
    quotas.ensure_quota(db, tenant.id, quotas.DEFAULTS)  # a second call changes nothing
    assert quotas.as_amounts(quotas.limits(db, tenant.id, quotas.DEFAULTS)) == defaults


def test_set_limits_below_usage_keeps_vms_and_refuses_new(
    db: Session, make: Factory, admin: User, host: None
) -> None:
    tenant = make.tenant()
    for name in ("a", "b", "c"):
        vms.create_vm(db, admin, request(tenant, name), None)
    quota = quotas.set_limits(db, tenant.id, {"vms": 1, "vcpus": 8}, quotas.DEFAULTS)
    assert (quota.vms, quota.vcpus) == (1, 8)
    assert quotas.usage(db, tenant.id).vms == 3
    with pytest.raises(QuotaExceeded) as exc:
        vms.create_vm(db, admin, request(tenant, "d"), None)
    assert exc.value.details["resource"] == "vms"
    live = select(func.count()).select_from(VM).where(VM.tenant_id == tenant.id)
    assert db.scalar(live) == 3


def admit_concurrently(w: World, quota: dict[str, int], vcpus: int, n: int = 10) -> int:
    """n threads, each on its own connection, request a VM at the same moment; returns admitted."""
    tenant_id, admin_id = w.setup(quota=quota)
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with w.sessions() as session:
            admin = session.get_one(User, admin_id)
            barrier.wait()
            try:
                req = vms.VMRequest(tenant_id, f"race-{i}", vcpus, 64, 1)
                vms.create_vm(session, admin, req, None)
                session.commit()
                outcome = "admitted"
            except QuotaExceeded:
                session.rollback()
                outcome = "refused"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(set(outcomes)) == ["admitted", "refused"] and len(outcomes) == n
    with w.sessions() as session:
        stored = session.scalar(
            select(func.count()).select_from(VM).where(VM.tenant_id == tenant_id)
        )
    assert stored == outcomes.count("admitted")
    return outcomes.count("admitted")


def test_admit_concurrent_requests_never_pass_the_vm_limit(world: World) -> None:
    assert admit_concurrently(world, {"vms": 3}, vcpus=1) == 3


def test_admit_concurrent_requests_never_pass_the_vcpu_limit(world: World) -> None:
    assert admit_concurrently(world, {"vcpus": 5}, vcpus=2) == 2
