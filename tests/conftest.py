"""Shared fixtures: a migrated test database, a savepoint per test, the app, factories.

Tests talk to the real PostgreSQL and Redis of the machine. Each test runs inside one outer
transaction that is rolled back at the end (pypi/warehouse's pattern); code under test that
commits only releases a savepoint. Databases are migrated by their owner (the superuser of
ADMIN_URL) and the app reaches them as the application's role, which owns nothing, exactly as
`virtflow db upgrade` sets it up.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from redis import Redis
from rq import Queue
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.db import utcnow
from api.db_roles import upgrade
from api.models import Baremetal, HostState, Membership, Quota, Tenant, User
from api.services.users import hash_password
from api.settings import REPO_ROOT, Settings
from api.web.app import create_app

ADMIN_URL = os.environ.get(
    "VIRTFLOW_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# One database per test run, so concurrent runs (a developer's and CI's) never collide.
TEST_DB = os.environ.get("VIRTFLOW_TEST_DB", f"virtflow_test_{uuid.uuid4().hex[:8]}")
# The application's role: cluster-wide, shared by every test database (grants are per database).
APP_ROLE = os.environ.get("VIRTFLOW_TEST_APP_ROLE", "virtflow_app")
PASSWORD = "correct-horse-battery-staple"
# Quota for tenants made by tests that are not about quotas: never the limiting factor.
ROOMY_QUOTA = {
    "vcpus": 10_000,
    "ram_mb": 100_000_000,
    "disk_gb": 10_000_000,
    "vms": 10_000,
    "snapshots": 10_000,
}


@cache
def password_hash() -> str:
    """argon2 is slow on purpose: hash the shared test password once per session."""
    return hash_password(PASSWORD)


def recreate_database(name: str) -> str:
    """Drop and create a database; returns its SQLAlchemy URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return (
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
    )


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_url(owner_url: str) -> str:
    """The same database, reached as the application's role."""
    url = make_url(owner_url).set(username=APP_ROLE, password=None)
    return url.render_as_string(hide_password=False)


def migrate(owner_url: str) -> str:
    """Migrate as the owner and grant the application's role, as `virtflow db upgrade` does;
    returns the URL the application connects with."""
    url = app_url(owner_url)
    upgrade(owner_url, url)
    return url


@pytest.fixture(scope="session")
def owner_url() -> Iterator[str]:
    """The test database as its owner: for what only the owner may do (tampering, DDL)."""
    url = recreate_database(TEST_DB)
    yield url
    drop_database(TEST_DB)


@pytest.fixture(scope="session")
def database_url(owner_url: str) -> str:
    """The migrated test database as the application's role: what the app and the tests use."""
    return migrate(owner_url)


@pytest.fixture(scope="session")
def settings(
    database_url: str, owner_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        run_dir=tmp_path_factory.mktemp("runs"),
        database_url=database_url,
        migrate_database_url=owner_url,
        queue_name=f"virtflow-test-{uuid.uuid4().hex[:8]}",
        jwt_secret="test-secret-" + "x" * 40,
        jwt_access_minutes=5,
        quota_defaults=ROOMY_QUOTA,
        inventory_path=REPO_ROOT / "tests" / "fixtures" / "inventory",
        image_store=tmp_path_factory.mktemp("images"),
    )


@pytest.fixture(scope="session")
def engine(database_url: str):  # type: ignore[no-untyped-def]
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine) -> Iterator[Connection]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def redis(settings: Settings) -> Iterator[Redis]:
    conn = Redis.from_url(settings.redis_url)
    yield conn
    queue = Queue(settings.queue_name, connection=conn)
    for job_id in queue.job_ids:
        conn.delete(f"rq:job:{job_id}")
    for key in conn.scan_iter(f"rq:*{settings.queue_name}*"):
        conn.delete(key)
    conn.srem("rq:queues", queue.key)


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session], redis: Redis) -> Flask:
    """The API on the test's savepoint sessions; `redis` cleans up whatever it enqueues."""
    application = create_app(settings)
    application.extensions["virtflow_sessions"] = sessions
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Factory:
    """Rows for tests, flushed so they get ids; the outer transaction rolls them back."""

    def __init__(self, session: Session, app: Flask) -> None:
        self.session = session
        self.app = app
        self._password_hash = password_hash()

    def user(self, username: str | None = None, *, is_admin: bool = False, **kw: Any) -> User:
        user = User(
            username=username or f"user-{uuid.uuid4().hex[:8]}",
            password_hash=self._password_hash,
            is_admin=is_admin,
            **kw,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def tenant(
        self, name: str | None = None, *, quota: dict[str, int] | None = None, **kw: Any
    ) -> Tenant:
        """A tenant with a roomy quota unless the test gives one (quota tests set their own)."""
        tenant = Tenant(name=name or f"t-{uuid.uuid4().hex[:8]}", **kw)
        self.session.add(tenant)
        self.session.flush()
        self.session.add(Quota(tenant_id=tenant.id, **{**ROOMY_QUOTA, **(quota or {})}))
        self.session.flush()
        return tenant

    def member(self, user: User, tenant: Tenant, role: str) -> Membership:
        membership = Membership(user_id=user.id, tenant_id=tenant.id, role=role)
        self.session.add(membership)
        self.session.flush()
        return membership

    def baremetal(self, name: str = "localhost", **kw: Any) -> Baremetal:
        values: dict[str, Any] = {
            "libvirt_uri": "qemu:///system",
            "capacity_vcpus": 16,
            "capacity_ram_mb": 16384,
            "capacity_disk_gb": 200,
            "synced_at": utcnow(),
            "state": HostState.ACTIVE,
            "prepared_at": utcnow(),
        }
        values.update(kw)
        host = Baremetal(name=name, **values)
        self.session.add(host)
        self.session.flush()
        return host

    def headers(self, user: User, **claims: Any) -> dict[str, str]:
        with self.app.app_context():
            token = create_access_token(identity=str(user.id), **claims)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make(db: Session, app: Flask) -> Factory:
    return Factory(db, app)
