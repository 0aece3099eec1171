"""Quotas through the API: showing, changing, checking, enforcing, and usage across tenants."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AuditLog, Quota, Tenant
from tests.api.conftest import counts, create_vm, vm_body
from tests.conftest import ROOMY_QUOTA, Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
RESOURCES = {"vcpus", "ram_mb", "disk_gb", "vms", "snapshots"}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


def quota_url(tenant: Tenant | uuid.UUID) -> str:
    tenant_id = tenant.id if isinstance(tenant, Tenant) else tenant
    return f"/api/v1/tenant/{tenant_id}/quota/"


def limits_of(db: Session, tenant: Tenant) -> dict[str, int]:
    db.flush()
    db.expire_all()
    quota = db.get_one(Quota, tenant.id)
    return {name: getattr(quota, name) for name in RESOURCES}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("user_a", 200),
        ("viewer_a", 200),
        ("user_b", 404),
        ("granted", 404),
        ("nobody", 404),
    ],
)
def test_quota_show_for_quota_view_holders(
    client: FlaskClient, cast: Personas, persona: str, status: int
) -> None:
    resp = client.get(quota_url(cast.a), headers=cast.h(persona))
    assert resp.status_code == status, resp.get_json()
    if status != 200:
        return
    data = resp.get_json()["data"]
    assert data["tenant_id"] == str(cast.a.id)
    assert set(data["resources"]) == RESOURCES
    # vm-a of tenant A is pending: it counts as used.
    assert data["resources"]["vcpus"] == {
        "limit": ROOMY_QUOTA["vcpus"],
        "used": 1,
        "available": ROOMY_QUOTA["vcpus"] - 1,
    }
    assert data["resources"]["ram_mb"]["used"] == 512
    assert data["resources"]["vms"]["used"] == 1
    assert data["resources"]["snapshots"]["used"] == 0


def test_quota_admin_sets_some_limits(client: FlaskClient, cast: Personas, db: Session) -> None:
    resp = client.put(quota_url(cast.a), json={"vms": 2, "vcpus": 4}, headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    resources = resp.get_json()["data"]["resources"]
    assert resources["vms"] == {"limit": 2, "used": 1, "available": 1}
    assert resources["vcpus"] == {"limit": 4, "used": 1, "available": 3}
    assert limits_of(db, cast.a) == {**ROOMY_QUOTA, "vms": 2, "vcpus": 4}
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "quota.change")).all()
    assert (row.outcome, row.object_type, row.tenant_id) == ("success", "quota", cast.a.id)
    assert row.changes == {
        "before": {"vms": ROOMY_QUOTA["vms"], "vcpus": ROOMY_QUOTA["vcpus"]},
        "after": {"vms": 2, "vcpus": 4},
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [("user_a", 403), ("viewer_a", 403), ("user_b", 404), ("granted", 404), ("nobody", 404)],
)
def test_quota_change_is_for_platform_admins(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    before = limits_of(db, cast.a)
    resp = client.put(quota_url(cast.a), json={"vms": 1000}, headers=cast.h(persona))
    assert_error(resp, status, CODE[status])
    assert limits_of(db, cast.a) == before


def test_quota_change_by_a_tenant_admin_is_403(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    """tenant.admin implies every tenant-scoped permission, and quota.change is not one."""
    resp = client.post(
        f"/api/v1/tenant/{cast.a.id}/permission/",
        json={"user_id": cast.id("user_a"), "permission": "tenant.admin"},
        headers=cast.h("admin"),
    )
    assert resp.status_code == 201
    before = limits_of(db, cast.a)
    resp = client.put(quota_url(cast.a), json={"vms": 1000}, headers=cast.h("user_a"))
    assert_error(resp, 403, "PERMISSION_DENIED")
    assert limits_of(db, cast.a) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"vms": -1},
        {"vcpus": 1.5},
        {"vcpus": "4"},
        {"gpus": 4},
        {"vms": 3, "used": 0},
        {"vms": 3, "usage": {}},
        {"vms": 3, "tenant_id": "x"},
        {"vms": None},
    ],
)
def test_quota_bad_limits_are_422(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, Any]
) -> None:
    before = limits_of(db, cast.a)
    resp = client.put(quota_url(cast.a), json=body, headers=cast.h("admin"))
    assert_error(resp, 422, "VALIDATION_ERROR")
    assert limits_of(db, cast.a) == before


def test_quota_change_needs_a_fresh_token(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    before = limits_of(db, cast.a)
    stale = make.headers(cast.users["admin"])
    resp = client.put(quota_url(cast.a), json={"vms": 1}, headers=stale)
    assert_error(resp, 401, "FRESH_TOKEN_REQUIRED")
    assert limits_of(db, cast.a) == before


def test_quota_vm_create_over_limit_is_409_with_details(
    client: FlaskClient, make: Factory, admin_headers: Headers, db: Session
) -> None:
    tenant = make.tenant(quota={"vcpus": 2})
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id, vcpus=3), headers=admin_headers)
    details = assert_error(resp, 409, "QUOTA_EXCEEDED")["error"]["details"]
    assert {k: details[k] for k in ("resource", "requested", "used", "limit")} == {
        "resource": "vcpus",
        "requested": 3,
        "used": 0,
        "limit": 2,
    }
    assert counts(db) == before


def test_quota_lowered_below_usage_keeps_vms_and_refuses_new(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    create_vm(client, cast.h("user_a"), cast.a.id, "second")
    resp = client.put(quota_url(cast.a), json={"vms": 1}, headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["resources"]["vms"] == {"limit": 1, "used": 2, "available": 0}
    listed = client.get(f"/api/v1/vm/?tenant_id={cast.a.id}", headers=cast.h("user_a"))
    assert {v["name"] for v in listed.get_json()["data"]} == {"vm-a", "second"}
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(cast.a.id, "third"), headers=cast.h("user_a"))
    details = assert_error(resp, 409, "QUOTA_EXCEEDED")["error"]["details"]
    assert (details["resource"], details["requested"], details["used"], details["limit"]) == (
        "vms",
        1,
        2,
        1,
    )
    assert counts(db) == before


def check(
    client: FlaskClient, tenant: Tenant, headers: Headers, **body: Any
) -> tuple[int, dict[str, Any]]:
    resp = client.post(f"/api/v1/tenant/{tenant.id}/quota/check/", json=body, headers=headers)
    return resp.status_code, resp.get_json()


def test_quota_check_answers_without_creating(
    client: FlaskClient, make: Factory, cast: Personas, db: Session
) -> None:
    tenant = make.tenant(quota={"vcpus": 4, "vms": 2})
    make.member(cast.users["viewer_a"], tenant, "viewer")
    headers = cast.h("viewer_a")
    before = counts(db)
    status, body = check(client, tenant, headers, vcpus=4, ram_mb=512, disk_gb=10)
    assert (status, body["data"]) == (200, {"fits": True, "exceeded": []})
    status, body = check(client, tenant, headers, vcpus=5, ram_mb=512, disk_gb=10, vms=3)
    assert body["data"] == {
        "fits": False,
        "exceeded": [
            {"resource": "vcpus", "requested": 5, "used": 0, "limit": 4},
            {"resource": "vms", "requested": 3, "used": 0, "limit": 2},
        ],
    }
    assert counts(db) == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("user_a", 200), ("viewer_a", 200), ("user_b", 404), ("granted", 404)],
)
def test_quota_check_for_quota_view_holders(
    client: FlaskClient, cast: Personas, persona: str, status: int
) -> None:
    code, body = check(client, cast.a, cast.h(persona), vcpus=1, ram_mb=64, disk_gb=1)
    assert code == status, body
    if status == 200:
        assert body["data"]["fits"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"vcpus": 1, "ram_mb": 64},
        {"vcpus": -1, "ram_mb": 64, "disk_gb": 1},
        {"vcpus": 1, "ram_mb": 64, "disk_gb": 1, "name": "x"},
        {"vcpus": 1, "ram_mb": 64, "disk_gb": 1, "tenant_id": "x"},
    ],
)
def test_quota_check_bad_body_is_422(
    client: FlaskClient, cast: Personas, body: dict[str, Any]
) -> None:
    code, answer = check(client, cast.a, cast.h("admin"), **body)
    assert (code, answer["error"]["code"]) == (422, "VALIDATION_ERROR")


def test_usage_admin_sees_every_tenant(client: FlaskClient, cast: Personas, make: Factory) -> None:
    make.tenant("idle", quota={"vms": 3})
    resp = client.get("/api/v1/usage/?per_page=200", headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    rows = {row["tenant_name"]: row for row in resp.get_json()["data"]}
    assert {"tenant-a", "tenant-b", "idle"} <= set(rows)
    assert rows["tenant-a"]["resources"]["vms"]["used"] == 1
    assert rows["tenant-a"]["tenant_status"] == "active"
    assert rows["idle"]["resources"]["vms"] == {"limit": 3, "used": 0, "available": 3}


def test_usage_filters_and_pages(client: FlaskClient, cast: Personas) -> None:
    resp = client.get(f"/api/v1/usage/?tenant_id={cast.b.id}", headers=cast.h("admin"))
    [row] = resp.get_json()["data"]
    assert (row["tenant_id"], row["resources"]["vcpus"]["used"]) == (str(cast.b.id), 1)
    resp = client.get("/api/v1/usage/?per_page=1&page=2", headers=cast.h("admin"))
    body = resp.get_json()
    assert len(body["data"]) == 1
    assert body["meta"]["pagination"]["per_page"] == 1
    assert body["meta"]["pagination"]["total"] >= 2


@pytest.mark.parametrize("persona", ["user_a", "viewer_a", "user_b", "granted", "nobody"])
def test_usage_is_for_platform_admins(client: FlaskClient, cast: Personas, persona: str) -> None:
    for url in ("/api/v1/usage/", f"/api/v1/usage/?tenant_id={cast.a.id}"):
        assert_error(client.get(url, headers=cast.h(persona)), 403, "PERMISSION_DENIED")


def test_usage_tenant_without_quota_row_shows_defaults(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    bare = Tenant(name="bare")
    db.add(bare)
    db.flush()
    resp = client.get(f"/api/v1/usage/?tenant_id={bare.id}", headers=cast.h("admin"))
    [row] = resp.get_json()["data"]
    assert row["resources"]["vms"] == {
        "limit": ROOMY_QUOTA["vms"],
        "used": 0,
        "available": ROOMY_QUOTA["vms"],
    }
