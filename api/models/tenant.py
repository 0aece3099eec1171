"""Tenants and tenant membership (which user holds which tenant role)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, updated_at, uuid_pk
from api.models._types import enum_check, newest_first


class TenantStatus(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"
    DELETED = "deleted"


class TenantRole(StrEnum):
    TENANT_USER = "tenant_user"
    VIEWER = "viewer"


class Tenant(Base):
    __tablename__ = "tenant"
    __table_args__ = (
        enum_check("status", TenantStatus, "status"),
        newest_first("tenant"),  # the tenant list
    )

    id: Mapped[uuid_pk]
    name: Mapped[str] = mapped_column(
        String(63), unique=True, comment="slug, ^[a-z][a-z0-9-]{0,62}$; unique even after deletion"
    )
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]


class Membership(Base):
    """A user's role inside one tenant; platform admins need none."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        enum_check("role", TenantRole, "role"),
    )

    id: Mapped[uuid_pk]
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[created_at]
