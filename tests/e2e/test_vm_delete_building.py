"""Deleting VMs that are still being built, on real KVM: DELETE never answers busy.

One worker runs one batch at a time and a batch never mixes tenants, so of two VMs of two
tenants created back to back the first is provisioning while the second's create is still
queued: the second is deleted at once without libvirt, and the first is deleted after its create
has finished.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.flows import create_tenant, create_vm, get, wait_status
from tests.helpers.stack import Stack, virsh

pytestmark = pytest.mark.e2e
IMAGE_DIR = Path("/var/lib/virtflow/images")  # the local host's (roles/libvirt_guest defaults)


def test_delete_of_a_queued_and_of_a_provisioning_vm(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    building = create_vm(admin, create_tenant(admin), "building")
    queued = create_vm(admin, create_tenant(admin), "queued")  # not in building's batch
    cleanup_domains += [building["domain_name"], queued["domain_name"]]

    wait_status(admin, f"/api/v1/vm/{building['id']}/", {"provisioning"}, timeout=120)
    assert get(admin, f"/api/v1/vm/{queued['id']}/")["status"] == "pending"

    # The queued create never ran: the VM is deleted at once, its job canceled, libvirt untouched.
    r = admin.call("DELETE", f"/api/v1/vm/{queued['id']}/")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "deleted"
    create_job = get(admin, f"/api/v1/job/{queued['job_id']}/")
    assert create_job["status"] == "canceled"

    # The create that runs finishes first; meanwhile the VM shows deleting, then its delete runs.
    r = admin.call("DELETE", f"/api/v1/vm/{building['id']}/")
    assert r.status_code == 202, r.text
    assert r.json()["data"]["status"] == "deleting"
    delete_job_id = r.json()["data"]["job_id"]
    first = wait_status(admin, f"/api/v1/job/{building['job_id']}/", {"successful"}, timeout=180)
    assert first["kind"] == "vm.create"
    gone = wait_status(admin, f"/api/v1/vm/{building['id']}/", {"deleted", "error"}, timeout=180)
    assert (gone["status"], gone["status_reason"]) == ("deleted", None)
    delete_job = get(admin, f"/api/v1/job/{delete_job_id}/")
    assert (delete_job["kind"], delete_job["status"]) == ("vm.delete", "successful")
    assert delete_job["started_at"] >= first["finished_at"]

    for vm in (building, queued):  # the queued one was never defined at all
        assert virsh("dominfo", vm["domain_name"]).returncode != 0
        assert not (IMAGE_DIR / f"{vm['domain_name']}.qcow2").exists()

    # The history says the same.
    r = admin.call("GET", f"/api/v1/vm/{building['id']}/action/")
    assert r.status_code == 200, r.text
    assert [(a["action"], a["result"]) for a in r.json()["data"]] == [
        ("vm.delete", "successful"),
        ("vm.create", "successful"),
    ]
