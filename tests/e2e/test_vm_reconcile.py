"""libvirt is the source of truth: a domain changed with virsh, then POST /vm/{id}/refresh/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Stack, virsh
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_status

pytestmark = pytest.mark.e2e


def refreshed(stack: Stack, vm_id: str) -> dict[str, Any]:
    """POST refresh, wait for its job to succeed; returns the VM as it then is."""
    r = stack.call("POST", f"/api/v1/vm/{vm_id}/refresh/")
    assert r.status_code == 202, r.text
    job = r.json()["data"]
    assert (job["kind"], job["vm_id"]) == ("vm.refresh", vm_id)
    wait_status(stack, f"/api/v1/job/{job['id']}/", {"successful", "failed", "error"}, 120)
    assert get(stack, f"/api/v1/job/{job['id']}/")["status"] == "successful"
    return get(stack, f"/api/v1/vm/{vm_id}/")


def out_of_band_rows(stack: Stack, vm_id: str) -> list[dict[str, Any]]:
    r = stack.call("GET", "/api/v1/audit/", params={"object_id": vm_id, "outcome": "out_of_band"})
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return rows


def test_vm_follows_a_domain_destroyed_then_undefined_by_hand(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    vm = create_vm(admin, create_tenant(admin), "oob")
    cleanup_domains.append(vm["domain_name"])
    wait_status(admin, f"/api/v1/vm/{vm['id']}/", {"running", "error"}, 300)
    assert get(admin, f"/api/v1/vm/{vm['id']}/")["status"] == "running"

    # Ops stop the domain behind VirtFlow's back.
    assert virsh("destroy", vm["domain_name"]).returncode == 0
    after_stop = refreshed(admin, vm["id"])
    assert (after_stop["status"], after_stop["status_reason"]) == ("stopped", None)
    rows = out_of_band_rows(admin, vm["id"])
    assert rows and rows[0]["action"] == "vm.reconcile"
    assert rows[0]["changes"]["after"]["status"] == "stopped"

    # Then they remove it altogether.
    assert virsh("undefine", vm["domain_name"]).returncode == 0
    after_undefine = refreshed(admin, vm["id"])
    assert (after_undefine["status"], after_undefine["status_reason"]) == (
        "error",
        "domain missing on host localhost",
    )
    assert len(out_of_band_rows(admin, vm["id"])) == len(rows) + 1

    assert delete_vm(admin, vm["id"])["status"] == "deleted"
