"""Snapshots on real KVM: REST -> RQ -> ansible-runner -> libvirt internal snapshots of the disk.

The local host's guests are blank disks without an OS: what a revert brings back is proved on the
qcow2 itself, with qemu-io (a pattern written while the VM is stopped, gone after the revert).
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.e2e.conftest import Stack, domain_disks, virsh
from tests.helpers.flows import create_tenant, create_vm, delete_vm, wait_status, wait_vm

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


def qemu_io(disk: str, command: str, *, shared: bool = False) -> subprocess.CompletedProcess[str]:
    """qemu-io on the VM's disk; shared: read-only beside the running QEMU, which holds its lock."""
    argv = ["qemu-io", *(["-U", "-r"] if shared else []), "-c", command, disk]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def holds(disk: str, pattern: int, *, shared: bool = False) -> bool:
    """The first MiB of the disk is all `pattern` bytes (qemu-io read -P fails otherwise)."""
    proc = qemu_io(disk, f"read -P {pattern:#x} 0 1M", shared=shared)
    return proc.returncode == 0 and "Pattern verification failed" not in proc.stdout


def write(disk: str, pattern: int) -> None:
    proc = qemu_io(disk, f"write -P {pattern:#x} 0 1M")
    assert proc.returncode == 0 and "wrote 1048576/1048576" in proc.stdout, (
        proc.stdout + proc.stderr
    )


def libvirt_snapshots(domain: str) -> list[str]:
    proc = virsh("snapshot-list", "--domain", domain, "--name")
    assert proc.returncode == 0, proc.stderr
    return sorted(line.strip() for line in proc.stdout.splitlines() if line.strip())


def take(admin: Stack, vm_id: str, name: str) -> dict[str, Any]:
    r = admin.call("POST", f"/api/v1/vm/{vm_id}/snapshot/", json={"name": name})
    assert r.status_code == 202 and r.json()["data"]["status"] == "creating", r.text
    path = f"/api/v1/vm/{vm_id}/snapshot/{r.json()['data']['id']}/"
    return wait_status(admin, path, {"ready", "error"}, 300)


def revert(admin: Stack, vm_id: str, snapshot: dict[str, Any], ends: str) -> dict[str, Any]:
    r = admin.call("POST", f"/api/v1/vm/{vm_id}/snapshot/{snapshot['id']}/revert/")
    assert r.status_code == 202, r.text
    vm = wait_vm(admin, vm_id, {ends})
    job = admin.call("GET", f"/api/v1/job/{r.json()['data']['job_id']}/").json()["data"]
    assert (job["kind"], job["status"]) == ("vm.revert", "successful"), job
    return vm


def test_snapshot_take_revert_and_delete_change_the_disk_back(
    admin: Stack, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    vm = create_vm(admin, tenant_id, "snapper")
    cleanup_domains.append(vm["domain_name"])
    vm = wait_vm(admin, vm["id"], {"running"})
    domain, vm_id = vm["domain_name"], vm["id"]
    [disk] = domain_disks(domain)

    # Taken running: disk and memory; the VM keeps running.
    live = take(admin, vm_id, "live")
    assert (live["status"], live["power_state"]) == ("ready", "running"), live
    assert wait_vm(admin, vm_id, {"running"})["status"] == "running"
    assert virsh("domstate", domain).stdout.strip() == "running"

    r = admin.call("POST", f"/api/v1/vm/{vm_id}/stop/", json={"force": True})
    assert r.status_code == 202, r.text
    wait_vm(admin, vm_id, {"stopped"})
    cold = take(admin, vm_id, "cold")
    assert (cold["status"], cold["power_state"]) == ("ready", "stopped"), cold
    assert wait_vm(admin, vm_id, {"stopped"})["status"] == "stopped"
    assert libvirt_snapshots(domain) == ["cold", "live"]

    # Stopped, a pattern on the disk; reverted to the stopped snapshot, it is gone.
    assert holds(disk, 0)
    write(disk, 0xAB)
    assert holds(disk, 0xAB)
    revert(admin, vm_id, cold, "stopped")
    assert holds(disk, 0) and not holds(disk, 0xAB)
    assert virsh("domstate", domain).stdout.strip() == "shut off"

    # Reverted to the snapshot taken running, a stopped VM runs again, its disk as it was then.
    write(disk, 0xCD)
    revert(admin, vm_id, live, "running")
    assert virsh("domstate", domain).stdout.strip() == "running"
    assert holds(disk, 0, shared=True) and not holds(disk, 0xCD, shared=True)

    # A running VM reverted to a snapshot taken stopped ends stopped (powered off at once).
    revert(admin, vm_id, cold, "stopped")
    assert virsh("domstate", domain).stdout.strip() == "shut off"

    r = admin.call("DELETE", f"/api/v1/vm/{vm_id}/snapshot/{cold['id']}/")
    assert r.status_code == 202 and r.json()["data"]["status"] == "deleting", r.text
    gone = wait_status(admin, f"/api/v1/vm/{vm_id}/snapshot/{cold['id']}/", {"deleted"}, 300)
    assert gone["deleted_at"] is not None
    assert wait_vm(admin, vm_id, {"stopped"})["status"] == "stopped"
    assert libvirt_snapshots(domain) == ["live"]
    listed = admin.call("GET", f"/api/v1/vm/{vm_id}/snapshot/").json()["data"]
    assert [s["name"] for s in listed] == ["live"]

    # The VM's delete undefines the domain with its snapshot metadata; the rows follow.
    assert delete_vm(admin, vm_id, timeout=300)["status"] == "deleted"
    assert virsh("dominfo", domain).returncode != 0
    row = admin.call("GET", f"/api/v1/vm/{vm_id}/snapshot/{live['id']}/").json()["data"]
    assert (row["status"], row["status_reason"]) == ("deleted", "deleted with VM snapper")
    quota = admin.call("GET", f"/api/v1/tenant/{tenant_id}/quota/").json()["data"]
    assert quota["resources"]["snapshots"]["used"] == 0
