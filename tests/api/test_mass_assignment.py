"""Mass assignment: read-only fields sent to any mutating route are refused and change nothing.

The mutating routes come from the app's URL map; which of them read a JSON body, and which
fields that body may carry, come from the app's OpenAPI document. Every body route is called
with its valid body (the authorization matrix's) plus one read-only field at a time - status,
a tenant (an existing VM's, or another tenant's), role, is_admin, usage, id, timestamps,
domain_uuid, baremetal, job_id, password_hash ... - and must answer 422 VALIDATION_ERROR naming
the field, with every table unchanged; the valid body alone then succeeds. Routes without a
body ignore whatever is sent: their own effect happens and no field sent is applied.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import (
    VM,
    AuditOutcome,
    Baremetal,
    HostState,
    Image,
    Job,
    JobKind,
    JobStatus,
    Membership,
    ObjectPermission,
    Quota,
    Snapshot,
    Tenant,
    TenantStatus,
    User,
    VMStatus,
)

# The fixtures app, connection, shared and world are the authorization matrix's world
# (tests/helpers/authz_world.py): built once per module, with a savepoint per case.
from tests.helpers.authz_world import (  # noqa: F401
    CALLS,
    MUTATING,
    SPEC,
    URL_MAP_ROUTES,
    Call,
    World,
    app,
    audit_rows_after,
    connection,
    last_audit_id,
    prepare,
    send,
    shared,
    snapshot,
    world,
)

Key = tuple[str, str]


# A value for each read-only field, aimed at another tenant or at escalation where it can be.
READ_ONLY: dict[str, Callable[[World], Any]] = {
    "id": lambda w: str(uuid.uuid4()),
    "status": lambda w: "running",
    "tenant_id": lambda w: str(w.b.id),
    "tenant": lambda w: str(w.b.id),
    "role": lambda w: "tenant_user",
    "is_admin": lambda w: True,
    "is_active": lambda w: True,
    "usage": lambda w: {"vcpus": 0, "ram_mb": 0, "disk_gb": 0, "vms": 0},
    "used": lambda w: 0,
    "created_at": lambda w: "2000-01-01T00:00:00+00:00",
    "updated_at": lambda w: "2000-01-01T00:00:00+00:00",
    "deleted_at": lambda w: "2000-01-01T00:00:00+00:00",
    "domain_uuid": lambda w: str(uuid.uuid4()),
    "domain_name": lambda w: "vf-other",
    "baremetal": lambda w: "bm-b",
    "baremetal_id": lambda w: str(uuid.uuid4()),
    "job_id": lambda w: str(w.job_b.id),
    "password_hash": lambda w: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
    "created_by_id": lambda w: w.id("user_b"),
    "granted_by_id": lambda w: w.id("user_b"),
}
ADMIN = "admin"  # every call is made by the platform admin: permission is never the refusal


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def body_fields(spec: dict[str, Any], key: Key) -> set[str] | None:
    """The fields the route's JSON body may carry; None when it reads no JSON body."""
    rule, method = key
    operation = spec["paths"][openapi_path(rule)][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    return set(spec["components"]["schemas"][name].get("properties", {}))


def takes_octets(spec: dict[str, Any], key: Key) -> bool:
    """Whether the route's body is raw bytes (the image upload), not JSON."""
    rule, method = key
    operation = spec["paths"][openapi_path(rule)][method.lower()]
    return "application/octet-stream" in operation.get("requestBody", {}).get("content", {})


MUTATING_ROUTES = sorted(key for key in URL_MAP_ROUTES if key[1] in MUTATING)
BODY_ROUTES = [key for key in MUTATING_ROUTES if body_fields(SPEC, key) is not None]
# Routes whose body is bytes: no field can be assigned; a JSON body is refused (415).
OCTET_ROUTES = [key for key in MUTATING_ROUTES if takes_octets(SPEC, key)]


def refused_unchanged(
    client: FlaskClient, world: World, db: Session, key: Key, path: dict[str, object], *, body: Any
) -> dict[str, Any]:
    """Send body; it must be a 422 that changed no table and was audited as denied."""
    before, last = snapshot(db), last_audit_id(db)
    resp = send(client, world, key, world.h(ADMIN), path, json=body)
    error = resp.get_json()
    assert resp.status_code == 422, error
    assert error["error"]["code"] == "VALIDATION_ERROR", error
    assert snapshot(db) == before, f"a refused body changed a table: {body}"
    [row] = audit_rows_after(db, last)
    assert (row.outcome, row.status_code, row.error_code) == (
        AuditOutcome.DENIED,
        422,
        "VALIDATION_ERROR",
    )
    fields: dict[str, Any] = error["error"]["details"]["fields"]["json"]
    return fields


def test_mass_assignment_covers_every_mutating_route() -> None:
    """Each mutating route of the URL map is tested here: with its body, or in BODYLESS."""
    assert len(BODY_ROUTES) >= 10
    assert (
        sorted(set(MUTATING_ROUTES) - set(BODY_ROUTES) - set(OCTET_ROUTES) - BODYLESS.keys()) == []
    )
    assert sorted(set(OCTET_ROUTES) & BODYLESS.keys()) == [], "BODYLESS routes that read bytes"
    assert sorted(set(BODY_ROUTES) & BODYLESS.keys()) == [], "BODYLESS routes that read a body"
    assert sorted(BODYLESS.keys() - set(MUTATING_ROUTES)) == [], "BODYLESS routes that are gone"


@pytest.mark.parametrize("key", BODY_ROUTES, ids=[f"{m} {r}" for r, m in BODY_ROUTES])
def test_mass_assignment_read_only_fields_are_refused(
    client: FlaskClient, world: World, db: Session, key: Key
) -> None:
    writable = body_fields(SPEC, key)
    assert writable is not None
    assert key in CALLS and CALLS[key].body, f"{key} needs a valid body in the matrix's CALLS"
    call = CALLS[key]
    path = prepare(db, world, call.state)
    valid = call.body(world) if call.body else {}
    assert set(valid) <= writable
    fields = sorted(set(READ_ONLY) - writable)
    assert "status" in fields and "is_admin" in fields and "id" in fields
    for name in fields:
        body = {**valid, name: READ_ONLY[name](world)}
        refused = refused_unchanged(client, world, db, key, path, body=body)
        assert list(refused) == [name], refused
    resp = send(client, world, key, world.h(ADMIN), path, json=valid)
    assert 200 <= resp.status_code < 300, resp.get_json()


def test_mass_assignment_every_read_only_field_at_once(
    client: FlaskClient, world: World, db: Session
) -> None:
    """All of them in one body: each is named in the refusal."""
    key = ("/api/v1/vm/<uuid:vm_id>/stop/", "POST")
    body = {name: value(world) for name, value in READ_ONLY.items()}
    fields = refused_unchanged(client, world, db, key, {}, body={**body, "force": False})
    assert set(fields) == set(READ_ONLY)


def test_mass_assignment_member_role_outside_tenant_roles_is_refused(
    client: FlaskClient, world: World, db: Session
) -> None:
    """role is writable on a new membership, but only as a tenant role: never `admin`."""
    key = ("/api/v1/tenant/<uuid:tenant_id>/member/", "POST")
    for role in ("admin", "owner", "tenant.admin", ""):
        body = {"user_id": world.id("outsider"), "role": role}
        assert list(refused_unchanged(client, world, db, key, {}, body=body)) == ["role"]


def test_mass_assignment_quota_usage_is_not_a_limit(
    client: FlaskClient, world: World, db: Session
) -> None:
    """Only limits are set; usage (and nested "used") is read-only."""
    key = ("/api/v1/tenant/<uuid:tenant_id>/quota/", "PUT")
    for body in ({"vms": {"limit": 5, "used": 0}}, {"resources": {"vms": {"used": 0}}}):
        assert set(refused_unchanged(client, world, db, key, {}, body=body)) == set(body)


def test_mass_assignment_no_route_changes_an_existing_vm() -> None:
    """An existing VM changes only through stop, start and delete, none of which takes a tenant
    (each refuses one above): no PUT or PATCH on a VM could move it across tenants."""
    vm_routes = {(rule, method) for rule, method in URL_MAP_ROUTES if "<uuid:vm_id>" in rule}
    assert {m for _, m in vm_routes} <= {"GET", "POST", "DELETE"}


# --------------------------------------------------------------------------------------------
# Routes without a body: whatever is sent is ignored, and the route does only its own thing


def invariants(db: Session, world: World) -> dict[str, Any]:
    """What no route here may change: platform roles, passwords, VMs' tenants and hosts,
    tenants' names, quotas."""
    db.expire_all()
    return {
        "users": sorted(
            (str(u.id), u.is_admin, u.password_hash, u.created_at.isoformat())
            for u in db.scalars(select(User))
        ),
        "vms": sorted(
            (str(v.id), str(v.tenant_id), str(v.baremetal_id), str(v.domain_uuid))
            for v in db.scalars(select(VM))
        ),
        "tenants": sorted((str(t.id), t.name) for t in db.scalars(select(Tenant))),
        "quotas": sorted(
            (str(q.tenant_id), q.vcpus, q.ram_mb, q.disk_gb, q.vms, q.snapshots)
            for q in db.scalars(select(Quota))
        ),
    }


def vm_status(db: Session, vm_id: uuid.UUID) -> str:
    return db.get_one(VM, vm_id).status


def grants(db: Session, user_id: str) -> set[str]:
    query = select(ObjectPermission.permission).where(
        ObjectPermission.user_id == uuid.UUID(user_id)
    )
    return set(db.scalars(query))


def after_cancel(db: Session, w: World, path: dict[str, object]) -> None:
    job = db.get_one(Job, path["job_id"])
    assert job.status == JobStatus.CANCELED  # not the "running" sent
    assert vm_status(db, w.vm_a.id) == VMStatus.RUNNING


def after_tenant_delete(db: Session, w: World, path: dict[str, object]) -> None:
    assert db.get_one(Tenant, w.a.id).status == TenantStatus.DELETING


def after_member_remove(db: Session, w: World, path: dict[str, object]) -> None:
    query = select(Membership).where(Membership.user_id == w.users["member_x"].id)
    assert db.scalars(query).all() == []  # removed, not given the role sent


def after_vm_delete(db: Session, w: World, path: dict[str, object]) -> None:
    assert vm_status(db, w.vm_a.id) == VMStatus.DELETING


def after_tenant_revoke(db: Session, w: World, path: dict[str, object]) -> None:
    assert grants(db, w.id("grantee")) == {"vm.view"}


def after_vm_revoke(db: Session, w: World, path: dict[str, object]) -> None:
    assert grants(db, w.id("grantee")) == {"quota.view"}


def after_host_prepare(db: Session, w: World, path: dict[str, object]) -> None:
    host = db.get_one(Baremetal, w.vm_a.baremetal_id)
    assert host.state == HostState.PREPARING  # not any state sent
    job = db.scalars(select(Job).where(Job.baremetal_id == host.id)).one()
    assert (job.kind, job.tenant_id, job.status) == (JobKind.HOST_PREPARE, None, JobStatus.QUEUED)


def after_vm_refresh(db: Session, w: World, path: dict[str, object]) -> None:
    assert vm_status(db, w.vm_a.id) == VMStatus.RUNNING  # unchanged until the job has run
    job = db.scalars(select(Job).where(Job.kind == JobKind.VM_REFRESH)).one()
    assert (job.vm_id, job.status, job.extravars) == (
        w.vm_a.id,
        JobStatus.QUEUED,
        {"virtflow_domain_uuids": [str(w.vm_a.id)]},
    )


def after_snapshot_delete(db: Session, w: World, path: dict[str, object]) -> None:
    snapshot = db.get_one(Snapshot, path["snapshot_id"])
    assert (snapshot.status, snapshot.vm_id) == ("deleting", w.vm_a.id)  # not any status sent
    assert vm_status(db, w.vm_a.id) == VMStatus.SNAPSHOTTING


def after_revert(db: Session, w: World, path: dict[str, object]) -> None:
    snapshot = db.get_one(Snapshot, path["snapshot_id"])
    assert (snapshot.status, snapshot.power_state) == ("ready", "running")
    assert vm_status(db, w.vm_a.id) == VMStatus.REVERTING
    job = db.scalars(select(Job).where(Job.kind == JobKind.VM_REVERT)).one()
    assert (job.snapshot_id, job.status) == (snapshot.id, JobStatus.QUEUED)


def after_inventory_sync(db: Session, w: World, path: dict[str, object]) -> None:
    hosts = db.scalars(select(Baremetal).where(Baremetal.in_inventory.is_(True)))
    assert sorted((h.name, h.state) for h in hosts) == [("bm-a", "active"), ("bm-b", "active")]


def after_image_delete(db: Session, w: World, path: dict[str, object]) -> None:
    image = db.get_one(Image, w.images["a"])
    assert (image.status, image.tenant_id) == ("deleted", w.a.id)  # not any status or tenant sent


def nothing(db: Session, w: World, path: dict[str, object]) -> None:
    """Redis holds sessions: no row changes."""


# Mutating routes that read no JSON body -> what they must have done (and nothing else).
BODYLESS: dict[Key, Callable[[Session, World, dict[str, object]], None]] = {
    ("/api/v1/auth/logout/", "POST"): nothing,
    ("/api/v1/baremetal/sync/", "POST"): after_inventory_sync,
    ("/api/v1/baremetal/<uuid:host_id>/prepare/", "POST"): after_host_prepare,
    ("/api/v1/image/<uuid:image_id>/", "DELETE"): after_image_delete,
    ("/api/v1/auth/refresh/", "POST"): nothing,
    ("/api/v1/job/<uuid:job_id>/cancel/", "POST"): after_cancel,
    ("/api/v1/tenant/<uuid:tenant_id>/", "DELETE"): after_tenant_delete,
    ("/api/v1/tenant/<uuid:tenant_id>/member/<uuid:user_id>/", "DELETE"): after_member_remove,
    ("/api/v1/tenant/<uuid:tenant_id>/permission/", "DELETE"): after_tenant_revoke,
    ("/api/v1/vm/<uuid:vm_id>/", "DELETE"): after_vm_delete,
    ("/api/v1/vm/<uuid:vm_id>/permission/", "DELETE"): after_vm_revoke,
    ("/api/v1/vm/<uuid:vm_id>/refresh/", "POST"): after_vm_refresh,
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/", "DELETE"): after_snapshot_delete,
    ("/api/v1/vm/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/revert/", "POST"): after_revert,
}


@pytest.mark.parametrize("key", sorted(BODYLESS), ids=[f"{m} {r}" for r, m in sorted(BODYLESS)])
def test_mass_assignment_bodyless_routes_refuse_a_body_and_apply_nothing(
    client: FlaskClient, world: World, db: Session, key: Key
) -> None:
    call = CALLS.get(key, Call())
    path = prepare(db, world, call.state)
    sent = {name: value(world) for name, value in READ_ONLY.items()}
    headers = world.refresh_headers(ADMIN) if call.refresh_token else world.h(ADMIN)
    before = invariants(db, world)
    # A body sent to a route that takes none is refused, whatever it holds.
    refused = send(client, world, key, headers, path, json=sent)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["details"]["fields"] == {
        "json": ["This endpoint takes no body."]
    }
    assert invariants(db, world) == before
    # Without it, read-only names in the query next to the route's own arguments are ignored.
    query = {**(call.query(world) if call.query else {}), "is_admin": "true", "role": "admin"}
    resp = send(client, world, key, headers, path, query_string=query)
    assert 200 <= resp.status_code < 300, resp.get_json()
    assert invariants(db, world) == before
    BODYLESS[key](db, world, path)


@pytest.mark.parametrize("key", OCTET_ROUTES, ids=[f"{m} {r}" for r, m in OCTET_ROUTES])
def test_mass_assignment_octet_routes_refuse_json_and_apply_nothing(
    client: FlaskClient, world: World, db: Session, key: Key
) -> None:
    """A JSON body of read-only fields sent to a bytes route is 415, and changes nothing."""
    call = CALLS.get(key, Call())
    path = prepare(db, world, call.state)
    sent = {name: value(world) for name, value in READ_ONLY.items()}
    before, last = snapshot(db), last_audit_id(db)
    refused = send(client, world, key, world.h(ADMIN), path, call=Call(), json=sent)
    assert refused.status_code == 415, refused.get_json()
    assert refused.get_json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert snapshot(db) == before
    [row] = audit_rows_after(db, last)
    assert (row.outcome, row.status_code) == (AuditOutcome.DENIED, 415)
