"""API test helpers: an admin, tenants with members, a cheap inventory read, a fake worker, and
dependencies that are down."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db import utcnow
from api.models import VM, Baremetal, HostState, Job, JobStatus, VMStatus
from api.queue import JobQueue
from api.services import inventory
from api.settings import Settings
from api.web.app import create_app
from jobs import base, execution
from tests.conftest import PASSWORD, Factory
from tests.helpers.openapi import responses_checked
from tests.helpers.runner_fakes import FakeRunner

# Nothing listens on port 1: connecting is refused at once.
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"

_INVENTORY_CACHE: dict[Path, dict[str, Any]] = {}


@pytest.fixture(autouse=True)
def cached_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-inventory runs once per inventory and session, not once per request."""
    real = inventory.read_inventory

    def read(path: Path) -> dict[str, Any]:
        if path not in _INVENTORY_CACHE:
            _INVENTORY_CACHE[path] = real(path)
        return _INVENTORY_CACHE[path]

    monkeypatch.setattr(inventory, "read_inventory", read)


def sync_prepared(session: Session, path: Path) -> None:
    """The hosts of the inventory at path as the sweep's sync and a host.prepare job leave
    them: in the database and `active`. Requests never sync the inventory themselves."""
    inventory.sync(session, inventory.baremetal_hosts(inventory.read_inventory(path)))
    session.execute(update(Baremetal).values(state=HostState.ACTIVE, prepared_at=utcnow()))
    session.flush()


@pytest.fixture(autouse=True)
def responses_match_the_spec() -> Iterator[None]:
    """Every answer a test here gets from a documented operation is one the OpenAPI document
    lists: its status, its body's schema, and for an error its code."""
    with responses_checked() as found:
        yield
    assert found == [], "\n".join(found)


@pytest.fixture(autouse=True)
def inventory_hosts(db: Session, settings: Settings, cached_inventory: None) -> None:
    """The test inventory's hosts (bm-a, bm-b), synced and prepared."""
    sync_prepared(db, settings.inventory_path)


@pytest.fixture
def admin_headers(make: Factory) -> dict[str, str]:
    return make.headers(make.user(is_admin=True))


def count(db: Session, model: type[Any]) -> int:
    db.flush()
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def counts(db: Session) -> tuple[int, int]:
    """VM and job rows, to prove a refused request changed nothing."""
    return count(db, VM), count(db, Job)


def vm_body(tenant_id: object, name: str = "web-1", **sizes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": str(tenant_id),
        "name": name,
        "vcpus": 1,
        "ram_mb": 512,
        "disk_gb": 10,
    }
    body.update(sizes)
    return body


def create_vm(
    client: FlaskClient, headers: dict[str, str], tenant_id: object, name: str = "web-1", **kw: Any
) -> dict[str, Any]:
    """POST a VM that must be accepted; returns its data."""
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, name, **kw), headers=headers)
    assert resp.status_code == 202, resp.get_json()
    data: dict[str, Any] = resp.get_json()["data"]
    return data


def settle_running(db: Session, vm: dict[str, Any]) -> dict[str, Any]:
    """The VM as after its create job succeeded (a delete then queues a job; before, the VM,
    its create never run, would be deleted at once)."""
    db.get_one(Job, uuid.UUID(vm["job_id"])).status = JobStatus.SUCCESSFUL
    db.get_one(VM, uuid.UUID(vm["id"])).status = VMStatus.RUNNING
    db.flush()
    return vm


def fake_worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    """Job functions run here, on the test's sessions, with a fake ansible-runner."""
    monkeypatch.setattr(base, "sessions", lambda: sessions)
    monkeypatch.setattr(base, "settings", lambda: settings)
    fake = FakeRunner()
    monkeypatch.setattr(execution, "run_playbook", fake)
    return fake


@pytest.fixture
def queue_unreachable(app: Flask, settings: Settings) -> None:
    """The app's job queue points at a Redis that refuses connections (the rest of the app,
    the login limiter included, keeps the shared Redis)."""
    down = dataclasses.replace(settings, redis_url=CLOSED_REDIS_URL)
    app.extensions["virtflow_queue"] = JobQueue(down)


@pytest.fixture
def hung_redis_url() -> Iterator[str]:
    """A redis:// URL of a server that accepts connections and never answers, like a paused
    (SIGSTOP) Redis: the kernel completes the handshake, nobody reads."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def login(  # type: ignore[no-untyped-def]
    client: FlaskClient, username: str, password: str = PASSWORD, addr: str = "127.0.0.1"
):
    return client.post(
        "/api/v1/auth/login/",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def build_app(
    settings: Settings, sessions: sessionmaker[Session], redis: Redis, **overrides: Any
) -> Iterator[Flask]:
    """An app whose login limiter counts under a key prefix of its own (the Redis is shared
    by every test and every test run); its counters are removed afterwards."""
    prefix = f"virtflow-test-limit-{uuid.uuid4().hex}"
    application = create_app(dataclasses.replace(settings, rate_limit_prefix=prefix, **overrides))
    application.extensions["virtflow_sessions"] = sessions
    application.config["TESTING"] = True
    yield application
    for key in redis.scan_iter(f"*{prefix}*"):
        redis.delete(key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
