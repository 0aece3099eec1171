"""The authorization matrix: every route of the app's URL map, every persona, one declared answer.

The cases are generated from the URL map (static files, the OpenAPI/Swagger routes, HEAD and
OPTIONS left out) together with MATRIX, the one table of expectations: a route the URL map has
and MATRIX does not declare fails, and so does a declaration for a route that no longer exists.

The world is built once (services and factories, no HTTP): tenants A and B, VMs and jobs in
both, and the personas - anonymous, a platform admin, the tenant_user and the viewer of A, the
tenant_user of B, and a user whose only access is a vm.view grant on one VM of A. Each case runs
in a savepoint rolled back after it, so every case starts from that same world whatever the
case before it changed. Path parameters name A's objects, so B's tenant_user probes another
tenant: that must answer 404. Every refused request must leave every table as it was (the audit
log only gains the refusal's own row, outcome `denied`); every mutating route gets a valid body,
so a permitted persona succeeds and the matrix observes the permission decision, not validation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from api.models import (
    VM,
    AuditOutcome,
    VMStatus,
)

# The world and its four fixtures (shared, connection, app, world) live in tests/helpers.
from tests.helpers.authz_world import (  # noqa: F401
    CALLS,
    MUTATING,
    URL_MAP_ROUTES,
    Call,
    World,
    app,
    audit_rows_after,
    connection,
    last_audit_id,
    prepare,
    routes_of,
    send,
    shared,
    snapshot,
    world,
)

Headers = dict[str, str]

PERSONAS = ("anonymous", "admin", "user_a", "viewer_a", "user_b", "granted")
CODE = {401: "AUTH_REQUIRED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
# Mutating routes whose success changes no table (a refresh keeps its session's row as it is;
# a check reserves nothing).
CHANGE_NO_ROW = frozenset(
    {
        ("/api/v1/auth/refresh/", "POST"),
        ("/api/v1/tenant/<uuid:tenant_id>/quota/check/", "POST"),
    }
)


def answers(*statuses: int) -> dict[str, int]:
    """One row of MATRIX: the statuses in PERSONAS order."""
    return dict(zip(PERSONAS, statuses, strict=True))


# (rule, method) -> persona -> HTTP status. THE table: every route of the URL map needs a row.
# Columns: anonymous, admin, user_a (tenant_user of A), viewer_a, user_b (tenant_user of B),
# granted (vm.view on vm_a only). Path parameters name A's objects (see default_path).
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("/api/v1/health/", "GET"): answers(200, 200, 200, 200, 200, 200),
    ("/api/v1/auth/login/", "POST"): answers(200, 200, 200, 200, 200, 200),
    ("/api/v1/auth/refresh/", "POST"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/auth/logout/", "POST"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/auth/password/", "PUT"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/auth/me/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/user/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/user/", "POST"): answers(401, 201, 403, 403, 403, 403),
    ("/api/v1/user/<uuid:user_id>/", "GET"): answers(401, 200, 404, 404, 404, 404),
    ("/api/v1/user/<uuid:user_id>/", "PATCH"): answers(401, 200, 404, 404, 404, 404),
    ("/api/v1/tenant/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/tenant/", "POST"): answers(401, 201, 403, 403, 403, 403),
    ("/api/v1/tenant/<uuid:tenant_id>/", "GET"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/", "PATCH"): answers(401, 200, 403, 403, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/", "DELETE"): answers(401, 202, 403, 403, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/member/", "GET"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/member/", "POST"): answers(401, 201, 403, 403, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/member/<uuid:user_id>/", "DELETE"): answers(
        401, 200, 403, 403, 404, 404
    ),
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "GET"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "POST"): answers(401, 201, 403, 403, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "DELETE"): answers(
        401, 200, 403, 403, 404, 404
    ),
    ("/api/v1/tenant/<uuid:tenant_id>/quota/", "GET"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/quota/", "PUT"): answers(401, 200, 403, 403, 404, 404),
    ("/api/v1/tenant/<uuid:tenant_id>/quota/check/", "POST"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/usage/", "GET"): answers(401, 200, 403, 403, 403, 403),
    ("/api/v1/vm/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/vm/", "POST"): answers(401, 202, 202, 403, 404, 404),
    ("/api/v1/vm/create/", "POST"): answers(401, 202, 202, 403, 404, 404),
    ("/api/v1/vm/<uuid:vm_id>/", "GET"): answers(401, 200, 200, 200, 404, 200),
    # vm_a made from an image (Call state "image_vm"); the route is a read: vm.view.
    ("/api/v1/vm/<uuid:vm_id>/ssh/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/vm/<uuid:vm_id>/", "DELETE"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/stop/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/reboot/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/resize/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/start/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/refresh/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/", "POST"): answers(401, 202, 202, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/", "GET"): answers(
        401, 200, 200, 200, 404, 200
    ),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/", "DELETE"): answers(
        401, 202, 202, 403, 404, 403
    ),
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/revert/", "POST"): answers(
        401, 202, 202, 403, 404, 403
    ),
    ("/api/v1/vm/<uuid:vm_id>/permission/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/vm/<uuid:vm_id>/action/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/vm/<uuid:vm_id>/permission/", "POST"): answers(401, 201, 201, 403, 404, 403),
    ("/api/v1/vm/<uuid:vm_id>/permission/", "DELETE"): answers(401, 200, 200, 403, 404, 403),
    ("/api/v1/job/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/job/<uuid:job_id>/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/job/<uuid:job_id>/stdout/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/job/<uuid:job_id>/events/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/job/<uuid:job_id>/events/stream/", "GET"): answers(401, 200, 200, 200, 404, 200),
    ("/api/v1/job/<uuid:job_id>/cancel/", "POST"): answers(401, 200, 200, 403, 404, 403),
    ("/api/v1/baremetal/", "GET"): answers(401, 200, 403, 403, 403, 403),
    ("/api/v1/baremetal/sync/", "POST"): answers(401, 200, 403, 403, 403, 403),
    ("/api/v1/baremetal/<uuid:host_id>/", "GET"): answers(401, 200, 403, 403, 403, 403),
    ("/api/v1/baremetal/<uuid:host_id>/prepare/", "POST"): answers(401, 202, 403, 403, 403, 403),
    ("/api/v1/baremetal/<uuid:host_id>/dedicate/", "POST"): answers(401, 200, 403, 403, 403, 403),
    ("/api/v1/baremetal/<uuid:host_id>/maintenance/", "POST"): answers(
        401, 200, 403, 403, 403, 403
    ),
    # Images: everyone reads public ones; image_id is private to A (404 outside A's members);
    # only platform admins register, upload and delete.
    ("/api/v1/image/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/image/", "POST"): answers(401, 201, 403, 403, 403, 403),
    ("/api/v1/image/<uuid:image_id>/", "GET"): answers(401, 200, 200, 200, 404, 404),
    ("/api/v1/image/<uuid:image_id>/", "DELETE"): answers(401, 200, 403, 403, 404, 404),
    ("/api/v1/image/<uuid:image_id>/file/", "PUT"): answers(401, 200, 403, 403, 404, 404),
    ("/api/v1/audit/", "GET"): answers(401, 200, 200, 200, 200, 200),
    ("/api/v1/audit/<int:audit_id>/", "GET"): answers(401, 200, 404, 404, 404, 404),
    # Off unless VIRTFLOW_METRICS_TOKEN is set, and then only for that token, never a JWT
    # (tests/api/test_metrics.py): no persona reads it.
    ("/metrics", "GET"): answers(404, 404, 404, 404, 404, 404),
}


# --------------------------------------------------------------------------------------------
# The world


# Routes whose query selects another action, with other rules: (rule, method, variant) -> the
# row of answers and the call. Platform admins alone force-delete; the VM's viewers get 403.
VARIANTS: dict[tuple[str, str, str], tuple[dict[str, int], Call]] = {
    ("/api/v1/vm/<uuid:vm_id>/", "DELETE", "force"): (
        answers(401, 200, 403, 403, 404, 403),
        Call(query=lambda w: {"force": "true"}),
    ),
}


def cases() -> Iterator[Any]:
    for rule, method in sorted(URL_MAP_ROUTES | MATRIX.keys()):
        for persona in PERSONAS:
            yield pytest.param((rule, method), persona, id=f"{method} {rule} {persona}")


# --------------------------------------------------------------------------------------------
# Tests


def test_authz_matrix_declares_exactly_the_url_map(app: Flask) -> None:
    routes = routes_of(app)
    assert routes, "the URL map has no API routes"
    assert sorted(routes - MATRIX.keys()) == [], "routes without a declared expectation"
    assert sorted(MATRIX.keys() - routes) == [], "expectations for routes that do not exist"
    assert all(set(row) == set(PERSONAS) for row in MATRIX.values())
    assert sorted(CALLS.keys() - MATRIX.keys()) == [], "calls for undeclared routes"
    assert all(key[:2] in MATRIX for key in VARIANTS), "variants of undeclared routes"
    # Each mutating route is exercised with a success somewhere: its body is valid.
    for key, row in MATRIX.items():
        if key[1] in MUTATING:
            assert any(200 <= status < 300 for status in row.values()), key


@pytest.mark.parametrize(("key", "persona"), list(cases()))
def test_authz_matrix(
    client: FlaskClient, world: World, db: Session, key: tuple[str, str], persona: str
) -> None:
    assert key in URL_MAP_ROUTES, f"{key} is declared in MATRIX but not in the URL map"
    assert key in MATRIX, f"{key} is in the URL map without a declared expectation in MATRIX"
    expected, call = MATRIX[key][persona], CALLS.get(key, Call())
    check_case(client, world, db, key, persona, expected=expected, call=call)


@pytest.mark.parametrize(
    ("variant", "persona"),
    [(v, p) for v in sorted(VARIANTS) for p in PERSONAS],
    ids=[f"{m} {r}?{name} {p}" for r, m, name in sorted(VARIANTS) for p in PERSONAS],
)
def test_authz_matrix_variants(
    client: FlaskClient, world: World, db: Session, variant: tuple[str, str, str], persona: str
) -> None:
    row, call = VARIANTS[variant]
    check_case(client, world, db, variant[:2], persona, expected=row[persona], call=call)


def check_case(
    client: FlaskClient,
    world: World,
    db: Session,
    key: tuple[str, str],
    persona: str,
    *,
    expected: int,
    call: Call,
) -> None:
    """Send call as persona: the answer is expected, a refusal changes nothing and leaves one
    denied audit row, a success on a mutating route one success row."""
    path = prepare(db, world, call.state)
    headers = world.refresh_headers(persona) if call.refresh_token else world.h(persona)
    before, last = snapshot(db), last_audit_id(db)

    resp = send(client, world, key, headers, path, call=call)

    body = resp.get_json()
    assert resp.status_code == expected, body
    written = audit_rows_after(db, last)
    mutating = key[1] in MUTATING
    if expected >= 400:
        assert body["error"]["code"] == CODE[expected], body
        assert snapshot(db) == before, "a refused request changed a table"
        if mutating:
            [row] = written
            assert (row.outcome, row.status_code) == (AuditOutcome.DENIED, expected)
        else:
            assert written == []
    elif resp.mimetype == "text/event-stream":  # job_a has ended: its events, then `end`
        assert "event: end" in resp.get_data(as_text=True)
    else:
        assert body["status"] == "success"
        if mutating:
            [row] = written
            assert (row.outcome, row.status_code) == (AuditOutcome.SUCCESS, expected)
            # The snapshot sees changes: what proves refusals changed nothing can fail.
            assert (snapshot(db) == before) == (key in CHANGE_NO_ROW)


def test_authz_single_vm_grant_sees_that_vm_and_its_jobs_only(
    client: FlaskClient, world: World, db: Session
) -> None:
    h = world.h("granted")
    assert client.get(f"/api/v1/vm/{world.vm_a.id}/", headers=h).status_code == 200
    resp = client.get("/api/v1/job/", query_string={"vm_id": str(world.vm_a.id)}, headers=h)
    assert [j["id"] for j in resp.get_json()["data"]] == [str(world.job_a.id)]
    for path in ("", "stdout/", "events/"):
        assert client.get(f"/api/v1/job/{world.job_a.id}/{path}", headers=h).status_code == 200
    # Nothing else of A: not its other VM, nor that VM's job, nor the tenant.
    for path in (
        f"/api/v1/vm/{world.vm_a2.id}/",
        f"/api/v1/job/{world.job_a2.id}/",
        f"/api/v1/tenant/{world.a.id}/",
    ):
        resp = client.get(path, headers=h)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (404, "NOT_FOUND"), path
    before = snapshot(db)
    resp = client.delete(f"/api/v1/vm/{world.vm_a.id}/", headers=h)
    assert resp.status_code == 403, resp.get_json()
    assert resp.get_json()["error"]["details"] == {"permission": "vm.delete"}
    assert client.delete(f"/api/v1/vm/{world.vm_a2.id}/", headers=h).status_code == 404
    assert snapshot(db) == before
    assert db.get_one(VM, world.vm_a.id).status == VMStatus.RUNNING


@pytest.mark.parametrize("persona", ["user_b", "granted"])
def test_authz_cross_tenant_ids_answer_like_missing_ones(
    client: FlaskClient, world: World, persona: str
) -> None:
    """A's objects and ids that exist nowhere answer the same: no existence leak."""
    h = world.h(persona)
    for rule in ("/api/v1/tenant/{}/", "/api/v1/tenant/{}/quota/", "/api/v1/tenant/{}/member/"):
        real = client.get(rule.format(world.a.id), headers=h)
        missing = client.get(rule.format(uuid.uuid4()), headers=h)
        assert real.status_code == missing.status_code == 404
        assert real.get_json()["error"] == missing.get_json()["error"]
