"""The real playbooks against fleet hosts: over SSH, as an unprivileged user, with qemu:///session."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.conftest import SESSION, domains, on_host
from tests.helpers import fleet as tool
from tests.helpers.fleet import REPO_ROOT, Host

pytestmark = pytest.mark.fleet
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
TINY = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}
VM_PLAYBOOKS = ["vm_create.yml", "vm_delete.yml", "vm_start.yml", "vm_stop.yml"]
# ansible.cfg: ServerAliveInterval 10 x ServerAliveCountMax 3 for a connection that goes dead,
# then a new connect (timeout 15) that finds no route; a minute in all.
DEAD_LINK_BOUND = 60
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def run_playbook(
    playbook: str, *args: str, guests: list[dict[str, Any]] | None = None, stats: bool = False
) -> subprocess.CompletedProcess[str]:
    """playbooks/<playbook> from the repo root with the repo's ansible.cfg and inventory/."""
    argv = [str(ANSIBLE_PLAYBOOK), f"playbooks/{playbook}", *args]
    if guests is not None:
        argv += ["-e", json.dumps({"virtflow_guests": guests})]
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_FORCE_COLOR", None)
    if stats:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    return subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def recap(proc: subprocess.CompletedProcess[str], host: Host) -> dict[str, int]:
    """Counters of the PLAY RECAP line of one host (default callback)."""
    for match in RECAP.finditer(proc.stdout):
        if match["host"] == host.name:
            return {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    raise AssertionError(f"no PLAY RECAP line for {host.name}\n{output(proc)}")


def guest_stats(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """virtflow_guests from the set_stats data (ansible.posix.json callback)."""
    assert proc.returncode == 0, output(proc)
    result: dict[str, Any] = json.loads(proc.stdout)["global_custom_stats"]["virtflow_guests"]
    return result


def domstate(host: Host, name: str) -> str:
    return on_host(host, f"{SESSION} domstate {name}").stdout.strip()


def link(host: Host, state: str) -> None:
    """Take the host's side of its veth down or up, as a cable pulled or plugged back."""
    argv = ["ip", "netns", "exec", host.name, "ip", "link", "set", "eth0", state]
    subprocess.run(argv, check=True, timeout=10)


def wait_for_ssh(host: Host, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while on_host(host, "true").returncode != 0:
        assert time.monotonic() < deadline, f"{host.name} did not answer over ssh again"
        time.sleep(0.5)


@pytest.fixture
def guest_name(fleet: list[Host]) -> Iterator[str]:
    """A fresh guest name; whatever a test left of it on any fleet host is removed afterwards."""
    name = f"vf-ft-{secrets.token_hex(4)}"
    yield name
    for host in fleet:
        disk = host.image_dir / f"{name}.qcow2"
        on_host(host, f"{SESSION} destroy {name}; {SESSION} undefine {name}; rm -f {disk}")


def test_host_prepare_checks_a_session_host_without_root(fleet: list[Host]) -> None:
    host = fleet[1]
    first = run_playbook("host_prepare.yml", "--limit", host.name)
    assert first.returncode == 0, output(first)
    assert "Session libvirt qemu:///session as vf-fleet-2" in first.stdout, output(first)
    # Nothing that needs root was attempted, nor the machine's system daemon looked at.
    for task in (
        "Install missing libvirt/QEMU packages",
        "Create the QEMU user",
        "Wait for the libvirt socket",
    ):
        assert task not in first.stdout, output(first)
    assert host.image_dir.stat().st_uid == tool.uid_of(host)
    again = run_playbook("host_prepare.yml", "--limit", host.name)
    assert again.returncode == 0, output(again)
    assert recap(again, host)["changed"] == 0, output(again)


def test_vm_playbooks_manage_a_guest_on_one_fleet_host_only(
    fleet: list[Host], guest_name: str
) -> None:
    first, *others = fleet
    limit = ("--limit", first.name)

    created = run_playbook(
        "vm_create.yml", *limit, guests=[{"name": guest_name, **TINY}], stats=True
    )
    reported = guest_stats(created)[guest_name]
    assert (reported["state"], reported["host"]) == ("running", first.name)
    assert domstate(first, guest_name) == "running"
    assert all(guest_name not in domains(host) for host in others)
    disk = first.image_dir / f"{guest_name}.qcow2"
    assert disk.stat().st_uid == first.image_dir.stat().st_uid == tool.uid_of(first)

    # vf-* guests are stopped, started and deleted only by UUID.
    by_uuid = {"name": guest_name, "uuid": reported["uuid"]}
    stopped = run_playbook("vm_stop.yml", *limit, guests=[{**by_uuid, "force": True}], stats=True)
    assert guest_stats(stopped) == {guest_name: {"state": "stopped", "host": first.name}}
    assert domstate(first, guest_name) == "shut off"

    started = run_playbook("vm_start.yml", *limit, guests=[by_uuid], stats=True)
    assert guest_stats(started)[guest_name] == {
        key: reported[key] for key in ("state", "uuid", "host")
    }
    assert (reported["vcpus"], reported["ram_mb"], reported["disk_gb"]) == (1, 64, 1)
    assert domstate(first, guest_name) == "running"

    deleted = run_playbook("vm_delete.yml", *limit, guests=[by_uuid], stats=True)
    assert guest_stats(deleted) == {guest_name: {"state": "absent", "host": first.name}}
    assert all(guest_name not in domains(host) for host in fleet)
    assert not disk.exists()


@pytest.mark.parametrize(
    ("playbook", "limit"),
    [
        *((playbook, "baremetal") for playbook in VM_PLAYBOOKS),
        ("vm_create.yml", "all"),
        ("vm_create.yml", "vf-fleet-1:vf-fleet-2"),
    ],
)
def test_vm_playbooks_refuse_more_than_one_host(
    fleet: list[Host], guest_name: str, playbook: str, limit: str
) -> None:
    spec = {"name": guest_name, **TINY} if playbook == "vm_create.yml" else {"name": guest_name}
    proc = run_playbook(playbook, "--limit", limit, guests=[spec])
    assert proc.returncode != 0, output(proc)
    assert "Run on exactly one host" in proc.stdout, output(proc)
    assert "libvirt_guest" not in proc.stdout, output(proc)  # refused before the role ran
    assert all(guest_name not in domains(host) for host in fleet)


def test_dead_link_fails_the_run_fast_as_unreachable(fleet: list[Host]) -> None:
    host = fleet[2]
    limit = ("--limit", host.name)
    nothing = [{"name": "vf-ft-missing", "uuid": str(uuid.uuid4())}]  # vf-*: by uuid only
    # Leaves ssh's ControlPersist master up: the next run reuses a connection that then goes dead.
    warm = run_playbook("vm_delete.yml", *limit, guests=nothing)
    assert warm.returncode == 0, output(warm)
    link(host, "down")
    try:
        timings = []
        for _ in ("through the dead master", "with a new connection"):
            start = time.monotonic()
            proc = run_playbook("vm_delete.yml", *limit, guests=nothing)
            timings.append(time.monotonic() - start)
            assert proc.returncode == 4, output(proc)  # ansible-playbook: a host was unreachable
            assert "UNREACHABLE!" in proc.stdout, output(proc)
            assert recap(proc, host)["unreachable"] == 1, output(proc)
        assert max(timings) < DEAD_LINK_BOUND, timings
    finally:
        link(host, "up")
    wait_for_ssh(host)
