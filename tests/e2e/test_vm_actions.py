"""A VM's history on real KVM: API jobs, a hand run of a playbook by ops, and the out-of-band
change the reconciler then follows, all in GET /api/v1/vm/{id}/action/."""

from __future__ import annotations

import getpass
import json
import subprocess
import uuid
from typing import Any

import pytest

from api.settings import REPO_ROOT
from tests.e2e.conftest import Stack, virsh
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_status, wait_vm
from tests.helpers.stack import VENV_BIN

pytestmark = pytest.mark.e2e


def hand_start(stack: Stack, vm: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Ops start the VM's domain by hand: vm_start.yml from the repo root, recorded as ops.run."""
    guests = {"virtflow_guests": [{"name": vm["domain_name"], "uuid": vm["id"]}]}
    env = {k: v for k, v in stack.env.items() if k != "VIRTFLOW_JOB_ID"}
    cmd = [str(VENV_BIN / "ansible-playbook"), "playbooks/vm_start.yml", "-l", "localhost"]
    return subprocess.run(
        [*cmd, "-e", json.dumps(guests)],
        cwd=REPO_ROOT,
        env={**env, "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def history(stack: Stack, vm_id: str) -> list[dict[str, Any]]:
    r = stack.call("GET", f"/api/v1/vm/{vm_id}/action/")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return rows


def test_vm_actions_record_api_jobs_a_hand_run_and_the_out_of_band_change(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    vm = create_vm(admin, create_tenant(admin), f"hist-{uuid.uuid4().hex[:6]}")
    cleanup_domains.append(vm["domain_name"])
    assert wait_vm(admin, vm["id"], {"running"})["status"] == "running"
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/stop/", json={"force": True})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"stopped"})

    run = hand_start(admin, vm)
    assert run.returncode == 0, run.stdout + run.stderr
    assert virsh("domstate", vm["domain_name"]).stdout.strip() == "running"
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/refresh/")
    assert r.status_code == 202, r.text
    refresh = r.json()["data"]
    wait_status(admin, f"/api/v1/job/{refresh['id']}/", {"successful", "failed", "error"}, 120)
    assert get(admin, f"/api/v1/vm/{vm['id']}/")["status"] == "running"

    rows = history(admin, vm["id"])
    assert [(a["action"], a["result"], a["source"]) for a in rows] == [
        ("vm.reconcile", "out_of_band", "reconciler"),
        ("vm.refresh", "successful", "api"),
        ("ops.run", "successful", f"ops:{getpass.getuser()}"),
        ("vm.stop", "successful", "api"),
        ("vm.create", "successful", "api"),
    ]
    reconcile, ops_run = rows[0], rows[2]
    assert (reconcile["status_before"], reconcile["status_after"]) == ("stopped", "running")
    assert reconcile["job_id"] == refresh["id"]
    ops_job = get(admin, f"/api/v1/job/{ops_run['job_id']}/")
    assert (ops_job["kind"], ops_job["playbook"], ops_job["host"]) == (
        "ops.run",
        "vm_start.yml",
        "localhost",
    )
    for action in rows[1:]:  # every job ran for real: its times are the worker's (or the run's)
        assert action["started_at"] and action["finished_at"], action
        assert action["requested_at"] <= action["started_at"] <= action["finished_at"]

    assert delete_vm(admin, vm["id"], timeout=300)["status"] == "deleted"
    newest = history(admin, vm["id"])[0]
    assert (newest["action"], newest["result"]) == ("vm.delete", "successful")
