"""Dedicated hosts through the API: only the tenant's VMs land there; admins alone decide."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AuditLog, Baremetal
from tests.api.conftest import vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error

Headers = dict[str, str]


def _host(db: Session, name: str) -> Baremetal:
    return db.scalars(select(Baremetal).where(Baremetal.name == name)).one()


def test_baremetal_dedicate_sends_only_that_tenants_vms_there(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers
) -> None:
    owner, other = make.tenant(), make.tenant()
    roomy = _host(db, "bm-b")  # 8192 MiB: where every VM would go by default
    resp = client.post(
        f"/api/v1/baremetal/{roomy.id}/dedicate/",
        json={"tenant_id": str(owner.id)},
        headers=admin_headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["dedicated_tenant_id"] == str(owner.id)
    mine = client.post("/api/v1/vm/", json=vm_body(owner.id, "mine"), headers=admin_headers)
    theirs = client.post("/api/v1/vm/", json=vm_body(other.id, "theirs"), headers=admin_headers)
    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert mine.get_json()["data"]["baremetal"] == "bm-b"
    assert theirs.get_json()["data"]["baremetal"] == "bm-a"
    row = db.scalars(
        select(AuditLog).where(AuditLog.action == "baremetal.dedicate").order_by(AuditLog.id)
    ).all()[-1]
    assert row.changes["after"] == {"dedicated_tenant_id": str(owner.id)}


def test_baremetal_dedicate_to_null_shares_the_host_again(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers
) -> None:
    host = _host(db, "bm-b")
    host.dedicated_tenant_id = make.tenant().id
    db.flush()
    resp = client.post(
        f"/api/v1/baremetal/{host.id}/dedicate/", json={"tenant_id": None}, headers=admin_headers
    )
    assert resp.status_code == 200 and resp.get_json()["data"]["dedicated_tenant_id"] is None


def test_baremetal_dedicate_refuses_unknown_tenants_and_non_admins(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers
) -> None:
    host = _host(db, "bm-b")
    unknown = {"tenant_id": "00000000-0000-4000-8000-000000000000"}
    resp = client.post(
        f"/api/v1/baremetal/{host.id}/dedicate/", json=unknown, headers=admin_headers
    )
    assert_error(resp, 422, "VALIDATION_ERROR")
    tenant = make.tenant()
    user = make.user()
    make.member(user, tenant, "tenant_user")
    resp = client.post(
        f"/api/v1/baremetal/{host.id}/dedicate/",
        json={"tenant_id": str(tenant.id)},
        headers=make.headers(user),
    )
    assert_error(resp, 403, "PERMISSION_DENIED")
    db.expire_all()
    assert _host(db, "bm-b").dedicated_tenant_id is None
