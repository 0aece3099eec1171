"""Login, refresh, logout, password change, login throttling, and which tokens each endpoint
accepts."""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import engine_for, session_factory
from api.models import AuditLog, AuthSession, RevokedToken, User
from api.services import tokens
from api.services.permissions import ALL_PERMS, ROLE_PERMS, TENANT_SCOPED, Perm, Target, assign_perm
from api.settings import Settings, SettingsError
from api.web.app import create_app
from tests.api.conftest import bearer, build_app, login
from tests.conftest import (
    PASSWORD,
    Factory,
    app_url,
    drop_database,
    migrate,
    password_hash,
    recreate_database,
)
from tests.helpers.http import assert_error

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session], redis: Redis) -> Iterator[Flask]:
    """Overrides the shared app: each test here gets fresh login-limit counters."""
    yield from build_app(settings, sessions, redis)


@pytest.fixture
def limited(
    settings: Settings, sessions: sessionmaker[Session], redis: Redis
) -> Iterator[Callable[..., FlaskClient]]:
    """A client of an app with small login limits: limited(per_pair=3, per_address=5)."""
    apps: list[Iterator[Flask]] = []

    def make_client(
        per_pair: int = 100, per_address: int = 100, per_account: int = 100
    ) -> FlaskClient:
        gen = build_app(
            settings,
            sessions,
            redis,
            login_fails_per_pair=per_pair,
            login_fails_per_address=per_address,
            login_fails_per_account=per_account,
        )
        apps.append(gen)
        return next(gen).test_client()

    yield make_client
    for gen in apps:
        next(gen, None)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_login_returns_access_and_refresh_tokens(
    client: FlaskClient, make: Factory, app: Flask, settings: Settings
) -> None:
    user = make.user("alice")
    resp = login(client, "alice")
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == settings.jwt_access_minutes * 60
    with app.app_context():
        access = decode_token(data["access_token"])
        refresh = decode_token(data["refresh_token"])
    assert (access["type"], access["sub"], access["fresh"]) == ("access", str(user.id), True)
    assert (refresh["type"], refresh["sub"]) == ("refresh", str(user.id))
    assert "password" not in resp.get_data(as_text=True)


def test_login_access_token_opens_protected_endpoints(client: FlaskClient, make: Factory) -> None:
    make.user("alice")
    token = login(client, "alice").get_json()["data"]["access_token"]
    resp = client.get("/api/v1/vm/", headers=bearer(token))
    assert resp.status_code == 200
    assert resp.get_json()["data"] == []


def test_login_unknown_user_and_wrong_password_look_identical(
    client: FlaskClient, make: Factory
) -> None:
    make.user("alice")
    unknown = login(client, "nobody")
    wrong = login(client, "alice", "not-the-password")
    for resp in (unknown, wrong):
        assert_error(resp, 401, "INVALID_CREDENTIALS")
    assert unknown.get_json()["error"] == wrong.get_json()["error"]


def test_login_validation_error_for_missing_password(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/login/", json={"username": "alice"})
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert "password" in body["error"]["details"]["fields"]["json"]


def test_login_refused_for_disabled_user(client: FlaskClient, make: Factory) -> None:
    make.user("carol", is_active=False)
    assert_error(login(client, "carol"), 401, "INVALID_CREDENTIALS")


def test_auth_disabled_user_token_stops_working(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("dave")
    headers = make.headers(user)
    assert client.get("/api/v1/vm/", headers=headers).status_code == 200
    user.is_active = False
    db.flush()
    assert_error(client.get("/api/v1/vm/", headers=headers), 401, "ACCOUNT_DISABLED")


def test_auth_deleted_user_token_is_refused(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("erin")
    headers = make.headers(user)
    db.delete(user)
    db.flush()
    assert_error(client.get("/api/v1/vm/", headers=headers), 401, "ACCOUNT_DISABLED")


def test_auth_token_with_non_uuid_subject_is_refused(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        token = create_access_token(identity="not-a-uuid")
    assert_error(client.get("/api/v1/vm/", headers=bearer(token)), 401, "ACCOUNT_DISABLED")


def test_auth_refresh_token_gives_new_access_token(
    client: FlaskClient, make: Factory, app: Flask
) -> None:
    user = make.user("frank")
    refresh = login(client, "frank").get_json()["data"]["refresh_token"]
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(refresh))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert "refresh_token" not in data
    with app.app_context():
        claims = decode_token(data["access_token"])
    assert (claims["type"], claims["sub"], claims["fresh"]) == ("access", str(user.id), False)
    assert client.get("/api/v1/vm/", headers=bearer(data["access_token"])).status_code == 200


def test_auth_refresh_token_rejected_as_access_token(client: FlaskClient, make: Factory) -> None:
    make.user("grace")
    refresh = login(client, "grace").get_json()["data"]["refresh_token"]
    assert_error(client.get("/api/v1/vm/", headers=bearer(refresh)), 401, "TOKEN_INVALID")
    assert_error(client.get("/api/v1/tenant/", headers=bearer(refresh)), 401, "TOKEN_INVALID")


def test_auth_access_token_rejected_on_refresh(client: FlaskClient, make: Factory) -> None:
    headers = make.headers(make.user())
    assert_error(client.post("/api/v1/auth/refresh/", headers=headers), 401, "TOKEN_INVALID")


def test_auth_refresh_without_token_is_auth_required(client: FlaskClient) -> None:
    assert_error(client.post("/api/v1/auth/refresh/"), 401, "AUTH_REQUIRED")


def test_auth_refresh_refused_for_disabled_user(
    client: FlaskClient, make: Factory, app: Flask, db: Session
) -> None:
    user = make.user()
    with app.app_context():
        refresh = create_refresh_token(identity=str(user.id))
    user.is_active = False
    db.flush()
    assert_error(
        client.post("/api/v1/auth/refresh/", headers=bearer(refresh)), 401, "ACCOUNT_DISABLED"
    )


def test_auth_tampered_signature_is_token_invalid(client: FlaskClient, make: Factory) -> None:
    token = make.headers(make.user())["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    resp = client.get("/api/v1/vm/", headers=bearer(f"{header}.{payload}.{flipped}"))
    assert_error(resp, 401, "TOKEN_INVALID")


def test_auth_tampered_payload_is_token_invalid(
    client: FlaskClient, make: Factory, app: Flask
) -> None:
    victim = make.user()
    admin = make.user(is_admin=True)
    token = make.headers(victim)["Authorization"].removeprefix("Bearer ")
    header, _payload, signature = token.split(".")
    with app.app_context():
        claims = decode_token(token)
    forged = _b64({**claims, "sub": str(admin.id)})
    resp = client.get("/api/v1/vm/", headers=bearer(f"{header}.{forged}.{signature}"))
    assert_error(resp, 401, "TOKEN_INVALID")


def test_auth_alg_none_token_is_token_invalid(
    client: FlaskClient, make: Factory, app: Flask
) -> None:
    user = make.user(is_admin=True)
    with app.app_context():
        claims = decode_token(create_access_token(identity=str(user.id)))
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert_error(client.get("/api/v1/vm/", headers=bearer(token)), 401, "TOKEN_INVALID")


def test_auth_token_signed_with_other_secret_is_token_invalid(
    client: FlaskClient, make: Factory, settings: Settings
) -> None:
    user = make.user(is_admin=True)
    other = create_app(Settings(**{**settings.__dict__, "jwt_secret": "other-" + "y" * 40}))
    with other.app_context():
        token = create_access_token(identity=str(user.id))
    assert_error(client.get("/api/v1/vm/", headers=bearer(token)), 401, "TOKEN_INVALID")


def test_auth_expired_token_is_token_expired(
    client: FlaskClient, make: Factory, app: Flask
) -> None:
    user = make.user()
    with app.app_context():
        token = create_access_token(identity=str(user.id), expires_delta=dt.timedelta(seconds=-60))
    assert_error(client.get("/api/v1/vm/", headers=bearer(token)), 401, "TOKEN_EXPIRED")


@pytest.mark.parametrize("value", ["Bearer", "Bearer not.a.jwt", "Bearer abc", "Bearer a b"])
def test_auth_garbage_token_is_token_invalid(client: FlaskClient, value: str) -> None:
    resp = client.get("/api/v1/vm/", headers={"Authorization": value})
    assert_error(resp, 401, "TOKEN_INVALID")


@pytest.mark.parametrize("path", ["/api/v1/health/", "/api/v1/openapi.json"])
def test_auth_public_endpoints_need_no_token(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_auth_login_is_public(client: FlaskClient) -> None:
    # No token and bad credentials: the answer is about credentials, not about a missing token.
    assert_error(login(client, "nobody", "x"), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/vm/",
        "/api/v1/tenant/",
        "/api/v1/job/",
        "/api/v1/baremetal/",
        "/api/v1/vm/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_auth_protected_endpoints_need_token(client: FlaskClient, path: str) -> None:
    assert_error(client.get(path), 401, "AUTH_REQUIRED")


def test_settings_check_serving_refuses_short_secret() -> None:
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        Settings(jwt_secret="x" * 31).check_serving()


@pytest.mark.parametrize("secret", ["", "changeme", "CHANGEME", "secret", "virtflow"])
def test_settings_check_serving_refuses_default_secrets(secret: str) -> None:
    with pytest.raises(SettingsError):
        Settings(jwt_secret=secret).check_serving()


def test_settings_check_serving_accepts_long_random_secret() -> None:
    Settings(jwt_secret="k" * 32).check_serving()


def test_create_app_refuses_weak_secret() -> None:
    with pytest.raises(SettingsError):
        create_app(Settings(jwt_secret="changeme"))


def test_settings_from_env_parses_values(tmp_path: Path) -> None:
    env = {
        "VIRTFLOW_DATABASE_URL": "postgresql+psycopg://u@db/x",
        "VIRTFLOW_REDIS_URL": "redis://r:6379/2",
        "VIRTFLOW_QUEUE": "q1",
        "VIRTFLOW_JWT_SECRET": "s" * 40,
        "VIRTFLOW_JWT_ACCESS_MINUTES": "15",
        "VIRTFLOW_JWT_REFRESH_DAYS": "3",
        "VIRTFLOW_ADMIN_USERNAME": "root",
        "VIRTFLOW_ADMIN_PASSWORD": "pw",
        "VIRTFLOW_STATE_DIR": str(tmp_path / "state"),
        "VIRTFLOW_ANSIBLE_DIR": str(tmp_path / "ansible"),
        "VIRTFLOW_JOB_TIMEOUT": "60",
        "VIRTFLOW_MAX_BODY_BYTES": "1024",
        "VIRTFLOW_LOG_LEVEL": "debug",
    }
    s = Settings.from_env(env)
    assert s.database_url == "postgresql+psycopg://u@db/x"
    assert (s.redis_url, s.queue_name) == ("redis://r:6379/2", "q1")
    assert (s.jwt_secret, s.jwt_access_minutes, s.jwt_refresh_days) == ("s" * 40, 15, 3)
    assert (s.admin_username, s.admin_password) == ("root", "pw")
    assert s.state_dir == tmp_path / "state"
    assert s.ansible_dir == tmp_path / "ansible"
    assert s.inventory_path == tmp_path / "ansible" / "inventory"
    assert (s.job_timeout_seconds, s.max_body_bytes, s.log_level) == (60, 1024, "DEBUG")


def test_settings_from_env_defaults_when_unset(tmp_path: Path) -> None:
    s = Settings.from_env({"VIRTFLOW_STATE_DIR": str(tmp_path), "VIRTFLOW_JOB_TIMEOUT": ""})
    base = Settings()
    assert s.database_url == base.database_url
    assert s.job_timeout_seconds == base.job_timeout_seconds
    assert s.max_body_bytes == 64 * 1024
    assert s.jwt_secret == ""


def test_settings_from_env_inventory_override(tmp_path: Path) -> None:
    s = Settings.from_env({"VIRTFLOW_STATE_DIR": str(tmp_path), "VIRTFLOW_INVENTORY": "/inv"})
    assert s.inventory_path == Path("/inv")


@pytest.mark.parametrize("name", ["VIRTFLOW_JWT_ACCESS_MINUTES", "VIRTFLOW_JOB_TIMEOUT"])
def test_settings_from_env_bad_integer_raises(name: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: "ten", "VIRTFLOW_STATE_DIR": str(tmp_path)})


def test_settings_from_env_reads_secret_files(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text("f" * 40 + "\n", encoding="utf-8")
    (tmp_path / "admin").write_text("  hunter22  \n", encoding="utf-8")
    s = Settings.from_env(
        {
            "VIRTFLOW_JWT_SECRET_FILE": str(tmp_path / "jwt"),
            "VIRTFLOW_ADMIN_PASSWORD_FILE": str(tmp_path / "admin"),
            "VIRTFLOW_STATE_DIR": str(tmp_path),
        }
    )
    assert s.jwt_secret == "f" * 40
    assert s.admin_password == "hunter22"


def test_settings_from_env_value_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text("from-file", encoding="utf-8")
    s = Settings.from_env(
        {
            "VIRTFLOW_JWT_SECRET": "from-env",
            "VIRTFLOW_JWT_SECRET_FILE": str(tmp_path / "jwt"),
            "VIRTFLOW_STATE_DIR": str(tmp_path),
        }
    )
    assert s.jwt_secret == "from-env"


def test_settings_from_env_falls_back_to_local_secret(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("l" * 48 + "\n", encoding="utf-8")
    s = Settings.from_env({"VIRTFLOW_STATE_DIR": str(tmp_path)})
    assert s.jwt_secret == "l" * 48


def test_settings_repr_hides_secrets() -> None:
    text = repr(Settings(jwt_secret="topsecret-value", admin_password="adminpass"))
    assert "topsecret-value" not in text and "adminpass" not in text


# --- sessions: login, refresh and logout share one session id -------------------------------


def tokens_of(client: FlaskClient, username: str) -> dict[str, Any]:
    resp = login(client, username)
    assert resp.status_code == 200, resp.get_json()
    data: dict[str, Any] = resp.get_json()["data"]
    return data


def claims_of(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        claims: dict[str, Any] = decode_token(token)
    return claims


def test_login_tokens_share_a_session_that_ends_with_the_refresh_token(
    client: FlaskClient, make: Factory, app: Flask, settings: Settings
) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    access = claims_of(app, data["access_token"])
    refresh = claims_of(app, data["refresh_token"])
    assert access["sid"] == refresh["sid"] and len(access["sid"]) == 32
    assert access["sexp"] == refresh["sexp"] == refresh["exp"]
    assert abs(refresh["exp"] - time.time() - settings.jwt_refresh_days * 86400) < 5
    assert access["exp"] - access["iat"] == settings.jwt_access_minutes * 60
    assert access["jti"] != refresh["jti"]


def test_login_twice_opens_two_sessions(client: FlaskClient, make: Factory, app: Flask) -> None:
    make.user("alice")
    first, second = tokens_of(client, "alice"), tokens_of(client, "alice")
    assert (
        claims_of(app, first["access_token"])["sid"]
        != claims_of(app, second["access_token"])["sid"]
    )


def test_auth_refresh_keeps_the_session_id(client: FlaskClient, make: Factory, app: Flask) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    assert resp.status_code == 200
    refreshed = claims_of(app, resp.get_json()["data"]["access_token"])
    original = claims_of(app, data["access_token"])
    assert (refreshed["sid"], refreshed["sexp"]) == (original["sid"], original["sexp"])
    assert refreshed["fresh"] is False


def test_auth_refreshed_access_token_never_outlives_its_session(
    client: FlaskClient, make: Factory, app: Flask, db: Session
) -> None:
    user = make.user()
    session = tokens.open_session(db, user.id, dt.timedelta(seconds=30))
    ends = int(session.expires_at.timestamp())
    with app.app_context():
        refresh = create_refresh_token(
            identity=str(user.id), additional_claims={"sid": session.id, "sexp": ends, "exp": ends}
        )
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(refresh))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert claims_of(app, data["access_token"])["exp"] == ends
    assert 0 < data["expires_in"] <= 30


def test_auth_logout_revokes_access_and_refresh_tokens(client: FlaskClient, make: Factory) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    refreshed = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    refreshed_access = refreshed.get_json()["data"]["access_token"]
    resp = client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"]))
    assert resp.status_code == 200
    assert resp.get_json()["data"] == {"logged_out": True}
    for token in (data["access_token"], refreshed_access):
        assert_error(client.get("/api/v1/vm/", headers=bearer(token)), 401, "TOKEN_REVOKED")
    refresh = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    assert_error(refresh, 401, "TOKEN_REVOKED")
    again = client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"]))
    assert_error(again, 401, "TOKEN_REVOKED")


def test_auth_logout_with_a_refreshed_access_token_revokes_the_refresh_token(
    client: FlaskClient, make: Factory
) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    refreshed = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    access = refreshed.get_json()["data"]["access_token"]
    assert client.post("/api/v1/auth/logout/", headers=bearer(access)).status_code == 200
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    assert_error(resp, 401, "TOKEN_REVOKED")
    assert_error(
        client.get("/api/v1/vm/", headers=bearer(data["access_token"])), 401, "TOKEN_REVOKED"
    )


def test_auth_logout_holds_in_every_api_process(
    client: FlaskClient,
    make: Factory,
    settings: Settings,
    sessions: sessionmaker[Session],
    redis: Redis,
) -> None:
    """Another app instance stands for another gunicorn worker: it shares only the database."""
    make.user("alice")
    data = tokens_of(client, "alice")
    for other in build_app(settings, sessions, redis):
        other_client = other.test_client()
        assert (
            other_client.get("/api/v1/vm/", headers=bearer(data["access_token"])).status_code == 200
        )
        assert (
            client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"])).status_code
            == 200
        )
        resp = other_client.get("/api/v1/vm/", headers=bearer(data["access_token"]))
        assert_error(resp, 401, "TOKEN_REVOKED")
        resp = other_client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
        assert_error(resp, 401, "TOKEN_REVOKED")


def test_login_records_the_session_until_its_end(
    client: FlaskClient, make: Factory, app: Flask, db: Session
) -> None:
    user = make.user("alice")
    claims = claims_of(app, tokens_of(client, "alice")["refresh_token"])
    row = db.get_one(AuthSession, claims["sid"])
    assert (row.user_id, row.revoked_at) == (user.id, None)
    assert int(row.expires_at.timestamp()) == claims["sexp"]


def test_auth_logout_revokes_the_session_row_and_keeps_it_until_the_session_ends(
    client: FlaskClient, make: Factory, app: Flask, db: Session
) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    claims = claims_of(app, data["access_token"])
    client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"]))
    db.expire_all()
    row = db.get_one(AuthSession, claims["sid"])
    assert row.revoked_at is not None
    assert int(row.expires_at.timestamp()) == claims["sexp"]
    # The session row covers every token of it: logout writes no row per token.
    assert db.scalars(select(RevokedToken)).all() == []


def test_auth_logout_holds_when_redis_is_gone(
    client: FlaskClient,
    make: Factory,
    settings: Settings,
    sessions: sessionmaker[Session],
    redis: Redis,
) -> None:
    """Redis keeps nothing on disk: an API process whose Redis is empty or unreachable (a
    restart) still refuses logged-out tokens, and still accepts live ones."""
    make.user("alice")
    out, live = tokens_of(client, "alice"), tokens_of(client, "alice")
    resp = client.post("/api/v1/auth/logout/", headers=bearer(out["access_token"]))
    assert resp.status_code == 200
    for no_redis in build_app(settings, sessions, redis, redis_url="redis://127.0.0.1:1/0"):
        other = no_redis.test_client()
        resp = other.get("/api/v1/vm/", headers=bearer(out["access_token"]))
        assert_error(resp, 401, "TOKEN_REVOKED")
        resp = other.post("/api/v1/auth/refresh/", headers=bearer(out["refresh_token"]))
        assert_error(resp, 401, "TOKEN_REVOKED")
        assert other.get("/api/v1/vm/", headers=bearer(live["access_token"])).status_code == 200
        resp = other.post("/api/v1/auth/refresh/", headers=bearer(live["refresh_token"]))
        assert resp.status_code == 200


def test_auth_token_of_a_session_never_recorded_is_revoked(
    client: FlaskClient, make: Factory, app: Flask
) -> None:
    user = make.user()
    ends = int(time.time()) + 600
    claims = {"sid": uuid.uuid4().hex, "sexp": ends}
    with app.app_context():
        access = create_access_token(identity=str(user.id), additional_claims=claims)
        refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    assert_error(client.get("/api/v1/vm/", headers=bearer(access)), 401, "TOKEN_REVOKED")
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(refresh))
    assert_error(resp, 401, "TOKEN_REVOKED")


def test_auth_logout_leaves_other_sessions_working(client: FlaskClient, make: Factory) -> None:
    make.user("alice")
    first, second = tokens_of(client, "alice"), tokens_of(client, "alice")
    client.post("/api/v1/auth/logout/", headers=bearer(first["access_token"]))
    assert client.get("/api/v1/vm/", headers=bearer(second["access_token"])).status_code == 200
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(second["refresh_token"]))
    assert resp.status_code == 200


def test_auth_logout_of_a_token_without_session_revokes_that_token(
    client: FlaskClient, make: Factory
) -> None:
    user = make.user()
    headers, other = make.headers(user), make.headers(user)
    assert client.post("/api/v1/auth/logout/", headers=headers).status_code == 200
    assert_error(client.get("/api/v1/vm/", headers=headers), 401, "TOKEN_REVOKED")
    assert client.get("/api/v1/vm/", headers=other).status_code == 200


def test_auth_logout_needs_an_access_token(client: FlaskClient, make: Factory) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    assert_error(client.post("/api/v1/auth/logout/"), 401, "AUTH_REQUIRED")
    resp = client.post("/api/v1/auth/logout/", headers=bearer(data["refresh_token"]))
    assert_error(resp, 401, "TOKEN_INVALID")
    assert client.get("/api/v1/vm/", headers=bearer(data["access_token"])).status_code == 200


def test_auth_logout_is_audited(client: FlaskClient, make: Factory, db: Session) -> None:
    user = make.user("alice")
    data = tokens_of(client, "alice")
    client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"]))
    row = db.scalars(select(AuditLog).where(AuditLog.action == "auth.logout")).one()
    assert (row.actor_id, row.object_id, row.outcome) == (user.id, str(user.id), "success")
    assert "token" not in json.dumps(row.changes)


def test_auth_revoked_token_of_disabled_user_answers_revoked(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    data = tokens_of(client, "alice")
    client.post("/api/v1/auth/logout/", headers=bearer(data["access_token"]))
    user.is_active = False
    db.flush()
    resp = client.get("/api/v1/vm/", headers=bearer(data["access_token"]))
    assert_error(resp, 401, "TOKEN_REVOKED")


def test_auth_revocation_check_without_the_database_fails_closed(
    make: Factory, settings: Settings, sessions: sessionmaker[Session], redis: Redis
) -> None:
    user = make.user()
    dead = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    for broken in build_app(settings, sessions, redis, database_url=dead):
        del broken.extensions["virtflow_sessions"]  # the request's session goes to the dead URL
        with broken.app_context():
            token = create_access_token(identity=str(user.id))
        resp = broken.test_client().get("/api/v1/auth/me/", headers=bearer(token))
        # The check is the request's first database read: it fails, the token never passes.
        body = assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
        assert body["error"]["details"] == {"dependency": "database"}


# --- password change -------------------------------------------------------------------------


def change_password(  # type: ignore[no-untyped-def]
    client: FlaskClient, headers: dict[str, str], current: str = PASSWORD, new: str = NEW_PASSWORD
):
    body = {"current_password": current, "new_password": new}
    return client.put("/api/v1/auth/password/", json=body, headers=headers)


def test_auth_password_change_replaces_the_password(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    old_hash = user.password_hash
    data = tokens_of(client, "alice")
    resp = change_password(client, bearer(data["access_token"]))
    assert resp.status_code == 200, resp.get_json()
    db.refresh(user)
    assert user.password_hash != old_hash and user.password_hash.startswith("$argon2id$")
    assert_error(login(client, "alice"), 401, "INVALID_CREDENTIALS")
    assert login(client, "alice", NEW_PASSWORD).status_code == 200


def test_auth_password_change_ends_the_other_sessions_only(
    client: FlaskClient, make: Factory
) -> None:
    make.user("alice")
    other, current = tokens_of(client, "alice"), tokens_of(client, "alice")
    resp = change_password(client, bearer(current["access_token"]))
    assert resp.get_json()["data"] == {"other_sessions_ended": 1}
    assert_error(
        client.get("/api/v1/vm/", headers=bearer(other["access_token"])), 401, "TOKEN_REVOKED"
    )
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(other["refresh_token"]))
    assert_error(resp, 401, "TOKEN_REVOKED")
    assert client.get("/api/v1/vm/", headers=bearer(current["access_token"])).status_code == 200
    resp = client.post("/api/v1/auth/refresh/", headers=bearer(current["refresh_token"]))
    assert resp.status_code == 200


def test_auth_password_change_needs_a_fresh_token(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    old_hash = user.password_hash
    data = tokens_of(client, "alice")
    refreshed = client.post("/api/v1/auth/refresh/", headers=bearer(data["refresh_token"]))
    stale = bearer(refreshed.get_json()["data"]["access_token"])
    assert_error(change_password(client, stale), 401, "FRESH_TOKEN_REQUIRED")
    db.refresh(user)
    assert user.password_hash == old_hash


def test_auth_password_change_refuses_a_refresh_token(client: FlaskClient, make: Factory) -> None:
    make.user("alice")
    data = tokens_of(client, "alice")
    resp = change_password(client, bearer(data["refresh_token"]))
    assert_error(resp, 401, "TOKEN_INVALID")


def test_auth_password_change_wrong_current_password(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    old_hash = user.password_hash
    data = tokens_of(client, "alice")
    resp = change_password(client, bearer(data["access_token"]), current="not-my-password")
    assert_error(resp, 401, "INVALID_CREDENTIALS")
    db.refresh(user)
    assert user.password_hash == old_hash
    assert client.get("/api/v1/vm/", headers=bearer(data["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": PASSWORD, "new_password": "x" * 11}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 1025}, "new_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        (
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "is_admin": True},
            "is_admin",
        ),
    ],
)
def test_auth_password_change_validation(
    client: FlaskClient, make: Factory, db: Session, body: dict[str, Any], field: str
) -> None:
    user = make.user("alice")
    old_hash = user.password_hash
    data = tokens_of(client, "alice")
    resp = client.put("/api/v1/auth/password/", json=body, headers=bearer(data["access_token"]))
    err = assert_error(resp, 422, "VALIDATION_ERROR")
    assert field in err["error"]["details"]["fields"]["json"]
    db.refresh(user)
    assert (user.password_hash, user.is_admin) == (old_hash, False)


def test_auth_password_change_audit_row_holds_no_password(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    data = tokens_of(client, "alice")
    change_password(client, bearer(data["access_token"]))
    change_password(client, bearer(data["access_token"]), current="wrong-password-1")
    rows = db.scalars(
        select(AuditLog).where(AuditLog.action == "user.password_change").order_by(AuditLog.id)
    ).all()
    assert [(r.outcome, r.error_code) for r in rows] == [
        ("success", None),
        ("denied", "INVALID_CREDENTIALS"),
    ]
    assert {r.object_id for r in rows} == {str(user.id)}
    text = json.dumps([r.changes for r in rows])
    for secret in (PASSWORD, NEW_PASSWORD, "wrong-password-1", "argon2"):
        assert secret not in text


# --- who am I --------------------------------------------------------------------------------


def test_auth_me_shows_tenants_roles_permissions_and_grants(
    client: FlaskClient, make: Factory, db: Session
) -> None:
    user = make.user("alice")
    member_of, granted_on, unrelated = make.tenant("a-one"), make.tenant("b-two"), make.tenant()
    make.member(user, member_of, "viewer")
    assign_perm(db, user.id, Perm.TENANT_ADMIN, Target(granted_on.id), None)
    vm_id = uuid.uuid4()
    assign_perm(db, user.id, Perm.VM_CHANGE, Target(unrelated.id, vm_id), None)
    resp = client.get("/api/v1/auth/me/", headers=make.headers(user))
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["user"]["username"] == "alice" and "password_hash" not in data["user"]
    assert (data["roles"], data["permissions"]) == ([], [])
    assert [(t["name"], t["role"]) for t in data["tenants"]] == [
        ("a-one", "viewer"),
        ("b-two", None),
    ]
    assert data["tenants"][0]["permissions"] == sorted(ROLE_PERMS["viewer"])
    assert data["tenants"][1]["permissions"] == sorted(TENANT_SCOPED)
    assert data["object_grants"] == [
        {
            "object_type": "vm",
            "object_id": str(vm_id),
            "tenant_id": str(unrelated.id),
            "permission": "vm.change",
        }
    ]


def test_auth_me_admin_holds_every_permission(client: FlaskClient, make: Factory) -> None:
    admin = make.user(is_admin=True)
    data = client.get("/api/v1/auth/me/", headers=make.headers(admin)).get_json()["data"]
    assert data["roles"] == ["admin"]
    assert data["permissions"] == sorted(ALL_PERMS)
    assert data["user"]["is_admin"] is True


def test_auth_me_hides_deleted_tenants(client: FlaskClient, make: Factory) -> None:
    user = make.user()
    make.member(user, make.tenant("gone", status="deleted"), "tenant_user")
    data = client.get("/api/v1/auth/me/", headers=make.headers(user)).get_json()["data"]
    assert data["tenants"] == []


# --- failed-login throttling -----------------------------------------------------------------


def assert_rate_limited(resp: Any, window: int = 300) -> int:
    body = assert_error(resp, 429, "RATE_LIMITED")
    retry_after = int(resp.headers["Retry-After"])
    assert 0 < retry_after <= window
    assert body["error"]["details"] == {"retry_after": retry_after}
    return retry_after


def test_login_throttled_per_account_and_address(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    client = limited(per_pair=3)
    make.user("alice")
    for _ in range(3):
        assert_error(login(client, "alice", "wrong", addr="10.0.0.1"), 401, "INVALID_CREDENTIALS")
    # Refused before the password is checked: the right password from that address too ...
    assert_rate_limited(login(client, "alice", addr="10.0.0.1"))
    assert_rate_limited(login(client, "alice", "wrong", addr="10.0.0.1"))
    # ... but a stranger's failures do not lock the owner out of another address.
    assert login(client, "alice", addr="10.0.0.2").status_code == 200


def test_login_throttled_account_leaves_other_accounts_on_that_address(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    client = limited(per_pair=2)
    make.user("alice")
    make.user("bob")
    for _ in range(2):
        login(client, "alice", "wrong", addr="10.0.0.9")
    assert_rate_limited(login(client, "alice", addr="10.0.0.9"))
    assert login(client, "bob", addr="10.0.0.9").status_code == 200


def test_login_throttled_per_account_over_many_addresses(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    """A guess spread over addresses meets the account's ceiling (far above the pair limit)."""
    client = limited(per_pair=3, per_account=6)
    make.user("alice")
    for n in range(6):
        assert_error(
            login(client, "alice", "wrong", addr=f"10.0.1.{n}"), 401, "INVALID_CREDENTIALS"
        )
    assert_rate_limited(login(client, "alice", "wrong", addr="10.0.1.99"))
    assert_rate_limited(login(client, "alice", addr="10.0.1.100"))


def test_login_account_ceiling_spares_addresses_the_owner_logged_in_from(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    """Strangers who fill the account's window lock out new addresses, not the owner's."""
    client = limited(per_pair=3, per_account=4)
    make.user("alice")
    assert login(client, "alice", addr="192.0.2.10").status_code == 200
    for n in range(4):
        login(client, "alice", "wrong", addr=f"198.51.100.{n}")
    assert_rate_limited(login(client, "alice", addr="198.51.100.200"))
    assert login(client, "alice", addr="192.0.2.10").status_code == 200
    # The known address still has its own window of the pair limit.
    for _ in range(3):
        login(client, "alice", "wrong", addr="192.0.2.10")
    assert_rate_limited(login(client, "alice", addr="192.0.2.10"))


def test_login_throttled_per_address(limited: Callable[..., FlaskClient], make: Factory) -> None:
    client = limited(per_address=4)
    make.user("bob")
    for n in range(4):
        assert_error(
            login(client, f"nobody-{n}", "wrong", addr="10.0.0.7"), 401, "INVALID_CREDENTIALS"
        )
    assert_rate_limited(login(client, "bob", addr="10.0.0.7"))
    assert login(client, "bob", addr="10.0.0.8").status_code == 200


def test_login_unknown_accounts_are_throttled_like_known_ones(
    limited: Callable[..., FlaskClient],
) -> None:
    client = limited(per_pair=2)
    for _ in range(2):
        assert_error(login(client, "nobody", "wrong"), 401, "INVALID_CREDENTIALS")
    assert_rate_limited(login(client, "nobody", "wrong"))


def test_login_successes_from_one_address_are_never_throttled(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    client = limited(per_pair=2, per_address=3)
    names = [make.user(f"user-{n:02d}").username for n in range(30)]
    for name in names:
        assert login(client, name, addr="10.0.0.5").status_code == 200
    for name in names[:2]:
        assert login(client, name, addr="10.0.0.5").status_code == 200
    # ... and the address still has its whole allowance for failures.
    for n in range(3):
        assert login(client, f"nobody-{n}", "wrong", addr="10.0.0.5").status_code == 401
    assert_rate_limited(login(client, "user-00", addr="10.0.0.5"))


def test_login_validation_errors_do_not_count(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    client = limited(per_pair=1, per_address=1, per_account=1)
    make.user("alice")
    for _ in range(3):
        resp = client.post("/api/v1/auth/login/", json={"username": "alice"})
        assert_error(resp, 422, "VALIDATION_ERROR")
    assert login(client, "alice").status_code == 200


def test_login_throttle_counts_wrong_current_passwords(
    limited: Callable[..., FlaskClient], make: Factory
) -> None:
    client = limited(per_pair=2)
    make.user("alice")
    data = tokens_of(client, "alice")
    headers = bearer(data["access_token"])
    for n in range(2):
        resp = change_password(
            client, headers, current="wrong-password-1", new=f"{NEW_PASSWORD}{n}"
        )
        assert_error(resp, 401, "INVALID_CREDENTIALS")
    assert_rate_limited(change_password(client, headers))
    assert_rate_limited(login(client, "alice"))  # the same account, from the same address


def test_login_throttle_refusal_is_enveloped_and_audited(
    limited: Callable[..., FlaskClient], make: Factory, db: Session
) -> None:
    client = limited(per_pair=1)
    make.user("alice")
    login(client, "alice", "wrong")
    resp = login(client, "alice")
    assert_rate_limited(resp)
    assert resp.headers["X-Request-ID"]
    row = db.scalars(
        select(AuditLog).where(AuditLog.request_id == resp.headers["X-Request-ID"])
    ).one()
    assert (row.action, row.outcome, row.status_code, row.error_code) == (
        "auth.login",
        "denied",
        429,
        "RATE_LIMITED",
    )


def test_login_throttle_counts_in_shared_redis_across_processes(
    make: Factory, settings: Settings, sessions: sessionmaker[Session], redis: Redis
) -> None:
    """Two app instances (two workers) with the same prefix share the counters."""
    make.user("alice")
    common = dataclasses.replace(
        settings,
        rate_limit_prefix=f"virtflow-test-limit-{uuid.uuid4().hex}",
        login_fails_per_pair=2,
    )
    first, second = create_app(common), create_app(common)
    try:
        for application in (first, second):
            application.extensions["virtflow_sessions"] = sessions
            login(application.test_client(), "alice", "wrong")
        assert_rate_limited(login(first.test_client(), "alice"))
        assert_rate_limited(login(second.test_client(), "alice"))
    finally:
        for key in redis.scan_iter(f"*{common.rate_limit_prefix}*"):
            redis.delete(key)


@pytest.fixture
def committing_app(settings: Settings, redis: Redis) -> Iterator[Flask]:
    """An app on a database of its own whose requests really commit (the test's savepoint
    connection cannot serve parallel threads), with login-limit counters of its own and a user
    alice; its database and counters are removed afterwards."""
    name = f"virtflow_limits_{uuid.uuid4().hex[:8]}"
    owner = recreate_database(name)
    url = app_url(owner)
    own = dataclasses.replace(
        settings,
        database_url=url,
        migrate_database_url=owner,
        rate_limit_prefix=f"virtflow-test-limit-{uuid.uuid4().hex}",
        login_fails_per_pair=5,
    )
    try:
        migrate(owner)
        with session_factory(url)() as session:
            session.add(User(username="alice", password_hash=password_hash()))
            session.commit()
        yield create_app(own)
    finally:
        engine_for(url, own.db_timeouts).dispose()
        engine_for(url).dispose()
        drop_database(name)
        for key in redis.scan_iter(f"*{own.rate_limit_prefix}*"):
            redis.delete(key)


def test_login_limit_holds_under_parallel_wrong_passwords(committing_app: Flask) -> None:
    """24 wrong passwords at once on one account from one address, limit 5: the attempts are
    counted before the password is checked, in one atomic step, so exactly 5 are checked."""
    start = threading.Barrier(24)

    def attempt(_n: int) -> int:
        client = committing_app.test_client()
        start.wait()
        return int(login(client, "alice", "wrong-password").status_code)

    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = collections.Counter(pool.map(attempt, range(24)))
    assert statuses == {401: 5, 429: 19}
    assert_rate_limited(login(committing_app.test_client(), "alice"))


# --- settings the limiter and the JWT secret depend on ----------------------------------------


@pytest.mark.parametrize("secret", ["x" * 31, "", "changeme", "virtflow"])
def test_create_app_refuses_short_or_default_secret(secret: str) -> None:
    with pytest.raises(SettingsError, match="VIRTFLOW_JWT_SECRET"):
        create_app(Settings(jwt_secret=secret))


def test_create_app_accepts_a_32_byte_secret(settings: Settings) -> None:
    create_app(dataclasses.replace(settings, jwt_secret="k" * 32))


@pytest.mark.parametrize(
    "field",
    [
        "login_fails_per_pair",
        "login_fails_per_account",
        "login_fails_per_address",
        "login_fail_window_seconds",
    ],
)
def test_settings_check_serving_refuses_non_positive_login_limits(field: str) -> None:
    with pytest.raises(SettingsError, match="must be positive"):
        Settings(jwt_secret="k" * 32, **{field: 0}).check_serving()


def test_settings_from_env_parses_login_limits(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "VIRTFLOW_STATE_DIR": str(tmp_path),
            "VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT_ADDRESS": "3",
            "VIRTFLOW_LOGIN_FAILS_PER_ACCOUNT": "7",
            "VIRTFLOW_LOGIN_FAILS_PER_ADDRESS": "70",
            "VIRTFLOW_LOGIN_FAIL_WINDOW": "600",
            "VIRTFLOW_RATE_LIMIT_PREFIX": "vf-limits",
        }
    )
    assert (s.login_fails_per_pair, s.login_fails_per_account, s.login_fails_per_address) == (
        3,
        7,
        70,
    )
    assert (s.login_fail_window_seconds, s.rate_limit_prefix) == (600, "vf-limits")
    base = Settings.from_env({"VIRTFLOW_STATE_DIR": str(tmp_path)})
    assert (base.login_fails_per_pair, base.login_fails_per_address) == (5, 20)
    assert base.login_fails_per_account == 100
    assert (base.login_fail_window_seconds, base.rate_limit_prefix) == (300, "")
