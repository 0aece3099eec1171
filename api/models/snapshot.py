"""Snapshots of a VM: libvirt snapshots of its qcow2 disk, taken and removed by jobs."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, updated_at, uuid_pk
from api.models._types import enum_check, newest_first


class SnapshotStatus(StrEnum):
    CREATING = "creating"  # its vm.snapshot job is queued or running
    READY = "ready"
    DELETING = "deleting"  # its vm.snapshot_delete job is queued or running
    DELETED = "deleted"
    ERROR = "error"


class Snapshot(Base):
    __tablename__ = "snapshot"
    __table_args__ = (
        enum_check("status", SnapshotStatus, "status"),
        # A name is unique among the VM's snapshots that still exist.
        Index(
            "uq_snapshot_vm_id_name_live",
            "vm_id",
            "name",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
        ),
        newest_first("snapshot", "vm_id"),  # a VM's snapshots, newest first (also the FK)
    )

    id: Mapped[uuid_pk]
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"), index=True)
    vm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vm.id"))
    name: Mapped[str] = mapped_column(String(48), comment="also the libvirt snapshot's name")
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=SnapshotStatus.CREATING, index=True)
    status_reason: Mapped[str | None] = mapped_column(
        Text, comment="why the snapshot is in `error`"
    )
    power_state: Mapped[str | None] = mapped_column(
        String(16), comment="running or stopped: the VM's state when taken, which a revert restores"
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
