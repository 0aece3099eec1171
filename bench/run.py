"""Benchmarks: prints figures, asserts nothing about speed (timed tests flake on shared machines).

Uses a throwaway database on the local PostgreSQL and a throwaway queue on the local Redis:
- VM create requests through the full Flask stack (validation, placement lock, enqueue);
- ansible-runner event ingestion through EventSink (buffered bulk INSERT);
- paging a job's events.
"""

from __future__ import annotations

import resource
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import session_factory
from api.models import Job, JobKind, JobStatus
from api.services.users import create_user
from api.settings import Settings
from api.web.app import create_app
from jobs.events import EventSink
from tests.conftest import drop_database, migrate, recreate_database

N_VMS = 300
N_EVENTS = 20_000


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000


def _inventory() -> Path:
    """One roomy fake host, so every create is admitted and the figure measures real work."""
    path = Path(tempfile.mkdtemp(prefix="virtflow-bench-")) / "hosts.yml"
    path.write_text(
        "all:\n  children:\n    baremetal:\n      hosts:\n        bench-host:\n"
        "          ansible_connection: local\n          virtflow_capacity_vcpus: 100000\n"
        "          virtflow_capacity_ram_mb: 100000000\n          virtflow_capacity_disk_gb: 1000000\n"
    )
    return path


def main() -> None:
    db_name = f"virtflow_bench_{uuid.uuid4().hex[:8]}"
    url = migrate(recreate_database(db_name))
    settings = Settings(
        database_url=url,
        queue_name=f"virtflow-bench-{uuid.uuid4().hex[:8]}",
        jwt_secret=secrets.token_urlsafe(48),
        inventory_path=_inventory(),
    )
    try:
        run(settings)
    finally:
        redis = Redis.from_url(settings.redis_url)
        for key in redis.scan_iter(f"rq:*{settings.queue_name}*"):
            redis.delete(key)
        redis.srem("rq:queues", f"rq:queue:{settings.queue_name}")
        drop_database(db_name)


def run(settings: Settings) -> None:
    sessions = session_factory(settings.database_url)
    with sessions() as s:
        create_user(s, "bench", "bench-password", is_admin=True)
        s.commit()
    client = create_app(settings).test_client()
    token = client.post(
        "/api/v1/auth/login/", json={"username": "bench", "password": "bench-password"}
    ).json["data"]["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    tenant = client.post("/api/v1/tenant/", json={"name": "bench"}, headers=h).json["data"]["id"]

    lat = []
    for i in range(N_VMS):
        t0 = time.perf_counter()
        r = client.post(
            "/api/v1/vm/",
            json={"name": f"vm-{i}", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant},
            headers=h,
        )
        lat.append(time.perf_counter() - t0)
        assert r.status_code == 202, r.json
    print(
        f"vm create (in-process, {N_VMS} requests): p50 {pct(lat, 0.5):.1f} ms, p95 {pct(lat, 0.95):.1f} ms, "
        f"{N_VMS / sum(lat):.0f} req/s"
    )

    lat = []
    for _ in range(100):
        t0 = time.perf_counter()
        client.get("/api/v1/vm/?per_page=50", headers=h)
        lat.append(time.perf_counter() - t0)
    print(
        f"vm list (50 per page of {N_VMS}): p50 {pct(lat, 0.5):.1f} ms, p95 {pct(lat, 0.95):.1f} ms"
    )

    job_id = _any_job(sessions)
    sink = EventSink(sessions, job_id)
    t0 = time.perf_counter()
    for n in range(1, N_EVENTS + 1):
        sink(
            {
                "event": "runner_on_ok",
                "counter": n,
                "stdout": f"ok: [bm-a] task {n}",
                "created": "2026-11-26T00:00:00",
                "event_data": {
                    "task": f"t{n}",
                    "host": "bm-a",
                    "res": {"changed": n % 2 == 0, "msg": "x" * 200},
                },
            }
        )
    sink.flush()
    dt = time.perf_counter() - t0
    print(f"event ingest: {N_EVENTS} events in {dt:.2f} s = {N_EVENTS / dt:.0f} events/s")

    lat = []
    for page in range(1, 101):
        t0 = time.perf_counter()
        r = client.get(f"/api/v1/job/{job_id}/events/?per_page=200&page={page}", headers=h)
        lat.append(time.perf_counter() - t0)
    print(
        f"event paging (200 per page of {N_EVENTS}): p50 {pct(lat, 0.5):.1f} ms, p95 {pct(lat, 0.95):.1f} ms"
    )
    print(f"max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _any_job(sessions: sessionmaker[Session]) -> uuid.UUID:
    with sessions() as s:
        return s.scalar(
            select(Job.id)
            .where(Job.kind == JobKind.VM_CREATE, Job.status == JobStatus.QUEUED)
            .limit(1)
        )


if __name__ == "__main__":
    main()
