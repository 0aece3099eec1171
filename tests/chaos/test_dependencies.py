"""Dependencies paused, restarted, cut or missing under a running stack: answers stay enveloped
and quick, nothing is lost, and failures say what broke."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
from redis import Redis
from rq import Queue, Worker

from tests.chaos.conftest import StackFactory
from tests.conftest import ADMIN_URL
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_status
from tests.helpers.leftovers import assert_none_left
from tests.helpers.redis_server import RedisServer
from tests.helpers.stack import Stack, wait_for

pytestmark = pytest.mark.chaos
PAUSE_SECONDS = 10
# Well inside gunicorn's 30 s timeout: a request that waits longer has hung on a dependency.
ANSWER_WITHIN = 10


def _assert_dependency_503(r: Any, dependency: str) -> None:
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
    assert body["error"]["details"]["dependency"] == dependency
    assert int(r.headers["Retry-After"]) > 0


def _login(stack: Stack) -> dict[str, Any]:
    r = stack.call(
        "POST",
        "/api/v1/auth/login/",
        json={"username": stack.admin_username, "password": stack.admin_password},
        timeout=ANSWER_WITHIN,
    )
    assert r.status_code == 200, r.text
    tokens: dict[str, Any] = r.json()["data"]
    return tokens


def test_redis_paused_during_login_gets_and_create(
    chaos_stack: StackFactory, redis_server: RedisServer
) -> None:
    with chaos_stack() as stack:
        tenant = create_tenant(stack)
        redis_server.pause()
        paused_at = time.monotonic()
        try:
            assert _login(stack)["access_token"]  # the login limiter falls back to memory
            listed = stack.call("GET", "/api/v1/vm/", timeout=ANSWER_WITHIN)
            assert listed.status_code == 200, listed.text
            got = stack.call("GET", f"/api/v1/tenant/{tenant}/", timeout=ANSWER_WITHIN)
            assert got.status_code == 200, got.text
            vm = create_vm(stack, tenant, "while-paused")  # recorded; queued when Redis is back
            health = stack.call("GET", "/api/v1/health/", timeout=ANSWER_WITHIN)
            assert health.status_code == 503 and int(health.headers["Retry-After"]) > 0
            assert health.json()["error"]["details"] == {"database": "ok", "redis": "unavailable"}
            assert get(stack, f"/api/v1/job/{vm['job_id']}/")["status"] == "queued"
        finally:  # paused for PAUSE_SECONDS, or longer if the answers above took longer
            time.sleep(max(0.0, PAUSE_SECONDS - (time.monotonic() - paused_at)))
            redis_server.resume()
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 120)
        delete_vm(stack, vm["id"])
        assert_none_left(stack.runs_dir)


def test_redis_restart_without_persistence_loses_nothing(
    chaos_stack: StackFactory, redis_server: RedisServer
) -> None:
    with chaos_stack() as stack:
        tenant = create_tenant(stack)
        tokens = _login(stack)
        access = {"Authorization": f"Bearer {tokens['access_token']}"}
        refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
        assert stack.call("POST", "/api/v1/auth/logout/", headers=access).status_code == 200
        # Hold the worker so the next job waits in Redis, then lose Redis with it inside. RQ
        # checks the suspension between jobs: a worker blocked in its dequeue sees it after the
        # next job, so feed it one (a job id with no row, which it skips) and wait until the
        # worker says it is suspended.
        redis = Redis.from_url(redis_server.url)
        redis.set("rq:suspended", 1)
        queue = Queue(stack.env["VIRTFLOW_QUEUE"], connection=redis)
        queue.enqueue_call("jobs.vms.provision", kwargs={"job_id": str(uuid.uuid4())})
        wait_for("the worker suspended", lambda: _suspended(queue), 60)
        vm = create_vm(stack, tenant, "lost-in-redis")
        time.sleep(1)  # the suspended worker polls every second; give it one to misbehave
        assert get(stack, f"/api/v1/job/{vm['job_id']}/")["status"] == "queued"
        worker_pid = stack.procs["worker"].pid
        redis_server.restart()

        for method, path, headers in (
            ("GET", "/api/v1/auth/me/", access),
            ("POST", "/api/v1/auth/refresh/", refresh),
        ):
            r = stack.call(method, path, headers=headers)
            assert r.status_code == 401, r.text
            assert r.json()["error"]["code"] == "TOKEN_REVOKED"
        # The sweep of the worker that lived through the restart queues the lost job again.
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 120)
        assert stack.procs["worker"].poll() is None and stack.procs["worker"].pid == worker_pid
        delete_vm(stack, vm["id"])
        assert_none_left(stack.runs_dir)


def _suspended(queue: Queue) -> bool:
    return any(w.get_state() == "suspended" for w in Worker.all(queue=queue))


def _terminate_backends(db_name: str) -> int:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (db_name,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def test_postgres_backends_terminated_under_traffic_never_500(chaos_stack: StackFactory) -> None:
    with chaos_stack(with_worker=False) as stack:
        tenant = create_tenant(stack)
        statuses: Counter[int] = Counter()
        unexpected: list[str] = []
        stop = threading.Event()
        requests_made = [
            ("GET", "/api/v1/vm/", None),
            ("GET", f"/api/v1/tenant/{tenant}/", None),
            ("GET", "/api/v1/auth/me/", None),
            ("POST", "/api/v1/tenant/", "tenant"),
        ]

        def traffic() -> None:
            n = 0
            while not stop.is_set() and n < 400:
                for method, path, body in requests_made:
                    n += 1
                    json = {"name": f"t-{threading.get_ident()}-{n}"} if body else None
                    r = stack.call(method, path, json=json, timeout=ANSWER_WITHIN)
                    statuses[r.status_code] += 1
                    if r.status_code >= 500:
                        _assert_dependency_503(r, "database")
                    elif r.status_code not in (200, 201):
                        unexpected.append(f"{method} {path}: {r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=traffic) for _ in range(4)]
        for thread in threads:
            thread.start()
        terminated = 0
        try:
            for _ in range(20):
                time.sleep(0.25)
                terminated += _terminate_backends(stack.db_name)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert terminated > 0
        assert statuses[500] == 0 and set(statuses) <= {200, 201, 503}, statuses
        assert unexpected == []
        assert statuses[200] + statuses[201] > 0, statuses


def kill_libvirt(inventory: Path) -> None:
    """The host's libvirt daemon becomes unreachable: its socket does not exist (an edit of the
    stack's inventory after the host was prepared; every playbook run reads it afresh)."""
    with (inventory / "host_vars" / "localhost.yml").open("a") as fh:
        fh.write("libvirt_uri: qemu+unix:///system?socket=/nonexistent/libvirt-sock\n")


def test_libvirt_unreachable_explanation_names_the_cause(chaos_stack: StackFactory) -> None:
    with chaos_stack() as stack:
        kill_libvirt(Path(stack.env["VIRTFLOW_INVENTORY"]))
        vm = create_vm(stack, create_tenant(stack), "nolibvirt")
        job = wait_status(stack, f"/api/v1/job/{vm['job_id']}/", {"failed", "error"}, 120)
        assert job["status"] == "failed"
        assert "/nonexistent/libvirt-sock" in job["explanation"], job["explanation"]
        assert "One or more items failed" not in job["explanation"]
        after = get(stack, f"/api/v1/vm/{vm['id']}/")
        assert (after["status"], after["status_reason"]) == ("error", job["explanation"])
        assert_none_left(stack.runs_dir)
