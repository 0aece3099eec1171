"""User accounts over the API (create, list, show, enable/disable) and `virtflow user create`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api import cli
from api.models import AuditLog, User
from api.services import users
from api.settings import Settings
from tests.api.conftest import bearer, build_app, login
from tests.conftest import Factory
from tests.helpers.http import assert_error

NEW_PASSWORD = "a-long-enough-password"


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session], redis: Redis) -> Iterator[Flask]:
    """Fresh login-limit counters per test (the logins here must never be throttled)."""
    yield from build_app(settings, sessions, redis)


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user("root", is_admin=True)


def user_count(db: Session) -> int:
    db.flush()
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(User)) or 0)


def create(client: FlaskClient, headers: dict[str, str], **body: Any):  # type: ignore[no-untyped-def]
    body.setdefault("password", NEW_PASSWORD)
    return client.post("/api/v1/user/", json=body, headers=headers)


# --- create ----------------------------------------------------------------------------------


def test_user_create_by_admin(client: FlaskClient, make: Factory, admin: User, db: Session) -> None:
    resp = create(client, make.headers(admin), username="dave")
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    assert set(data) == {"id", "username", "is_admin", "is_active", "created_at", "updated_at"}
    assert (data["username"], data["is_admin"], data["is_active"]) == ("dave", False, True)
    assert NEW_PASSWORD not in resp.get_data(as_text=True)
    stored = db.get(User, uuid.UUID(data["id"]))
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert login(client, "dave", NEW_PASSWORD).status_code == 200


def test_user_create_is_audited_without_the_password(
    client: FlaskClient, make: Factory, admin: User, db: Session
) -> None:
    resp = create(client, make.headers(admin), username="dave")
    row = db.scalars(select(AuditLog).where(AuditLog.action == "user.create")).one()
    assert (row.actor_id, row.object_type, row.object_id, row.outcome) == (
        admin.id,
        "user",
        resp.get_json()["data"]["id"],
        "success",
    )
    assert row.changes["after"] == {"username": "dave", "is_admin": False, "is_active": True}
    assert NEW_PASSWORD not in json.dumps(row.changes) and "argon2" not in json.dumps(row.changes)


def test_user_create_refused_for_non_admins(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    tenant = make.tenant()
    member = make.user()
    make.member(member, tenant, "tenant_user")
    before = user_count(db)
    assert_error(create(client, make.headers(member), username="dave"), 403, "PERMISSION_DENIED")
    assert_error(create(client, {}, username="dave"), 401, "AUTH_REQUIRED")
    assert user_count(db) == before
    rows = db.scalars(
        select(AuditLog).where(AuditLog.action == "user.create").order_by(AuditLog.id)
    ).all()
    assert [(r.outcome, r.status_code) for r in rows] == [("denied", 403), ("denied", 401)]


def test_user_create_taken_username(client: FlaskClient, make: Factory, admin: User) -> None:
    make.user("dave")
    resp = create(client, make.headers(admin), username="dave")
    assert_error(resp, 409, "NAME_TAKEN")


@pytest.mark.parametrize(
    "username", ["", "Dave", "1dave", "-dave", "da ve", "dave\n", "da/ve", "d" * 65, 7, None]
)
def test_user_create_refuses_bad_usernames(
    client: FlaskClient, make: Factory, admin: User, db: Session, username: Any
) -> None:
    before = user_count(db)
    resp = create(client, make.headers(admin), username=username)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert "username" in body["error"]["details"]["fields"]["json"]
    assert user_count(db) == before


@pytest.mark.parametrize("password", ["", "x" * 11, "x" * 1025, 123456789012, None])
def test_user_create_refuses_bad_passwords(
    client: FlaskClient, make: Factory, admin: User, db: Session, password: Any
) -> None:
    before = user_count(db)
    resp = create(client, make.headers(admin), username="dave", password=password)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert "password" in body["error"]["details"]["fields"]["json"]
    assert user_count(db) == before


@pytest.mark.parametrize(
    "extra",
    [
        {"is_admin": True},
        {"is_active": False},
        {"id": "00000000-0000-0000-0000-000000000001"},
        {"password_hash": "$argon2id$forged"},
        {"created_at": "2020-01-01T00:00:00Z"},
    ],
)
def test_user_create_refuses_read_only_fields(
    client: FlaskClient, make: Factory, admin: User, db: Session, extra: dict[str, Any]
) -> None:
    before = user_count(db)
    resp = create(client, make.headers(admin), username="dave", **extra)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert set(extra) <= set(body["error"]["details"]["fields"]["json"])
    assert user_count(db) == before


# --- list and show ---------------------------------------------------------------------------


def test_user_list_admin_sees_everyone_paged(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    names = {make.user(f"u{n}").username for n in range(3)}
    resp = client.get("/api/v1/user/?per_page=2", headers=make.headers(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["data"]) == 2
    total = body["meta"]["pagination"]["total"]
    assert total >= 4
    everyone = client.get(f"/api/v1/user/?per_page={total}", headers=make.headers(admin))
    assert names | {"root"} <= {u["username"] for u in everyone.get_json()["data"]}


def test_user_list_filters(client: FlaskClient, make: Factory, admin: User) -> None:
    make.user("alice")
    make.user("bob", is_active=False)
    headers = make.headers(admin)
    by_name = client.get("/api/v1/user/?username=alice", headers=headers).get_json()["data"]
    assert [u["username"] for u in by_name] == ["alice"]
    inactive = client.get("/api/v1/user/?is_active=false", headers=headers).get_json()["data"]
    assert "bob" in {u["username"] for u in inactive}
    assert all(u["is_active"] is False for u in inactive)


def test_user_list_non_admin_sees_only_itself(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    alice = make.user("alice")
    make.user("bob")
    headers = make.headers(alice)
    for query in ("", "?username=bob", "?username=root", "?is_active=true"):
        data = client.get(f"/api/v1/user/{query}", headers=headers).get_json()["data"]
        expected = [] if "username" in query else ["alice"]
        assert [u["username"] for u in data] == expected, query


@pytest.mark.parametrize("query", ["?username=Bad%20Name", "?is_active=maybe", "?per_page=0"])
def test_user_list_bad_filters(client: FlaskClient, make: Factory, admin: User, query: str) -> None:
    resp = client.get(f"/api/v1/user/{query}", headers=make.headers(admin))
    assert_error(resp, 422, "VALIDATION_ERROR")


def test_user_show(client: FlaskClient, make: Factory, admin: User) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    resp = client.get(f"/api/v1/user/{bob.id}/", headers=make.headers(admin))
    assert resp.get_json()["data"]["username"] == "bob"
    resp = client.get(f"/api/v1/user/{alice.id}/", headers=make.headers(alice))
    assert resp.get_json()["data"]["username"] == "alice"
    assert "password_hash" not in resp.get_json()["data"]


def test_user_show_others_is_404_for_non_admins(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    for target in (bob.id, admin.id, uuid.uuid4()):
        resp = client.get(f"/api/v1/user/{target}/", headers=make.headers(alice))
        assert_error(resp, 404, "NOT_FOUND")
    assert_error(
        client.get(f"/api/v1/user/{uuid.uuid4()}/", headers=make.headers(admin)), 404, "NOT_FOUND"
    )


# --- enable / disable ------------------------------------------------------------------------


def patch(client: FlaskClient, headers: dict[str, str], target: User, **body: Any):  # type: ignore[no-untyped-def]
    return client.patch(f"/api/v1/user/{target.id}/", json=body, headers=headers)


def test_user_disable_stops_existing_tokens_and_logins(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    make.user("alice")
    alice = login(client, "alice").get_json()["data"]
    target = client.get("/api/v1/user/?username=alice", headers=make.headers(admin))
    alice_user_id = target.get_json()["data"][0]["id"]
    resp = client.patch(
        f"/api/v1/user/{alice_user_id}/", json={"is_active": False}, headers=make.headers(admin)
    )
    assert resp.status_code == 200
    assert resp.get_json()["data"]["is_active"] is False
    assert_error(
        client.get("/api/v1/vm/", headers=bearer(alice["access_token"])), 401, "TOKEN_REVOKED"
    )
    assert_error(
        client.post("/api/v1/auth/refresh/", headers=bearer(alice["refresh_token"])),
        401,
        "TOKEN_REVOKED",
    )
    assert_error(login(client, "alice"), 401, "INVALID_CREDENTIALS")


def test_user_disable_refuses_tokens_outside_sessions_on_the_next_request(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    alice = make.user("alice")
    headers = make.headers(alice)
    assert client.get("/api/v1/vm/", headers=headers).status_code == 200
    assert patch(client, make.headers(admin), alice, is_active=False).status_code == 200
    assert_error(client.get("/api/v1/vm/", headers=headers), 401, "ACCOUNT_DISABLED")


def test_user_reenable_does_not_revive_old_sessions(
    client: FlaskClient, make: Factory, admin: User
) -> None:
    alice = make.user("alice")
    old = login(client, "alice").get_json()["data"]
    admin_headers = make.headers(admin)
    patch(client, admin_headers, alice, is_active=False)
    resp = patch(client, admin_headers, alice, is_active=True)
    assert resp.get_json()["data"]["is_active"] is True
    assert_error(
        client.get("/api/v1/vm/", headers=bearer(old["access_token"])), 401, "TOKEN_REVOKED"
    )
    new = login(client, "alice").get_json()["data"]
    assert client.get("/api/v1/vm/", headers=bearer(new["access_token"])).status_code == 200


def test_user_update_is_audited(
    client: FlaskClient, make: Factory, admin: User, db: Session
) -> None:
    alice = make.user("alice")
    patch(client, make.headers(admin), alice, is_active=False)
    row = db.scalars(select(AuditLog).where(AuditLog.action == "user.update")).one()
    assert (row.actor_id, row.object_id, row.outcome) == (admin.id, str(alice.id), "success")
    assert (row.changes["before"], row.changes["after"]) == (
        {"is_active": True},
        {"is_active": False},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"is_admin": True},
        {"is_active": True, "is_admin": True},
        {"password_hash": "$argon2id$forged"},
        {"password": "a-new-password-x"},
        {"username": "mallory"},
        {"id": str(uuid.uuid4())},
        {},
        {"is_active": "no"},
        {"is_active": 0},
        {"is_active": None},
    ],
)
def test_user_update_refuses_read_only_and_bad_fields(
    client: FlaskClient, make: Factory, admin: User, db: Session, body: dict[str, Any]
) -> None:
    alice = make.user("alice")
    before = (alice.username, alice.password_hash, alice.is_admin, alice.is_active)
    assert_error(patch(client, make.headers(admin), alice, **body), 422, "VALIDATION_ERROR")
    db.refresh(alice)
    assert (alice.username, alice.password_hash, alice.is_admin, alice.is_active) == before


def test_user_update_refusals(client: FlaskClient, make: Factory, admin: User, db: Session) -> None:
    alice, bob = make.user("alice"), make.user("bob")
    assert_error(
        patch(client, make.headers(alice), alice, is_active=False), 403, "PERMISSION_DENIED"
    )
    assert_error(patch(client, make.headers(alice), bob, is_active=False), 404, "NOT_FOUND")
    assert_error(patch(client, make.headers(alice), admin, is_active=False), 404, "NOT_FOUND")
    assert_error(patch(client, make.headers(admin), admin, is_active=False), 409, "INVALID_STATE")
    for account in (alice, bob, admin):
        db.refresh(account)
        assert account.is_active


# --- virtflow user create --------------------------------------------------------------------


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]) -> None:
    """The CLI commits into the test's savepoint instead of the real database."""
    monkeypatch.setattr("api.db.session_factory", lambda _url: sessions)


def test_cli_user_create_admin_from_env(cli_db: None, db: Session) -> None:
    result = CliRunner().invoke(
        cli.main,
        ["user", "create", "ops", "--admin"],
        env={"VIRTFLOW_NEW_USER_PASSWORD": NEW_PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert "platform admin 'ops' created" in result.output and NEW_PASSWORD not in result.output
    user = db.scalars(select(User).where(User.username == "ops")).one()
    assert user.is_admin and user.is_active
    assert users.authenticate(db, "ops", NEW_PASSWORD) is user


def test_cli_user_create_prompts_twice(cli_db: None, db: Session) -> None:
    result = CliRunner().invoke(
        cli.main,
        ["user", "create", "dave"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
        env={"VIRTFLOW_NEW_USER_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert "user 'dave' created" in result.output
    user = db.scalars(select(User).where(User.username == "dave")).one()
    assert not user.is_admin


def test_cli_user_create_refuses_mismatched_confirmation(cli_db: None, db: Session) -> None:
    result = CliRunner().invoke(
        cli.main,
        ["user", "create", "dave"],
        input=f"{NEW_PASSWORD}\nsomething-else-entirely\n",
        env={"VIRTFLOW_NEW_USER_PASSWORD": ""},
    )
    assert result.exit_code != 0
    assert db.scalars(select(User).where(User.username == "dave")).first() is None


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("dave", "short", "VALIDATION_ERROR"),
        ("Bad Name", NEW_PASSWORD, "VALIDATION_ERROR"),
        ("taken", NEW_PASSWORD, "NAME_TAKEN"),
    ],
)
@pytest.mark.usefixtures("cli_db")
def test_cli_user_create_refusals(
    db: Session, make: Factory, username: str, password: str, code: str
) -> None:
    make.user("taken")
    before = user_count(db)
    result = CliRunner().invoke(
        cli.main, ["user", "create", username], env={"VIRTFLOW_NEW_USER_PASSWORD": password}
    )
    assert result.exit_code == 1
    assert code in result.output
    assert user_count(db) == before
