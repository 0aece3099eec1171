"""The whole stack on the simulated fleet: hosts prepared by jobs over SSH, VMs spread over three
hosts' own libvirts, maintenance honoured, an unreachable host offline and back. Nothing in the
stack knows the hosts are simulated: they come from inventory/fleet.yml like any host ops add."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.conftest import domains
from tests.helpers.fleet import Host
from tests.helpers.flows import create_tenant, create_vm, get, wait_status
from tests.helpers.stack import Stack, running_stack, wait_for

pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def fleet_stack(fleet: list[Host], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack whose inventory holds the fleet; localhost is left unprepared (not placeable)."""
    workdir = tmp_path_factory.mktemp("fleet-e2e")
    # Health checks (host.domains jobs) every 5 s: an unreachable host goes offline in seconds;
    # a second worker keeps them from delaying the VM jobs.
    env = {"VIRTFLOW_DOMAIN_CHECK_INTERVAL": "5", "VIRTFLOW_SWEEP_INTERVAL": "2"}
    with running_stack(workdir, with_fleet=True, prepare=(), env=env) as stack:
        stack.start_worker("worker-2")
        stack.login()
        yield stack


def _hosts(stack: Stack) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in get(stack, "/api/v1/baremetal/?per_page=200")}


def _prepare(stack: Stack, host: dict[str, Any]) -> None:
    r = stack.call("POST", f"/api/v1/baremetal/{host['id']}/prepare/")
    assert r.status_code == 202, r.text
    job = wait_status(stack, f"/api/v1/job/{r.json()['data']['id']}/", {"successful"}, 180)
    assert (job["kind"], job["host"]) == ("host.prepare", host["name"])


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
    hosts = _hosts(stack)
    names = [h.name for h in fleet]
    assert {hosts[n]["state"] for n in names} == {"new"}
    assert hosts[names[0]]["libvirt_uri"] == "qemu:///session"
    for name in names:
        _prepare(stack, hosts[name])
    hosts = _hosts(stack)
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
    hosts = _active_fleet(stack, fleet)
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
    return str(_hosts(stack)[name]["state"])


def _active_fleet(stack: Stack, fleet: list[Host]) -> dict[str, dict[str, Any]]:
    stack.call("POST", "/api/v1/baremetal/sync/")
    hosts = _hosts(stack)
    for host in fleet:
        if hosts[host.name]["state"] != "active":
            _prepare(stack, hosts[host.name])
    return _hosts(stack)


def test_fleet_unreachable_host_goes_offline_fails_fast_and_comes_back(
    fleet_stack: Stack, fleet: list[Host]
) -> None:
    stack = fleet_stack
    hosts = _active_fleet(stack, fleet)
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
        assert "health checks in a row" in _hosts(stack)[far]["state_reason"]
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
