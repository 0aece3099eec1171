"""The world of the authorization matrix: tenants, VMs, jobs, grants and personas built once per
module, each case in a savepoint; how each route is called. Shared by test_authz_matrix,
test_list_leakage and test_mass_assignment, which declare its four fixtures (shared, connection,
app, world: the last two override conftest's) by importing them from here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token
from redis import Redis
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from api.db import Base, utcnow
from api.models import (
    VM,
    AuditChain,
    AuditLog,
    AuditOutcome,
    ImageStatus,
    Job,
    JobEvent,
    JobKind,
    JobStatus,
    Tenant,
    User,
    VMStatus,
)
from api.services import audit, inventory, quotas, vms
from api.services.permissions import Perm, Target, assign_perm
from api.settings import Settings
from api.web.app import create_app
from tests.api.conftest import sync_prepared
from tests.conftest import PASSWORD, ROOMY_QUOTA, Factory
from tests.helpers.images import qcow2_bytes, stored_image
from tests.helpers.snapshots import ready_snapshot

Headers = dict[str, str]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class World:
    """Tenants A, B and C with VMs, jobs, grants and audit rows; personas and their tokens.

    Users beyond the personas: `member_x` (viewer of A: removed, disabled, looked up), `outsider`
    (no access: added as a member, granted to, logs in), `grantee` (vm.view on vm_a and
    quota.view on A: the grants revoked) and `auditor_a` (an audit.view grant on A).
    """

    app: Flask
    a: Tenant
    b: Tenant
    c: Tenant  # nobody's tenant but the admin's, with vm_c
    vm_a: VM  # the VM of A the `granted` persona may view
    vm_a2: VM  # another VM of A
    vm_b: VM
    vm_c: VM
    job_a: Job  # vm_a's create job, successful, with events and output
    job_a2: Job
    job_b: Job
    job_c: Job
    audit_a: int  # audit rows of tenant A, B, and of no tenant
    audit_b: int
    audit_none: int
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, Headers] = field(default_factory=dict)
    # Images by who sees them: "public" (everyone), "a" and "b" (private to A, to B).
    images: dict[str, uuid.UUID] = field(default_factory=dict)

    def h(self, persona: str) -> Headers:
        return self.headers[persona]

    def id(self, name: str) -> str:
        return str(self.users[name].id)

    def refresh_headers(self, persona: str) -> Headers:
        """The persona presenting a refresh token (for /auth/refresh/)."""
        if persona == "anonymous":
            return {}
        with self.app.app_context():
            token = create_refresh_token(identity=self.id(persona))
        return {"Authorization": f"Bearer {token}"}


def sync_inventory(session: Session, app: Flask) -> None:
    """The baremetal hosts of the test inventory, as the sweep's inventory sync makes them."""
    path = app.extensions["virtflow_settings"].inventory_path
    fingerprint = inventory.digest(path)
    sync_prepared(session, path)
    # The rows now reflect these files: the sweep does not re-sync them.
    inventory.record_synced(session, path, fingerprint)


def _vm(session: Session, creator: User, tenant: Tenant, name: str) -> tuple[VM, Job]:
    """A VM through the service (quota, placement, creator grants), then as the job left it."""
    request = vms.VMRequest(tenant.id, name, vcpus=1, ram_mb=512, disk_gb=10)
    job = vms.create_vm(session, creator, request, None, quotas.Amounts(**ROOMY_QUOTA))
    vm = session.get_one(VM, job.vm_id)
    vm.status, vm.domain_uuid = VMStatus.RUNNING, vm.id
    job.status, job.rc, job.finished_at = JobStatus.SUCCESSFUL, 0, utcnow()
    job.stdout = f"PLAY [create {name}] ok"
    for counter, event in enumerate(("playbook_on_start", "runner_on_ok"), start=1):
        session.add(
            JobEvent(
                job_id=job.id,
                counter=counter,
                event=event,
                host=None if counter == 1 else "bm-a",
                status=None if counter == 1 else "ok",
                task=None if counter == 1 else "define domain",
                created_at=utcnow(),
            )
        )
    session.flush()
    return vm, job


def _audit_row(session: Session, tenant: Tenant | None, action: str) -> int:
    entry = audit.Entry(
        action=action,
        tenant_id=tenant.id if tenant else None,
        object_type="tenant" if tenant else None,
        object_id=str(tenant.id) if tenant else None,
    )
    return audit.record(session, entry, AuditOutcome.SUCCESS, 200, None).id


def build_world(make: Factory) -> World:
    """The world: every VM running, each with a successful create job (see prepare())."""
    session = make.session
    sync_inventory(session, make.app)
    a, b, c = make.tenant("tenant-a"), make.tenant("tenant-b"), make.tenant("tenant-c")
    admin = make.user("root", is_admin=True)
    users = {"admin": admin}
    for name, tenant, role in (
        ("user_a", a, "tenant_user"),
        ("viewer_a", a, "viewer"),
        ("user_b", b, "tenant_user"),
        ("member_x", a, "viewer"),
    ):
        users[name] = make.user(name.replace("_", "-"))
        make.member(users[name], tenant, role)
    for name in ("granted", "outsider", "grantee", "auditor_a"):
        users[name] = make.user(name.replace("_", "-"))
    vm_a, job_a = _vm(session, admin, a, "vm-a")
    vm_a2, job_a2 = _vm(session, admin, a, "vm-a2")
    vm_b, job_b = _vm(session, admin, b, "vm-b")
    vm_c, job_c = _vm(session, admin, c, "vm-c")
    assign_perm(session, users["granted"].id, Perm.VM_VIEW, Target(a.id, vm_a.id), admin)
    assign_perm(session, users["grantee"].id, Perm.VM_VIEW, Target(a.id, vm_a.id), admin)
    assign_perm(session, users["grantee"].id, Perm.QUOTA_VIEW, Target(a.id), admin)
    assign_perm(session, users["auditor_a"].id, Perm.AUDIT_VIEW, Target(a.id), admin)
    session.flush()
    world = World(
        make.app,
        a,
        b,
        c,
        vm_a,
        vm_a2,
        vm_b,
        vm_c,
        job_a,
        job_a2,
        job_b,
        job_c,
        audit_a=_audit_row(session, a, "vm.create"),
        audit_b=_audit_row(session, b, "vm.create"),
        audit_none=_audit_row(session, None, "user.create"),
        users=users,
    )
    world.headers = fresh_headers(make.app, users)
    world.images = {
        "public": stored_image(session, name="image-public").id,
        "a": stored_image(session, name="image-a", tenant_id=a.id).id,
        "b": stored_image(session, name="image-b", tenant_id=b.id).id,
    }
    return world


def fresh_headers(app: Flask, users: dict[str, User]) -> dict[str, Headers]:
    """Fresh access tokens (grants, quota changes, tenant deletion and password changes need
    them), new for each case: a case that logs out revokes its token."""
    with app.app_context():
        headers = {
            name: {"Authorization": f"Bearer {create_access_token(str(u.id), fresh=True)}"}
            for name, u in users.items()
        }
    headers["anonymous"] = {}
    return headers


def prepare(db: Session, world: World, state: str) -> dict[str, object]:
    """Put the world in the state a route needs; returns path values it adds.

    "running": as built. "stopped": A's VMs are stopped (startable; A deletable).
    "queued": vm_a has a queued stop job (cancelable).
    "snapshot": vm_a has a ready snapshot (its id is the path's snapshot_id).
    "image_pending": a pending image private to A, no content yet (the path's image_id).
    "image_vm": vm_a was made from A's private image, with an SSH forward on its host.
    """
    if state == "stopped":
        db.execute(
            update(VM)
            .where(VM.id.in_([world.vm_a.id, world.vm_a2.id]))
            .values(status=VMStatus.STOPPED)
        )
    elif state == "queued":
        admin = db.get_one(User, world.users["admin"].id)
        job = vms.request_power(db, admin, world.vm_a.id, JobKind.VM_STOP, None)
        return {"job_id": job.id}
    elif state == "snapshot":
        return {"snapshot_id": ready_snapshot(db, db.get_one(VM, world.vm_a.id)).id}
    elif state == "image_pending":
        image = stored_image(db, tenant_id=world.a.id, status=ImageStatus.PENDING)
        return {"image_id": image.id}
    elif state == "image_vm":
        db.execute(
            update(VM)
            .where(VM.id == world.vm_a.id)
            .values(image_id=world.images["a"], ssh_port=22000)
        )
    elif state != "running":
        raise ValueError(state)
    db.flush()
    return {}


# --------------------------------------------------------------------------------------------
# How each route is called


@dataclass(frozen=True)
class Call:
    """A valid request to a route: the state it needs (see prepare), its body and query."""

    state: str = "running"
    body: Callable[[World], dict[str, Any]] | None = None
    query: Callable[[World], dict[str, str]] | None = None
    refresh_token: bool = False
    # A body that is not JSON: its bytes and its Content-Type (the image upload).
    raw: Callable[[World], tuple[bytes, str]] | None = None


def default_path(world: World) -> dict[str, object]:
    """Path parameters name tenant A's objects."""
    return {
        "tenant_id": world.a.id,
        "vm_id": world.vm_a.id,
        "job_id": world.job_a.id,
        "user_id": world.users["member_x"].id,
        "audit_id": world.audit_a,
        "host_id": world.vm_a.baremetal_id,
        "image_id": world.images["a"],
    }


def vm_body(world: World) -> dict[str, Any]:
    return {
        "tenant_id": str(world.a.id),
        "name": "new-vm",
        "vcpus": 1,
        "ram_mb": 512,
        "disk_gb": 10,
    }


CALLS: dict[tuple[str, str], Call] = {
    ("/api/v1/auth/login/", "POST"): Call(
        body=lambda w: {"username": w.users["outsider"].username, "password": PASSWORD}
    ),
    ("/api/v1/auth/refresh/", "POST"): Call(refresh_token=True),
    ("/api/v1/auth/password/", "PUT"): Call(
        body=lambda w: {"current_password": PASSWORD, "new_password": "a-new-long-passphrase"}
    ),
    ("/api/v1/user/", "POST"): Call(
        body=lambda w: {"username": "new-user", "password": "a-new-long-passphrase"}
    ),
    ("/api/v1/baremetal/<uuid:host_id>/dedicate/", "POST"): Call(
        body=lambda w: {"tenant_id": str(w.a.id)}
    ),
    ("/api/v1/baremetal/<uuid:host_id>/maintenance/", "POST"): Call(
        body=lambda w: {"enabled": True}
    ),
    ("/api/v1/user/<uuid:user_id>/", "PATCH"): Call(body=lambda w: {"is_active": False}),
    ("/api/v1/tenant/", "POST"): Call(body=lambda w: {"name": "tenant-new"}),
    ("/api/v1/tenant/<uuid:tenant_id>/", "PATCH"): Call(body=lambda w: {"name": "tenant-renamed"}),
    ("/api/v1/tenant/<uuid:tenant_id>/", "DELETE"): Call(state="stopped"),
    ("/api/v1/tenant/<uuid:tenant_id>/member/", "POST"): Call(
        body=lambda w: {"user_id": w.id("outsider"), "role": "viewer"}
    ),
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "POST"): Call(
        body=lambda w: {"user_id": w.id("outsider"), "permission": "quota.view"}
    ),
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "DELETE"): Call(
        query=lambda w: {"user_id": w.id("grantee"), "permission": "quota.view"}
    ),
    ("/api/v1/tenant/<uuid:tenant_id>/quota/", "PUT"): Call(body=lambda w: {"vms": 50}),
    ("/api/v1/tenant/<uuid:tenant_id>/quota/check/", "POST"): Call(
        body=lambda w: {"vcpus": 1, "ram_mb": 512, "disk_gb": 10}
    ),
    ("/api/v1/vm/", "POST"): Call(body=vm_body),
    ("/api/v1/vm/create/", "POST"): Call(body=vm_body),
    ("/api/v1/vm/<uuid:vm_id>/stop/", "POST"): Call(body=lambda w: {"force": False}),
    ("/api/v1/vm/<uuid:vm_id>/reboot/", "POST"): Call(body=lambda w: {"hard": False}),
    ("/api/v1/vm/<uuid:vm_id>/resize/", "POST"): Call(
        state="stopped", body=lambda w: {"ram_mb": 1024}
    ),
    ("/api/v1/vm/<uuid:vm_id>/start/", "POST"): Call(state="stopped", body=lambda w: {}),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/", "POST"): Call(body=lambda w: {"name": "snap-new"}),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/", "GET"): Call(state="snapshot"),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/", "DELETE"): Call(state="snapshot"),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/revert/", "POST"): Call(state="snapshot"),
    ("/api/v1/vm/<uuid:vm_id>/permission/", "POST"): Call(
        body=lambda w: {"user_id": w.id("outsider"), "permission": "vm.view"}
    ),
    ("/api/v1/vm/<uuid:vm_id>/permission/", "DELETE"): Call(
        query=lambda w: {"user_id": w.id("grantee"), "permission": "vm.view"}
    ),
    ("/api/v1/vm/<uuid:vm_id>/ssh/", "GET"): Call(state="image_vm"),
    ("/api/v1/job/<uuid:job_id>/cancel/", "POST"): Call(state="queued"),
    ("/api/v1/image/", "POST"): Call(body=lambda w: {"name": "image-new"}),
    ("/api/v1/image/<uuid:image_id>/file/", "PUT"): Call(
        state="image_pending", raw=lambda w: (qcow2_bytes(), "application/octet-stream")
    ),
}
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def url(rule: str, world: World, **values: object) -> str:
    """The rule with its path parameters filled in (A's objects unless values say otherwise)."""
    filled = default_path(world) | values
    return PARAM.sub(lambda m: str(filled[m.group(1)]), rule)


def send(
    client: FlaskClient,
    world: World,
    key: tuple[str, str],
    headers: Headers,
    path: dict[str, object] | None = None,
    *,
    call: Call | None = None,
    **overrides: Any,
) -> Any:
    """Make the request of call, CALLS[key] by default (overrides: json=, query_string=)."""
    rule, method = key
    call = call or CALLS.get(key, Call())
    kwargs: dict[str, Any] = {"method": method, "headers": headers}
    if call.body:
        kwargs["json"] = call.body(world)
    if call.query:
        kwargs["query_string"] = call.query(world)
    if call.raw:
        kwargs["data"], content_type = call.raw(world)
        kwargs["headers"] = {**headers, "Content-Type": content_type}
    kwargs.update(overrides)
    return client.open(url(rule, world, **(path or {})), **kwargs)


# --------------------------------------------------------------------------------------------
# Proving "changed nothing"


def snapshot(db: Session) -> dict[str, list[str]]:
    """Every row of every table but the audit log and its chain's head (every refusal writes
    both), as sorted text: equal means unchanged."""
    db.flush()
    db.expire_all()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.execute(select(table)))
        for table in Base.metadata.sorted_tables
        if table.name not in (AuditLog.__tablename__, AuditChain.__tablename__)
    }


def audit_rows_after(db: Session, last_id: int) -> list[AuditLog]:
    return list(db.scalars(select(AuditLog).where(AuditLog.id > last_id).order_by(AuditLog.id)))


def last_audit_id(db: Session) -> int:
    return int(db.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0)


# --------------------------------------------------------------------------------------------
# The routes of the URL map


def skipped(rule: Rule) -> bool:
    """Static files and the OpenAPI document / Swagger UI are not API routes."""
    endpoint = str(rule.endpoint)
    return endpoint == "static" or endpoint.startswith("api-docs.")


def routes_of(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not skipped(rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def _collection_app() -> Flask:
    """The app at collection time: building it, and serving its OpenAPI document, connect to
    nothing."""
    unused = "postgresql+psycopg://unused@127.0.0.1/unused"
    return create_app(Settings(database_url=unused, jwt_secret="x" * 40))


_APP = _collection_app()
URL_MAP_ROUTES = routes_of(_APP)
SPEC: dict[str, Any] = _APP.test_client().get("/api/v1/openapi.json").get_json()


# --------------------------------------------------------------------------------------------
# One world per module, each case inside a savepoint rolled back after it. The fixtures below
# override conftest's `connection` and `app`; test_list_leakage and test_mass_assignment
# declare the same four fixtures on these helpers.

Shared = tuple[Flask, Connection, World]


def open_shared(settings: Settings, engine: Engine) -> Iterator[Shared]:
    """The app and the world, built once in a transaction that is rolled back at the end."""
    application = create_app(settings)
    application.config["TESTING"] = True
    with engine.connect() as conn:
        outer = conn.begin()
        with Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            world = build_world(Factory(session, application))
            session.commit()
        yield application, conn, world
        outer.rollback()


def case_connection(shared: Shared) -> Iterator[Connection]:
    """The shared connection inside a savepoint: the case's changes (successes too) end with it."""
    conn = shared[1]
    case = conn.begin_nested()
    yield conn
    case.rollback()


def case_app(shared: Shared, sessions: sessionmaker[Session]) -> Flask:
    """The module's app on this case's sessions."""
    application = shared[0]
    application.extensions["virtflow_sessions"] = sessions
    return application


def case_world(shared: Shared) -> World:
    """The world with new tokens: a case that logged out revoked its own."""
    built = shared[2]
    built.headers = fresh_headers(built.app, built.users)
    return built


@pytest.fixture(scope="module")
def shared(settings: Settings, engine: Engine) -> Iterator[Shared]:
    yield from open_shared(settings, engine)


@pytest.fixture
def connection(shared: Shared) -> Iterator[Connection]:
    yield from case_connection(shared)


@pytest.fixture
def app(shared: Shared, sessions: sessionmaker[Session], redis: Redis) -> Flask:
    return case_app(shared, sessions)


@pytest.fixture
def world(shared: Shared) -> World:
    return case_world(shared)
