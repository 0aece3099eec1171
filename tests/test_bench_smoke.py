"""bench/api.py at a tiny size: it runs end to end and prints its machine-readable last line.

Not a timed test: it checks the benchmark works (seed, servers, every read, both bursts) and
cleans up after itself, never how fast anything was.
"""

from __future__ import annotations

import re
import subprocess

import psycopg

from api.settings import REPO_ROOT
from tests.conftest import ADMIN_URL
from tests.helpers.stack import VENV_BIN

TINY = {
    "vms": 50,
    "hosts": 5,
    "tenants": 5,
    "audit": 500,
    "events": 1000,
    "grants": 5,
    "samples": 3,
    "warmup": 1,
    "creates": 6,
    "hello": 20,
    "clients": 2,
}
LAST_LINE = re.compile(
    r"api vms=50 p95_vm_list_ms=\d+\.\d p95_vm_list_tenant_ms=\d+\.\d p95_events_ms=\d+\.\d "
    r"p95_audit_ms=\d+\.\d create_vs_flask=\d+\.\d%"
)


def _flags(sizes: dict[str, int]) -> list[str]:
    return [part for name, value in sizes.items() for part in (f"--{name}", str(value))]


def test_bench_api_tiny_run_prints_its_last_line_and_drops_its_database() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "python"), "bench/api.py", *_flags(TINY)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert any(line.startswith("vm create, placement over 5 hosts") for line in lines)
    assert any(line.startswith("bare Flask POST") for line in lines)
    db_name = re.search(r"^database: (\S+) ", proc.stdout, re.MULTILINE)
    assert db_name is not None, proc.stdout
    with psycopg.connect(ADMIN_URL) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name[1],))
        assert found.fetchone() is None
