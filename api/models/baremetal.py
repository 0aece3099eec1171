"""Baremetal KVM hosts, mirrored from the Ansible inventory that ops edit by hand."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, uuid_pk


class Baremetal(Base):
    __tablename__ = "baremetal"
    __table_args__ = (
        CheckConstraint(
            "capacity_vcpus >= 0 AND capacity_ram_mb >= 0 AND capacity_disk_gb >= 0",
            name="capacity_non_negative",
        ),
    )

    id: Mapped[uuid_pk]
    name: Mapped[str] = mapped_column(String(255), unique=True, comment="inventory hostname")
    libvirt_uri: Mapped[str] = mapped_column(String(255))
    capacity_vcpus: Mapped[int]
    capacity_ram_mb: Mapped[int]
    capacity_disk_gb: Mapped[int]
    in_inventory: Mapped[bool] = mapped_column(
        default=True, comment="false once ops removed the host from inventory/; kept for history"
    )
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]


class InventorySync(Base):
    """Which state of an inventory the baremetal rows reflect, shared by every API process."""

    __tablename__ = "inventory_sync"

    path: Mapped[str] = mapped_column(String(1024), primary_key=True, comment="inventory path")
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="sha256 of the inventory files' paths, sizes and mtimes"
    )
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
