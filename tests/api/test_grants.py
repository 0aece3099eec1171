"""Object grants through the API: who may list, grant and revoke, and grants dying with objects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import VM, AuditLog, Job, JobStatus, ObjectPermission, VMStatus
from api.services.permissions import Perm, Target, assign_perm
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import count, create_vm, fake_worker
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner, success_events

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def vm_url(cast: Personas) -> str:
    return f"/api/v1/vm/{cast.vm_a}/permission/"


def tenant_url(cast: Personas) -> str:
    return f"/api/v1/tenant/{cast.a.id}/permission/"


def grant(user_id: object, permission: str) -> dict[str, str]:
    return {"user_id": str(user_id), "permission": permission}


def held(db: Session, user_id: uuid.UUID) -> set[tuple[str, uuid.UUID]]:
    db.flush()
    db.expire_all()
    query = select(ObjectPermission.permission, ObjectPermission.object_id).where(
        ObjectPermission.user_id == user_id
    )
    return {(row[0], row[1]) for row in db.execute(query)}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("user_a", 200),
        ("viewer_a", 200),
        ("granted", 200),
        ("user_b", 404),
        ("nobody", 404),
    ],
)
def test_grants_list_on_vm_for_whoever_can_view_it(
    client: FlaskClient, cast: Personas, persona: str, status: int
) -> None:
    resp = client.get(vm_url(cast), headers=cast.h(persona))
    assert resp.status_code == status, resp.get_json()
    if status == 200:
        listed = {(g["user_id"], g["permission"]) for g in resp.get_json()["data"]}
        admin = cast.id("admin")
        assert listed == {
            (admin, "vm.view"),
            (admin, "vm.change"),
            (admin, "vm.delete"),
            (cast.id("granted"), "vm.view"),
        }


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("user_a", 200), ("viewer_a", 200), ("granted", 404), ("user_b", 404)],
)
def test_grants_list_on_tenant_for_whoever_can_view_it(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    assign_perm(db, cast.users["user_a"].id, Perm.TENANT_ADMIN, Target(cast.a.id), None)
    resp = client.get(tenant_url(cast), headers=cast.h(persona))
    assert resp.status_code == status, resp.get_json()
    if status == 200:
        [only] = resp.get_json()["data"]
        assert (only["user_id"], only["permission"]) == (cast.id("user_a"), "tenant.admin")
        assert (only["object_type"], only["object_id"]) == ("tenant", str(cast.a.id))


@pytest.mark.parametrize("persona", ["admin", "user_a"])
def test_grants_vm_grant_gives_access_to_that_vm_only(
    client: FlaskClient, cast: Personas, db: Session, persona: str
) -> None:
    nobody = cast.users["nobody"]
    resp = client.post(vm_url(cast), json=grant(nobody.id, "vm.view"), headers=cast.h(persona))
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    assert (data["object_type"], data["object_id"], data["tenant_id"]) == (
        "vm",
        str(cast.vm_a),
        str(cast.a.id),
    )
    assert data["granted_by_id"] == cast.id(persona)
    assert held(db, nobody.id) == {("vm.view", cast.vm_a)}
    listed = client.get("/api/v1/vm/", headers=cast.h("nobody")).get_json()["data"]
    assert [v["id"] for v in listed] == [str(cast.vm_a)]
    # View only: the tenant, its other VMs and every change stay out of reach.
    assert_error(
        client.delete(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("nobody")),
        403,
        "PERMISSION_DENIED",
    )
    assert_error(
        client.get(f"/api/v1/tenant/{cast.a.id}/", headers=cast.h("nobody")), 404, "NOT_FOUND"
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [("viewer_a", 403), ("granted", 403), ("user_b", 404), ("nobody", 404)],
)
def test_grants_on_vm_need_vm_change(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    before = count(db, ObjectPermission)
    body = grant(cast.id("nobody"), "vm.view")
    assert_error(
        client.post(vm_url(cast), json=body, headers=cast.h(persona)), status, CODE[status]
    )
    query = {"user_id": cast.id("granted"), "permission": "vm.view"}
    resp = client.delete(vm_url(cast), query_string=query, headers=cast.h(persona))
    assert_error(resp, status, CODE[status])
    assert count(db, ObjectPermission) == before


def test_grants_only_what_the_granter_holds(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    """A holder of vm.change (and vm.view) on one VM may pass those on, not vm.delete."""
    granter = cast.users["granted"]
    assign_perm(db, granter.id, Perm.VM_CHANGE, Target(cast.a.id, cast.vm_a), None)
    nobody = cast.id("nobody")
    ok = client.post(vm_url(cast), json=grant(nobody, "vm.change"), headers=cast.h("granted"))
    assert ok.status_code == 201, ok.get_json()
    refused = client.post(vm_url(cast), json=grant(nobody, "vm.delete"), headers=cast.h("granted"))
    body = assert_error(refused, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"permission": "vm.delete"}
    assert held(db, cast.users["nobody"].id) == {("vm.change", cast.vm_a)}


def test_grants_tenant_admin_holder_grants_on_the_tenant(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    user_a = cast.users["user_a"]
    body = grant(user_a.id, "tenant.admin")
    assert_error(
        client.post(tenant_url(cast), json=body, headers=cast.h("user_a")), 403, "PERMISSION_DENIED"
    )
    resp = client.post(tenant_url(cast), json=body, headers=cast.h("admin"))
    assert resp.status_code == 201, resp.get_json()
    # Now tenant.admin: it may grant any tenant-scoped permission it holds through it.
    resp = client.post(
        tenant_url(cast), json=grant(cast.id("nobody"), "audit.view"), headers=cast.h("user_a")
    )
    assert resp.status_code == 201, resp.get_json()
    assert held(db, cast.users["nobody"].id) == {("audit.view", cast.a.id)}


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        (vm_url, "tenant.admin"),
        (vm_url, "job.view"),
        (vm_url, "vm.fly"),
        (vm_url, ""),
        (tenant_url, "quota.change"),
        (tenant_url, "baremetal.view"),
        (tenant_url, "VM.VIEW"),
    ],
)
def test_grants_permission_must_be_grantable_there(
    client: FlaskClient, cast: Personas, db: Session, url: Any, permission: str
) -> None:
    before = count(db, ObjectPermission)
    resp = client.post(
        url(cast), json=grant(cast.id("nobody"), permission), headers=cast.h("admin")
    )
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == ["permission"]
    assert count(db, ObjectPermission) == before


@pytest.mark.parametrize(
    "body",
    [
        {"permission": "vm.view"},
        {"user_id": "not-a-uuid", "permission": "vm.view"},
        {"user_id": "ME", "permission": "vm.view", "object_id": "x"},
        {"user_id": "ME", "permission": "vm.view", "tenant_id": "x"},
    ],
)
def test_grants_bad_body_is_422(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, str]
) -> None:
    body = {k: cast.id("nobody") if v == "ME" else v for k, v in body.items()}
    before = count(db, ObjectPermission)
    assert_error(
        client.post(vm_url(cast), json=body, headers=cast.h("admin")), 422, "VALIDATION_ERROR"
    )
    assert count(db, ObjectPermission) == before


def test_grants_duplicate_is_409(client: FlaskClient, cast: Personas, db: Session) -> None:
    before = count(db, ObjectPermission)
    body = grant(cast.id("granted"), "vm.view")
    assert_error(
        client.post(vm_url(cast), json=body, headers=cast.h("admin")), 409, "ALREADY_EXISTS"
    )
    assert count(db, ObjectPermission) == before


def test_grants_unknown_user_is_404_on_user_id(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    before = count(db, ObjectPermission)
    resp = client.post(vm_url(cast), json=grant(uuid.uuid4(), "vm.view"), headers=cast.h("admin"))
    assert assert_error(resp, 404, "NOT_FOUND")["error"]["details"] == {"field": "user_id"}
    assert count(db, ObjectPermission) == before


def test_grants_need_a_fresh_token(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    stale = make.headers(cast.users["admin"])
    before = count(db, ObjectPermission)
    body = grant(cast.id("nobody"), "vm.view")
    assert_error(client.post(vm_url(cast), json=body, headers=stale), 401, "FRESH_TOKEN_REQUIRED")
    query = {"user_id": cast.id("granted"), "permission": "vm.view"}
    resp = client.delete(vm_url(cast), query_string=query, headers=stale)
    assert_error(resp, 401, "FRESH_TOKEN_REQUIRED")
    assert count(db, ObjectPermission) == before


def test_grants_revoke_by_query(client: FlaskClient, cast: Personas, db: Session) -> None:
    query = {"user_id": cast.id("granted"), "permission": "vm.view"}
    resp = client.delete(vm_url(cast), query_string=query, headers=cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["permission"] == "vm.view"
    assert held(db, cast.users["granted"].id) == set()
    assert_error(
        client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("granted")), 404, "NOT_FOUND"
    )
    again = client.delete(vm_url(cast), query_string=query, headers=cast.h("user_a"))
    assert_error(again, 404, "NOT_FOUND")


def test_grants_are_audited(client: FlaskClient, cast: Personas, db: Session) -> None:
    client.post(vm_url(cast), json=grant(cast.id("nobody"), "vm.view"), headers=cast.h("admin"))
    client.post(vm_url(cast), json=grant(cast.id("nobody"), "vm.view"), headers=cast.h("viewer_a"))
    query = {"user_id": cast.id("nobody"), "permission": "vm.view"}
    client.delete(vm_url(cast), query_string=query, headers=cast.h("admin"))
    db.expire_all()
    rows = db.scalars(
        select(AuditLog).where(AuditLog.action.like("permission.%")).order_by(AuditLog.id)
    ).all()
    assert [(r.action, r.outcome, r.status_code) for r in rows] == [
        ("permission.grant", "success", 201),
        ("permission.grant", "denied", 403),
        ("permission.revoke", "success", 200),
    ]
    assert {(r.object_type, r.object_id, r.tenant_id) for r in rows} == {
        ("vm", str(cast.vm_a), cast.a.id)
    }
    assert rows[0].changes["after"] == {"grant": grant(cast.id("nobody"), "vm.view")}
    assert rows[2].changes["before"] == {"grant": grant(cast.id("nobody"), "vm.view")}


def test_grants_vanish_when_their_vm_is_deleted(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    vm_row = cast.vm_a
    [create_job] = db.scalars(select(Job).where(Job.vm_id == vm_row)).all()
    create_job.status = JobStatus.SUCCESSFUL
    db.get_one(VM, vm_row).status = VMStatus.RUNNING
    db.flush()
    resp = client.delete(f"/api/v1/vm/{vm_row}/", headers=cast.h("user_a"))
    assert resp.status_code == 202, resp.get_json()
    vm = db.get_one(VM, vm_row)
    db.refresh(vm)
    # Until the VM is gone its grants stand; the delete job's success removes them.
    assert ("vm.view", vm_row) in held(db, cast.users["granted"].id)
    worker.events = success_events(vm.domain_name, state="absent")
    assert vm_jobs.destroy(resp.get_json()["data"]["job_id"]) == "successful"
    assert held(db, cast.users["granted"].id) == set()
    # The creator's grants went too; those on the VM of tenant B stay.
    assert {vm for _, vm in held(db, cast.users["admin"].id)} == {cast.vm_b}
    assert_error(client.get(vm_url(cast), headers=cast.h("granted")), 404, "NOT_FOUND")
    # A deleted VM takes no new grants either.
    body = grant(cast.id("nobody"), "vm.view")
    assert_error(
        client.post(vm_url(cast), json=body, headers=cast.h("admin")), 409, "INVALID_STATE"
    )


# --- revocation takes what was delegated from it; the last tenant.admin stays -------------------


def give(client: FlaskClient, url: str, headers: Headers, user_id: object, perm: str) -> None:
    resp = client.post(url, json=grant(user_id, perm), headers=headers)
    assert resp.status_code == 201, resp.get_json()


def take(client: FlaskClient, url: str, headers: Headers, user_id: object, perm: str) -> Any:
    query = {"user_id": str(user_id), "permission": perm}
    return client.delete(url, query_string=query, headers=headers)


@pytest.fixture
def chain(client: FlaskClient, cast: Personas, make: Factory) -> dict[str, Any]:
    """tenant.admin from the platform admin to alice, from alice to bob, from bob vm.view on a
    VM to carol; alice also gives dave audit.view. Every token fresh."""
    people = {name: make.user(name) for name in ("alice", "bob", "carol", "dave")}
    hdr = {name: make.headers(u, fresh=True) for name, u in people.items()}
    give(client, tenant_url(cast), cast.h("admin"), people["alice"].id, "tenant.admin")
    give(client, tenant_url(cast), hdr["alice"], people["bob"].id, "tenant.admin")
    give(client, vm_url(cast), hdr["bob"], people["carol"].id, "vm.view")
    give(client, tenant_url(cast), hdr["alice"], people["dave"].id, "audit.view")
    return {"users": people, "headers": hdr}


def test_grants_revoking_takes_what_was_delegated_transitively(
    client: FlaskClient, cast: Personas, db: Session, chain: dict[str, Any]
) -> None:
    people = chain["users"]
    resp = take(client, tenant_url(cast), cast.h("admin"), people["alice"].id, "tenant.admin")
    assert resp.status_code == 200, resp.get_json()
    for name in ("alice", "bob", "carol", "dave"):
        assert held(db, people[name].id) == set(), name
    vm_of_a = f"/api/v1/vm/{cast.vm_a}/"
    assert_error(client.get(vm_of_a, headers=chain["headers"]["carol"]), 404, "NOT_FOUND")
    row = db.scalars(
        select(AuditLog).where(AuditLog.request_id == resp.headers["X-Request-ID"])
    ).one()
    revoked = row.changes["details"]["delegated_grants_revoked"]
    assert sorted((r["user_id"], r["permission"], r["granted_by_id"]) for r in revoked) == sorted(
        [
            (str(people["bob"].id), "tenant.admin", str(people["alice"].id)),
            (str(people["carol"].id), "vm.view", str(people["bob"].id)),
            (str(people["dave"].id), "audit.view", str(people["alice"].id)),
        ]
    )


def test_grants_revoking_a_vm_grant_takes_what_was_delegated_from_it(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    erin, frank = make.user("erin"), make.user("frank")
    give(client, vm_url(cast), cast.h("admin"), erin.id, "vm.view")
    give(client, vm_url(cast), cast.h("admin"), erin.id, "vm.change")
    give(client, vm_url(cast), make.headers(erin, fresh=True), frank.id, "vm.view")
    resp = take(client, vm_url(cast), cast.h("admin"), erin.id, "vm.change")
    assert resp.status_code == 200, resp.get_json()
    assert held(db, erin.id) == {("vm.view", cast.vm_a)}  # not delegated from vm.change
    assert held(db, frank.id) == set()


def test_grants_revoking_keeps_what_the_grantor_could_give_anyway(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    """user_a's role (tenant_user) manages VM grants by itself: what it gave stays when its
    tenant.admin grant goes."""
    user_a = cast.users["user_a"]
    give(client, tenant_url(cast), cast.h("admin"), user_a.id, "tenant.admin")
    give(client, vm_url(cast), cast.h("user_a"), cast.id("nobody"), "vm.view")
    give(client, tenant_url(cast), cast.h("user_a"), cast.id("viewer_a"), "audit.view")
    resp = take(client, tenant_url(cast), cast.h("admin"), user_a.id, "tenant.admin")
    assert resp.status_code == 200, resp.get_json()
    assert held(db, cast.users["nobody"].id) == {("vm.view", cast.vm_a)}
    assert held(db, cast.users["viewer_a"].id) == set()  # audit.view needed tenant.admin


def test_grants_delegated_tenant_admin_cannot_revoke_its_origin(
    client: FlaskClient, cast: Personas, db: Session, chain: dict[str, Any]
) -> None:
    people, hdr = chain["users"], chain["headers"]
    before = count(db, ObjectPermission)
    resp = take(client, tenant_url(cast), hdr["bob"], people["alice"].id, "tenant.admin")
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"rule": "own_access"}
    assert count(db, ObjectPermission) == before
    # The origin may revoke what it delegated.
    resp = take(client, tenant_url(cast), hdr["alice"], people["bob"].id, "tenant.admin")
    assert resp.status_code == 200, resp.get_json()
    assert held(db, people["carol"].id) == set()
    assert held(db, people["alice"].id) == {("tenant.admin", cast.a.id)}


def test_grants_last_tenant_admin_is_removed_only_by_a_platform_admin(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    alice = make.user("alice")
    alice_headers = make.headers(alice, fresh=True)
    give(client, tenant_url(cast), cast.h("admin"), alice.id, "tenant.admin")
    resp = take(client, tenant_url(cast), alice_headers, alice.id, "tenant.admin")
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"rule": "last_tenant_admin"}
    assert held(db, alice.id) == {("tenant.admin", cast.a.id)}
    resp = take(client, tenant_url(cast), cast.h("admin"), alice.id, "tenant.admin")
    assert resp.status_code == 200, resp.get_json()
    assert held(db, alice.id) == set()


def test_grants_a_tenant_admin_may_step_down_while_another_remains(
    client: FlaskClient, cast: Personas, db: Session, chain: dict[str, Any], make: Factory
) -> None:
    people, hdr = chain["users"], chain["headers"]
    other = make.user("other-admin")
    give(client, tenant_url(cast), cast.h("admin"), other.id, "tenant.admin")
    resp = take(client, tenant_url(cast), hdr["alice"], people["alice"].id, "tenant.admin")
    assert resp.status_code == 200, resp.get_json()
    # What alice delegated went with her grant; the other origin stays.
    assert [held(db, people[n].id) for n in ("alice", "bob", "carol", "dave")] == [set()] * 4
    assert held(db, other.id) == {("tenant.admin", cast.a.id)}


def test_grants_revocation_refusals_are_audited(
    client: FlaskClient, cast: Personas, db: Session, chain: dict[str, Any]
) -> None:
    people, hdr = chain["users"], chain["headers"]
    resp = take(client, tenant_url(cast), hdr["bob"], people["alice"].id, "tenant.admin")
    row = db.scalars(
        select(AuditLog).where(AuditLog.request_id == resp.headers["X-Request-ID"])
    ).one()
    assert (row.action, row.outcome, row.status_code, row.error_code) == (
        "permission.revoke",
        "denied",
        403,
        "PERMISSION_DENIED",
    )
    assert (row.actor_id, row.tenant_id) == (people["bob"].id, cast.a.id)


def test_grants_to_oneself_are_refused(client: FlaskClient, cast: Personas, db: Session) -> None:
    """What a caller holds it holds already: a grant to itself would only outlive its source."""
    before = count(db, ObjectPermission)
    for url, name in ((vm_url, "user_a"), (tenant_url, "admin")):
        resp = client.post(url(cast), json=grant(cast.id(name), "vm.view"), headers=cast.h(name))
        fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
        assert list(fields["json"]) == ["user_id"]
    assert count(db, ObjectPermission) == before


def test_grants_creator_grants_outlive_the_right_to_create(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    """The creator's grants on its VM come from the creation, not from vm.create: revoking
    vm.create leaves them, and what the creator delegated from them."""
    erin, frank = make.user("erin"), make.user("frank")
    for perm in ("tenant.view", "vm.create"):
        give(client, tenant_url(cast), cast.h("admin"), erin.id, perm)
    erin_headers = make.headers(erin, fresh=True)
    vm = create_vm(client, erin_headers, cast.a.id, "erins")
    give(client, f"/api/v1/vm/{vm['id']}/permission/", erin_headers, frank.id, "vm.view")
    resp = take(client, tenant_url(cast), cast.h("admin"), erin.id, "vm.create")
    assert resp.status_code == 200, resp.get_json()
    vm_id = uuid.UUID(vm["id"])
    assert held(db, erin.id) == {
        ("tenant.view", cast.a.id),
        ("vm.view", vm_id),
        ("vm.change", vm_id),
        ("vm.delete", vm_id),
    }
    assert held(db, frank.id) == {("vm.view", vm_id)}
