"""The API audit log: one append-only row per mutating request, admitted or refused."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base
from api.models._types import enum_check


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # refused: 401/403/404/409/422/429 ...
    FAILED = "failed"  # the server failed (5xx)
    OUT_OF_BAND = "out_of_band"  # libvirt changed without VirtFlow; the reconciler followed it


class AuditLog(Base):
    """No foreign keys on purpose: rows must outlive, and never be rewritten by, their subjects.

    A trigger (see the migration) refuses UPDATE, DELETE and TRUNCATE.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        enum_check("outcome", AuditOutcome, "outcome"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()"), index=True
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True, comment="e.g. vm.create")
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int]
    error_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment='{"before": {...}, "after": {...}}, never secrets'
    )
