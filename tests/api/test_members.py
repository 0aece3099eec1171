"""Tenant members through the API (the personas are in tests/helpers/personas.py)."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AuditLog, Membership, ObjectPermission, Tenant
from api.services.permissions import Perm, Target, assign_perm
from tests.api.conftest import count, create_vm
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas

Headers = dict[str, str]


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


def member_url(tenant: Tenant, user_id: object = None) -> str:
    base = f"/api/v1/tenant/{tenant.id}/member/"
    return f"{base}{user_id}/" if user_id else base


def memberships(db: Session, tenant: Tenant) -> list[tuple[uuid.UUID, str]]:
    db.expire_all()
    query = select(Membership.user_id, Membership.role).where(Membership.tenant_id == tenant.id)
    return sorted((row[0], row[1]) for row in db.execute(query))


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("user_a", 200), ("viewer_a", 200), ("user_b", 404), ("granted", 404)],
)
def test_members_list_for_whoever_can_view_the_tenant(
    client: FlaskClient, cast: Personas, persona: str, status: int
) -> None:
    resp = client.get(member_url(cast.a), headers=cast.h(persona))
    assert resp.status_code == status, resp.get_json()
    if status == 200:
        listed = {(m["username"], m["role"]) for m in resp.get_json()["data"]}
        assert listed == {("user-a", "tenant_user"), ("viewer-a", "viewer")}
        assert resp.get_json()["meta"]["pagination"]["total"] == 2


def test_members_admin_adds_and_removes(client: FlaskClient, cast: Personas, db: Session) -> None:
    new = cast.users["nobody"]
    resp = client.post(
        member_url(cast.a), json={"user_id": str(new.id), "role": "viewer"}, headers=cast.h("admin")
    )
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    assert (data["user_id"], data["username"], data["role"]) == (str(new.id), "nobody", "viewer")
    assert (new.id, "viewer") in memberships(db, cast.a)
    # Now a viewer of A: it sees the tenant.
    assert client.get(f"/api/v1/tenant/{cast.a.id}/", headers=cast.h("nobody")).status_code == 200
    resp = client.delete(member_url(cast.a, new.id), headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["role"] == "viewer"
    assert (new.id, "viewer") not in memberships(db, cast.a)
    assert_error(
        client.get(f"/api/v1/tenant/{cast.a.id}/", headers=cast.h("nobody")), 404, "NOT_FOUND"
    )


def test_members_tenant_admin_grant_holder_manages_members(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    assign_perm(db, cast.users["viewer_a"].id, Perm.TENANT_ADMIN, Target(cast.a.id), None)
    body = {"user_id": cast.id("nobody"), "role": "tenant_user"}
    resp = client.post(member_url(cast.a), json=body, headers=cast.h("viewer_a"))
    assert resp.status_code == 201, resp.get_json()
    resp = client.delete(member_url(cast.a, cast.id("user_a")), headers=cast.h("viewer_a"))
    assert resp.status_code == 200, resp.get_json()
    assert memberships(db, cast.a) == sorted(
        [(cast.users["viewer_a"].id, "viewer"), (cast.users["nobody"].id, "tenant_user")]
    )


DENIED = {"user_a": 403, "viewer_a": 403, "user_b": 404, "granted": 404, "nobody": 404}
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


@pytest.mark.parametrize("persona", sorted(DENIED))
def test_members_changes_need_tenant_admin(
    client: FlaskClient, cast: Personas, db: Session, persona: str
) -> None:
    status = DENIED[persona]
    code = CODE[status]
    before = memberships(db, cast.a)
    body = {"user_id": cast.id("nobody"), "role": "tenant_user"}
    assert_error(client.post(member_url(cast.a), json=body, headers=cast.h(persona)), status, code)
    resp = client.delete(member_url(cast.a, cast.id("viewer_a")), headers=cast.h(persona))
    assert_error(resp, status, code)
    assert memberships(db, cast.a) == before


def test_members_duplicate_is_409(client: FlaskClient, cast: Personas, db: Session) -> None:
    before = memberships(db, cast.a)
    body = {"user_id": cast.id("viewer_a"), "role": "tenant_user"}
    resp = client.post(member_url(cast.a), json=body, headers=cast.h("admin"))
    details = assert_error(resp, 409, "ALREADY_EXISTS")["error"]["details"]
    assert details == {"field": "user_id", "role": "viewer"}
    assert memberships(db, cast.a) == before


def test_members_unknown_user_is_404_on_user_id(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    before = count(db, Membership)
    body = {"user_id": str(uuid.uuid4()), "role": "viewer"}
    resp = client.post(member_url(cast.a), json=body, headers=cast.h("admin"))
    assert assert_error(resp, 404, "NOT_FOUND")["error"]["details"] == {"field": "user_id"}
    assert count(db, Membership) == before


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "x", "role": "viewer"},
        {"role": "viewer"},
        {"user_id": None, "role": "viewer"},
        {"user_id": "ME"},
        {"user_id": "ME", "role": "admin"},
        {"user_id": "ME", "role": "tenant_admin"},
        {"user_id": "ME", "role": "viewer", "is_admin": True},
        {"user_id": "ME", "role": "viewer", "tenant_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_members_bad_body_is_422(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, object]
) -> None:
    body = {k: cast.id("nobody") if v == "ME" else v for k, v in body.items()}
    before = count(db, Membership)
    resp = client.post(member_url(cast.a), json=body, headers=cast.h("admin"))
    assert_error(resp, 422, "VALIDATION_ERROR")
    assert count(db, Membership) == before


def test_members_remove_unknown_member_is_404(client: FlaskClient, cast: Personas) -> None:
    resp = client.delete(member_url(cast.a, cast.id("user_b")), headers=cast.h("admin"))
    assert_error(resp, 404, "NOT_FOUND")


def test_members_removal_drops_the_users_grants_in_that_tenant(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    # user_a creates a VM (creator grants) in A and holds a grant on a VM of B too.
    vm = create_vm(client, cast.h("user_a"), cast.a.id, "mine")
    assign_perm(db, cast.users["user_a"].id, Perm.VM_VIEW, Target(cast.b.id, cast.vm_b), None)
    resp = client.delete(member_url(cast.a, cast.id("user_a")), headers=cast.h("admin"))
    assert resp.get_json()["data"]["grants_dropped"] == 3
    db.expire_all()
    left = db.scalars(
        select(ObjectPermission.object_id).where(
            ObjectPermission.user_id == cast.users["user_a"].id
        )
    ).all()
    assert left == [cast.vm_b]
    assert_error(client.get(f"/api/v1/vm/{vm['id']}/", headers=cast.h("user_a")), 404, "NOT_FOUND")


def grant_on(client: FlaskClient, url: str, headers: Headers, user_id: object, perm: str) -> None:
    resp = client.post(url, json={"user_id": str(user_id), "permission": perm}, headers=headers)
    assert resp.status_code == 201, resp.get_json()


def test_members_removal_takes_the_grants_delegated_from_the_member(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    """user_a gave nobody vm.view by its role (tenant_user): the grant goes when user_a does."""
    vm_grants = f"/api/v1/vm/{cast.vm_a}/permission/"
    grant_on(client, vm_grants, cast.h("user_a"), cast.id("nobody"), "vm.view")
    resp = client.delete(member_url(cast.a, cast.id("user_a")), headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["delegated_grants_revoked"] == 1
    assert_error(client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("nobody")), 404, "NOT_FOUND")
    # The admin's own grant to `granted` did not come from user_a: it stays.
    assert client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("granted")).status_code == 200


def test_members_delegated_tenant_admin_cannot_remove_its_origin(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    grants = f"/api/v1/tenant/{cast.a.id}/permission/"
    viewer = cast.users["viewer_a"]
    bob = make.user("bob")
    bob_headers = make.headers(bob, fresh=True)
    grant_on(client, grants, cast.h("admin"), viewer.id, "tenant.admin")
    grant_on(client, grants, cast.h("viewer_a"), bob.id, "tenant.admin")
    before = memberships(db, cast.a)
    resp = client.delete(member_url(cast.a, viewer.id), headers=bob_headers)
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"rule": "own_access"}
    assert memberships(db, cast.a) == before
    # Other members are still bob's to remove.
    resp = client.delete(member_url(cast.a, cast.id("user_a")), headers=bob_headers)
    assert resp.status_code == 200, resp.get_json()


def test_members_last_tenant_admin_leaves_only_by_a_platform_admin(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    grants = f"/api/v1/tenant/{cast.a.id}/permission/"
    viewer = cast.users["viewer_a"]
    grant_on(client, grants, cast.h("admin"), viewer.id, "tenant.admin")
    resp = client.delete(member_url(cast.a, viewer.id), headers=cast.h("viewer_a"))
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"rule": "last_tenant_admin"}
    assert (viewer.id, "viewer") in memberships(db, cast.a)
    resp = client.delete(member_url(cast.a, viewer.id), headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["grants_dropped"] == 1


def test_members_of_a_deleted_tenant_cannot_be_added(
    client: FlaskClient, cast: Personas, make: Factory
) -> None:
    gone = make.tenant(status="deleted")
    body = {"user_id": cast.id("nobody"), "role": "viewer"}
    resp = client.post(member_url(gone), json=body, headers=cast.h("admin"))
    assert_error(resp, 409, "INVALID_STATE")


def test_members_changes_are_audited(client: FlaskClient, cast: Personas, db: Session) -> None:
    body = {"user_id": cast.id("nobody"), "role": "viewer"}
    client.post(member_url(cast.a), json=body, headers=cast.h("admin"))
    client.post(member_url(cast.a), json=body, headers=cast.h("user_b"))
    db.expire_all()
    rows = db.scalars(
        select(AuditLog).where(AuditLog.action == "member.add").order_by(AuditLog.id)
    ).all()
    assert [(r.outcome, r.status_code) for r in rows] == [("success", 201), ("denied", 404)]
    assert rows[0].tenant_id == cast.a.id and rows[0].object_id == cast.id("nobody")
    assert rows[0].changes["after"] == {"user_id": cast.id("nobody"), "role": "viewer"}


def test_vm_persona_sees_only_its_granted_vm(client: FlaskClient, cast: Personas) -> None:
    listed = client.get("/api/v1/vm/", headers=cast.h("granted")).get_json()["data"]
    assert [v["id"] for v in listed] == [str(cast.vm_a)]
    assert client.get("/api/v1/tenant/", headers=cast.h("granted")).get_json()["data"] == []
    assert count_vms(client, cast.h("nobody")) == 0


def count_vms(client: FlaskClient, headers: Headers) -> int:
    return len(client.get("/api/v1/vm/", headers=headers).get_json()["data"])


@pytest.mark.parametrize("persona", ["user_a", "viewer_a", "granted", "nobody"])
def test_lists_with_tampered_filters_show_nothing_of_other_tenants(
    client: FlaskClient, cast: Personas, persona: str
) -> None:
    headers = cast.h(persona)
    for url in (
        f"/api/v1/vm/?tenant_id={cast.b.id}",
        f"/api/v1/job/?tenant_id={cast.b.id}",
        f"/api/v1/job/?vm_id={cast.vm_b}",
        "/api/v1/tenant/?name=tenant-b",
    ):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200, (url, resp.get_json())
        assert resp.get_json()["data"] == [], url
    for url in (
        f"/api/v1/tenant/{cast.b.id}/member/",
        f"/api/v1/tenant/{cast.b.id}/permission/",
        f"/api/v1/vm/{cast.vm_b}/permission/",
        f"/api/v1/tenant/{cast.b.id}/quota/",
    ):
        assert_error(client.get(url, headers=headers), 404, "NOT_FOUND")


def test_lists_with_filters_show_own_tenant_rows(client: FlaskClient, cast: Personas) -> None:
    for persona in ("user_b", "admin"):
        resp = client.get(f"/api/v1/vm/?tenant_id={cast.b.id}", headers=cast.h(persona))
        assert [v["id"] for v in resp.get_json()["data"]] == [str(cast.vm_b)]
        jobs = client.get(f"/api/v1/job/?vm_id={cast.vm_b}", headers=cast.h(persona))
        assert [j["vm_id"] for j in jobs.get_json()["data"]] == [str(cast.vm_b)]
