"""The whole path: REST -> PostgreSQL -> RQ -> ansible-runner -> libvirt/KVM and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, domain_disks, virsh
from tests.helpers.flows import create_tenant, wait_status, wait_vm
from tests.helpers.stack import dominfo

pytestmark = pytest.mark.e2e


def test_vm_create_run_and_delete_on_real_kvm(admin: Stack, cleanup_domains: list[str]) -> None:
    tenant_id = create_tenant(admin)
    body = {"name": "web", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant_id}
    r = admin.call(
        "POST", "/api/v1/vm/create/", json=body, headers={"X-Request-ID": "e2e-create-1"}
    )
    assert r.status_code == 202, r.text
    created = r.json()["data"]
    assert created["status"] == "pending"
    assert r.headers["X-Request-ID"] == "e2e-create-1"
    cleanup_domains.append(created["domain_name"])

    vm = wait_vm(admin, created["id"], {"running"})
    assert vm["baremetal"] == "localhost"
    assert (vm["vcpus"], vm["ram_mb"], vm["disk_gb"]) == (1, 64, 1)

    # libvirt itself agrees: running, with the requested vCPUs, memory and UUID.
    domain = vm["domain_name"]
    assert virsh("domstate", domain).stdout.strip() == "running"
    info = dominfo(domain)
    assert info["CPU(s)"] == "1"
    assert info["Max memory"] == "65536 KiB"
    assert info["UUID"] == vm["domain_uuid"]
    disks = domain_disks(domain)
    assert len(disks) == 1 and Path(disks[0]).exists()

    # The job and its events are the audit trail of what Ansible did.
    job = admin.call("GET", f"/api/v1/job/{created['job_id']}/").json()["data"]
    assert job["status"] == "successful" and job["rc"] == 0
    assert job["request_id"] == "e2e-create-1"
    assert job["progress"]["host_tasks_done"] > 0
    events = admin.call("GET", f"/api/v1/job/{job['id']}/events/?per_page=200").json()
    counters = [e["counter"] for e in events["data"]]
    assert counters == sorted(counters) and len(counters) == events["meta"]["pagination"]["total"]
    assert {"playbook_on_start", "playbook_on_stats"} <= {e["event"] for e in events["data"]}
    assert any(e["host"] == "localhost" and e["changed"] for e in events["data"])

    r = admin.call("DELETE", f"/api/v1/vm/{vm['id']}/")
    assert r.status_code == 202, r.text
    assert r.json()["data"]["status"] == "deleting"
    gone = wait_vm(admin, vm["id"], {"deleted"})
    assert gone["deleted_at"] is not None
    assert virsh("dominfo", domain).returncode != 0
    assert not Path(disks[0]).exists()
    delete_job = admin.call("GET", f"/api/v1/job/{gone['job_id']}/").json()["data"]
    assert delete_job["kind"] == "vm.delete" and delete_job["status"] == "successful"


def _sync(stack: Stack) -> dict[str, Any]:
    r = stack.call("POST", "/api/v1/baremetal/sync/")
    assert r.status_code == 200, r.text
    return {h["name"]: h for h in r.json()["data"]}


def _too_big_for_localhost(stack: Stack, hosts: dict[str, Any], name: str) -> Any:
    body = {
        "name": name,
        "vcpus": 1,
        "ram_mb": hosts["localhost"]["capacity_ram_mb"] + 64,
        "disk_gb": 1,
        "tenant_id": create_tenant(stack),
    }
    return stack.call("POST", "/api/v1/vm/", json=body)


def test_host_added_by_hand_is_placeable_only_once_prepared(
    admin: Stack, unreachable_host: str
) -> None:
    hosts = _sync(admin)
    added = hosts[unreachable_host]
    assert (added["in_inventory"], added["state"]) == (True, "new")
    # Only the new host has this much RAM, and a `new` host takes no VM.
    r = _too_big_for_localhost(admin, hosts, "early")
    assert r.status_code == 409 and r.json()["error"]["code"] == "NO_CAPACITY", r.text

    r = admin.call("POST", f"/api/v1/baremetal/{added['id']}/prepare/")
    assert r.status_code == 202, r.text
    job = wait_status(admin, f"/api/v1/job/{r.json()['data']['id']}/", {"failed", "error"}, 120)
    assert (job["kind"], job["baremetal_id"], job["tenant_id"]) == (
        "host.prepare",
        added["id"],
        None,
    )
    assert unreachable_host in job["explanation"] and "unreachable" in job["explanation"]
    host = admin.call("GET", f"/api/v1/baremetal/{added['id']}/").json()["data"]
    assert (host["state"], host["state_reason"]) == ("new", job["explanation"])
    r = _too_big_for_localhost(admin, hosts, "still-early")
    assert r.status_code == 409 and r.json()["error"]["code"] == "NO_CAPACITY", r.text


def test_host_removed_from_inventory_by_hand_takes_no_new_vms(
    admin: Stack, unreachable_host: str
) -> None:
    assert unreachable_host in _sync(admin)
    (Path(admin.env["VIRTFLOW_INVENTORY"]) / "zz-e2e-unreachable.yml").unlink()
    hosts = _sync(admin)
    assert hosts[unreachable_host]["in_inventory"] is False
    assert (hosts["localhost"]["in_inventory"], hosts["localhost"]["state"]) == (True, "active")
    r = _too_big_for_localhost(admin, hosts, "nowhere")
    assert r.status_code == 409 and r.json()["error"]["code"] == "NO_CAPACITY"
