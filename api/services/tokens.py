"""Token sessions in PostgreSQL: logout and password changes revoke tokens in every API process.

A login's tokens (and those refreshed from them) carry its session id, `sid`, and end, `sexp`.
They pass while the session's `auth_session` row exists and is not revoked: a sid the database
never recorded is refused. Tokens without a session are revoked by `jti` in `revoked_token`.
Database errors propagate, so a check that cannot run never answers "not revoked".
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import AuthSession, RevokedToken

SESSION_CLAIM = "sid"
SESSION_END_CLAIM = "sexp"


def open_session(session: Session, user_id: uuid.UUID, lifetime: dt.timedelta) -> AuthSession:
    """Record a new session of user_id; its id is the tokens' `sid`."""
    # Whole seconds: the end is also the tokens' `sexp` and `exp`, which are integers.
    ends = (utcnow() + lifetime).replace(microsecond=0)
    row = AuthSession(id=uuid.uuid4().hex, user_id=user_id, expires_at=ends)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, *, sid: str | None, jti: str | None, expires_at: dt.datetime) -> None:
    """Revoke a token: its whole session when it has one (sid), else the token itself (jti),
    which stays blocked until expires_at, its own expiry."""
    if sid is not None:
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == sid, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    elif jti is not None:
        # A second logout racing the first must not fail on the primary key.
        session.execute(
            insert(RevokedToken)
            .values(jti=jti, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
        )


def is_revoked(session: Session, sid: str | None, jti: str | None) -> bool:
    """Whether the token is refused: one primary-key lookup, by its session or by itself."""
    if sid is not None:
        row = session.execute(select(AuthSession.revoked_at).where(AuthSession.id == sid)).first()
        # A sid without a row was never opened here (or is long expired): refuse it.
        return row is None or row.revoked_at is not None
    if jti is not None:
        return session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None
    return False


def end_user_sessions(session: Session, user_id: uuid.UUID, keep: str | None = None) -> int:
    """Revoke every open session of user_id except keep; returns how many were ended."""
    now = utcnow()
    stmt = (
        update(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(revoked_at=now)
        .returning(AuthSession.id)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    return len(session.scalars(stmt).all())


def prune_expired(session: Session, now: dt.datetime) -> int:
    """Delete the rows whose tokens have all expired by now; returns how many went."""
    sessions_gone = session.scalars(
        delete(AuthSession).where(AuthSession.expires_at <= now).returning(AuthSession.id)
    ).all()
    tokens_gone = session.scalars(
        delete(RevokedToken).where(RevokedToken.expires_at <= now).returning(RevokedToken.jti)
    ).all()
    return len(sessions_gone) + len(tokens_gone)
