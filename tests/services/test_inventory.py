"""Inventory mirroring: ansible-inventory output to baremetal rows, and the change watcher."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Baremetal
from api.services import inventory
from api.services.capacity import Policy
from api.services.inventory import (
    HostEntry,
    InventoryError,
    InventoryWatcher,
    _group_hosts,
    baremetal_hosts,
    inventory_fingerprint,
    read_inventory,
    sync,
)
from tests.conftest import Factory

HOSTS_YML = """\
all:
  children:
    baremetal:
      hosts:
        bm-1:
          virtflow_capacity_vcpus: 4
          virtflow_capacity_ram_mb: 2048
          virtflow_capacity_disk_gb: 40
      children:
        rack-a:
          hosts:
            bm-2:
              libvirt_uri: qemu+ssh://root@bm-2/system
          children:
            rack-a-top:
              hosts:
                bm-3: {}
        rack-b:
          hosts:
            bm-2: {}
    other:
      hosts:
        not-a-hypervisor: {}
"""
GROUP_VARS = """\
virtflow_capacity_vcpus: 16
virtflow_capacity_ram_mb: 32768
virtflow_capacity_disk_gb: 500
"""


def jump(host: str, port: int = 22, user: str | None = None) -> dict[str, Any]:
    return {"host": host, "port": port, "user": user}


def entry(name: str, vcpus: int = 8, ram: int = 4096, disk: int = 100) -> HostEntry:
    return HostEntry(name, "qemu:///system", vcpus, ram, disk)


def rows(db: Session) -> dict[str, Baremetal]:
    db.expire_all()
    return {h.name: h for h in db.scalars(select(Baremetal))}


@pytest.fixture
def inventory_dir(tmp_path: Path) -> Path:
    path = tmp_path / "inventory"
    (path / "group_vars").mkdir(parents=True)
    (path / "hosts.yml").write_text(HOSTS_YML, encoding="utf-8")
    (path / "group_vars" / "baremetal.yml").write_text(GROUP_VARS, encoding="utf-8")
    return path


def test_group_hosts_includes_nested_children_once_in_order() -> None:
    data: dict[str, Any] = {
        "baremetal": {"hosts": ["a"], "children": ["rack1", "rack2"]},
        "rack1": {"hosts": ["b", "a"], "children": ["rack1-top"]},
        "rack1-top": {"hosts": ["c"]},
        "rack2": {"hosts": ["c", "d"]},
        "other": {"hosts": ["x"]},
    }
    assert _group_hosts(data, "baremetal") == ["a", "b", "c", "d"]
    assert _group_hosts(data, "missing") == []


def test_baremetal_hosts_reads_vars_with_defaults() -> None:
    data: dict[str, Any] = {
        "baremetal": {"hosts": ["a", "b", "c"]},
        "_meta": {
            "hostvars": {
                "a": {
                    "libvirt_uri": "qemu+ssh://a/system",
                    "virtflow_capacity_vcpus": "8",
                    "virtflow_capacity_ram_mb": 1024,
                    "virtflow_capacity_disk_gb": 10,
                },
                "b": {"virtflow_capacity_vcpus": -3, "virtflow_capacity_ram_mb": "lots"},
            }
        },
    }
    assert baremetal_hosts(data) == [
        HostEntry("a", "qemu+ssh://a/system", 8, 1024, 10, ssh_jump=jump("a")),
        HostEntry("b", "qemu:///system", 0, 0, None, ssh_jump=jump("b")),
        HostEntry("c", "qemu:///system", None, None, None, ssh_jump=jump("c")),
    ]


@pytest.mark.parametrize(
    ("hostvars", "expected"),
    [
        ({}, ("nat", jump("h"))),
        ({"virtflow_guest_network": "user", "ansible_connection": "local"}, ("user", None)),
        (
            {"ansible_host": "192.0.2.7", "ansible_port": "2222", "ansible_user": "ops"},
            ("nat", jump("192.0.2.7", 2222, "ops")),
        ),
        ({"ansible_port": "ssh"}, ("nat", jump("h"))),
        # An invalid setting is no guess: null, and placement skips the host.
        ({"virtflow_guest_network": "bridge"}, (None, jump("h"))),
        ({"virtflow_guest_network": ["user"]}, (None, jump("h"))),
    ],
)
def test_baremetal_hosts_reads_guest_network_and_ssh_jump(
    hostvars: dict[str, Any], expected: tuple[str | None, dict[str, Any] | None]
) -> None:
    data = {"baremetal": {"hosts": ["h"]}, "_meta": {"hostvars": {"h": hostvars}}}
    [host] = baremetal_hosts(data)
    assert (host.guest_network, host.ssh_jump) == expected


def test_sync_stores_guest_network_and_ssh_jump(db: Session) -> None:
    hosts = [
        HostEntry("bm-n", "qemu:///system", 8, 4096, 100, guest_network=None, ssh_jump=jump("x")),
        HostEntry("bm-u", "qemu:///system", 8, 4096, 100, guest_network="user"),
    ]
    sync(db, hosts)
    found = rows(db)
    assert (found["bm-n"].guest_network, found["bm-n"].ssh_jump) == (None, jump("x"))
    assert (found["bm-u"].guest_network, found["bm-u"].ssh_jump) == ("user", None)


def test_baremetal_hosts_without_group_is_empty() -> None:
    assert baremetal_hosts({"all": {"children": ["ungrouped"]}}) == []


def test_read_inventory_resolves_nested_groups_and_group_vars(inventory_dir: Path) -> None:
    hosts = {h.name: h for h in baremetal_hosts(read_inventory(inventory_dir))}
    assert set(hosts) == {"bm-1", "bm-2", "bm-3"}
    assert hosts["bm-1"] == HostEntry("bm-1", "qemu:///system", 4, 2048, 40, ssh_jump=jump("bm-1"))
    assert hosts["bm-2"] == HostEntry(
        "bm-2", "qemu+ssh://root@bm-2/system", 16, 32768, 500, ssh_jump=jump("bm-2")
    )
    assert hosts["bm-3"].capacity_ram_mb == 32768


def test_read_inventory_of_test_fixture(settings: Any) -> None:
    hosts = baremetal_hosts(read_inventory(settings.inventory_path))
    assert [(h.name, h.capacity_vcpus, h.capacity_ram_mb, h.capacity_disk_gb) for h in hosts] == [
        ("bm-a", 8, 4096, 100),
        ("bm-b", 4, 8192, 50),
    ]


def test_read_inventory_broken_file_raises(inventory_dir: Path) -> None:
    (inventory_dir / "hosts.yml").write_text("all:\n  children: [\n", encoding="utf-8")
    with pytest.raises(InventoryError):
        read_inventory(inventory_dir)


def test_read_inventory_one_broken_file_of_several_raises(inventory_dir: Path) -> None:
    (inventory_dir / "more.yml").write_text("all:\n  hosts:\n    x: [\n", encoding="utf-8")
    with pytest.raises(InventoryError):
        read_inventory(inventory_dir)


def test_read_inventory_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(InventoryError):
        read_inventory(tmp_path / "nowhere")


def test_sync_upserts_hosts(db: Session) -> None:
    hosts = sync(db, [entry("h1"), entry("h2", vcpus=2)])
    assert [h.name for h in hosts] == ["h1", "h2"]
    sync(db, [entry("h1", vcpus=32, ram=65536), entry("h2", vcpus=2)])
    found = rows(db)
    assert (found["h1"].capacity_vcpus, found["h1"].capacity_ram_mb) == (32, 65536)
    assert len(found) == 2
    assert all(h.in_inventory for h in found.values())


def test_sync_marks_removed_hosts_and_brings_them_back(db: Session) -> None:
    sync(db, [entry("h1"), entry("h2")])
    first_id = rows(db)["h2"].id
    sync(db, [entry("h1")])
    found = rows(db)
    assert found["h2"].in_inventory is False
    assert found["h1"].in_inventory is True
    sync(db, [entry("h1"), entry("h2", vcpus=3)])
    found = rows(db)
    assert found["h2"].in_inventory is True
    assert found["h2"].capacity_vcpus == 3
    assert found["h2"].id == first_id


def test_sync_with_no_hosts_marks_every_host_removed(db: Session, make: Factory) -> None:
    make.baremetal("old")
    sync(db, [])
    assert rows(db)["old"].in_inventory is False


def test_inventory_fingerprint_changes_with_any_file(inventory_dir: Path) -> None:
    before = inventory_fingerprint(inventory_dir)
    assert len(before) == 2
    assert inventory_fingerprint(inventory_dir) == before
    (inventory_dir / "host_vars").mkdir()
    (inventory_dir / "host_vars" / "bm-1.yml").write_text("x: 1\n", encoding="utf-8")
    assert inventory_fingerprint(inventory_dir) != before


def test_inventory_fingerprint_of_single_file(inventory_dir: Path) -> None:
    path = inventory_dir / "hosts.yml"
    assert [p for p, _size, _mtime in inventory_fingerprint(path)] == [str(path)]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every real ansible-inventory call."""
    calls: list[Path] = []
    real = inventory.read_inventory

    def counting(path: Path) -> dict[str, Any]:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(inventory, "read_inventory", counting)
    return calls


def test_inventory_watcher_syncs_only_when_files_change(
    db: Session, inventory_dir: Path, reads: list[Path]
) -> None:
    watcher = InventoryWatcher(inventory_dir)
    watcher.refresh(db)
    assert set(rows(db)) == {"bm-1", "bm-2", "bm-3"}
    watcher.refresh(db)
    watcher.refresh(db)
    assert len(reads) == 1

    hosts = inventory_dir / "hosts.yml"
    # A different size: within one mtime tick, a same-size rewrite would go unnoticed.
    hosts.write_text(HOSTS_YML.replace("        bm-1:\n", "        bm-new:\n"), encoding="utf-8")
    watcher.refresh(db)
    assert len(reads) == 2
    found = rows(db)
    assert found["bm-1"].in_inventory is False
    assert found["bm-new"].in_inventory is True
    watcher.refresh(db)
    assert len(reads) == 2


def test_inventory_watcher_notices_same_size_edit(
    db: Session, inventory_dir: Path, reads: list[Path]
) -> None:
    watcher = InventoryWatcher(inventory_dir)
    watcher.refresh(db)
    vars_file = inventory_dir / "group_vars" / "baremetal.yml"
    vars_file.write_text(GROUP_VARS.replace("32768", "65536"), encoding="utf-8")
    stat = vars_file.stat()
    os.utime(vars_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    watcher.refresh(db)
    assert len(reads) == 2
    assert rows(db)["bm-2"].capacity_ram_mb == 65536


def test_inventory_watcher_keeps_hosts_when_inventory_breaks(
    db: Session, inventory_dir: Path, reads: list[Path]
) -> None:
    watcher = InventoryWatcher(inventory_dir)
    watcher.refresh(db)
    (inventory_dir / "hosts.yml").write_text("all:\n  children: [\n", encoding="utf-8")
    watcher.refresh(db)  # logged, and the last good sync is kept
    assert all(h.in_inventory for h in rows(db).values())
    (inventory_dir / "hosts.yml").write_text(HOSTS_YML, encoding="utf-8")
    watcher.refresh(db)
    assert len(reads) == 3
    assert set(rows(db)) == {"bm-1", "bm-2", "bm-3"}


def test_inventory_watchers_of_two_processes_share_what_was_synced(
    db: Session, inventory_dir: Path, reads: list[Path]
) -> None:
    """Process B must not trust its own memory: process A may have synced another state since."""
    process_a, process_b = InventoryWatcher(inventory_dir), InventoryWatcher(inventory_dir)
    process_b.refresh(db)
    extra = inventory_dir / "zz-extra.yml"
    extra.write_text(
        "all:\n  children:\n    baremetal:\n      hosts:\n        bm-x:\n"
        "          ansible_connection: local\n",
        encoding="utf-8",
    )
    process_a.refresh(db)
    assert rows(db)["bm-x"].in_inventory is True
    extra.unlink()  # the files are back to exactly what process B synced first
    process_b.refresh(db)
    assert rows(db)["bm-x"].in_inventory is False
    process_a.refresh(db)
    assert len(reads) == 3  # and nobody re-reads an inventory whose state is already synced


def test_sync_without_capacity_vars_uses_discovery_with_the_hosts_overrides(db: Session) -> None:
    sync(db, [entry("h1")])
    host = rows(db)["h1"]
    host.discovered = {"cpus": 4, "memory_mb": 8192, "image_dir_free_gb": 100}
    db.flush()
    bare = HostEntry("h1", "qemu:///system", None, None, 20, {"cpu_allocation_ratio": 2.0})
    sync(db, [bare], Policy(reserved_ram_mb=1024))
    host = rows(db)["h1"]
    assert (host.declared_vcpus, host.declared_disk_gb) == (None, 20)
    assert (host.capacity_vcpus, host.capacity_ram_mb, host.capacity_disk_gb) == (8, 7168, 20)
    assert (host.capacity_source, host.overrides) == ("mixed", {"cpu_allocation_ratio": 2.0})


def test_baremetal_hosts_reads_allocation_overrides() -> None:
    data: dict[str, Any] = {
        "baremetal": {"hosts": ["a"]},
        "_meta": {"hostvars": {"a": {"virtflow_reserved_disk_gb": 10}}},
    }
    assert baremetal_hosts(data)[0].overrides == {"reserved_disk_gb": 10}
