"""Stop, start and tenant deletion on real KVM: REST -> RQ -> ansible-runner -> libvirt."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, domain_disks, virsh
from tests.helpers.flows import create_tenant, wait_vm
from tests.helpers.stack import dominfo

pytestmark = pytest.mark.e2e


def domstate(name: str) -> str:
    return virsh("domstate", name).stdout.strip()


def wait_tenant(stack: Stack, tenant_id: str, want: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.call("GET", f"/api/v1/tenant/{tenant_id}/").json()["data"]["status"] == want:
            return
        time.sleep(1)
    pytest.fail(f"tenant not {want} after {timeout}s\n{stack.logs()}")


def test_stop_start_then_delete_the_tenant_on_real_kvm(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    body = {"name": "db", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant_id}
    r = admin.call("POST", "/api/v1/vm/", json=body)
    assert r.status_code == 202, r.text
    cleanup_domains.append(r.json()["data"]["domain_name"])
    vm = wait_vm(admin, r.json()["data"]["id"], {"running"})
    domain, disks = vm["domain_name"], domain_disks(vm["domain_name"])

    # A running VM blocks tenant deletion: 409 with the VM listed, and nothing changes.
    r = admin.call("DELETE", f"/api/v1/tenant/{tenant_id}/")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "TENANT_NOT_EMPTY"
    assert [v["id"] for v in r.json()["error"]["details"]["vms"]] == [vm["id"]]
    assert domstate(domain) == "running"

    # Stop (forced: the blank test disk has no OS to answer ACPI), then start, then stop again.
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/stop/", json={"force": True})
    assert r.status_code == 202 and r.json()["data"]["status"] == "stopping", r.text
    wait_vm(admin, vm["id"], {"stopped"})
    assert domstate(domain) == "shut off"
    assert dominfo(domain)["Autostart"] == "disable"  # stays off if the host restarts
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/start/")
    assert r.status_code == 202 and r.json()["data"]["status"] == "starting", r.text
    started = wait_vm(admin, vm["id"], {"running"})
    assert domstate(domain) == "running" and started["domain_uuid"] == vm["domain_uuid"]
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/stop/", json={"force": True})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"stopped"})

    # Every VM stopped and no job unfinished: the tenant deletes its VMs and then itself.
    r = admin.call("DELETE", f"/api/v1/tenant/{tenant_id}/")
    assert r.status_code == 202, r.text
    assert r.json()["data"]["status"] == "deleting"
    wait_tenant(admin, tenant_id, "deleted")
    gone = admin.call("GET", f"/api/v1/vm/{vm['id']}/").json()["data"]
    assert gone["status"] == "deleted"
    assert virsh("dominfo", domain).returncode != 0
    assert not any(Path(d).exists() for d in disks)
    # Creating in a deleted tenant is refused.
    r = admin.call("POST", "/api/v1/vm/", json={**body, "name": "late"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE", r.text
