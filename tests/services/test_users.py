"""Users service: rules, visibility, password change, login timing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.errors import (
    InvalidCredentials,
    InvalidState,
    NameTaken,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from api.services import users
from tests.conftest import PASSWORD, Factory

GOOD_PASSWORD = "twelve-chars"


# --- login timing ------------------------------------------------------------------------------


class SpyHasher:
    """Records the hashes verified, then verifies for real (PasswordHasher has __slots__)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[str] = []

    def verify(self, hash_: str, password: str) -> bool:
        self.calls.append(hash_)
        return bool(self.real.verify(hash_, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes authenticate() verifies against, in order."""
    spy = SpyHasher(users._hasher)
    monkeypatch.setattr(users, "_hasher", spy)
    return spy.calls


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", PASSWORD), ("alice", "wrong"), ("carol", PASSWORD), ("carol", "wrong")],
)
def test_users_authenticate_costs_one_argon2_verify_whatever_fails(
    db: Session, make: Factory, verify_calls: list[str], username: str, password: str
) -> None:
    """Unknown user, wrong password, disabled user: one full argon2 verify each, same error."""
    make.user("alice")
    make.user("carol", is_active=False)
    with pytest.raises(InvalidCredentials) as caught:
        users.authenticate(db, username, password)
    assert len(verify_calls) == 1 and verify_calls[0].startswith("$argon2id$")
    assert (caught.value.detail_message, caught.value.details) == (
        InvalidCredentials.message,
        {},
    )


def test_users_dummy_hash_has_current_parameters() -> None:
    """The unknown-user path must cost what a real user's verify costs."""
    assert not users._hasher.check_needs_rehash(users._DUMMY_HASH)


# --- account rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "a", "bob.smith", "ops_1", "x-y-z", "a" * 64])
def test_users_register_accepts_valid_usernames(db: Session, username: str) -> None:
    user = users.register_user(db, username, GOOD_PASSWORD)
    assert (user.username, user.is_admin, user.is_active) == (username, False, True)
    assert user.password_hash.startswith("$argon2id$") and GOOD_PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    "username", ["", "Alice", "1alice", "-a", "a b", "alice\n", "a/b", "a:b", "é", "a" * 65]
)
def test_users_register_refuses_bad_usernames(db: Session, username: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        users.register_user(db, username, GOOD_PASSWORD)
    assert caught.value.details == {"field": "username"}


@pytest.mark.parametrize("password", ["", "x" * 11, "x" * 1025])
def test_users_register_refuses_bad_passwords(db: Session, password: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        users.register_user(db, "alice", password)
    assert caught.value.details == {"field": "password"}


def test_users_register_password_bounds(db: Session) -> None:
    users.register_user(db, "short", "x" * 12)
    users.register_user(db, "long", "x" * 1024)


def test_users_register_refuses_taken_username(db: Session, make: Factory) -> None:
    make.user("alice")
    with pytest.raises(NameTaken):
        users.register_user(db, "alice", GOOD_PASSWORD)


def test_users_register_can_make_admins(db: Session) -> None:
    assert users.register_user(db, "root", GOOD_PASSWORD, is_admin=True).is_admin


# --- visibility and changes ------------------------------------------------------------------


def test_users_query_admin_sees_all_others_only_themselves(db: Session, make: Factory) -> None:
    admin, alice, bob = make.user(is_admin=True), make.user("alice"), make.user("bob")
    everyone = set(db.scalars(users.users_query(admin)))
    assert {admin, alice, bob} <= everyone
    assert list(db.scalars(users.users_query(alice))) == [alice]
    assert list(db.scalars(users.users_query(alice, username="bob"))) == []


def test_users_query_filters(db: Session, make: Factory) -> None:
    admin = make.user(is_admin=True)
    alice, bob = make.user("alice"), make.user("bob", is_active=False)
    assert list(db.scalars(users.users_query(admin, username="alice"))) == [alice]
    inactive = list(db.scalars(users.users_query(admin, is_active=False)))
    assert bob in inactive and alice not in inactive


def test_users_get_user_visibility(db: Session, make: Factory) -> None:
    admin, alice, bob = make.user(is_admin=True), make.user("alice"), make.user("bob")
    assert users.get_user(db, admin, bob.id) is bob
    assert users.get_user(db, alice, alice.id) is alice
    for missing in (bob.id, uuid.uuid4()):
        with pytest.raises(NotFound):
            users.get_user(db, alice, missing)
    with pytest.raises(NotFound):
        users.get_user(db, admin, uuid.uuid4())


def test_users_set_active(db: Session, make: Factory) -> None:
    admin, alice = make.user(is_admin=True), make.user("alice")
    assert users.set_active(db, admin, alice.id, False).is_active is False
    assert users.get_active_user(db, alice.id) is None
    assert users.set_active(db, admin, alice.id, True).is_active is True


def test_users_set_active_refusals(db: Session, make: Factory) -> None:
    admin, alice, bob = make.user(is_admin=True), make.user("alice"), make.user("bob")
    with pytest.raises(PermissionDenied):
        users.set_active(db, alice, alice.id, False)
    with pytest.raises(NotFound):
        users.set_active(db, alice, bob.id, False)
    with pytest.raises(InvalidState):
        users.set_active(db, admin, admin.id, False)
    assert alice.is_active and bob.is_active and admin.is_active


def test_users_change_password(db: Session, make: Factory) -> None:
    alice = make.user("alice")
    with pytest.raises(InvalidCredentials):
        users.change_password(db, alice, "wrong", GOOD_PASSWORD)
    assert users.authenticate(db, "alice", PASSWORD) is alice
    users.change_password(db, alice, PASSWORD, GOOD_PASSWORD)
    assert users.authenticate(db, "alice", GOOD_PASSWORD) is alice
    with pytest.raises(InvalidCredentials):
        users.authenticate(db, "alice", PASSWORD)
