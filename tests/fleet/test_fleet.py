"""The simulated fleet: real SSH, one libvirt per host, no way out, idempotent, leaves nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from api.services.inventory import baremetal_hosts, read_inventory
from tests.fleet.conftest import SESSION, domains, fleet_cli, on_host
from tests.helpers import fleet as tool
from tests.helpers.fleet import INVENTORY, REPO_ROOT, Host

pytestmark = pytest.mark.fleet
VENV_BIN = Path(sys.executable).parent
DefineGuest = Callable[[Host, str], Path]


def sshd_pids(hosts: list[Host]) -> list[int | None]:
    return [tool.sshd_pid(host) for host in hosts]


def ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


def wait_until_gone(pids: list[int], timeout: float = 10) -> list[int]:
    """The pids still alive once they have all exited or timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while any(tool.alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if tool.alive(pid)]


def test_fleet_ansible_ping_reaches_every_host(fleet: list[Host]) -> None:
    argv = [str(VENV_BIN / "ansible"), "-i", str(INVENTORY), "baremetal", "-m", "ping"]
    # The repo's ansible.cfg (found in the working directory), with results as JSON.
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    proc = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    pongs = {name: result.get("ping") for name, result in results.items()}
    assert pongs == {host.name: "pong" for host in fleet}


def test_fleet_inventory_gives_the_api_every_host(fleet: list[Host]) -> None:
    entries = {e.name: e for e in baremetal_hosts(read_inventory(REPO_ROOT / "inventory"))}
    for host in fleet:
        assert entries[host.name].libvirt_uri == "qemu:///session"
        assert entries[host.name].capacity_vcpus == tool.CAPACITY["virtflow_capacity_vcpus"]


@pytest.mark.parametrize("index", [1, 2, 3])
def test_fleet_host_runs_a_tiny_guest(
    fleet: list[Host], define_guest: DefineGuest, index: int
) -> None:
    host = fleet[index - 1]
    disk = define_guest(host, f"tiny-{index}")
    proc = on_host(host, f"{SESSION} start tiny-{index} && {SESSION} domstate tiny-{index}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "running"
    assert disk.stat().st_uid == tool.uid_of(host)


def test_fleet_domain_invisible_on_other_hosts(
    fleet: list[Host], define_guest: DefineGuest
) -> None:
    first, *others = fleet
    define_guest(first, "only-on-first")
    assert "only-on-first" in domains(first)
    for host in others:
        assert "only-on-first" not in domains(host)


def test_fleet_namespace_has_no_route_outside(fleet: list[Host]) -> None:
    default = ip("-n", fleet[0].name, "route", "show", "default")
    assert default.returncode == 0 and default.stdout == ""
    outside = ip("-n", fleet[0].name, "route", "get", "192.0.2.1")  # a lookup: nothing is sent
    assert outside.returncode != 0 and "unreachable" in outside.stderr


def test_fleet_hosts_cannot_reach_each_other(fleet: list[Host]) -> None:
    first, *others = fleet
    for host in others:
        lookup = ip("-n", first.name, "route", "get", host.address)
        assert lookup.returncode != 0 and "unreachable" in lookup.stderr


def test_fleet_up_twice_keeps_the_running_fleet(fleet: list[Host]) -> None:
    before = (sshd_pids(fleet), INVENTORY.read_text(), tool.KNOWN_HOSTS.read_text())
    again = fleet_cli("up", "--hosts", str(len(fleet)))
    assert again.returncode == 0, again.stderr
    assert (sshd_pids(fleet), INVENTORY.read_text(), tool.KNOWN_HOSTS.read_text()) == before
    assert None not in before[0]


def test_fleet_down_leaves_nothing(fleet: list[Host], define_guest: DefineGuest) -> None:
    define_guest(fleet[0], "left-running")
    assert on_host(fleet[0], f"{SESSION} start left-running").returncode == 0
    uids = [tool.uid_of(host) for host in fleet]
    pids = [pid for host in fleet for pid in tool.host_pids(host)]  # sshd, libvirtd, QEMU
    try:
        for _ in range(2):  # idempotent: the second finds nothing to do
            down = fleet_cli("down")
            assert down.returncode == 0, down.stderr
        assert wait_until_gone(pids) == []
        assert not [n for n in tool.namespaces() if n.startswith(tool.PREFIX)]
        assert not [v for v in tool.veths() if v.startswith(tool.VETH_PREFIX)]
        assert [tool.uid_of(host) for host in fleet] == [None] * len(fleet)
        assert not any(Path(f"/run/user/{uid}").exists() for uid in uids)
        assert not INVENTORY.exists()
        assert not tool.STATE_DIR.exists()
        assert not tool.HOMES.exists()
    finally:
        up = fleet_cli("up", "--hosts", str(len(fleet)))  # the session's fleet, for other tests
        assert up.returncode == 0, up.stderr
