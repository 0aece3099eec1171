"""The audit log: one append-only, hash-chained row per mutating request, admitted or refused."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    FetchedValue,
    Identity,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    text,
)
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

    Triggers (see the migrations) refuse UPDATE, DELETE and TRUNCATE, and chain every new row
    to the one before it: the database sets id, prev_hash and row_hash, which the application's
    role may not write (api/db_roles.py).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        enum_check("outcome", AuditOutcome, "outcome"),
        # Filters of the audit list, newest (highest id) first within each.
        Index("ix_audit_log_object_id_id", "object_id", "id"),
        Index("ix_audit_log_request_id_id", "request_id", "id"),
        Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()"), index=True
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64), index=True, comment="e.g. vm.create")
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int]
    error_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment='{"before": {...}, "after": {...}}, never secrets'
    )
    prev_hash: Mapped[bytes] = mapped_column(
        LargeBinary,
        server_default=FetchedValue(),
        comment="row_hash of the row before in the chain (32 zero bytes for the first)",
    )
    row_hash: Mapped[bytes] = mapped_column(
        LargeBinary,
        server_default=FetchedValue(),
        comment="sha256(prev_hash || this row's content), set by the trigger audit_log_chain",
    )


class AuditChain(Base):
    """The head of the audit log's hash chain: one row, locked by every audit insert until its
    transaction ends, so appends are serialised and a rolled-back insert leaves no trace."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(
        BigInteger, comment="id of the newest chained row; 0: none"
    )
    last_hash: Mapped[bytes] = mapped_column(LargeBinary, comment="row_hash of that row")
