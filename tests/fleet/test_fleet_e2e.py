"""The whole stack on the simulated fleet: hosts prepared by jobs over SSH, VMs spread over three
hosts' own libvirts, maintenance honoured, an unreachable host offline and back. Nothing in the
stack knows the hosts are simulated: they come from inventory/fleet.yml like any host ops add."""

from __future__ import annotations

import getpass
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fleet.conftest import (
    SESSION,
    active_fleet,
    domains,
    fleet_hosts,
    on_host,
    prepare_host,
)
from tests.helpers.fleet import REPO_ROOT, Host
from tests.helpers.flows import create_tenant, create_vm, get, wait_status
from tests.helpers.stack import Stack, running_stack, wait_for

pytestmark = pytest.mark.fleet


def _maintenance(stack: Stack, host: dict[str, Any], enabled: bool) -> str:
    r = stack.call(
        "POST", f"/api/v1/baremetal/{host['id']}/maintenance/", json={"enabled": enabled}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["state"])


def test_fleet_vms_spread_over_hosts_each_on_its_own_libvirt(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    r = stack.call("POST", "/api/v1/baremetal/sync/")
    assert r.status_code == 200, r.text
    hosts = fleet_hosts(stack)
    names = [h.name for h in fleet]
    assert {hosts[n]["state"] for n in names} == {"new"}
    assert hosts[names[0]]["libvirt_uri"] == "qemu:///session"
    for name in names:
        prepare_host(stack, hosts[name])
    hosts = fleet_hosts(stack)
    assert [hosts[n]["state"] for n in names] == ["active"] * 3
    assert hosts["localhost"]["state"] == "new"  # never prepared in this stack: takes nothing

    # The third host is drained: the first four VMs fill the other two (2 vCPUs each).
    assert _maintenance(stack, hosts[names[2]], True) == "maintenance"
    tenant = create_tenant(stack)
    vms = [create_vm(stack, tenant, f"spread-{i}") for i in range(4)]
    body = {"name": "spread-4", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant}
    refused = stack.call("POST", "/api/v1/vm/", json=body)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NO_CAPACITY"
    assert _maintenance(stack, hosts[names[2]], False) == "active"
    vms += [create_vm(stack, tenant, f"spread-{i}") for i in (4, 5)]

    running = [wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240) for vm in vms]
    placed = Counter(vm["baremetal"] for vm in running)
    assert placed == {names[0]: 2, names[1]: 2, names[2]: 2}, placed
    assert {vm["baremetal"] for vm in running[:4]} == set(names[:2])  # none on the drained host
    on_host = {host.name: set(domains(host)) for host in fleet}
    for vm in running:
        owners = [name for name, found in on_host.items() if vm["domain_name"] in found]
        assert owners == [vm["baremetal"]], (vm["domain_name"], on_host)

    for vm in running:
        assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
    for vm in running:
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)
    for host in fleet:
        assert not {vm["domain_name"] for vm in running} & set(domains(host))
        assert not list(Path(host.image_dir).glob("vf-spread-*"))


def test_fleet_dedicated_host_takes_only_its_tenants_vms(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    hosts = active_fleet(stack, fleet)
    first, second, far = (h.name for h in fleet)
    owner, other = create_tenant(stack), create_tenant(stack)
    r = stack.call(
        "POST", f"/api/v1/baremetal/{hosts[far]['id']}/dedicate/", json={"tenant_id": owner}
    )
    assert r.status_code == 200, r.text
    for name in (first, second):
        _maintenance(stack, hosts[name], True)
    try:
        body = {"name": "not-yours", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": other}
        refused = stack.call("POST", "/api/v1/vm/", json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "NO_CAPACITY"
        vm = create_vm(stack, owner, "dedicated")
        running = wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240)
        assert running["baremetal"] == far
        assert running["domain_name"] in domains(fleet[2])
    finally:
        for name in (first, second):
            _maintenance(stack, hosts[name], False)
        stack.call(
            "POST", f"/api/v1/baremetal/{hosts[far]['id']}/dedicate/", json={"tenant_id": None}
        )
    assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
    assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)


@contextmanager
def link_down(host: Host) -> Iterator[None]:
    """The host's only link goes down (its sshd and libvirt keep running); up again after."""
    ip = ["ip", "netns", "exec", host.name, "ip", "link", "set", "eth0"]
    subprocess.run([*ip, "down"], check=True)
    try:
        yield
    finally:
        subprocess.run([*ip, "up"], check=True)


def _state(stack: Stack, name: str) -> str:
    return str(fleet_hosts(stack)[name]["state"])


def test_fleet_unreachable_host_goes_offline_fails_fast_and_comes_back(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    hosts = active_fleet(stack, fleet)
    first, second, far = (h.name for h in fleet)
    tenant = create_tenant(stack)
    # A VM on the far host: the other two are drained while it is placed.
    for name in (first, second):
        _maintenance(stack, hosts[name], True)
    stranded = create_vm(stack, tenant, "stranded")
    for name in (first, second):
        _maintenance(stack, hosts[name], False)
    stranded = wait_status(stack, f"/api/v1/vm/{stranded['id']}/", {"running"}, 240)
    assert stranded["baremetal"] == far

    with link_down(fleet[2]):
        wait_for(f"{far} offline", lambda: _state(stack, far) == "offline", 60)
        assert "health checks in a row" in fleet_hosts(stack)[far]["state_reason"]
        elsewhere = [create_vm(stack, tenant, f"elsewhere-{i}") for i in range(2)]
        placed = {
            wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240)["baremetal"]
            for vm in elsewhere
        }
        assert far not in placed
        # An operation on the unreachable host's VM fails fast, and says why.
        started = time.monotonic()
        assert stack.call("DELETE", f"/api/v1/vm/{stranded['id']}/").status_code == 202
        failed = wait_status(stack, f"/api/v1/vm/{stranded['id']}/", {"error"}, 120)
        assert time.monotonic() - started < 90
        assert "unreachable" in failed["status_reason"] and far in failed["status_reason"]

    wait_for(f"{far} active again", lambda: _state(stack, far) == "active", 60)
    for vm in (stranded, *elsewhere):
        assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
    for vm in (stranded, *elsewhere):
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)


def test_fleet_anti_affinity_group_puts_each_vm_on_its_own_host(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    active_fleet(stack, fleet)
    tenant = create_tenant(stack)
    body = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant}
    made = []
    for i in range(3):
        r = stack.call(
            "POST", "/api/v1/vm/", json={**body, "name": f"ha-{i}", "anti_affinity_group": "ha"}
        )
        assert r.status_code == 202, r.text
        made.append(r.json()["data"])
    refused = stack.call(
        "POST", "/api/v1/vm/", json={**body, "name": "ha-3", "anti_affinity_group": "ha"}
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NO_CAPACITY"
    running = [wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240) for vm in made]
    assert sorted(vm["baremetal"] for vm in running) == sorted(h.name for h in fleet)
    for vm in running:
        owner = next(h for h in fleet if h.name == vm["baremetal"])
        assert vm["domain_name"] in domains(owner)
    for vm in running:
        assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
    for vm in running:
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)


def test_fleet_domain_destroyed_out_of_band_shows_stopped_with_an_audit_row(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    active_fleet(stack, fleet)
    vm = create_vm(stack, create_tenant(stack), "oob")
    vm = wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240)
    host = next(h for h in fleet if h.name == vm["baremetal"])
    # Ops power the guest off on its host, behind VirtFlow's back: no API call follows.
    destroyed = on_host(host, f"{SESSION} destroy {vm['domain_name']}")
    assert destroyed.returncode == 0, destroyed.stderr
    # The periodic host.domains check (every 5 s here) sees it and the VM follows libvirt.
    stopped = wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"stopped"}, 60)
    assert stopped["baremetal"] == host.name
    rows = get(stack, f"/api/v1/audit/?action=vm.reconcile&object_id={vm['id']}")
    assert [
        (r["outcome"], r["changes"]["before"]["status"], r["changes"]["after"]["status"])
        for r in rows
    ] == [("out_of_band", "running", "stopped")]
    assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
    assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)


def _hand_run(stack: Stack, playbook: str, host: Host, guest: dict[str, Any]) -> str:
    """ansible-playbook from the repo root against the stack's inventory, as ops run it;
    returns the ops.run job id the audit callback printed."""
    env = {**stack.env, "ANSIBLE_NOCOLOR": "1"}
    env.pop("VIRTFLOW_JOB_ID", None)
    argv = [
        str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"),
        "-i",
        stack.env["VIRTFLOW_INVENTORY"],
        f"playbooks/{playbook}",
        "-l",
        host.name,
        "-e",
        json.dumps({"virtflow_guests": [guest]}),
    ]
    proc = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    marker = "recorded as ops.run job "
    assert marker in proc.stderr, proc.stderr
    return proc.stderr.split(marker, 1)[1].split()[0]


def test_fleet_hand_run_is_audited_and_its_guest_counts_as_unmanaged(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    hosts = active_fleet(stack, fleet)
    host = fleet[0]
    guest = {"name": "ops-made", "vcpus": 1, "ram_mb": 64, "disk_gb": 1}
    job_id = _hand_run(stack, "vm_create.yml", host, guest)
    try:
        [row] = get(stack, f"/api/v1/audit/?action=ops.run&object_id={job_id}")
        details = row["changes"]["details"]
        assert (row["actor_username"], row["outcome"]) == (f"os:{getpass.getuser()}", "success")
        assert (details["playbook"], details["limit"]) == ("vm_create.yml", host.name)
        assert details["stats"][host.name]["failures"] == 0
        job = get(stack, f"/api/v1/job/{job_id}/")
        assert (job["kind"], job["status"]) == ("ops.run", "successful")

        # A health check lists the guest as unmanaged, and placement counts it. A check whose
        # listing began while the hand run was still defining the domain shows it shut off:
        # wait for one that began after it was started.
        def listed() -> dict[str, Any] | None:
            shown = get(stack, f"/api/v1/baremetal/{hosts[host.name]['id']}/")
            states = [d["state"] for d in shown["unmanaged_domains"] if d["name"] == "ops-made"]
            return shown if states == ["running"] else None

        shown = wait_for("ops-made listed as unmanaged and running", listed, 90)
        [made] = [d for d in shown["unmanaged_domains"] if d["name"] == "ops-made"]
        assert (made["state"], made["vcpus"], made["ram_mb"]) == ("running", 1, 64)
        assert shown["unmanaged"] == {"vcpus": 1, "ram_mb": 64, "disk_gb": 0}
        assert shown["free"]["vcpus"] == (
            shown["capacity"]["vcpus"] - shown["allocated"]["vcpus"] - 1
        )
        assert "ops-made" in domains(host)
    finally:
        _hand_run(stack, "vm_delete.yml", host, {"name": "ops-made"})
    assert "ops-made" not in domains(host)


def test_fleet_appended_host_is_new_then_preparing_then_active_and_only_then_placeable(
    fleet: list[Host], tmp_path: Path
) -> None:
    late = fleet[-1]
    held_back: dict[str, Any] = {}

    def without_late_host(inventory: Path) -> None:
        path = inventory / "fleet.yml"
        data = yaml.safe_load(path.read_text())
        held_back.update(data["all"]["children"]["baremetal"]["hosts"].pop(late.name))
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    # Nothing is prepared in this stack: until the appended host is, no host takes a VM.
    env = {"VIRTFLOW_DOMAIN_CHECK_INTERVAL": "3600", "VIRTFLOW_SWEEP_INTERVAL": "2"}
    with running_stack(
        tmp_path, with_fleet=True, prepare=(), env=env, edit_inventory=without_late_host
    ) as stack:
        stack.login()
        assert late.name not in fleet_hosts(stack)
        # Ops append the host to the inventory by hand, as for a real new server.
        path = Path(stack.env["VIRTFLOW_INVENTORY"]) / "fleet.yml"
        data = yaml.safe_load(path.read_text())
        data["all"]["children"]["baremetal"]["hosts"][late.name] = held_back
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        r = stack.call("POST", "/api/v1/baremetal/sync/")
        assert r.status_code == 200, r.text
        appended = fleet_hosts(stack)[late.name]
        assert (appended["state"], appended["in_inventory"]) == ("new", True)
        tenant = create_tenant(stack)
        body = {"name": "first", "vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": tenant}
        refused = stack.call("POST", "/api/v1/vm/", json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "NO_CAPACITY"

        r = stack.call("POST", f"/api/v1/baremetal/{appended['id']}/prepare/")
        assert r.status_code == 202, r.text
        assert _state(stack, late.name) == "preparing"  # set by the request, before the job
        refused = stack.call("POST", "/api/v1/vm/", json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "NO_CAPACITY"
        job = wait_status(stack, f"/api/v1/job/{r.json()['data']['id']}/", {"successful"}, 180)
        assert (job["kind"], job["host"]) == ("host.prepare", late.name)
        assert _state(stack, late.name) == "active"

        vm = create_vm(stack, tenant, "first")
        running = wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 240)
        assert running["baremetal"] == late.name
        assert running["domain_name"] in domains(late)
        assert stack.call("DELETE", f"/api/v1/vm/{vm['id']}/").status_code == 202
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 240)
