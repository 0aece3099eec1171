"""List leakage: every list endpoint returns exactly what the caller may see, page by page.

The list endpoints are found in the app's OpenAPI document (GET operations answering a list
envelope), and each must be declared in LISTINGS: a new one without a declaration fails. For
each persona of the authorization matrix, plus `auditor_a` (an audit.view grant on tenant A),
the ids listed are compared with the set the world permits, read in full and one row per page
(`meta.pagination.total` must equal the permitted count), and again with tampered filters that
name another tenant's objects.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, AuditLog, Baremetal, Image, Job, SnapshotStatus, Tenant, User

# The fixtures app, connection, shared and world are the authorization matrix's world
# (tests/helpers/authz_world.py): built once per module, with a savepoint per case.
from tests.helpers.authz_world import (  # noqa: F401
    SPEC,
    World,
    app,
    connection,
    shared,
    world,
)
from tests.helpers.snapshots import ready_snapshot

PERSONAS = ("admin", "user_a", "viewer_a", "user_b", "granted", "auditor_a")
Expected = set[str] | int  # the permitted ids, or the status of a refusal
REFUSAL = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


# --------------------------------------------------------------------------------------------
# What each persona may see, from the world's definition


def ids(*rows: Any) -> set[str]:
    return {str(row.id) for row in rows}


def every(db: Session, column: Any) -> set[str]:
    """Admins see every row of the table, whoever made it."""
    return {str(value) for value in db.scalars(select(column))}


def vms_seen(w: World, db: Session, persona: str) -> Expected:
    return {
        "admin": every(db, VM.id),
        "user_a": ids(w.vm_a, w.vm_a2),
        "viewer_a": ids(w.vm_a, w.vm_a2),
        "user_b": ids(w.vm_b),
        "granted": ids(w.vm_a),
        "auditor_a": set(),
    }[persona]


def jobs_seen(w: World, db: Session, persona: str) -> Expected:
    return {
        "admin": every(db, Job.id),
        "user_a": ids(w.job_a, w.job_a2),
        "viewer_a": ids(w.job_a, w.job_a2),
        "user_b": ids(w.job_b),
        "granted": ids(w.job_a),  # the jobs of the VM it may view
        "auditor_a": set(),
    }[persona]


def tenants_seen(w: World, db: Session, persona: str) -> Expected:
    return {
        "admin": every(db, Tenant.id),
        "user_a": ids(w.a),
        "viewer_a": ids(w.a),
        "user_b": ids(w.b),
        "granted": set(),  # a VM grant does not show the VM's tenant
        "auditor_a": set(),  # nor does an audit.view grant
    }[persona]


def audit_seen(w: World, db: Session, persona: str) -> Expected:
    if persona == "admin":
        return every(db, AuditLog.id)
    if persona == "auditor_a":
        rows = db.scalars(select(AuditLog.id).where(AuditLog.tenant_id == w.a.id))
        permitted = {str(i) for i in rows}
        # The world's own rows anchor the set: A's is in it, B's and the tenantless one are not.
        assert str(w.audit_a) in permitted
        assert not {str(w.audit_b), str(w.audit_none)} & permitted
        return permitted
    return set()  # neither tenant role holds audit.view


def usage_seen(w: World, db: Session, persona: str) -> Expected:
    return every(db, Tenant.id) if persona == "admin" else 403


def users_seen(w: World, db: Session, persona: str) -> Expected:
    return every(db, User.id) if persona == "admin" else {w.id(persona)}


def baremetal_seen(w: World, db: Session, persona: str) -> Expected:
    return every(db, Baremetal.id) if persona == "admin" else 403


def images_seen(w: World, db: Session, persona: str) -> Expected:
    """Public images to everyone; a private one to its tenant's members and admins."""
    public, a, b = (str(w.images[k]) for k in ("public", "a", "b"))
    return {
        "admin": every(db, Image.id),
        "user_a": {public, a},
        "viewer_a": {public, a},
        "user_b": {public, b},
        "granted": {public},  # a VM grant is not membership of the VM's tenant
        "auditor_a": {public},  # nor is an audit.view grant
    }[persona]


def members_of_a(w: World, db: Session, persona: str) -> Expected:
    if persona in ("admin", "user_a", "viewer_a"):
        return {w.id("user_a"), w.id("viewer_a"), w.id("member_x")}
    return 404


def grants_on_a(w: World, db: Session, persona: str) -> Expected:
    if persona in ("admin", "user_a", "viewer_a"):
        return {f"{w.id('grantee')} quota.view", f"{w.id('auditor_a')} audit.view"}
    return 404


def creator_grants(w: World) -> set[str]:
    """The admin created every VM of the world: view, change and delete on each."""
    return {f"{w.id('admin')} vm.{perm}" for perm in ("view", "change", "delete")}


def grants_on_vm_a(w: World, db: Session, persona: str) -> Expected:
    if persona in ("admin", "user_a", "viewer_a", "granted"):
        return creator_grants(w) | {f"{w.id('granted')} vm.view", f"{w.id('grantee')} vm.view"}
    return 404


def actions_of_vm_a(w: World, db: Session, persona: str) -> Expected:
    """vm_a's history: its create job (the world made it through the service, no request)."""
    return {str(w.job_a.id)} if persona in ("admin", "user_a", "viewer_a", "granted") else 404


def snapshots_of_vm_a(w: World, db: Session, persona: str) -> Expected:
    """vm_a's snapshots, next to snapshots of tenant A's vm_a2 (not `granted`'s) and of B's
    vm_b; a deleted snapshot of vm_a is listed to nobody (the list's default)."""
    taken = {name: db.get_one(VM, vm.id) for name, vm in (("a", w.vm_a), ("a2", w.vm_a2))}
    mine = ready_snapshot(db, taken["a"], "snap-a")
    ready_snapshot(db, taken["a"], "snap-gone").status = SnapshotStatus.DELETED
    ready_snapshot(db, taken["a2"], "snap-a2")
    ready_snapshot(db, db.get_one(VM, w.vm_b.id), "snap-b")
    db.flush()
    return {str(mine.id)} if persona in ("admin", "user_a", "viewer_a", "granted") else 404


def events_of_job_a(w: World, db: Session, persona: str) -> Expected:
    return {"1", "2"} if persona in ("admin", "user_a", "viewer_a", "granted") else 404


@dataclass(frozen=True)
class Listing:
    """A list endpoint: who sees which rows, and what identifies a row."""

    seen: Callable[[World, Session, str], Expected]
    key: Callable[[dict[str, Any]], str] = lambda row: str(row["id"])


def grant_key(row: dict[str, Any]) -> str:
    return f"{row['user_id']} {row['permission']}"


LISTINGS = {
    "/api/v1/tenant/": Listing(tenants_seen),
    "/api/v1/vm/": Listing(vms_seen),
    "/api/v1/job/": Listing(jobs_seen),
    "/api/v1/audit/": Listing(audit_seen),
    "/api/v1/usage/": Listing(usage_seen, lambda row: row["tenant_id"]),
    "/api/v1/user/": Listing(users_seen),
    "/api/v1/baremetal/": Listing(baremetal_seen),
    "/api/v1/image/": Listing(images_seen),
    "/api/v1/tenant/{tenant_id}/member/": Listing(members_of_a, lambda row: row["user_id"]),
    "/api/v1/tenant/{tenant_id}/permission/": Listing(grants_on_a, grant_key),
    "/api/v1/vm/{vm_id}/permission/": Listing(grants_on_vm_a, grant_key),
    "/api/v1/job/{job_id}/events/": Listing(events_of_job_a, lambda row: str(row["counter"])),
    "/api/v1/vm/{vm_id}/action/": Listing(actions_of_vm_a, lambda row: str(row["job_id"])),
    "/api/v1/vm/{vm_id}/snapshot/": Listing(snapshots_of_vm_a),
}


def path_of(path: str, w: World) -> str:
    """Path parameters name tenant A's objects."""
    values = {"tenant_id": w.a.id, "vm_id": w.vm_a.id, "job_id": w.job_a.id}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


# --------------------------------------------------------------------------------------------
# Reading a list


def read_pages(
    client: FlaskClient, url: str, headers: dict[str, str], query: dict[str, str] | None = None
) -> list[dict[str, Any]] | int:
    """Every row of the list, read one row per page; or the status of the refusal."""
    rows: list[dict[str, Any]] = []
    page, total = 1, 0
    while True:
        query_string = {**(query or {}), "page": page, "per_page": 1}
        resp = client.get(url, headers=headers, query_string=query_string)
        body = resp.get_json()
        if resp.status_code != 200:
            assert page == 1, body
            assert body["error"]["code"] == REFUSAL[resp.status_code], body
            return resp.status_code
        pagination = body["meta"]["pagination"]
        if page == 1:
            total = pagination["total"]
        assert (pagination["total"], pagination["pages"]) == (total, total), pagination
        if page > total:
            assert body["data"] == []
            break
        assert len(body["data"]) == 1, body["data"]
        rows += body["data"]
        page += 1
    return rows


def listed(rows: list[dict[str, Any]] | int, key: Callable[[dict[str, Any]], str]) -> Expected:
    """The keys of rows, each listed once; a refusal's status as it is."""
    if isinstance(rows, int):
        return rows
    keys = [key(row) for row in rows]
    assert len(keys) == len(set(keys)), f"a row came back on two pages: {keys}"
    return set(keys)


def list_once(client: FlaskClient, url: str, headers: dict[str, str], listing: Listing) -> Expected:
    """The list in one page (the default size), with its total."""
    resp = client.get(url, headers=headers)
    if resp.status_code != 200:
        return resp.status_code
    body = resp.get_json()
    keys = {listing.key(row) for row in body["data"]}
    assert body["meta"]["pagination"]["total"] == len(keys) == len(body["data"])
    return keys


# --------------------------------------------------------------------------------------------
# Tests


def test_list_leakage_declares_every_list_endpoint() -> None:
    """A list endpoint the app documents (a GET answering a list envelope) is in LISTINGS."""
    lists = {
        path
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        if method == "get"
        and operation["responses"]["200"]["content"]
        .get("application/json", {"schema": {"$ref": ""}})["schema"]["$ref"]
        .endswith("ListEnvelope")
    }
    assert lists == set(LISTINGS)


@pytest.mark.parametrize("path", sorted(LISTINGS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_list_leakage_exactly_the_permitted_rows(
    client: FlaskClient, world: World, db: Session, path: str, persona: str
) -> None:
    listing = LISTINGS[path]
    url = path_of(path, world)
    expected = listing.seen(world, db, persona)
    assert list_once(client, url, world.h(persona), listing) == expected
    # One row per page: the pages add up to the same set, and the total counts only it.
    assert listed(read_pages(client, url, world.h(persona)), listing.key) == expected


@pytest.mark.parametrize("path", sorted(LISTINGS))
def test_list_leakage_anonymous_lists_nothing(client: FlaskClient, world: World, path: str) -> None:
    resp = client.get(path_of(path, world))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "AUTH_REQUIRED"


def tampered(w: World) -> list[tuple[str, str, dict[str, str], Expected]]:
    """(persona, url, query, what it must list): filters naming what the persona may not see
    narrow its own set or find nothing; they never widen it."""
    a, b, c = str(w.a.id), str(w.b.id), str(w.c.id)
    return [
        ("user_a", "/api/v1/vm/", {"tenant_id": b}, set()),
        ("user_a", "/api/v1/vm/", {"tenant_id": c}, set()),
        ("user_a", "/api/v1/vm/", {"name": "vm-b"}, set()),
        ("user_b", "/api/v1/vm/", {"tenant_id": a}, set()),
        ("viewer_a", "/api/v1/vm/", {"tenant_id": b, "status": "running"}, set()),
        ("granted", "/api/v1/vm/", {"tenant_id": a}, ids(w.vm_a)),
        ("granted", "/api/v1/vm/", {"name": "vm-a2"}, set()),
        ("auditor_a", "/api/v1/vm/", {"tenant_id": a}, set()),
        ("user_a", "/api/v1/job/", {"vm_id": str(w.vm_b.id)}, set()),
        ("user_a", "/api/v1/job/", {"tenant_id": b}, set()),
        ("user_b", "/api/v1/job/", {"tenant_id": a}, set()),
        ("user_b", "/api/v1/job/", {"vm_id": str(w.vm_a.id)}, set()),
        ("granted", "/api/v1/job/", {"vm_id": str(w.vm_a2.id)}, set()),
        ("granted", "/api/v1/job/", {"tenant_id": a}, ids(w.job_a)),
        ("user_a", "/api/v1/tenant/", {"name": "tenant-b"}, set()),
        ("user_a", "/api/v1/tenant/", {"tenant_id": b}, ids(w.a)),  # not a filter: ignored
        ("user_b", "/api/v1/audit/", {"tenant_id": b}, set()),
        ("auditor_a", "/api/v1/audit/", {"tenant_id": b}, set()),
        ("auditor_a", "/api/v1/audit/", {"object_id": b}, set()),
        ("auditor_a", "/api/v1/audit/", {"action": "user.create"}, set()),
        ("user_a", "/api/v1/user/", {"username": "user-b"}, set()),
        ("user_a", "/api/v1/image/", {"tenant_id": b}, set()),
        ("user_b", "/api/v1/image/", {"name": "image-a"}, set()),
        ("granted", "/api/v1/image/", {"visibility": "private"}, set()),
        ("auditor_a", "/api/v1/image/", {"tenant_id": a}, set()),
        ("user_a", "/api/v1/usage/", {"tenant_id": a}, 403),
        ("user_a", f"/api/v1/tenant/{b}/member/", {}, 404),
        ("user_b", f"/api/v1/tenant/{a}/permission/", {}, 404),
        ("user_a", f"/api/v1/vm/{w.vm_b.id}/permission/", {}, 404),
        ("granted", f"/api/v1/vm/{w.vm_a2.id}/permission/", {}, 404),
        ("user_a", f"/api/v1/vm/{w.vm_b.id}/action/", {}, 404),
        ("granted", f"/api/v1/vm/{w.vm_a2.id}/action/", {}, 404),
        ("user_a", f"/api/v1/vm/{w.vm_b.id}/snapshot/", {}, 404),
        ("granted", f"/api/v1/vm/{w.vm_a2.id}/snapshot/", {}, 404),
        ("user_a", f"/api/v1/job/{w.job_b.id}/events/", {}, 404),
        ("granted", f"/api/v1/job/{w.job_a2.id}/events/", {}, 404),
        ("user_b", f"/api/v1/tenant/{uuid.uuid4()}/member/", {}, 404),
    ]


def test_list_leakage_tampered_filters_never_widen(
    client: FlaskClient, world: World, db: Session
) -> None:
    failures = []
    for persona, url, query, expected in tampered(world):
        got = listed(read_pages(client, url, world.h(persona), query), lambda r: str(r["id"]))
        if got != expected:
            failures.append((persona, url, query, expected, got))
    assert failures == []


def test_list_leakage_auditor_filters_narrow_within_its_tenant(
    client: FlaskClient, world: World, db: Session
) -> None:
    """A filter the auditor may use (its tenant, an object of it) finds its rows only."""
    h = world.h("auditor_a")
    for query in ({"tenant_id": str(world.a.id)}, {"object_id": str(world.a.id)}):
        rows = read_pages(client, "/api/v1/audit/", h, query)
        assert listed(rows, lambda r: str(r["id"])) == {str(world.audit_a)}


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_leakage_me_shows_only_own_tenants_and_grants(
    client: FlaskClient, world: World, persona: str
) -> None:
    body = client.get("/api/v1/auth/me/", headers=world.h(persona)).get_json()["data"]
    tenants = {t["id"] for t in body["tenants"]}
    grants = {(g["object_id"], g["permission"]) for g in body["object_grants"]}
    a, vm_a = str(world.a.id), str(world.vm_a.id)
    expected_tenants = {
        "admin": set(),  # platform role, no membership
        "user_a": {a},
        "viewer_a": {a},
        "user_b": {str(world.b.id)},
        "granted": set(),
        "auditor_a": {a},  # a grant on tenant A: shown with that one permission
    }[persona]
    assert tenants == expected_tenants
    if persona == "auditor_a":
        [only] = body["tenants"]
        assert (only["role"], only["permissions"]) == (None, ["audit.view"])
    if persona == "granted":
        assert grants == {(vm_a, "vm.view")}
    elif persona == "admin":
        assert {p for _, p in grants} == {"vm.view", "vm.change", "vm.delete"}
    else:
        assert grants == set()
