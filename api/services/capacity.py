"""A host's placeable capacity: the one rule, applied whenever one of its inputs changes.

Per resource (vCPUs, RAM, disk), in this order:

1. the inventory's explicit `virtflow_capacity_*` var, when set: ops' choice stands as written;
2. otherwise what host_prepare.yml discovered x the allocation ratio - the reserved amount,
   never below 0 (ratios and reserved amounts: settings, overridable per host in host_vars);
3. otherwise 0: a host never prepared has nothing discovered, and is not placeable anyway.

The result is stored in Baremetal.capacity_* (placement computes free = capacity - allocated
- unmanaged) with Baremetal.capacity_source saying where it came from. `unmanaged` is what the
domains libvirt runs there outside VirtFlow take (a guest ops made by hand): their vCPUs and RAM,
as the last host.domains check saw them; their disks are unknown to libvirt's listing. Inventory
sync and host.prepare call apply(); a changed setting takes effect at the next sync or prepare.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from api.models import Baremetal, CapacitySource

# host_vars name (virtflow_<key>) -> Policy field; ratios are floats, reserved amounts ints.
OVERRIDES = {
    "cpu_allocation_ratio": "cpu_ratio",
    "ram_allocation_ratio": "ram_ratio",
    "disk_allocation_ratio": "disk_ratio",
    "reserved_vcpus": "reserved_vcpus",
    "reserved_ram_mb": "reserved_ram_mb",
    "reserved_disk_gb": "reserved_disk_gb",
}

# Discovered key each resource is computed from.
DISCOVERED = {"vcpus": "cpus", "ram_mb": "memory_mb", "disk_gb": "image_dir_free_gb"}


@dataclass(frozen=True)
class Policy:
    """Allocation ratios and reserved amounts (Settings.capacity_policy; defaults documented
    in docs/runbook.md)."""

    cpu_ratio: float = 4.0
    ram_ratio: float = 1.0
    disk_ratio: float = 1.0
    reserved_vcpus: int = 0
    reserved_ram_mb: int = 512
    reserved_disk_gb: int = 5

    def for_host(self, overrides: Mapping[str, Any]) -> Policy:
        """This policy with a host's host_vars overrides applied."""
        changes = {OVERRIDES[k]: v for k, v in overrides.items() if k in OVERRIDES}
        return replace(self, **changes)

    def ratio(self, resource: str) -> float:
        return {"vcpus": self.cpu_ratio, "ram_mb": self.ram_ratio, "disk_gb": self.disk_ratio}[
            resource
        ]

    def reserved(self, resource: str) -> int:
        return {
            "vcpus": self.reserved_vcpus,
            "ram_mb": self.reserved_ram_mb,
            "disk_gb": self.reserved_disk_gb,
        }[resource]


def parse_overrides(hostvars: Mapping[str, Any]) -> dict[str, float | int]:
    """The valid virtflow_<override> vars of one host; a bad or negative value is ignored."""
    found: dict[str, float | int] = {}
    for key, field_name in OVERRIDES.items():
        raw = hostvars.get(f"virtflow_{key}")
        if raw is None or isinstance(raw, bool):
            continue
        try:
            value = float(raw) if field_name.endswith("ratio") else int(raw)
        except (TypeError, ValueError):
            continue
        if value >= 0 and math.isfinite(value):
            found[key] = value
    return found


def derived(discovered: Mapping[str, Any] | None, resource: str, policy: Policy) -> int | None:
    """discovered x ratio - reserved for one resource, at least 0; None if not discovered."""
    raw = (discovered or {}).get(DISCOVERED[resource])
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return None
    return max(0, math.floor(raw * policy.ratio(resource)) - policy.reserved(resource))


def effective(
    declared: Mapping[str, int | None],
    discovered: Mapping[str, Any] | None,
    policy: Policy,
) -> tuple[dict[str, int], CapacitySource]:
    """The placeable capacity per resource, and where it came from."""
    capacity: dict[str, int] = {}
    sources = set()
    for resource in DISCOVERED:
        explicit = declared.get(resource)
        computed = derived(discovered, resource, policy)
        if explicit is not None:
            capacity[resource], source = max(0, explicit), CapacitySource.INVENTORY
        elif computed is not None:
            capacity[resource], source = computed, CapacitySource.DISCOVERED
        else:
            capacity[resource], source = 0, CapacitySource.NONE
        sources.add(source)
    return capacity, sources.pop() if len(sources) == 1 else CapacitySource.MIXED


def host_policy(host: Baremetal, policy: Policy) -> Policy:
    return policy.for_host(host.overrides or {})


def apply(host: Baremetal, policy: Policy) -> None:
    """Recompute host.capacity_* from its declared vars, discovery and policy."""
    declared = {
        "vcpus": host.declared_vcpus,
        "ram_mb": host.declared_ram_mb,
        "disk_gb": host.declared_disk_gb,
    }
    capacity, source = effective(declared, host.discovered, host_policy(host, policy))
    host.capacity_vcpus = capacity["vcpus"]
    host.capacity_ram_mb = capacity["ram_mb"]
    host.capacity_disk_gb = capacity["disk_gb"]
    host.capacity_source = source


@dataclass(frozen=True)
class Unmanaged:
    """What a host's unmanaged domains take, from its last host.domains check."""

    vcpus: int = 0
    ram_mb: int = 0
    disk_gb: int = 0  # unknown: libvirt's listing has no disk sizes


NOTHING = Unmanaged()


def unmanaged(host: Baremetal) -> Unmanaged:
    """The sum over host.unmanaged_domains (rows stored before sizes were listed count 0)."""
    return unmanaged_of(host.unmanaged_domains)


def unmanaged_of(domains: list[dict[str, Any]] | None) -> Unmanaged:
    """The sum over a host's unmanaged_domains as stored (None or []: nothing)."""
    if not domains:
        return NOTHING
    return Unmanaged(
        vcpus=sum(int(d.get("vcpus", 0)) for d in domains),
        ram_mb=sum(int(d.get("ram_mb", 0)) for d in domains),
    )
