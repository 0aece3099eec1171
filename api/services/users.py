"""User accounts: creation, password hashing (argon2id) and authentication."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import InvalidCredentials, NameTaken
from api.models import User

_hasher = PasswordHasher()
# Verified against when the user is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("virtflow-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash with the library's current parameters."""
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, *, is_admin: bool = False) -> User:
    """Add a user; the username must be free."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise NameTaken(f"username {username!r} is taken", {"field": "username"})
    user = User(username=username, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; the same error for every kind of mismatch."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials() from exc
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_active_user(session: Session, user_id: uuid.UUID) -> User | None:
    """The user behind a token, or None when it is gone or disabled."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def ensure_admin(session: Session, username: str, password: str) -> tuple[User, bool]:
    """Create the initial platform admin unless it exists; returns (user, created)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is not None:
        return user, False
    return create_user(session, username, password, is_admin=True), True
