"""Per-tenant resource quotas (limits); usage is derived from the tenant's VMs."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, updated_at

QUOTA_RESOURCES = ("vcpus", "ram_mb", "disk_gb", "vms", "snapshots")
# Limits of a tenant that has no quota row yet; VIRTFLOW_QUOTA_<RESOURCE> overrides each.
DEFAULT_LIMITS = {"vcpus": 32, "ram_mb": 65536, "disk_gb": 1000, "vms": 20, "snapshots": 50}


class Quota(Base):
    """One row per tenant; the row is also the lock that serialises admission of new resources."""

    __tablename__ = "quota"
    __table_args__ = tuple(
        CheckConstraint(f"{name} >= 0", name=f"{name}_non_negative") for name in QUOTA_RESOURCES
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    vcpus: Mapped[int]
    ram_mb: Mapped[int]
    disk_gb: Mapped[int]
    vms: Mapped[int]
    snapshots: Mapped[int]
    updated_at: Mapped[updated_at]
