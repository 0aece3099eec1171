"""Idempotency-Key on VM create and the VM actions: a retry gets the first answer, never a
second VM or job; another request with the key is 422; keys are per user and expire."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from api.db import utcnow
from api.models import VM, AuditLog, IdempotencyKey, Job, JobKind, Tenant, User, VMStatus
from api.services import vms
from api.settings import Settings
from api.web.app import create_app
from tests.api.conftest import counts, settle_running, vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.openapi import spec
from tests.helpers.stack import wait_for
from tests.services.conftest import World

KEY = "Idempotency-Key"
METHODS = frozenset({"get", "post", "put", "patch", "delete"})
Headers = dict[str, str]


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant()


@pytest.fixture
def member(make: Factory, tenant: Tenant) -> User:
    user = make.user()
    make.member(user, tenant, "tenant_user")
    return user


@pytest.fixture
def member_headers(make: Factory, member: User) -> Headers:
    return make.headers(member)


def keyed(make: Factory, user: User, key: str, **extra: str) -> Headers:
    return {**make.headers(user), KEY: key, **extra}


def post_vm(client: FlaskClient, headers: Headers, tenant: Tenant, name: str) -> TestResponse:
    return client.post("/api/v1/vm/", json=vm_body(tenant.id, name), headers=headers)


def key_rows(db: Session) -> list[IdempotencyKey]:
    db.flush()
    db.expire_all()
    return list(db.scalars(select(IdempotencyKey)))


def audit_rows(db: Session, action: str) -> list[AuditLog]:
    db.expire_all()
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_idempotency_create_sent_twice_makes_one_vm_and_replays_the_first_answer(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    first = post_vm(client, keyed(make, member, "k-1", **{"X-Request-ID": "first"}), tenant, "web")
    again = post_vm(client, keyed(make, member, "k-1", **{"X-Request-ID": "again"}), tenant, "web")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json() == first.get_json()
    assert again.get_json()["meta"]["request_id"] == "first"  # the first answer's body
    assert again.headers["X-Request-ID"] == "again"  # the header is this request's
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert counts(db) == (1, 1)
    [row] = key_rows(db)
    assert (row.user_id, row.key, row.status_code) == (member.id, "k-1", 202)
    assert row.response == first.get_json()
    done, replayed = audit_rows(db, "vm.create")
    assert done.request_id == "first" and done.changes["after"]["status"] == "pending"
    assert replayed.request_id == "again" and replayed.outcome == "success"
    assert replayed.changes["details"] == {"idempotent_replay": True, "replay_of": "first"}
    assert "after" not in replayed.changes  # a replay changes nothing


def test_idempotency_key_with_another_body_is_422_and_writes_nothing(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    assert post_vm(client, keyed(make, member, "k-2"), tenant, "web").status_code == 202
    before = counts(db)
    other = post_vm(client, keyed(make, member, "k-2"), tenant, "db")
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    on_alias = client.post(
        "/api/v1/vm/create/", json=vm_body(tenant.id, "web"), headers=keyed(make, member, "k-2")
    )
    assert_error(on_alias, 422, "IDEMPOTENCY_KEY_REUSED")  # another path is another request
    assert counts(db) == before
    [row] = key_rows(db)
    assert row.response is not None and row.response["data"]["name"] == "web"


def test_idempotency_same_request_spelled_otherwise_is_the_same_request(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    """Keys in another order, spacing, no trailing slash: the canonical JSON is the same."""
    first = post_vm(client, keyed(make, member, "k-3"), tenant, "web")
    body = vm_body(tenant.id, "web")
    raw = "{" + ", ".join(f'"{k}": {json_value(v)}' for k, v in reversed(body.items())) + "}"
    headers = {**keyed(make, member, "k-3"), "Content-Type": "application/json"}
    again = client.post("/api/v1/vm", data=raw, headers=headers)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert counts(db) == (1, 1)


def json_value(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_idempotency_keys_are_per_user(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    other = make.user()
    make.member(other, tenant, "tenant_user")
    mine = post_vm(client, keyed(make, member, "shared"), tenant, "web")
    theirs = post_vm(client, keyed(make, other, "shared"), tenant, "db")
    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert "Idempotent-Replayed" not in theirs.headers
    assert counts(db) == (2, 2)
    assert {(r.user_id, r.key) for r in key_rows(db)} == {
        (member.id, "shared"),
        (other.id, "shared"),
    }


def test_idempotency_expired_key_serves_a_new_request(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    assert post_vm(client, keyed(make, member, "k-old"), tenant, "web").status_code == 202
    day_ago = utcnow() - dt.timedelta(hours=24, seconds=1)
    db.execute(update(IdempotencyKey).values(created_at=day_ago))
    fresh = post_vm(client, keyed(make, member, "k-old"), tenant, "db")  # not 422: expired
    assert fresh.status_code == 202 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.get_json()["data"]["name"] == "db"
    assert counts(db) == (2, 2)
    [row] = key_rows(db)
    assert row.created_at > day_ago and row.response == fresh.get_json()
    again = post_vm(client, keyed(make, member, "k-old"), tenant, "db")
    assert again.headers["Idempotent-Replayed"] == "true"  # the new answer is the one kept


def test_idempotency_stop_sent_twice_queues_one_job_and_replays_not_busy(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    vm = settle_running(db, post_vm(client, make.headers(member), tenant, "web").get_json()["data"])
    stop = f"/api/v1/vm/{vm['id']}/stop/"
    first = client.post(stop, json={"force": True}, headers=keyed(make, member, "stop-1"))
    again = client.post(stop, json={"force": True}, headers=keyed(make, member, "stop-1"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    stops = db.scalars(select(Job).where(Job.kind == JobKind.VM_STOP)).all()
    assert len(stops) == 1
    # The view did not run again: a new key meets the stop in flight.
    busy = client.post(stop, json={"force": True}, headers=keyed(make, member, "stop-2"))
    assert busy.status_code == 409


def test_idempotency_refusal_is_not_kept_the_key_stays_free(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    vm = settle_running(db, post_vm(client, make.headers(member), tenant, "web").get_json()["data"])
    start = f"/api/v1/vm/{vm['id']}/start/"
    assert_error(client.post(start, headers=keyed(make, member, "s-1")), 409, "INVALID_STATE")
    assert key_rows(db) == []
    db.get_one(VM, uuid.UUID(vm["id"])).status = VMStatus.STOPPED
    db.flush()
    assert client.post(start, headers=keyed(make, member, "s-1")).status_code == 202


def test_idempotency_delete_replays_its_200(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    """A VM whose create never ran is deleted at once (200): the replay is a 200 too."""
    vm = post_vm(client, make.headers(member), tenant, "web").get_json()["data"]
    path = f"/api/v1/vm/{vm['id']}/"
    first = client.delete(path, headers=keyed(make, member, "d-1"))
    again = client.delete(path, headers=keyed(make, member, "d-1"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["data"]["status"] == "deleted"
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "caf\u00e9", "tab\there", "del\x7f"],
    ids=["empty", "too-long", "latin-1", "tab", "del"],
)
def test_idempotency_invalid_key_is_422_and_writes_nothing(
    client: FlaskClient, member_headers: Headers, db: Session, tenant: Tenant, key: str
) -> None:
    resp = post_vm(client, {**member_headers, KEY: key}, tenant, "web")
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert body["error"]["details"] == {
        "fields": {"headers": {KEY: ["Must be 1 to 255 printable ASCII characters."]}}
    }
    assert counts(db) == (0, 0) and key_rows(db) == []


def test_idempotency_longest_valid_key_is_kept(
    client: FlaskClient, make: Factory, db: Session, member: User, tenant: Tenant
) -> None:
    key = "~ " + "k" * 253
    assert post_vm(client, keyed(make, member, key), tenant, "web").status_code == 202
    assert [r.key for r in key_rows(db)] == [key]


def test_idempotency_every_vm_action_and_nothing_else_takes_the_key() -> None:
    """In the OpenAPI document: every POST and DELETE under /vm/ (grants aside) documents the
    header, the replay header and the two refusals; no other operation does."""
    header = {"$ref": "#/components/parameters/Idempotency-Key"}
    keyed = set()
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if method not in METHODS or header not in op.get("parameters", []):
                continue
            keyed.add((method, path))
            assert "IdempotencyKeyReusedError" in json.dumps(op["responses"]["422"])
            assert "ConflictError" in json.dumps(op["responses"]["409"])
            [success] = [r for s, r in op["responses"].items() if s.startswith("2")][:1]
            assert "Idempotent-Replayed" in success["headers"]
    actions = {
        (method, path)
        for path, item in spec()["paths"].items()
        for method in item
        if method in METHODS and path.startswith("/api/v1/vm/") and method in ("post", "delete")
        and "/permission/" not in path
    }  # fmt: skip
    assert keyed == actions
    assert {("post", "/api/v1/vm/"), ("delete", "/api/v1/vm/{vm_id}/")} < keyed


# Two requests at once, on the real database: each its own connection and transaction.


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = World(engine)
    try:
        yield w
    finally:
        w.cleanup()


@pytest.fixture
def real_app(settings: Settings, redis: Redis) -> Callable[..., Flask]:
    """An app on real, committing sessions (not the test's savepoint)."""

    def build(**overrides: Any) -> Flask:
        app = create_app(dataclasses.replace(settings, **overrides))
        app.config["TESTING"] = True
        return app

    return build


class Gate:
    """Holds the first create inside its transaction (the key claimed, not committed) until
    the test opens it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()
        real = vms.create_vm

        def held(*args: Any, **kwargs: Any) -> Any:
            if not self.entered.is_set():
                self.entered.set()
                assert self.open.wait(30)
            return real(*args, **kwargs)

        monkeypatch.setattr(vms, "create_vm", held)


def lock_waiters(w: World) -> int:
    """Connections waiting on a lock in an INSERT of idempotency_key."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'INSERT INTO idempotency_key%'"
    )
    with w.sessions() as session:
        return int(session.scalar(query) or 0)


Race = tuple[threading.Thread, threading.Thread, list[Any]]


def race(app: Flask, gate: Gate, headers: Headers, body: dict[str, Any]) -> Race:
    """The first request holds the key in its transaction; the second comes meanwhile."""
    answers: list[Any] = [None, None]

    def send(i: int) -> None:
        resp = app.test_client().post("/api/v1/vm/", json=body, headers=headers)
        answers[i] = resp

    first = threading.Thread(target=send, args=(0,))
    first.start()
    assert gate.entered.wait(10)
    second = threading.Thread(target=send, args=(1,))
    second.start()
    return first, second, answers


def live_vms(w: World, tenant_id: uuid.UUID) -> int:
    with w.sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(VM).where(VM.tenant_id == tenant_id))
            or 0
        )


def test_idempotency_concurrent_duplicate_waits_and_replays_one_vm(
    world: World, real_app: Callable[..., Flask], make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, admin_id = world.setup()
    app = real_app()
    gate = Gate(monkeypatch)
    headers = {**make.headers(_user(world, admin_id)), KEY: "race"}
    first, second, answers = race(app, gate, headers, vm_body(tenant_id, "raced"))
    # The second is blocked on the first's uncommitted key.
    wait_for("the second request waiting for the key", lambda: lock_waiters(world), 10, 0.05)
    gate.open.set()
    first.join(30)
    second.join(30)
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[1].get_json() == answers[0].get_json()
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert live_vms(world, tenant_id) == 1


def test_idempotency_concurrent_duplicate_past_the_lock_timeout_is_409(
    world: World, real_app: Callable[..., Flask], make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, admin_id = world.setup()
    app = real_app(db_statement_timeout_ms=500)
    gate = Gate(monkeypatch)
    headers = {**make.headers(_user(world, admin_id)), KEY: "slow"}
    first, second, answers = race(app, gate, headers, vm_body(tenant_id, "slow"))
    second.join(30)  # answered while the first still holds the key
    body = assert_error(answers[1], 409, "CONFLICT")
    assert "still being processed" in body["error"]["message"]
    gate.open.set()
    first.join(30)
    assert answers[0].status_code == 202
    assert live_vms(world, tenant_id) == 1


def _user(w: World, user_id: uuid.UUID) -> User:
    with w.sessions() as session:
        return session.get_one(User, user_id)
