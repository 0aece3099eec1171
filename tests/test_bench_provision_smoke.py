"""bench/provision.py at N=2, K=1: it runs end to end on the real stack and leaves nothing behind.

Not a timed test: it checks the benchmark works (the API's creates and deletes, the libvirt floor,
the one-run-per-VM playbooks) and cleans up its domains, disks and database, never how fast.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg

from api.settings import REPO_ROOT
from tests.conftest import ADMIN_URL
from tests.helpers.stack import VENV_BIN, virsh

IMAGE_DIR = Path("/var/lib/virtflow/images")  # inventory/group_vars/baremetal.yml
LAST_LINE = re.compile(
    r"provision N=2 api_s_per_vm=\d+\.\d{3} floor_s_per_vm=\d+\.\d{3} "
    r"api/floor=\d+\.\dx naive/api=\d+\.\dx delete/floor=\d+\.\dx"
)


def test_bench_provision_tiny_run_prints_its_last_line_and_leaves_no_domain() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "python"), "bench/provision.py", "--vms", "2", "--naive", "1"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert "errors: 0" in lines
    tag = re.search(r"^run tag: (\w+) ", proc.stdout, re.MULTILINE)
    db_name = re.search(r"^database (\S+),", proc.stdout, re.MULTILINE)
    assert tag is not None and db_name is not None, proc.stdout
    ours = tuple(f"vf-{kind}{tag[1]}-" for kind in ("pb", "floor-", "naive-"))
    listed = virsh("list", "--all", "--name")
    assert listed.returncode == 0, listed.stderr
    assert [name for name in listed.stdout.split() if name.startswith(ours)] == []
    assert [path.name for path in IMAGE_DIR.iterdir() if path.name.startswith(ours)] == []
    with psycopg.connect(ADMIN_URL) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name[1],))
        assert found.fetchone() is None
