"""Reboot and a timed stop on real KVM: REST -> RQ -> ansible-runner -> libvirt."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack, virsh
from tests.helpers.flows import create_tenant, delete_vm, wait_vm

pytestmark = pytest.mark.e2e


def domid(name: str) -> str:
    """libvirt's id of a running domain: a new one every time the domain starts."""
    proc = virsh("domid", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_reboot_power_cycles_the_domain_and_a_stop_keeps_its_deadline(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    body = {"name": "cycled", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant_id}
    r = admin.call("POST", "/api/v1/vm/", json=body)
    assert r.status_code == 202, r.text
    cleanup_domains.append(r.json()["data"]["domain_name"])
    vm = wait_vm(admin, r.json()["data"]["id"], {"running"})
    domain, first = vm["domain_name"], domid(vm["domain_name"])

    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/reboot/", json={"hard": True})
    assert r.status_code == 202 and r.json()["data"]["status"] == "rebooting", r.text
    rebooted = wait_vm(admin, vm["id"], {"running"})
    second = domid(domain)
    assert second != first  # the domain really went off and came back
    assert rebooted["domain_uuid"] == vm["domain_uuid"]

    # Soft: the blank test disk has no OS to answer ACPI, so it is powered off at the deadline.
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/reboot/", json={"timeout": 2})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"running"})
    assert domid(domain) != second
    job = admin.call("GET", f"/api/v1/job/{r.json()['data']['job_id']}/").json()["data"]
    assert (job["kind"], job["status"]) == ("vm.reboot", "successful")

    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/stop/", json={"timeout": 2})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"stopped"})
    assert virsh("domstate", domain).stdout.strip() == "shut off"

    # A stopped VM cannot be rebooted: the refusal names its status.
    r = admin.call("POST", f"/api/v1/vm/{vm['id']}/reboot/", json={})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "INVALID_STATE"
    assert r.json()["error"]["message"].startswith("cannot reboot VM cycled while it is stopped")
    assert delete_vm(admin, vm["id"], timeout=300)["status"] == "deleted"
