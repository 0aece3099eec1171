"""Cancel of a running job on real KVM: REST -> RQ -> ansible-runner (stopped) -> libvirt read
back. A stop of a guest that ignores ACPI (the blank test disk has no OS) waits out a long
deadline; canceled, the job ends within seconds and the VM, `error` meanwhile with the reason,
becomes what libvirt reports: still running."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from jobs import reaper
from tests.e2e.conftest import Stack, virsh
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_status, wait_vm
from tests.helpers.stack import wait_for

pytestmark = pytest.mark.e2e
SHUTDOWN_WAIT = "Wait for the guests to shut down"  # the task of roles/libvirt_guest/shutdown.yml
ENDED = {"successful", "failed", "error", "canceled"}


def listed(stack: Stack, path: str) -> list[dict[str, Any]]:
    r = stack.call("GET", path)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return rows


def waiting_for_shutdown(stack: Stack, job_id: str) -> dict[str, Any] | None:
    """The stop job once its playbook waits for the ACPI shutdown the guest ignores."""
    job = get(stack, f"/api/v1/job/{job_id}/")
    assert job["status"] in ("queued", "running"), job
    return job if job["progress"]["current_task"] == SHUTDOWN_WAIT else None


def test_a_running_stop_is_canceled_within_seconds_and_the_vm_is_read_back(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    accepted = create_vm(admin, tenant_id, f"cancel-{uuid.uuid4().hex[:6]}")
    cleanup_domains.append(accepted["domain_name"])
    vm = wait_vm(admin, accepted["id"], {"running"})
    domain = vm["domain_name"]

    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/stop/", json={"timeout": 900})
    assert r.status_code == 202, r.text
    job_id = r.json()["data"]["job_id"]
    wait_for("the stop waiting for the shutdown", lambda: waiting_for_shutdown(admin, job_id), 120)

    r = admin.call("POST", f"/api/v1/job/{job_id}/cancel/")
    asked = time.monotonic()
    assert r.status_code == 202, r.text
    answered = r.json()["data"]
    assert (answered["status"], answered["cancel_requested_at"] is not None) == ("running", True)
    job = wait_status(admin, f"/api/v1/job/{job_id}/", ENDED, timeout=30)
    took = time.monotonic() - asked
    assert job["status"] == "canceled", job
    assert took < 10, f"the cancel took {took:.1f}s"
    assert job["explanation"] == f"canceled by {admin.admin_username} while it ran"
    # Nothing of the playbook survives it (ansible-runner's kill, then the reaper's).
    assert [t for t in reaper.tagged_processes(admin.runs_dir) if t.job_id == job_id] == []

    r = admin.call("POST", f"/api/v1/job/{job_id}/cancel/")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "INVALID_STATE"

    # The guest ignored the ACPI request and the force-off never came: libvirt has it running,
    # and the VM follows once the vm.refresh job queued with the cancel has read it back.
    final = wait_status(admin, f"/api/v1/vm/{vm['id']}/", {"running"}, timeout=120)
    assert final["status_reason"] is None
    assert virsh("domstate", domain).stdout.strip() == "running"
    history = listed(admin, f"/api/v1/vm/{vm['id']}/action/?per_page=50")
    stop = next(a for a in history if a["job_id"] == job_id)
    assert (stop["action"], stop["result"], stop["message"]) == (
        "vm.stop",
        "canceled",
        job["explanation"],
    )
    reread = next(a for a in history if a["action"] == "vm.reconcile")
    assert (reread["status_before"], reread["status_after"], reread["message"]) == (
        "error",
        "running",
        "libvirt reported the domain running",
    )
    # What the VM showed meanwhile, as the reconciler's audit row recorded it.
    [row] = listed(admin, f"/api/v1/audit/?action=vm.reconcile&object_id={vm['id']}")
    assert row["changes"]["before"] == {
        "status": "error",
        "status_reason": (
            "its stop job was canceled while it ran; libvirt's state is being read back"
        ),
    }
    refresh = get(admin, f"/api/v1/job/{reread['job_id']}/")
    assert (refresh["kind"], refresh["status"]) == ("vm.refresh", "successful")
    assert delete_vm(admin, vm["id"], timeout=300)["status"] == "deleted"
