"""Idempotency keys: the first response to a request sent with an `Idempotency-Key` header."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, utcnow, uuid_pk


class IdempotencyKey(Base):
    """One key of one user: the request it was first sent with, and the response it got."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[uuid_pk]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(
        String(64), comment="sha256 of method, path and body: the same key with another is 422"
    )
    status_code: Mapped[int | None] = mapped_column(
        SmallInteger, comment="null while the first request is still being answered"
    )
    response: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="the first response's body (the envelope), replayed"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True, comment="keys expire after 24 h"
    )
