"""Quota admission under real concurrency: many creates at once against a multi-process gunicorn.

The stack runs without its RQ worker, so admitted VMs stay pending and libvirt is never touched:
all that is exercised is the quota gate (the tenant's quota row locked FOR UPDATE while the VM
is written in the same transaction), across processes and PostgreSQL connections.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.dialects.postgresql import insert

from api.models import VM, Baremetal, Job, Quota, VMStatus
from tests.conftest import ROOMY_QUOTA
from tests.e2e.conftest import Stack, running_stack

pytestmark = pytest.mark.e2e

GUNICORN_WORKERS = 4
CONCURRENT = 60
# The stack's copy of the inventory gives localhost room for every request of a race at once,
# so placement never refuses: only the quota can.
ROOMY_HOST = {
    "virtflow_capacity_vcpus": 1_000,
    "virtflow_capacity_ram_mb": 1_000_000,
    "virtflow_capacity_disk_gb": 10_000,
}


@dataclass(frozen=True)
class Race:
    limits: dict[str, int]  # quota limits set; every other resource is roomy
    size: dict[str, int]  # each VM's vcpus, ram_mb, disk_gb
    resource: str  # the resource that runs out
    admitted: int  # how many creates fit


RACES = {
    "vms": Race({"vms": 5}, {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}, "vms", admitted=5),
    "vcpus": Race({"vcpus": 7}, {"vcpus": 2, "ram_mb": 64, "disk_gb": 1}, "vcpus", admitted=3),
}


def roomy_localhost(inventory: Path) -> None:
    lines = "".join(f"{name}: {value}\n" for name, value in ROOMY_HOST.items())
    (inventory / "host_vars" / "localhost.yml").write_text(f"---\n{lines}")


@pytest.fixture(scope="module")
def idle_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """gunicorn with several worker processes and no RQ worker: VMs stay pending."""
    with running_stack(
        tmp_path_factory.mktemp("e2e-quota-race"),
        with_worker=False,
        gunicorn_workers=GUNICORN_WORKERS,
        edit_inventory=roomy_localhost,
    ) as stack:
        stack.login()
        warm_up(stack)
        yield stack


def warm_up(stack: Stack) -> None:
    """Have every gunicorn worker process serve requests before any race.

    A cold process (first database connection, first token check) would join a race late and
    let a warm one admit alone, so nothing would actually race.
    """
    for _ in range(5):
        with ThreadPoolExecutor(max_workers=4 * GUNICORN_WORKERS) as pool:
            futures = [
                pool.submit(stack.call, "GET", "/api/v1/baremetal/")
                for _ in range(4 * GUNICORN_WORKERS)
            ]
            assert all(f.result(timeout=60).status_code == 200 for f in futures)


@pytest.fixture(scope="module")
def stack_db(idle_stack: Stack) -> Iterator[Engine]:
    engine = create_engine(idle_stack.env["VIRTFLOW_DATABASE_URL"])
    yield engine
    engine.dispose()


def gunicorn_worker_pids(stack: Stack) -> list[int]:
    master = stack.procs["gunicorn"].pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def create_tenant(stack: Stack) -> uuid.UUID:
    r = stack.call("POST", "/api/v1/tenant/", json={"name": f"race-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["data"]["id"])


def set_quota(engine: Engine, tenant_id: uuid.UUID, limits: dict[str, int]) -> None:
    """Write the tenant's quota row straight into the stack's database."""
    stmt = insert(Quota).values(tenant_id=tenant_id, **limits)
    with engine.begin() as conn:
        conn.execute(stmt.on_conflict_do_update(index_elements=[Quota.tenant_id], set_=limits))


def free_on_localhost(stack: Stack, engine: Engine) -> dict[str, int]:
    """What localhost can still take: its capacity as the API synced it, less its live VMs."""
    hosts = {h["name"]: h for h in stack.call("GET", "/api/v1/baremetal/").json()["data"]}
    assert set(hosts) == {"localhost"} and hosts["localhost"]["in_inventory"], hosts
    with engine.connect() as conn:
        used = conn.execute(
            select(
                func.coalesce(func.sum(VM.vcpus), 0),
                func.coalesce(func.sum(VM.ram_mb), 0),
                func.coalesce(func.sum(VM.disk_gb), 0),
            )
            .join(Baremetal, VM.baremetal_id == Baremetal.id)
            .where(Baremetal.name == "localhost", VM.status != VMStatus.DELETED)
        ).one()
    capacity = hosts["localhost"]
    names = ("vcpus", "ram_mb", "disk_gb")
    return {n: capacity[f"capacity_{n}"] - int(u) for n, u in zip(names, used, strict=True)}


def create_all_at_once(
    stack: Stack, tenant_id: uuid.UUID, size: dict[str, int], count: int
) -> list[requests.Response]:
    """count POST /api/v1/vm/ with distinct names, released together by a barrier."""
    barrier = threading.Barrier(count, timeout=60)

    def create(i: int) -> requests.Response:
        body = {"tenant_id": str(tenant_id), "name": f"race-{i:03d}", **size}
        barrier.wait()
        return stack.call("POST", "/api/v1/vm/", json=body)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(create, i) for i in range(count)]
        return [future.result(timeout=120) for future in futures]


def queued_rq_job_ids(stack: Stack) -> set[str]:
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        queue = f"rq:queue:{stack.env['VIRTFLOW_QUEUE']}"
        return {job_id.decode() for job_id in redis.lrange(queue, 0, -1)}
    finally:
        redis.close()


@pytest.mark.parametrize("race", RACES.values(), ids=RACES.keys())
def test_quota_race_admits_exactly_the_limit(
    idle_stack: Stack, stack_db: Engine, race: Race
) -> None:
    # Several processes, each with its own database connection, and nothing that runs jobs.
    assert len(gunicorn_worker_pids(idle_stack)) == GUNICORN_WORKERS
    assert "worker" not in idle_stack.procs
    tenant_id = create_tenant(idle_stack)
    set_quota(stack_db, tenant_id, {**ROOMY_QUOTA, **race.limits})
    # The host could place every one of the requests: any refusal is the quota's.
    free = free_on_localhost(idle_stack, stack_db)
    assert all(free[name] >= CONCURRENT * race.size[name] for name in free), free

    answers = create_all_at_once(idle_stack, tenant_id, race.size, CONCURRENT)

    codes = Counter(r.status_code for r in answers)
    odd = [r.text for r in answers if r.status_code not in (202, 409)][:3]
    assert codes == {202: race.admitted, 409: CONCURRENT - race.admitted}, (codes, odd)
    requested = 1 if race.resource == "vms" else race.size[race.resource]
    figures = {
        "resource": race.resource,
        "requested": requested,
        # Admission is serialised: every refusal saw the tenant full, never a stale usage.
        "used": race.admitted * requested,
        "limit": race.limits[race.resource],
    }
    admitted: dict[uuid.UUID, dict[str, Any]] = {}
    for r in answers:
        if r.status_code == 202:
            vm = r.json()["data"]
            assert (vm["status"], vm["tenant_id"]) == ("pending", str(tenant_id)), vm
            admitted[uuid.UUID(vm["id"])] = vm
        else:
            error = r.json()["error"]
            assert error["code"] == "QUOTA_EXCEEDED", error
            assert error["details"] == {**figures, "exceeded": [figures]}, error
    assert len({vm["name"] for vm in admitted.values()}) == race.admitted

    # The database agrees: exactly the admitted VMs exist, pending, each with one queued job.
    with stack_db.connect() as conn:
        live = conn.execute(
            select(VM.id, VM.status).where(VM.tenant_id == tenant_id, VM.status != VMStatus.DELETED)
        ).all()
        jobs = conn.execute(
            select(Job.id, Job.vm_id, Job.kind, Job.status).where(Job.tenant_id == tenant_id)
        ).all()
    assert {row.id for row in live} == set(admitted)
    assert {row.status for row in live} == {VMStatus.PENDING}
    assert sorted(row.vm_id for row in jobs) == sorted(admitted)
    assert {(row.kind, row.status) for row in jobs} == {("vm.create", "queued")}
    # Their jobs were enqueued after commit and wait there: no worker takes them.
    assert {str(row.id) for row in jobs} <= queued_rq_job_ids(idle_stack)
