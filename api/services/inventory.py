"""Mirror the ops-edited Ansible inventory into the baremetal table.

The inventory under inventory/ is the source of truth: ops add, change and remove hosts by hand.
`ansible-inventory --list` resolves it exactly as ansible-playbook will, and sync upserts one
row per host of the `baremetal` group. Hosts that disappear are kept but marked out of inventory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import VM, Baremetal, GuestNetwork, HostState, InventorySync, VMStatus
from api.services import capacity

log = logging.getLogger(__name__)

GROUP = "baremetal"
DEFAULT_URI = "qemu:///system"


class InventoryError(RuntimeError):
    """ansible-inventory could not read the inventory."""


@dataclass(frozen=True)
class HostEntry:
    """One host's vars: the virtflow_capacity_* ones (None: not set, capacity then comes from
    discovery) and the allocation overrides (api.services.capacity.OVERRIDES)."""

    name: str
    libvirt_uri: str
    capacity_vcpus: int | None
    capacity_ram_mb: int | None
    capacity_disk_gb: int | None
    overrides: dict[str, float | int] = field(default_factory=dict)
    guest_network: str | None = GuestNetwork.NAT  # None: an invalid virtflow_guest_network
    ssh_jump: dict[str, Any] | None = None  # None: ansible_connection local

    def row(self) -> dict[str, Any]:
        """The baremetal columns this entry sets."""
        return {
            "name": self.name,
            "libvirt_uri": self.libvirt_uri,
            "declared_vcpus": self.capacity_vcpus,
            "declared_ram_mb": self.capacity_ram_mb,
            "declared_disk_gb": self.capacity_disk_gb,
            "overrides": self.overrides,
            "guest_network": self.guest_network,
            "ssh_jump": self.ssh_jump,
        }


def _ansible_inventory() -> str:
    beside = Path(sys.executable).parent / "ansible-inventory"
    found = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    if not found:
        raise InventoryError("ansible-inventory is not installed")
    return found


def read_inventory(path: Path) -> dict[str, Any]:
    """The inventory as ansible-inventory --list resolves it (group_vars and host_vars applied)."""
    proc = subprocess.run(
        [_ansible_inventory(), "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # Otherwise a typo in any inventory file only warns, and the hosts it held would look
        # removed by ops (or all of them, with rc 0, when nothing parses).
        env={**os.environ, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"},
    )
    if proc.returncode != 0:
        raise InventoryError(proc.stderr.strip() or f"ansible-inventory exited {proc.returncode}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _group_hosts(data: dict[str, Any], group: str) -> list[str]:
    """Hosts of a group and of its child groups, in inventory order, without duplicates."""
    entry = data.get(group, {})
    hosts: list[str] = list(entry.get("hosts", []))
    for child in entry.get("children", []):
        hosts += [h for h in _group_hosts(data, child) if h not in hosts]
    return hosts


def _as_int(value: Any, default: int = 0) -> int | None:
    """A capacity var: None when unset; a bad value counts as 0 (set, but nothing placeable)."""
    if value is None:
        return None
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return default


def guest_network(name: str, hostvars: dict[str, Any]) -> str | None:
    """The host's virtflow_guest_network (nat when unset). An invalid value gives None: the
    host takes no new VMs (placement skips it) until ops fix it, rather than a guess."""
    value = hostvars.get("virtflow_guest_network", GuestNetwork.NAT)
    if value in [member.value for member in GuestNetwork]:
        return str(value)
    log.warning(
        "host %s: virtflow_guest_network %r is not one of %s; it takes no new VMs",
        name,
        value,
        ", ".join(GuestNetwork),
    )
    return None


def ssh_jump(name: str, hostvars: dict[str, Any]) -> dict[str, Any] | None:
    """How SSH reaches the host, as Ansible does: {host, port, user} (user None: ssh's own
    default); None for ansible_connection local (the controller itself)."""
    if hostvars.get("ansible_connection") == "local":
        return None
    port = _as_int(hostvars.get("ansible_port"), 22) or 22
    user = hostvars.get("ansible_user")
    return {
        "host": str(hostvars.get("ansible_host") or name),
        "port": port,
        "user": str(user) if user else None,
    }


def baremetal_hosts(data: dict[str, Any]) -> list[HostEntry]:
    """The baremetal group's hosts with the vars the API needs."""
    hostvars = data.get("_meta", {}).get("hostvars", {})
    entries = []
    for name in _group_hosts(data, GROUP):
        hv = hostvars.get(name, {})
        entries.append(
            HostEntry(
                name=name,
                libvirt_uri=str(hv.get("libvirt_uri", DEFAULT_URI)),
                capacity_vcpus=_as_int(hv.get("virtflow_capacity_vcpus")),
                capacity_ram_mb=_as_int(hv.get("virtflow_capacity_ram_mb")),
                capacity_disk_gb=_as_int(hv.get("virtflow_capacity_disk_gb")),
                overrides=capacity.parse_overrides(hv),
                guest_network=guest_network(name, hv),
                ssh_jump=ssh_jump(name, hv),
            )
        )
    return entries


def inventory_fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector: every inventory file's path, size and mtime."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def sync(
    session: Session, entries: list[HostEntry], policy: capacity.Policy | None = None
) -> list[Baremetal]:
    """Upsert the given hosts, recompute their capacity, and mark every other host as out of
    inventory."""
    now = utcnow()
    for entry in entries:
        values = {**entry.row(), "in_inventory": True, "synced_at": now}
        # Placeholders for a new row only: capacity.apply below sets the real numbers.
        first = {**values, "capacity_vcpus": 0, "capacity_ram_mb": 0, "capacity_disk_gb": 0}
        stmt = insert(Baremetal).values(**first)
        stmt = stmt.on_conflict_do_update(index_elements=[Baremetal.name], set_=values)
        session.execute(stmt)
    _apply_capacity(session, [e.name for e in entries], policy or capacity.Policy())
    names = [e.name for e in entries]
    # Back in the inventory: a host that went missing was prepared before.
    session.execute(
        update(Baremetal)
        .where(Baremetal.name.in_(names), Baremetal.state == HostState.MISSING)
        .values(state=HostState.ACTIVE, state_reason=None)
    )
    live_vms = select(VM.id).where(VM.baremetal_id == Baremetal.id, VM.status != VMStatus.DELETED)
    gone = Baremetal.name.not_in(names) & Baremetal.in_inventory.is_(True)
    session.execute(
        update(Baremetal)
        .where(gone, live_vms.exists())
        .values(
            state=HostState.MISSING,
            state_reason="removed from the inventory while VMs still live on it",
        )
    )
    session.execute(update(Baremetal).where(gone).values(in_inventory=False, synced_at=now))
    session.flush()
    log.info("inventory synced: %d baremetal host(s)", len(entries))
    return list(session.scalars(select(Baremetal).order_by(Baremetal.name)))


def _apply_capacity(session: Session, names: list[str], policy: capacity.Policy) -> None:
    """Every synced host's capacity from its new vars (and what discovery found)."""
    # populate_existing: the upserts above bypassed the objects the session already holds.
    query = select(Baremetal).where(Baremetal.name.in_(names))
    for host in session.scalars(query.execution_options(populate_existing=True)):
        capacity.apply(host, policy)


def digest(path: Path) -> str:
    """The inventory's fingerprint as one short string."""
    return hashlib.sha256(repr(inventory_fingerprint(path)).encode()).hexdigest()


def record_synced(session: Session, path: Path, fingerprint: str) -> None:
    """Note in the database which inventory state the baremetal rows now reflect."""
    values = {"path": str(path), "fingerprint": fingerprint, "synced_at": utcnow()}
    stmt = insert(InventorySync).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[InventorySync.path], set_=values))


class InventoryWatcher:
    """Re-syncs when inventory files change, so hand edits reach the API without a restart.

    The synced fingerprint lives in the database, not in the process: every API process sees
    whether the rows reflect the files as they are now, whichever process synced them.
    """

    def __init__(self, path: Path, policy: capacity.Policy | None = None) -> None:
        self.path = path
        self.policy = policy or capacity.Policy()

    def refresh(self, session: Session, *, force: bool = False) -> None:
        """Sync if the files differ from the state the baremetal rows reflect (or if forced)."""
        fingerprint = digest(self.path)
        synced = session.get(InventorySync, str(self.path))
        if not force and synced is not None and synced.fingerprint == fingerprint:
            return
        try:
            entries = baremetal_hosts(read_inventory(self.path))
        except InventoryError:
            # A half-saved hand edit must not make every host look removed: keep the last
            # good sync and try again at the next sweep or sync.
            log.exception("inventory unreadable; keeping the last synced hosts")
            return
        sync(session, entries, self.policy)
        record_synced(session, self.path, fingerprint)
