"""API test helpers: an admin, tenants with members, and a cheap inventory read."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import VM, Job
from api.services import inventory
from api.services.users import hash_password
from api.settings import Settings
from tests import conftest
from tests.conftest import Factory

_INVENTORY_CACHE: dict[Path, dict[str, Any]] = {}


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture(autouse=True)
def fast_password_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory hashes the shared test password once per session, not once per test."""
    monkeypatch.setattr(conftest, "hash_password", _password_hash)


@pytest.fixture(autouse=True)
def cached_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-inventory runs once per inventory and session, not once per request."""
    real = inventory.read_inventory

    def read(path: Path) -> dict[str, Any]:
        if path not in _INVENTORY_CACHE:
            _INVENTORY_CACHE[path] = real(path)
        return _INVENTORY_CACHE[path]

    monkeypatch.setattr(inventory, "read_inventory", read)


@pytest.fixture(autouse=True)
def rq_jobs_removed(redis: Redis, settings: Settings) -> Iterator[None]:
    """Remove the RQ job hashes this test enqueued (the shared fixture only drops the queue)."""
    yield
    queue = Queue(settings.queue_name, connection=redis)
    for job_id in queue.job_ids:
        redis.delete(f"rq:job:{job_id}")
    redis.srem("rq:queues", queue.key)


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
