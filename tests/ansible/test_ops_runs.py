"""Hand runs of the playbooks land in the audit trail: an ops.run job with its events and an
ops.run audit row, written by playbooks/callback_plugins/virtflow_audit.py."""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_URL, drop_database, migrate, recreate_database

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(REPO / ".venv" / "bin" / "ansible-playbook")


def _psql_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def hand_run(
    database_url: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """vm_delete.yml for a guest that does not exist (a no-op), run by hand from the repo root."""
    guests = {
        # vf-* guests are deleted only by UUID (roles/libvirt_guest/tasks/validate.yml).
        "virtflow_guests": [
            {"name": f"vf-opsrun-{uuid.uuid4().hex[:8]}", "uuid": str(uuid.uuid4())}
        ],
        "api_token": "s3cret",
    }
    cmd = [
        ANSIBLE_PLAYBOOK,
        "playbooks/vm_delete.yml",
        "-l",
        "localhost",
        "-e",
        json.dumps(guests),
        *extra,
    ]
    run_env = {**os.environ, "VIRTFLOW_DATABASE_URL": database_url, "ANSIBLE_NOCOLOR": "1"}
    run_env.pop("VIRTFLOW_JOB_ID", None)
    run_env.update(env or {})
    return subprocess.run(
        cmd, cwd=REPO, env=run_env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def ops_db() -> Iterator[str]:
    """A database of its own: hand runs commit there, and audit rows cannot be deleted."""
    name = f"virtflow_ops_{uuid.uuid4().hex[:8]}"
    yield migrate(recreate_database(name))  # as the application's role, like every hand run
    drop_database(name)


def _job_id(proc: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"recorded as ops.run job ([0-9a-f-]{36})", proc.stderr)
    assert found, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return found.group(1)


def test_ops_run_by_hand_is_an_audited_job_with_events(ops_db: str) -> None:
    proc = hand_run(ops_db)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    job_id = _job_id(proc)
    with psycopg.connect(_psql_url(ops_db)) as conn:
        job = conn.execute(
            'SELECT kind, status, playbook, "limit", extravars, tenant_id FROM job WHERE id = %s',
            (job_id,),
        ).fetchone()
        events = conn.execute(
            "SELECT event, host, status FROM job_event WHERE job_id = %s ORDER BY counter",
            (job_id,),
        ).fetchall()
        audit = conn.execute(
            "SELECT actor_username, outcome, changes FROM audit_log"
            " WHERE action = 'ops.run' AND object_id = %s",
            (job_id,),
        ).fetchone()
    assert job is not None and audit is not None
    kind, status, playbook, limit, extravars, tenant_id = job
    assert (kind, status, playbook, limit, tenant_id) == (
        "ops.run",
        "successful",
        "vm_delete.yml",
        "localhost",
        None,
    )
    assert "api_token" not in extravars and extravars["virtflow_guests"][0]["name"].startswith(
        "vf-opsrun-"
    )
    assert events[0][0] == "playbook_on_start"
    assert any(host == "localhost" and status == "ok" for _e, host, status in events)
    actor, outcome, changes = audit
    assert (actor, outcome) == (f"os:{getpass.getuser()}", "success")
    details = changes["details"]
    assert (details["playbook"], details["limit"], details["job_id"]) == (
        "vm_delete.yml",
        "localhost",
        job_id,
    )
    assert "api_token" not in details["extra_vars"]
    assert details["stats"]["localhost"]["failures"] == 0


def test_ops_run_of_the_api_runner_is_not_recorded_twice(ops_db: str) -> None:
    proc = hand_run(ops_db, env={"VIRTFLOW_JOB_ID": str(uuid.uuid4())})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "recorded as ops.run" not in proc.stdout + proc.stderr
    assert "VirtFlow audit" not in proc.stdout + proc.stderr


def test_ops_run_with_the_database_down_still_runs_and_warns() -> None:
    dead = ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").replace("5432", "1")
    proc = hand_run(dead)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "VirtFlow audit: this run was not recorded (OperationalError)" in proc.stdout + proc.stderr
    )
    assert "SELECT" not in proc.stdout + proc.stderr  # one short sentence, no SQL
