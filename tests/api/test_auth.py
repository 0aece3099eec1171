"""Login, refresh, and which tokens each endpoint accepts."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy.orm import Session

from api.settings import Settings, SettingsError
from api.web.app import create_app
from tests.api.test_envelope import assert_error
from tests.conftest import PASSWORD, Factory


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login/", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
