"""Common API flows against a running stack: tenants, VMs, and waiting for jobs to settle."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.helpers.stack import Stack


def create_tenant(stack: Stack) -> str:
    r = stack.call("POST", "/api/v1/tenant/", json={"name": f"t-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def create_vm(stack: Stack, tenant_id: str, name: str) -> dict[str, Any]:
    """POST a 64 MiB, 1 vCPU, 1 GiB VM; returns the accepted VM (with its job_id)."""
    body = {"name": name, "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant_id}
    r = stack.call("POST", "/api/v1/vm/", json=body)
    assert r.status_code == 202, r.text
    vm: dict[str, Any] = r.json()["data"]
    return vm


def get(stack: Stack, path: str) -> dict[str, Any]:
    r = stack.call("GET", path)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def wait_status(
    stack: Stack, path: str, want: set[str], timeout: float, field: str = "status"
) -> dict[str, Any]:
    """Poll GET path until data[field] is in want; fail with what was seen and the logs."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        data = get(stack, path)
        if not seen or seen[-1] != data[field]:
            seen.append(data[field])
        if data[field] in want:
            return data
        time.sleep(0.5)
    raise AssertionError(f"{path} not {want} after {timeout}s; saw {seen}\n{stack.logs()}")


def delete_vm(stack: Stack, vm_id: str, timeout: float = 120) -> dict[str, Any]:
    """DELETE the VM and wait until it is deleted (a real vm_delete.yml run)."""
    r = stack.call("DELETE", f"/api/v1/vm/{vm_id}/")
    assert r.status_code == 202, r.text
    return wait_status(stack, f"/api/v1/vm/{vm_id}/", {"deleted"}, timeout)


FINAL = {"running", "error", "deleted"}


def wait_vm(stack: Stack, vm_id: str, want: set[str], timeout: float = 300) -> dict[str, Any]:
    """Poll the VM until its status is in want; fail at once when it ends in another final one."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        r = stack.call("GET", f"/api/v1/vm/{vm_id}/")
        assert r.status_code == 200, r.text
        vm: dict[str, Any] = r.json()["data"]
        if not seen or seen[-1] != vm["status"]:
            seen.append(vm["status"])
        if vm["status"] in want:
            return vm
        if vm["status"] in FINAL:
            raise AssertionError(
                f"VM ended {vm['status']} ({vm['status_reason']}); statuses {seen}\n{stack.logs()}"
            )
        time.sleep(1)
    raise AssertionError(f"VM not {want} after {timeout}s; statuses {seen}\n{stack.logs()}")
