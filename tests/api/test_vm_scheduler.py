"""VM create through a configured scheduler: the settings reach placement, and an external
scheduler that is down refuses the create with a 503 and writes nothing."""

from __future__ import annotations

import dataclasses

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from api.models import Tenant
from api.settings import Settings
from api.web.app import create_app
from tests.api.conftest import counts, vm_body
from tests.conftest import Factory

DEAD_URL = "http://127.0.0.1:1/place"


def _client(
    settings: Settings, sessions: sessionmaker[Session], **overrides: object
) -> tuple[FlaskClient, Flask]:
    app = create_app(dataclasses.replace(settings, **overrides))
    app.extensions["virtflow_sessions"] = sessions
    app.config["TESTING"] = True
    return app.test_client(), app


def test_vm_create_with_pack_policy_fills_the_fullest_host(
    settings: Settings, sessions: sessionmaker[Session], make: Factory, redis: Redis
) -> None:
    client, app = _client(settings, sessions, scheduler_policy="pack")
    make.app = app
    tenant: Tenant = make.tenant()
    headers = make.headers(make.user(is_admin=True))
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=headers)
    assert resp.status_code == 202, resp.get_json()
    # bm-a (4096 MiB) has less free RAM than bm-b (8192 MiB): pack picks it, spread would not.
    assert resp.get_json()["data"]["baremetal"] == "bm-a"


def test_vm_create_with_external_scheduler_down_is_503_and_writes_nothing(
    settings: Settings, sessions: sessionmaker[Session], make: Factory, db: Session
) -> None:
    client, app = _client(settings, sessions, scheduler_url=DEAD_URL)
    make.app = app
    tenant: Tenant = make.tenant()
    headers = make.headers(make.user(is_admin=True))
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=headers)
    assert resp.status_code == 503, resp.get_json()
    assert resp.get_json()["error"]["code"] == "SCHEDULER_UNAVAILABLE"
    assert int(resp.headers["Retry-After"]) > 0
    assert counts(db) == before
