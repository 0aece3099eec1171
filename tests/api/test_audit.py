"""The API audit log over HTTP: what each mutating request writes, and who may read it."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from api.errors import PermissionDenied
from api.models import VM, AuditLog, Tenant, TenantRole, User
from api.services import audit, vms
from api.services.permissions import Perm, Target, assign_perm
from api.settings import Settings
from api.web.audit import MUTATING, declared_action, declared_success_status
from api.web.resources.vm import routes as vm_routes
from tests.api.conftest import count, create_vm, settle_running, vm_body
from tests.conftest import PASSWORD, Factory
from tests.helpers.http import assert_error, chunked

Headers = dict[str, str]
Refusal = tuple[str, int, str]  # case, status, error code
CLIENT_ADDR = "203.0.113.7"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Requests come from a documentation address, so client_addr is checked for real."""
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = CLIENT_ADDR
    return test_client


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def admin_headers(make: Factory, admin: User) -> Headers:
    return make.headers(admin)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant()


def rows_of(db: Session, resp: TestResponse) -> list[AuditLog]:
    """The audit rows of one request, oldest first."""
    db.expire_all()
    query = select(AuditLog).where(AuditLog.request_id == resp.headers["X-Request-ID"])
    return list(db.scalars(query.order_by(AuditLog.id)))


def only_row(db: Session, resp: TestResponse) -> AuditLog:
    [row] = rows_of(db, resp)
    assert row.status_code == resp.status_code
    assert row.client_addr == CLIENT_ADDR
    return row


def assert_refused(row: AuditLog, resp: TestResponse, actor: User | None) -> None:
    assert (row.outcome, row.status_code) == ("denied", resp.status_code)
    assert row.error_code == resp.get_json()["error"]["code"]
    assert row.actor_id == (actor.id if actor else None)


def member(make: Factory, tenant: Tenant, role: str) -> tuple[User, Headers]:
    user = make.user()
    make.member(user, tenant, role)
    return user, make.headers(user)


# --- POST /api/v1/tenant/ -------------------------------------------------------------------------


def test_audit_tenant_create_success_row(
    client: FlaskClient, db: Session, admin: User, admin_headers: Headers
) -> None:
    resp = client.post("/api/v1/tenant/", json={"name": "acme"}, headers=admin_headers)
    assert resp.status_code == 201
    tenant_id = resp.get_json()["data"]["id"]
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.error_code) == ("tenant.create", "success", None)
    assert (row.actor_id, row.actor_username) == (admin.id, admin.username)
    assert (str(row.tenant_id), row.object_type, row.object_id) == (tenant_id, "tenant", tenant_id)
    assert row.changes["after"] == {"name": "acme", "status": "active"}


@pytest.mark.parametrize(
    "refusal",
    [
        ("no token", 401, "AUTH_REQUIRED"),
        ("not admin", 403, "PERMISSION_DENIED"),
        ("name taken", 409, "NAME_TAKEN"),
        ("not json", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("unknown field", 422, "VALIDATION_ERROR"),
    ],
    ids=lambda refusal: refusal[0],
)
def test_audit_tenant_create_refusals_are_recorded(
    client: FlaskClient, make: Factory, admin: User, refusal: Refusal
) -> None:
    case, status, code = refusal
    db = make.session
    make.tenant("taken")
    actor: User | None = admin
    headers: Headers = make.headers(admin)
    kwargs: dict[str, Any] = {"json": {"name": "fresh"}}
    if case == "no token":
        actor, headers = None, {}
    elif case == "not admin":
        actor = make.user()
        headers = make.headers(actor)
    elif case == "name taken":
        kwargs = {"json": {"name": "taken"}}
    elif case == "not json":
        kwargs = {"data": "name=fresh", "content_type": "text/plain"}
    elif case == "unknown field":
        kwargs = {"json": {"name": "fresh", "status": "deleted"}}
    before = count(db, Tenant)
    resp = client.post("/api/v1/tenant/", headers=headers, **kwargs)
    assert_error(resp, status, code)
    assert count(db, Tenant) == before
    row = only_row(db, resp)
    assert row.action == "tenant.create"
    assert_refused(row, resp, actor)


def test_audit_success_row_and_change_commit_together(
    client: FlaskClient, db: Session, admin_headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit that carries the success row fails: neither the tenant nor that row exist."""
    real_commit = Session.commit
    failed: list[str] = []
    success_rows = select(AuditLog.action).where(AuditLog.outcome == "success")

    def failing_commit(session: Session) -> None:
        """COMMIT fails once the transaction holds the success row (flushed, not committed)."""
        pending = list(session.scalars(success_rows))
        if pending:
            failed.extend(pending)
            raise RuntimeError("the database went away during COMMIT")
        real_commit(session)

    monkeypatch.setattr(Session, "commit", failing_commit)
    resp = client.post("/api/v1/tenant/", json={"name": "doomed"}, headers=admin_headers)
    monkeypatch.undo()
    assert failed == ["tenant.create"]
    assert_error(resp, 500, "INTERNAL_ERROR")
    assert db.scalar(select(Tenant).where(Tenant.name == "doomed")) is None
    row = only_row(db, resp)  # the failure itself is recorded, in its own transaction
    assert (row.action, row.outcome, row.error_code) == (
        "tenant.create",
        "failed",
        "INTERNAL_ERROR",
    )
    # It tells what was attempted, and does not claim that anything committed.
    assert row.changes == {"before": {}, "after": {"name": "doomed", "status": "active"}}


# --- POST /api/v1/vm/ ---------------------------------------------------------------------------


def test_audit_vm_create_success_row(
    client: FlaskClient, db: Session, make: Factory, tenant: Tenant
) -> None:
    user, headers = member(make, tenant, TenantRole.TENANT_USER)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=headers)
    assert resp.status_code == 202
    data = resp.get_json()["data"]
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.actor_id) == ("vm.create", "success", user.id)
    assert (row.tenant_id, row.object_type, row.object_id) == (tenant.id, "vm", data["id"])
    assert row.changes["after"]["name"] == "web-1"
    assert row.changes["after"]["status"] == "pending"
    assert row.changes["after"]["job_id"] == data["job_id"]


@pytest.mark.parametrize(
    "refusal",
    [
        ("outsider", 404, "NOT_FOUND"),
        ("viewer", 403, "PERMISSION_DENIED"),
        ("over quota", 409, "QUOTA_EXCEEDED"),
        ("read-only field", 422, "VALIDATION_ERROR"),
        ("too large", 413, "PAYLOAD_TOO_LARGE"),
    ],
    ids=lambda refusal: refusal[0],
)
def test_audit_vm_create_refusals_are_recorded(
    client: FlaskClient, make: Factory, settings: Settings, refusal: Refusal
) -> None:
    case, status, code = refusal
    db = make.session
    tenant = make.tenant(quota={"vms": 0} if case == "over quota" else None)
    role = TenantRole.VIEWER if case == "viewer" else TenantRole.TENANT_USER
    actor, headers = member(make, make.tenant() if case == "outsider" else tenant, role)
    body = vm_body(tenant.id)
    if case == "read-only field":
        body["status"] = "running"
    elif case == "too large":
        body["padding"] = "x" * settings.max_body_bytes
    before = count(db, VM)
    resp = client.post("/api/v1/vm/", json=body, headers=headers)
    assert_error(resp, status, code)
    assert count(db, VM) == before
    row = only_row(db, resp)
    assert row.action == "vm.create"
    assert_refused(row, resp, actor)


def test_audit_refusal_row_stays_although_the_change_rolled_back(
    client: FlaskClient,
    db: Session,
    admin_headers: Headers,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The VM and its job are flushed, then the request is refused: they go, the row stays."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise PermissionDenied("refused after the VM row was written")

    monkeypatch.setattr(vms, "assign_perm", refuse)
    before = count(db, VM)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=admin_headers)
    assert_error(resp, 403, "PERMISSION_DENIED")
    assert count(db, VM) == before
    row = only_row(db, resp)
    assert (row.action, row.outcome) == ("vm.create", "denied")


# --- DELETE /api/v1/vm/{id}/ --------------------------------------------------------------------


def test_audit_vm_delete_success_row(
    client: FlaskClient, db: Session, make: Factory, tenant: Tenant
) -> None:
    user, headers = member(make, tenant, TenantRole.TENANT_USER)
    vm = settle_running(make.session, create_vm(client, headers, tenant.id))
    resp = client.delete(f"/api/v1/vm/{vm['id']}/", headers=headers)
    assert resp.status_code == 202
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.actor_id) == ("vm.delete", "success", user.id)
    assert (row.tenant_id, row.object_type, row.object_id) == (tenant.id, "vm", vm["id"])
    assert row.changes["after"]["status"] == "deleting"


@pytest.mark.parametrize(
    "refusal",
    [
        ("no token", 401, "AUTH_REQUIRED"),
        ("outsider", 404, "NOT_FOUND"),
        ("viewer", 403, "PERMISSION_DENIED"),
        ("already deleting", 409, "INVALID_STATE"),
    ],
    ids=lambda refusal: refusal[0],
)
def test_audit_vm_delete_refusals_are_recorded(
    client: FlaskClient, make: Factory, admin: User, tenant: Tenant, refusal: Refusal
) -> None:
    case, status, code = refusal
    db, admin_headers = make.session, make.headers(admin)
    vm = settle_running(db, create_vm(client, admin_headers, tenant.id))
    actor: User | None = admin
    headers = admin_headers
    if case == "no token":
        actor, headers = None, {}
    elif case == "outsider":
        actor, headers = member(make, make.tenant(), TenantRole.TENANT_USER)
    elif case == "viewer":
        actor, headers = member(make, tenant, TenantRole.VIEWER)
    else:
        assert client.delete(f"/api/v1/vm/{vm['id']}/", headers=admin_headers).status_code == 202
    resp = client.delete(f"/api/v1/vm/{vm['id']}/", headers=headers)
    assert_error(resp, status, code)
    row = only_row(db, resp)
    assert (row.action, row.object_type, row.object_id) == ("vm.delete", "vm", vm["id"])
    assert_refused(row, resp, actor)
    # Refused before the view named it, the VM's tenant is looked up: its log shows the attempt.
    assert row.tenant_id == tenant.id


def test_audit_answer_after_commit_is_recorded_too(
    client: FlaskClient, make: Factory, admin_headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete commits (success row), then the database goes away before the answer is
    made: the 503 gets a row of its own."""
    db, tenant = make.session, make.tenant()
    vm = settle_running(db, create_vm(client, admin_headers, tenant.id))

    def gone(_vm_id: object) -> None:
        raise OperationalError("SELECT vm", {}, Exception("server closed the connection"))

    monkeypatch.setattr(vm_routes, "_reloaded", gone)
    resp = client.delete(f"/api/v1/vm/{vm['id']}/", headers=admin_headers)
    assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
    committed, answered = rows_of(db, resp)
    assert (committed.outcome, committed.status_code) == ("success", 202)
    assert committed.changes["after"]["status"] == "deleting"
    assert (answered.outcome, answered.status_code) == ("failed", 503)
    assert answered.error_code == "DEPENDENCY_UNAVAILABLE"
    assert answered.changes == {"details": {"committed_status": 202}}


# --- POST /api/v1/auth/login/ -------------------------------------------------------------------


def no_secret_in(row: AuditLog) -> None:
    text = json.dumps(row.changes)
    assert PASSWORD not in text and "password" not in text and "$argon2" not in text


def test_audit_login_success_row(client: FlaskClient, db: Session, make: Factory) -> None:
    user = make.user("alice")
    resp = client.post("/api/v1/auth/login/", json={"username": "alice", "password": PASSWORD})
    assert resp.status_code == 200
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.actor_id) == ("auth.login", "success", user.id)
    assert (row.object_type, row.object_id, row.tenant_id) == ("user", str(user.id), None)
    assert row.changes == {"details": {"attempted_username": "alice"}}
    no_secret_in(row)


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_audit_login_failure_row_keeps_username_not_password(
    client: FlaskClient, db: Session, make: Factory, username: str
) -> None:
    make.user("alice")
    resp = client.post(
        "/api/v1/auth/login/", json={"username": username, "password": PASSWORD + "!"}
    )
    assert_error(resp, 401, "INVALID_CREDENTIALS")
    row = only_row(db, resp)
    assert row.action == "auth.login"
    assert_refused(row, resp, None)
    assert (row.object_type, row.object_id) == ("user", None)
    assert row.changes == {"details": {"attempted_username": username}}
    no_secret_in(row)


# --- routing refusals and the after_request writer ----------------------------------------------


@pytest.mark.parametrize(
    "request_line",
    [
        ("post", "/api/v1/nothing-here/", 404, "unrouted.post"),
        ("put", "/api/v1/tenant/", 405, "unrouted.put"),
    ],
)
def test_audit_unrouted_mutating_requests_are_recorded(
    client: FlaskClient,
    db: Session,
    admin_headers: Headers,
    request_line: tuple[str, str, int, str],
) -> None:
    method, path, status, action = request_line
    resp = getattr(client, method)(path, json={}, headers=admin_headers)
    assert resp.status_code == status
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.actor_id) == (action, "denied", None)
    assert row.changes == {"details": {"path": path}}


def test_audit_nul_in_an_unrouted_path_is_recorded_escaped(
    client: FlaskClient, db: Session, admin_headers: Headers
) -> None:
    resp = client.post("/api/v1/nowhere%00x/", json={}, headers=admin_headers)
    assert_error(resp, 404, "NOT_FOUND")
    row = only_row(db, resp)
    assert (row.action, row.outcome, row.error_code) == ("unrouted.post", "denied", "NOT_FOUND")
    assert row.changes == {"details": {"path": "/api/v1/nowhere\\u0000x/"}}


@pytest.mark.parametrize(
    "raw",
    [
        '{"username": "a\\u0000b", "password": "whatever-it-is"}',
        '{"username": "\\ud800", "password": "whatever-it-is"}',
        "[" * 30_000 + "]" * 30_000,
    ],
)
def test_audit_hostile_login_bodies_are_recorded(
    client: FlaskClient, db: Session, raw: str
) -> None:
    resp = client.post("/api/v1/auth/login/", data=raw, content_type="application/json")
    assert resp.status_code in (400, 422)
    row = only_row(db, resp)
    assert row.action == "auth.login"
    assert_refused(row, resp, None)


def test_audit_chunked_body_refusals_are_recorded(
    client: FlaskClient, db: Session, make: Factory, settings: Settings
) -> None:
    tenant = make.tenant()
    admin = make.user(is_admin=True)
    fresh = make.headers(admin, fresh=True)
    resp = chunked(client, "DELETE", f"/api/v1/tenant/{tenant.id}/", b'{"a": 1}', fresh)
    assert_error(resp, 422, "VALIDATION_ERROR")
    row = only_row(db, resp)
    assert (row.action, row.object_type, row.tenant_id) == ("tenant.delete", "tenant", tenant.id)
    assert_refused(row, resp, admin)
    too_big = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'
    resp = chunked(client, "POST", "/api/v1/tenant/", too_big, fresh)
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert_refused(only_row(db, resp), resp, admin)


def test_audit_reads_are_not_recorded(
    client: FlaskClient, db: Session, admin_headers: Headers
) -> None:
    resp = client.get("/api/v1/tenant/", headers=admin_headers)
    assert resp.status_code == 200
    assert rows_of(db, resp) == []


@pytest.mark.parametrize("path", ["/api/v1/tenant/", "/api/v1/nothing-here/"])
def test_audit_write_failure_after_request_still_answers(
    client: FlaskClient,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("audit table unreachable")

    monkeypatch.setattr(audit, "record", broken)
    with caplog.at_level(logging.ERROR, logger="api.web.audit"):
        resp = client.post(path, json={"name": "acme"})
    assert resp.status_code in (401, 404)
    assert resp.get_json()["status"] == "error"
    assert rows_of(db, resp) == []
    assert "could not record the audit row of POST" in caplog.text


def test_audit_declared_success_status_reads_the_documented_2xx(app: Flask) -> None:
    expected = {
        ("POST", "/api/v1/tenant/"): 201,
        ("POST", "/api/v1/vm/"): 202,
        ("DELETE", f"/api/v1/vm/{uuid.uuid4()}/"): 202,
        ("POST", "/api/v1/auth/login/"): 200,
    }
    for (method, path), status in expected.items():
        with app.test_request_context(path, method=method):
            assert declared_success_status() == status, (method, path)


def test_audit_every_mutating_route_declares_its_action(app: Flask) -> None:
    """A new POST/PUT/PATCH/DELETE view without @audited("...") fails here."""
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) & MUTATING):
            func = getattr(view_class, method.lower(), None) if view_class else view
            if not declared_action(func):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "views without @audited: " + ", ".join(missing)


def test_audit_declared_actions_are_dotted_names(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in (rule.methods or set()) & MUTATING:
            action = declared_action(getattr(view_class, method.lower(), None))
            if action:
                assert len(action) <= 64 and action.count(".") >= 1, (rule.rule, action)


# --- GET /api/v1/audit/ -------------------------------------------------------------------------


@pytest.fixture
def logged(client: FlaskClient, make: Factory, admin_headers: Headers) -> dict[str, Any]:
    """Two tenants with one VM each, created through the API, and a refused anonymous write."""
    a, b = make.tenant(), make.tenant()
    vm_a = create_vm(client, admin_headers, a.id, "in-a")
    vm_b = create_vm(client, admin_headers, b.id, "in-b")
    anonymous = client.post("/api/v1/tenant/", json={"name": "x"})
    return {"a": a, "b": b, "vm_a": vm_a["id"], "vm_b": vm_b["id"], "anonymous": anonymous}


def listed(client: FlaskClient, headers: Headers, query: str = "") -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/audit/?per_page=200&{query}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    data: list[dict[str, Any]] = resp.get_json()["data"]
    return data


def objects(entries: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(e["action"], e["object_id"]) for e in entries}


def test_audit_list_admin_sees_every_tenant_and_tenantless_rows(
    client: FlaskClient, admin_headers: Headers, logged: dict[str, Any]
) -> None:
    seen = listed(client, admin_headers)
    assert {("vm.create", logged["vm_a"]), ("vm.create", logged["vm_b"])} <= objects(seen)
    rid = logged["anonymous"].headers["X-Request-ID"]
    [anonymous] = listed(client, admin_headers, f"request_id={rid}")
    assert (anonymous["tenant_id"], anonymous["outcome"], anonymous["status_code"]) == (
        None,
        "denied",
        401,
    )


@pytest.mark.parametrize("perm", [Perm.AUDIT_VIEW, Perm.TENANT_ADMIN])
def test_audit_list_grant_holder_sees_only_its_tenant(
    client: FlaskClient, db: Session, make: Factory, logged: dict[str, Any], perm: Perm
) -> None:
    holder = make.user()
    assign_perm(db, holder.id, perm, Target(logged["a"].id), granted_by=None)
    headers = make.headers(holder)
    assert objects(listed(client, headers)) == {("vm.create", logged["vm_a"])}
    assert listed(client, headers, f"tenant_id={logged['b'].id}") == []
    assert listed(client, headers, f"object_id={logged['vm_b']}") == []


@pytest.mark.parametrize("role", [TenantRole.TENANT_USER, TenantRole.VIEWER])
def test_audit_list_members_without_audit_view_get_an_empty_list(
    client: FlaskClient, make: Factory, logged: dict[str, Any], role: str
) -> None:
    _, headers = member(make, logged["a"], role)
    assert listed(client, headers) == []
    assert listed(client, headers, f"tenant_id={logged['a'].id}") == []


def test_audit_list_needs_a_token(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/audit/"), 401, "AUTH_REQUIRED")


def test_audit_list_filters(
    client: FlaskClient, admin: User, admin_headers: Headers, logged: dict[str, Any]
) -> None:
    vm_a = logged["vm_a"]
    by_object = listed(client, admin_headers, f"object_type=vm&object_id={vm_a}")
    assert objects(by_object) == {("vm.create", vm_a)}
    mine = listed(client, admin_headers, f"actor_id={admin.id}&action=vm.create&outcome=success")
    assert objects(mine) == {("vm.create", vm_a), ("vm.create", logged["vm_b"])}
    in_b = listed(client, admin_headers, f"tenant_id={logged['b'].id}")
    assert objects(in_b) == {("vm.create", logged["vm_b"])}
    [newest] = listed(client, admin_headers, f"tenant_id={logged['a'].id}")
    at = newest["created_at"].replace("+", "%2B")
    assert len(listed(client, admin_headers, f"tenant_id={logged['a'].id}&since={at}")) == 1
    assert listed(client, admin_headers, f"tenant_id={logged['a'].id}&until={at}") == []


def test_audit_list_is_paged(
    client: FlaskClient, admin: User, admin_headers: Headers, logged: dict[str, Any]
) -> None:
    resp = client.get(
        f"/api/v1/audit/?actor_id={admin.id}&per_page=1&page=2", headers=admin_headers
    )
    body = resp.get_json()
    assert body["meta"]["pagination"] == {
        "page": 2,
        "per_page": 1,
        "total": 2,
        "pages": 2,
        "next": None,
    }
    assert objects(body["data"]) == {("vm.create", logged["vm_a"])}  # newest first


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since"),
        ("since=yesterday", "since"),
        ("outcome=maybe", "outcome"),
        ("actor_id=not-a-uuid", "actor_id"),
        ("action=" + "a" * 65, "action"),
    ],
)
def test_audit_list_bad_filters_are_422(
    client: FlaskClient, admin_headers: Headers, query: str, field: str
) -> None:
    resp = client.get(f"/api/v1/audit/?{query}", headers=admin_headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert field in body["error"]["details"]["fields"]["query"]


# --- GET /api/v1/audit/{id}/ --------------------------------------------------------------------


def test_audit_get_one_with_the_list_visibility(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers, logged: dict[str, Any]
) -> None:
    [in_a] = listed(client, admin_headers, f"object_id={logged['vm_a']}")
    [in_b] = listed(client, admin_headers, f"object_id={logged['vm_b']}")
    holder = make.user()
    assign_perm(db, holder.id, Perm.AUDIT_VIEW, Target(logged["a"].id), granted_by=None)
    headers = make.headers(holder)
    resp = client.get(f"/api/v1/audit/{in_a['id']}/", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json()["data"] == in_a
    assert_error(client.get(f"/api/v1/audit/{in_b['id']}/", headers=headers), 404, "NOT_FOUND")
    _, member_headers = member(make, logged["a"], TenantRole.TENANT_USER)
    assert_error(
        client.get(f"/api/v1/audit/{in_a['id']}/", headers=member_headers), 404, "NOT_FOUND"
    )
    assert_error(client.get(f"/api/v1/audit/{2**62}/", headers=admin_headers), 404, "NOT_FOUND")
