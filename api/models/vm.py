"""Virtual machines: what a tenant asked for and what libvirt reported back."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, created_at, updated_at, uuid_pk
from api.models._types import enum_check, newest_first
from api.models.baremetal import Baremetal


class VMStatus(StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    STARTING = "starting"
    REBOOTING = "rebooting"
    RESIZING = "resizing"
    SNAPSHOTTING = "snapshotting"  # a snapshot of it is being taken or deleted
    REVERTING = "reverting"  # to one of its snapshots
    ERROR = "error"
    DELETING = "deleting"
    DELETED = "deleted"


class VM(Base):
    __tablename__ = "vm"
    __table_args__ = (
        enum_check("status", VMStatus, "status"),
        CheckConstraint("vcpus BETWEEN 1 AND 64", name="vcpus_range"),
        CheckConstraint("ram_mb BETWEEN 64 AND 1048576", name="ram_mb_range"),
        CheckConstraint("disk_gb BETWEEN 1 AND 65536", name="disk_gb_range"),
        CheckConstraint("ssh_port BETWEEN 1024 AND 65535", name="ssh_port_range"),
        # A name is unique in its tenant among VMs that still exist.
        Index(
            "uq_vm_tenant_id_name_live",
            "tenant_id",
            "name",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
        ),
        # Placement's anti-affinity filter: the hosts of a tenant's live VMs in one group.
        Index(
            "ix_vm_tenant_id_anti_affinity_group_live",
            "tenant_id",
            "anti_affinity_group",
            postgresql_where=text("anti_affinity_group IS NOT NULL AND status <> 'deleted'"),
        ),
        # The VM list, newest first: everyone's, and a tenant's (which also serves the FK).
        newest_first("vm"),
        newest_first("vm", "tenant_id"),
        # A forwarded SSH port (user-mode networking) belongs to one live VM of its host.
        Index(
            "uq_vm_baremetal_id_ssh_port_live",
            "baremetal_id",
            "ssh_port",
            unique=True,
            postgresql_where=text("status <> 'deleted' AND ssh_port IS NOT NULL"),
        ),
    )

    id: Mapped[uuid_pk]
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(48), index=True)  # the VM list's name filter
    vcpus: Mapped[int]
    ram_mb: Mapped[int]
    disk_gb: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=VMStatus.PENDING, index=True)
    status_reason: Mapped[str | None] = mapped_column(
        Text, comment="why the VM is in `error` (first failed task, or why the job could not run)"
    )
    baremetal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("baremetal.id"), index=True)
    anti_affinity_group: Mapped[str | None] = mapped_column(
        String(48),
        comment="the tenant's anti-affinity group: no two live VMs of it share a host",
    )
    domain_name: Mapped[str] = mapped_column(
        String(63), comment="libvirt domain name: vf-<name>-<first 8 hex of id>"
    )
    domain_uuid: Mapped[uuid.UUID | None] = mapped_column(comment="UUID libvirt reported")
    image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("image.id"), index=True, comment="the image the VM's disk was made from"
    )
    ssh_authorized_keys: Mapped[list[str]] = mapped_column(
        JSONB,
        default=list,
        server_default=text("'[]'::jsonb"),
        comment="OpenSSH public keys cloud-init installs for the image's default user",
    )
    user_data: Mapped[str | None] = mapped_column(
        Text,
        deferred=True,  # read only by the create job (jobs/vms.py), never by a listing
        comment="cloud-config YAML given at create; a secret: write-only, never in job extravars",
    )
    mac: Mapped[str | None] = mapped_column(
        String(17), comment="the NIC's MAC, 52:54:00:xx:xx:xx, random per VM; null: made before"
    )
    ssh_port: Mapped[int | None] = mapped_column(
        comment="127.0.0.1 port on the host forwarded to the guest's 22 (user-mode networking)"
    )
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB,
        default=list,
        server_default=text("'[]'::jsonb"),
        comment="the running guest's IPv4 addresses: [{mac, ip, prefix, source}], from the "
        "domain check",
    )
    addresses_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when a domain check last read the addresses"
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    baremetal: Mapped[Baremetal | None] = relationship(lazy="joined")
