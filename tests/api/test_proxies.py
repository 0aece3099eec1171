"""Client addresses behind trusted reverse proxies (VIRTFLOW_TRUSTED_PROXIES)."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import AuditLog
from api.settings import Settings, SettingsError
from api.web.app import create_app


def app_with(settings: Settings, sessions: sessionmaker[Session], proxies: int) -> Flask:
    app = create_app(dataclasses.replace(settings, trusted_proxies=proxies))
    app.extensions["virtflow_sessions"] = sessions
    return app


def audited_addr(db: Session, request_id: str) -> str | None:
    db.expire_all()
    return db.scalar(select(AuditLog.client_addr).where(AuditLog.request_id == request_id))


@pytest.mark.parametrize(("proxies", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_client_address_trusts_only_configured_proxies(
    settings: Settings, sessions: sessionmaker[Session], db: Session, proxies: int, expected: str
) -> None:
    client = app_with(settings, sessions, proxies).test_client()
    rid = f"proxy-{proxies}"
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Request-ID": rid}
    resp = client.post("/api/v1/tenant/", json={"name": "p"}, headers=headers)
    assert resp.status_code == 401  # refused, and audited with the client's address
    assert audited_addr(db, rid) == expected


def test_client_address_ignores_forged_hops_beyond_the_trusted_proxy(
    settings: Settings, sessions: sessionmaker[Session], db: Session
) -> None:
    client = app_with(settings, sessions, 1).test_client()
    # The client forged the first entry; our one proxy appended the real peer address.
    headers = {"X-Forwarded-For": "10.9.9.9, 198.51.100.4", "X-Request-ID": "proxy-forged"}
    client.post("/api/v1/tenant/", json={"name": "p"}, headers=headers)
    assert audited_addr(db, "proxy-forged") == "198.51.100.4"


def test_settings_refuse_negative_trusted_proxies() -> None:
    with pytest.raises(SettingsError):
        Settings(jwt_secret="s" * 40, trusted_proxies=-1).check_serving()
    assert Settings.from_env({"VIRTFLOW_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
