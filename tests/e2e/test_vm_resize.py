"""Resize on real KVM: REST -> RQ -> ansible-runner -> libvirt and qemu-img, then a start."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.conftest import Stack, domain_disks, virsh
from tests.helpers.flows import create_tenant, delete_vm, get, wait_vm
from tests.helpers.stack import dominfo

pytestmark = pytest.mark.e2e
GIB = 1024**3


def virtual_size(domain: str) -> int:
    """The virtual size in bytes of the domain's disk, as qemu-img reads it."""
    [disk] = domain_disks(domain)
    proc = subprocess.run(
        ["qemu-img", "info", "--force-share", "--output=json", disk],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(proc.stdout)["virtual-size"])


def test_resize_gives_the_stopped_domain_its_new_size_and_it_starts(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    body = {"name": "grown", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant_id}
    r = admin.call("POST", "/api/v1/vm/", json=body)
    assert r.status_code == 202, r.text
    cleanup_domains.append(r.json()["data"]["domain_name"])
    vm = wait_vm(admin, r.json()["data"]["id"], {"running"})
    domain, path = vm["domain_name"], f"/api/v1/vm/{vm['id']}/"

    # A running VM is not resized: the refusal names its status.
    r = admin.call("POST", f"{path}resize/", json={"vcpus": 2})
    assert r.status_code == 409 and r.json()["error"]["code"] == "INVALID_STATE", r.text

    r = admin.call("POST", f"{path}stop/", json={"force": True})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"stopped"})

    r = admin.call("POST", f"{path}resize/", json={"vcpus": 2, "ram_mb": 128, "disk_gb": 2})
    assert r.status_code == 202, r.text
    assert (r.json()["data"]["status"], r.json()["data"]["vcpus"]) == ("resizing", 2)
    job_id = r.json()["data"]["job_id"]
    resized = wait_vm(admin, vm["id"], {"stopped"})
    assert (resized["vcpus"], resized["ram_mb"], resized["disk_gb"]) == (2, 128, 2)
    assert resized["status_reason"] is None
    job = get(admin, f"/api/v1/job/{job_id}/")
    assert (job["kind"], job["status"]) == ("vm.resize", "successful")
    # What the playbook read back, and what libvirt and qemu-img say now.
    reported = job["artifacts"]["virtflow_guests"][domain]
    assert (reported["vcpus"], reported["ram_mb"], reported["disk_gb"]) == (2, 128, 2)
    info = dominfo(domain)
    assert (info["State"], info["CPU(s)"], info["Max memory"]) == ("shut off", "2", "131072 KiB")
    assert info["Used memory"] == "131072 KiB"
    assert virtual_size(domain) == 2 * GIB

    # Down on vCPUs and RAM; a smaller disk is refused before any job.
    r = admin.call("POST", f"{path}resize/", json={"disk_gb": 1})
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", r.text
    r = admin.call("POST", f"{path}resize/", json={"vcpus": 1, "ram_mb": 96})
    assert r.status_code == 202, r.text
    smaller = wait_vm(admin, vm["id"], {"stopped"})
    assert (smaller["vcpus"], smaller["ram_mb"], smaller["disk_gb"]) == (1, 96, 2)
    info = dominfo(domain)
    assert (info["CPU(s)"], info["Max memory"]) == ("1", "98304 KiB")

    # It starts with its new size: libvirt runs the domain as now defined.
    r = admin.call("POST", f"{path}start/", json={})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm["id"], {"running"})
    info = dominfo(domain)
    assert (info["State"], info["CPU(s)"], info["Max memory"]) == ("running", "1", "98304 KiB")
    assert virtual_size(domain) == 2 * GIB
    assert virsh("domstate", domain).stdout.strip() == "running"
    assert delete_vm(admin, vm["id"], timeout=300)["status"] == "deleted"
