"""The guests' NAT network (virtflow_guest_network: nat) made by host_prepare.yml on localhost.

A test-only network name, bridge and subnet; removed afterwards. Nothing here sends traffic to
the network's addresses (traffic rule: the bridge is in this machine's own namespace)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.playbooks import HOST, output, recap, remove_guest, run_playbook, virsh

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="libvirt system tests run as root"),
]


@pytest.fixture
def nat() -> Iterator[dict[str, str]]:
    """Inventory variables of a fresh test network; the network is removed afterwards."""
    tag = secrets.token_hex(3)
    settings = {
        "virtflow_guest_network": "nat",
        "virtflow_guest_network_name": f"vft-net-{tag}",
        "virtflow_guest_network_bridge": f"vft-br-{tag}",
        "virtflow_guest_network_cidr": "10.254.213.0/24",
    }
    try:
        yield settings
    finally:
        virsh("net-destroy", settings["virtflow_guest_network_name"])
        virsh("net-undefine", settings["virtflow_guest_network_name"])


def net_info(name: str) -> dict[str, str]:
    proc = virsh("net-info", name)
    assert proc.returncode == 0, proc.stderr
    pairs = (line.partition(":") for line in proc.stdout.splitlines())
    return {key.strip(): value.strip() for key, _, value in pairs if value}


def test_host_prepare_defines_starts_and_autostarts_the_nat_network(
    nat: dict[str, str],
) -> None:
    name, bridge = nat["virtflow_guest_network_name"], nat["virtflow_guest_network_bridge"]
    first = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(nat), timeout=1800)
    assert first.returncode == 0, output(first)
    info = net_info(name)
    assert (info["Active"], info["Persistent"], info["Autostart"]) == ("yes", "yes", "yes")
    assert info["Bridge"] == bridge
    xml = virsh("net-dumpxml", name).stdout
    assert "<forward mode='nat'>" in xml
    assert "<ip address='10.254.213.1' netmask='255.255.255.0'>" in xml
    assert "<range start='10.254.213.2' end='10.254.213.254'/>" in xml

    again = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(nat))
    assert again.returncode == 0, output(again)
    assert recap(again)["changed"] == 0, output(again)


def test_host_prepare_refuses_an_existing_network_with_another_subnet(
    nat: dict[str, str],
) -> None:
    made = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(nat), timeout=1800)
    assert made.returncode == 0, output(made)
    other = {**nat, "virtflow_guest_network_cidr": "10.254.214.0/24"}
    refused = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(other))
    assert refused.returncode != 0
    assert f"The libvirt network {nat['virtflow_guest_network_name']} on {HOST} exists" in (
        " ".join(refused.stdout.split())
    ), output(refused)


def test_host_prepare_refuses_nat_on_a_session_host_before_any_change() -> None:
    settings = {"libvirt_uri": "qemu:///session", "virtflow_guest_network": "nat"}
    refused = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(settings))
    assert refused.returncode != 0
    assert "cannot make the bridge of a NAT network" in " ".join(refused.stdout.split())
    assert recap(refused)["changed"] == 0


def test_guest_on_a_nat_host_gets_a_nic_on_the_network(nat: dict[str, str]) -> None:
    name = f"vf-t-{secrets.token_hex(4)}"
    made = run_playbook("host_prepare.yml", "-l", HOST, "-e", json.dumps(nat), timeout=1800)
    assert made.returncode == 0, output(made)
    spec = {"name": name, "uuid": "6c1f7d2e-0b7a-4f43-9a55-1d9d1f0e2a10", "vcpus": 1}
    spec |= {"ram_mb": 64, "disk_gb": 1, "mac": "52:54:00:ab:cd:ef", "ssh_port": 2222}
    try:
        created = run_playbook(
            "vm_create.yml", "-l", HOST, "-e", json.dumps(nat), guests=[spec], json_output=True
        )
        assert created.returncode == 0, output(created)
        stats = json.loads(created.stdout)["global_custom_stats"]["virtflow_guests"][name]
        # ssh_port is a user-mode forward: ignored on a NAT network.
        assert (stats["mac"], stats["ssh_port"], stats["network"]) == (spec["mac"], None, "nat")
        xml = virsh("dumpxml", "--inactive", name).stdout
        nic = xml.split("<interface type='network'>", 1)[1].split("</interface>", 1)[0]
        assert "<mac address='52:54:00:ab:cd:ef'/>" in nic
        assert f"<source network='{nat['virtflow_guest_network_name']}'/>" in nic
        assert "<model type='virtio'/>" in nic
        assert "qemu:commandline" not in xml
    finally:
        remove_guest(name)
