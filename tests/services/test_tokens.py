"""Token sessions in PostgreSQL: open, revoke, check, end a user's sessions, prune."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import AuthSession, RevokedToken
from api.services import tokens
from tests.conftest import Factory

WEEK = dt.timedelta(days=7)
LATER = dt.timedelta(minutes=5)


def sessions_of(db: Session, user_id: uuid.UUID) -> dict[str, bool]:
    """Each session id of the user -> whether it is revoked, as the check sees it."""
    ids = db.scalars(select(AuthSession.id).where(AuthSession.user_id == user_id))
    return {sid: tokens.is_revoked(db, sid, None) for sid in ids}


def test_tokens_open_session_records_an_open_session(db: Session, make: Factory) -> None:
    user = make.user()
    before = utcnow()
    row = tokens.open_session(db, user.id, WEEK)
    assert len(row.id) == 32 and int(row.id, 16) >= 0
    assert (row.user_id, row.revoked_at, row.expires_at.microsecond) == (user.id, None, 0)
    assert before + WEEK - dt.timedelta(seconds=1) <= row.expires_at <= utcnow() + WEEK
    assert db.get(AuthSession, row.id) is row
    assert not tokens.is_revoked(db, row.id, "any-jti")


def test_tokens_open_session_gives_each_login_its_own_id(db: Session, make: Factory) -> None:
    user = make.user()
    assert tokens.open_session(db, user.id, WEEK).id != tokens.open_session(db, user.id, WEEK).id


def test_tokens_revoke_by_sid_refuses_every_token_of_that_session(
    db: Session, make: Factory
) -> None:
    user = make.user()
    gone, kept = tokens.open_session(db, user.id, WEEK), tokens.open_session(db, user.id, WEEK)
    tokens.revoke(db, sid=gone.id, jti="j-access", expires_at=utcnow() + LATER)
    assert tokens.is_revoked(db, gone.id, "j-access")
    assert tokens.is_revoked(db, gone.id, "j-refresh")
    assert not tokens.is_revoked(db, kept.id, None)
    db.refresh(gone)
    assert gone.revoked_at is not None
    # The session covers its tokens: no row per token.
    assert db.scalars(select(RevokedToken)).all() == []


def test_tokens_revoke_by_sid_twice_keeps_the_first_time(db: Session, make: Factory) -> None:
    row = tokens.open_session(db, make.user().id, WEEK)
    tokens.revoke(db, sid=row.id, jti=None, expires_at=row.expires_at)
    db.refresh(row)
    first = row.revoked_at
    tokens.revoke(db, sid=row.id, jti=None, expires_at=row.expires_at)
    db.refresh(row)
    assert row.revoked_at == first is not None


def test_tokens_revoke_by_jti_refuses_that_token_only(db: Session) -> None:
    expires = (utcnow() + LATER).replace(microsecond=0)
    tokens.revoke(db, sid=None, jti="j1", expires_at=expires)
    assert tokens.is_revoked(db, None, "j1")
    assert not tokens.is_revoked(db, None, "j2")
    assert db.get_one(RevokedToken, "j1").expires_at == expires


def test_tokens_revoke_by_jti_twice_is_harmless(db: Session) -> None:
    expires = utcnow() + LATER
    tokens.revoke(db, sid=None, jti="j1", expires_at=expires)
    tokens.revoke(db, sid=None, jti="j1", expires_at=expires)
    assert db.scalars(select(RevokedToken.jti)).all() == ["j1"]


def test_tokens_is_revoked_unknown_sid_is_revoked(db: Session) -> None:
    assert tokens.is_revoked(db, uuid.uuid4().hex, None)
    assert tokens.is_revoked(db, uuid.uuid4().hex, "a-jti-never-revoked")


def test_tokens_is_revoked_token_without_session_is_judged_by_its_jti(db: Session) -> None:
    assert not tokens.is_revoked(db, None, "a-jti-never-revoked")
    assert not tokens.is_revoked(db, None, None)


def test_tokens_is_revoked_after_the_user_is_deleted(db: Session, make: Factory) -> None:
    user = make.user()
    row = tokens.open_session(db, user.id, WEEK)
    db.delete(user)
    db.flush()
    db.expunge(row)
    assert db.scalars(select(AuthSession)).all() == []
    assert tokens.is_revoked(db, row.id, None)


def test_tokens_end_user_sessions_keeps_the_one_asked(db: Session, make: Factory) -> None:
    user = make.user()
    a, b, c = (tokens.open_session(db, user.id, WEEK).id for _ in range(3))
    tokens.open_session(db, user.id, -LATER)  # expired already: not counted as ended
    assert tokens.end_user_sessions(db, user.id, keep=b) == 2
    assert [tokens.is_revoked(db, sid, None) for sid in (a, b, c)] == [True, False, True]
    assert tokens.end_user_sessions(db, user.id, keep=b) == 0
    assert tokens.end_user_sessions(db, user.id) == 1
    assert tokens.is_revoked(db, b, None)


def test_tokens_end_user_sessions_leaves_other_users_alone(db: Session, make: Factory) -> None:
    alice, bob = make.user(), make.user()
    tokens.open_session(db, alice.id, WEEK)
    tokens.open_session(db, bob.id, WEEK)
    assert tokens.end_user_sessions(db, alice.id) == 1
    assert list(sessions_of(db, alice.id).values()) == [True]
    assert list(sessions_of(db, bob.id).values()) == [False]


def test_tokens_prune_expired_keeps_live_rows(db: Session, make: Factory) -> None:
    user = make.user()
    live = tokens.open_session(db, user.id, WEEK).id
    revoked_live = tokens.open_session(db, user.id, WEEK).id
    tokens.revoke(db, sid=revoked_live, jti=None, expires_at=utcnow() + WEEK)
    expired = tokens.open_session(db, user.id, -LATER).id
    tokens.revoke(db, sid=None, jti="live-jti", expires_at=utcnow() + LATER)
    tokens.revoke(db, sid=None, jti="expired-jti", expires_at=utcnow() - LATER)
    assert tokens.prune_expired(db, utcnow()) == 2
    assert set(db.scalars(select(AuthSession.id))) == {live, revoked_live}
    assert db.scalars(select(RevokedToken.jti)).all() == ["live-jti"]
    # What was pruned is still refused: a missing session counts as revoked.
    assert (tokens.is_revoked(db, expired, None), tokens.is_revoked(db, live, None)) == (
        True,
        False,
    )
    assert tokens.is_revoked(db, revoked_live, None)


def test_tokens_prune_expired_goes_by_the_time_given(db: Session, make: Factory) -> None:
    tokens.open_session(db, make.user().id, LATER)
    tokens.revoke(db, sid=None, jti="j1", expires_at=utcnow() + LATER)
    assert tokens.prune_expired(db, utcnow()) == 0
    assert tokens.prune_expired(db, utcnow() + 2 * LATER) == 2
    assert db.scalars(select(AuthSession)).all() == []


def test_tokens_is_revoked_fails_closed_without_the_database() -> None:
    engine = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    try:
        with Session(engine) as down, pytest.raises(OperationalError):
            tokens.is_revoked(down, uuid.uuid4().hex, "jti")
    finally:
        engine.dispose()
