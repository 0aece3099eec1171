"""The whole stack on the simulated fleet: hosts prepared by jobs over SSH, VMs spread over three
hosts' own libvirts, maintenance honoured. Nothing in the stack knows the hosts are simulated:
they come from inventory/fleet.yml like any host ops add."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.conftest import domains
from tests.helpers.fleet import Host
from tests.helpers.flows import create_tenant, create_vm, get, wait_status
from tests.helpers.stack import Stack, running_stack

pytestmark = pytest.mark.fleet


@pytest.fixture(scope="module")
def fleet_stack(fleet: list[Host], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack whose inventory holds the fleet; localhost is left unprepared (not placeable)."""
    workdir = tmp_path_factory.mktemp("fleet-e2e")
    with running_stack(workdir, with_fleet=True, prepare=()) as stack:
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
