"""Token sessions and revoked single tokens: the record every token check reads."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at


class AuthSession(Base):
    """One login: its access and refresh tokens (and those refreshed from them) carry its id.

    A token whose session row is missing or revoked is refused.
    """

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(
        String(32), primary_key=True, comment="the tokens' `sid` claim (uuid4 hex)"
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True),
        index=True,
        comment="the tokens' `sexp` claim: no token of the session outlives it; pruned after",
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="logout, password change or disabled account; null while the session is open",
    )


class RevokedToken(Base):
    """A single token without a session, revoked by its `jti` until it expires."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True, comment="the token's `jti`")
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), index=True, comment="the token's `exp`; pruned after"
    )
