"""Baremetal KVM hosts, mirrored from the Ansible inventory that ops edit by hand."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, uuid_pk
from api.models._types import enum_check


class HostState(StrEnum):
    NEW = "new"  # in the inventory, never prepared: not placeable
    PREPARING = "preparing"  # a host.prepare job runs host_prepare.yml on it
    ACTIVE = "active"  # placeable
    MAINTENANCE = "maintenance"  # set by an admin: no new placements, existing VMs still managed
    OFFLINE = "offline"  # failed its health checks: not placeable until they pass again
    MISSING = "missing"  # removed from the inventory while VMs still live on it


class CapacitySource(StrEnum):
    """Where Baremetal.capacity_* came from (api.services.capacity)."""

    INVENTORY = "inventory"  # the explicit virtflow_capacity_* vars
    DISCOVERED = "discovered"  # discovered x allocation ratio - reserved
    MIXED = "mixed"  # some resources one way, some the other
    NONE = "none"  # neither: nothing placeable


class GuestNetwork(StrEnum):
    """How a host's guests are networked (the inventory's virtflow_guest_network)."""

    NAT = "nat"  # a libvirt NAT network per host, DHCP; reached through the host
    USER = "user"  # QEMU user-mode networking, an SSH forward on the host's 127.0.0.1


class Baremetal(Base):
    __tablename__ = "baremetal"
    __table_args__ = (
        CheckConstraint(
            "capacity_vcpus >= 0 AND capacity_ram_mb >= 0 AND capacity_disk_gb >= 0",
            name="capacity_non_negative",
        ),
        enum_check("state", HostState, "state"),
        enum_check("capacity_source", CapacitySource, "capacity_source"),
        enum_check("guest_network", GuestNetwork, "guest_network"),
    )

    id: Mapped[uuid_pk]
    name: Mapped[str] = mapped_column(String(255), unique=True, comment="inventory hostname")
    libvirt_uri: Mapped[str] = mapped_column(String(255))
    capacity_vcpus: Mapped[int] = mapped_column(comment="placeable vCPUs (api.services.capacity)")
    capacity_ram_mb: Mapped[int] = mapped_column(comment="placeable RAM in MiB")
    capacity_disk_gb: Mapped[int] = mapped_column(comment="placeable disk in GiB")
    capacity_source: Mapped[str] = mapped_column(
        String(16),
        default=CapacitySource.INVENTORY,
        server_default=CapacitySource.INVENTORY,
        comment="where capacity_* came from: inventory, discovered, mixed or none",
    )
    declared_vcpus: Mapped[int | None] = mapped_column(
        comment="the inventory's virtflow_capacity_vcpus; null: not set"
    )
    declared_ram_mb: Mapped[int | None] = mapped_column(
        comment="the inventory's virtflow_capacity_ram_mb; null: not set"
    )
    declared_disk_gb: Mapped[int | None] = mapped_column(
        comment="the inventory's virtflow_capacity_disk_gb; null: not set"
    )
    overrides: Mapped[dict[str, Any]] = mapped_column(
        JSONB,
        default=dict,
        server_default=text("'{}'::jsonb"),
        comment="host_vars allocation ratio / reserved overrides: {cpu_allocation_ratio, ...}",
    )
    discovered: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB,
        comment="what host_prepare.yml found: {cpus, memory_mb, image_dir_free_gb, "
        "libvirt_version, qemu_version, virt_type}; null: never discovered",
    )
    discovered_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when host_prepare.yml last reported discovered"
    )
    in_inventory: Mapped[bool] = mapped_column(
        default=True, comment="false once ops removed the host from inventory/; kept for history"
    )
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    state: Mapped[str] = mapped_column(
        String(16), default=HostState.NEW, server_default=HostState.NEW, index=True
    )
    state_reason: Mapped[str | None] = mapped_column(
        Text, comment="why the host is in its state (a failed prepare's explanation ...)"
    )
    dedicated_tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenant.id", ondelete="SET NULL"),
        index=True,
        comment="the one tenant whose VMs this host takes; null: shared by every tenant",
    )
    prepared_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="last successful host.prepare; null: never prepared"
    )
    unmanaged_domains: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB,
        default=list,
        server_default=text("'[]'::jsonb"),
        comment="domains libvirt lists that match no VM: [{name, uuid, state}]; never adopted",
    )
    domains_checked_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when a host.domains job last compared it with libvirt"
    )
    guest_network: Mapped[str | None] = mapped_column(
        String(8),
        default=GuestNetwork.NAT,
        server_default=GuestNetwork.NAT,
        comment="the inventory's virtflow_guest_network: nat or user; null: an invalid value "
        "there, and the host takes no new VMs",
    )
    ssh_jump: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB,
        comment="how SSH reaches the host, from the inventory: {host, port, user}; null: "
        "ansible_connection local (the controller itself)",
    )


class InventorySync(Base):
    """Which state of an inventory the baremetal rows reflect, shared by every API process."""

    __tablename__ = "inventory_sync"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True, comment="inventory path")
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="sha256 of the inventory files' paths, sizes and mtimes"
    )
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
