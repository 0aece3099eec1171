"""Object-level permission grants, in the style of django-guardian's UserObjectPermission."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, uuid_pk


class ObjectPermission(Base):
    """User `user_id` holds `permission` on the object (`object_type`, `object_id`)."""

    __tablename__ = "object_permission"
    __table_args__ = (
        UniqueConstraint("user_id", "permission", "object_type", "object_id"),
        Index("ix_object_permission_object", "object_type", "object_id"),
    )

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(32), comment="codename, e.g. vm.view")
    object_type: Mapped[str] = mapped_column(String(16), comment="tenant or vm")
    object_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"),
        index=True,
        comment="tenant owning the object: scopes listings and cleanup",
    )
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]
