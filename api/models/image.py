"""Images: disk images VMs are made from, registered by admins, public or private to a tenant."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, updated_at, uuid_pk
from api.models._types import enum_check


class ImageStatus(StrEnum):
    PENDING = "pending"  # registered, no valid content yet (a refused upload leaves it so)
    ACTIVE = "active"  # content received and validated by qemu-img
    DELETED = "deleted"


class ImageFormat(StrEnum):
    QCOW2 = "qcow2"
    RAW = "raw"


class ImageVisibility(StrEnum):
    PUBLIC = "public"  # every user sees it
    PRIVATE = "private"  # only its tenant's members (and admins) see it


class Image(Base):
    __tablename__ = "image"
    __table_args__ = (
        enum_check("status", ImageStatus, "status"),
        enum_check("disk_format", ImageFormat, "disk_format"),
        enum_check("visibility", ImageVisibility, "visibility"),
        # A private image belongs to exactly one tenant; a public one to none.
        CheckConstraint(
            "(visibility = 'private') = (tenant_id IS NOT NULL)", name="visibility_tenant"
        ),
        # A name is unique on the platform among images that still exist.
        Index(
            "uq_image_name_live", "name", unique=True, postgresql_where=text("status <> 'deleted'")
        ),
    )

    id: Mapped[uuid_pk]
    name: Mapped[str] = mapped_column(String(64), comment="a slug: it reaches libvirt later")
    disk_format: Mapped[str] = mapped_column(String(8), comment="declared; qemu-img must agree")
    visibility: Mapped[str] = mapped_column(String(8))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenant.id"), index=True, comment="the tenant of a private image"
    )
    default_user: Mapped[str] = mapped_column(
        String(32), comment="the login the image's cloud-init creates"
    )
    status: Mapped[str] = mapped_column(String(16), default=ImageStatus.PENDING, index=True)
    virtual_size: Mapped[int | None] = mapped_column(
        BigInteger, comment="bytes the guest sees, as qemu-img reports it"
    )
    size: Mapped[int | None] = mapped_column(BigInteger, comment="bytes of the stored file")
    sha256: Mapped[str | None] = mapped_column(
        String(64), comment="hex digest of the stored file, computed as it was received"
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
