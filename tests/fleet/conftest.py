"""Fixtures for the simulated fleet: three hosts for the session, tiny guests cleaned up after."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fleet import REPO_ROOT, Host, ssh_argv
from tests.helpers.flows import get, wait_status
from tests.helpers.stack import Stack, running_stack

FLEET_SIZE = 3
SESSION = "virsh -c qemu:///session"
# A guest with no OS and no NIC: enough for libvirt to define it and QEMU to run it.
TINY_DOMAIN = """<domain type='{kind}'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def fleet_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tests.helpers.fleet ...`, as `make fleet-up` and `make fleet-down` run it."""
    argv = [sys.executable, "-m", "tests.helpers.fleet", *args]
    return subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def on_host(host: Host, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A shell command on a fleet host, over SSH as its user."""
    return subprocess.run(
        ssh_argv(host, command),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def domains(host: Host) -> list[str]:
    """Every domain the host's own libvirt knows, running or not."""
    proc = on_host(host, f"{SESSION} list --all --name")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.fixture(scope="session")
def fleet() -> Iterator[list[Host]]:
    up = fleet_cli("up", "--hosts", str(FLEET_SIZE))
    assert up.returncode == 0, up.stdout + up.stderr
    yield [Host(i) for i in range(1, FLEET_SIZE + 1)]
    down = fleet_cli("down")
    assert down.returncode == 0, down.stdout + down.stderr


@pytest.fixture
def define_guest() -> Iterator[Callable[[Host, str], Path]]:
    """define_guest(host, name): a tiny guest defined on host, its disk in the host's image dir.

    Destroyed, undefined and its disk deleted afterwards.
    """
    made: list[tuple[Host, str, Path]] = []

    def define(host: Host, name: str) -> Path:
        disk = host.image_dir / f"{name}.qcow2"
        kind = "kvm" if Path("/dev/kvm").exists() else "qemu"
        xml = TINY_DOMAIN.format(kind=kind, name=name, disk=disk)
        made.append((host, name, disk))
        script = f"qemu-img create -q -f qcow2 {disk} 1G && {SESSION} define /dev/stdin"
        proc = on_host(host, script, stdin=xml)
        assert proc.returncode == 0, proc.stderr
        return disk

    yield define
    for host, name, disk in made:
        on_host(host, f"{SESSION} destroy {name}; {SESSION} undefine {name}; rm -f {disk}")


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


def fleet_hosts(stack: Stack) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in get(stack, "/api/v1/baremetal/?per_page=200")}


def prepare_host(stack: Stack, host: dict[str, Any]) -> None:
    r = stack.call("POST", f"/api/v1/baremetal/{host['id']}/prepare/")
    assert r.status_code == 202, r.text
    job = wait_status(stack, f"/api/v1/job/{r.json()['data']['id']}/", {"successful"}, 180)
    assert (job["kind"], job["host"]) == ("host.prepare", host["name"])


def active_fleet(stack: Stack, fleet: list[Host]) -> dict[str, dict[str, Any]]:
    stack.call("POST", "/api/v1/baremetal/sync/")
    hosts = fleet_hosts(stack)
    for host in fleet:
        if hosts[host.name]["state"] != "active":
            prepare_host(stack, hosts[host.name])
    return fleet_hosts(stack)
