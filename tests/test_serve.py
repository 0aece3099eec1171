"""`virtflow serve` as deployed: gunicorn with two worker processes, metrics on and JSON logs,
against the real PostgreSQL and Redis. Whichever worker answers a scrape, it reports the requests
of both; every log line, gunicorn's access lines included, is JSON carrying the request id."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from api.settings import REPO_ROOT, Settings
from tests.helpers.metrics import LATENCY, METRICS_TOKEN, bearer, value
from tests.helpers.stack import VENV_BIN, free_port, wait_for

WORKERS = 2
BATCH = 8
# Above Linux's largest pid (2^22): the directory of a server that cannot be running.
GONE_PID = 4_194_305


@dataclass
class Served:
    base: str
    pid: int
    metrics_root: Path
    log: Path


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/v1/health/", timeout=10).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still starting
        return False


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module (starting gunicorn takes seconds)."""
    tmp_path = tmp_path_factory.mktemp("serve")
    port, state = free_port(), tmp_path / "state"
    leftover = state / "metrics" / str(GONE_PID)
    leftover.mkdir(parents=True)
    (leftover / "histogram_1.db").write_bytes(b"stale")
    env = {
        **os.environ,
        "VIRTFLOW_DATABASE_URL": settings.database_url,
        "VIRTFLOW_JWT_SECRET": "s" * 48,
        "VIRTFLOW_QUEUE": f"virtflow-test-{uuid.uuid4().hex[:8]}",
        "VIRTFLOW_STATE_DIR": str(state),
        "VIRTFLOW_METRICS_TOKEN": METRICS_TOKEN,
        "VIRTFLOW_LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    argv = [str(VENV_BIN / "virtflow"), "serve", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "--workers", str(WORKERS)], cwd=REPO_ROOT, env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for("virtflow serve answering", lambda: _answers(base), timeout=30)
        yield Served(base, proc.pid, state / "metrics", log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def worker_pids(served: Served) -> set[str]:
    """The pids whose metric files are in the server's directory (histogram_<pid>.db)."""
    directory = served.metrics_root / str(served.pid)
    return {path.stem.rsplit("_", 1)[1] for path in directory.glob("*.db")}


def test_serve_metrics_add_up_every_worker_process(served: Served) -> None:
    labels = {"method": "GET", "route": "/api/v1/user/<uuid:user_id>/", "status": "401"}
    sent = 0

    def unauthorized() -> int:
        url = f"{served.base}/api/v1/user/{uuid.uuid4()}/"
        return requests.get(url, timeout=10).status_code

    def both_workers_answered() -> bool:
        nonlocal sent
        with ThreadPoolExecutor(BATCH) as pool:  # concurrent: one worker cannot take them all
            assert list(pool.map(lambda _: unauthorized(), range(BATCH))) == [401] * BATCH
        sent += BATCH
        return len(worker_pids(served)) == WORKERS

    wait_for("requests answered by both workers", both_workers_answered, timeout=30)
    counts = set()
    for _ in range(8):  # whichever worker answers the scrape
        resp = requests.get(f"{served.base}/metrics", headers=bearer(), timeout=10)
        assert resp.status_code == 200, resp.text
        counts.add(value(resp.text, f"{LATENCY}_count", **labels))
    assert counts == {sent}


def test_serve_metrics_dir_is_the_servers_own_and_leftovers_are_gone(served: Served) -> None:
    assert sorted(p.name for p in served.metrics_root.iterdir()) == [str(served.pid)]


def test_serve_json_logs_carry_the_request_id(served: Served) -> None:
    rid = f"probe-{uuid.uuid4().hex}"
    resp = requests.get(f"{served.base}/api/v1/nowhere/", headers={"X-Request-ID": rid}, timeout=10)
    assert resp.headers["X-Request-ID"] == rid

    def access_line() -> dict[str, object] | None:
        lines = [json.loads(line) for line in served.log.read_text().splitlines() if line]
        return next((line for line in lines if line.get("request_id") == rid), None)

    line = wait_for("the access line of the probe", access_line, timeout=10)
    assert line["logger"] == "gunicorn.access"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/nowhere/", "404")
