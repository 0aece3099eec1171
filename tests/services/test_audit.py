"""The audit log service: scrubbing, rows, who may read what, filters, and the append-only table."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.models import AuditLog, AuditOutcome, Tenant, TenantRole, User
from api.services import audit
from api.services.permissions import Perm, Target, assign_perm
from tests.conftest import Factory

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def add_row(db: Session, tenant: Tenant | None = None, **values: Any) -> AuditLog:
    fields: dict[str, Any] = {
        "action": "vm.create",
        "outcome": AuditOutcome.SUCCESS,
        "status_code": 202,
        "tenant_id": tenant.id if tenant else None,
        "changes": {},
    }
    fields.update(values)
    row = AuditLog(**fields)
    db.add(row)
    db.flush()
    return row


# --- scrub and record ---------------------------------------------------------------------------


def test_scrub_drops_secret_keys_at_any_depth() -> None:
    values = {
        "name": "web-1",
        "password": "hunter2",
        "new_password": "hunter3",
        "password_hash": "$argon2id$...",
        "nested": {"refresh_token": "eyJ", "keep": 1, "api_secret": "s"},
        "items": [{"access_token": "eyJ", "id": 2}, "plain"],
    }
    clean = audit.scrub(values)
    assert clean == {"name": "web-1", "nested": {"keep": 1}, "items": [{"id": 2}, "plain"]}


def test_scrub_drops_user_data_wherever_it_is() -> None:
    # A VM create's cloud-config, or a hand run's -e virtflow_guests=[{..., user_data: ...}].
    values = {
        "user_data": "password: x",
        "extravars": {"virtflow_guests": [{"name": "vf-a", "user_data": "password: x"}]},
    }
    assert audit.scrub(values) == {"extravars": {"virtflow_guests": [{"name": "vf-a"}]}}


def test_scrub_stringifies_what_json_cannot_hold() -> None:
    vm_id = uuid.uuid4()
    clean = audit.scrub({"id": vm_id, "at": T0, "tags": ("a", "b"), "n": None})
    assert clean == {"id": str(vm_id), "at": str(T0), "tags": ["a", "b"], "n": None}
    json.dumps(clean)


def test_entry_target_keeps_unknown_id_as_none() -> None:
    entry = audit.Entry(action="auth.login")
    entry.target("user", None, None)
    assert (entry.object_type, entry.object_id) == ("user", None)


def test_record_writes_every_field_without_secrets(db: Session, make: Factory) -> None:
    user, tenant = make.user(), make.tenant()
    entry = audit.Entry(action="vm.create", request_id="req-1", client_addr="192.0.2.1")
    entry.actor(user)
    entry.target("vm", uuid.UUID(int=7), tenant.id)
    entry.before.update({"status": "running", "password": "x"})
    entry.after.update({"status": "deleting"})
    entry.details.update({"attempted_username": "bob", "token": "eyJ"})
    row = audit.record(db, entry, AuditOutcome.DENIED, 409, "RESOURCE_BUSY")
    db.expire(row)
    assert (row.actor_id, row.actor_username, row.tenant_id) == (user.id, user.username, tenant.id)
    assert (row.action, row.object_type, row.object_id) == (
        "vm.create",
        "vm",
        str(uuid.UUID(int=7)),
    )
    assert (row.outcome, row.status_code, row.error_code) == ("denied", 409, "RESOURCE_BUSY")
    assert (row.request_id, row.client_addr) == ("req-1", "192.0.2.1")
    assert row.changes == {
        "before": {"status": "running"},
        "after": {"status": "deleting"},
        "details": {"attempted_username": "bob"},
    }
    assert row.created_at is not None


def test_record_cuts_overlong_values_to_their_columns(db: Session) -> None:
    entry = audit.Entry(action="a" * 80, client_addr="c" * 80)
    entry.target("t" * 40, "o" * 80, None)
    row = audit.record(db, entry, AuditOutcome.DENIED, 404, "E" * 80)
    assert (len(row.action), len(row.object_type or ""), len(row.object_id or "")) == (64, 32, 64)
    assert (len(row.error_code or ""), len(row.client_addr or "")) == (64, 64)


def test_record_stores_unstorable_text_escaped(db: Session) -> None:
    """NUL (refused by text and JSONB) and lone surrogates (not UTF-8) never cost the row."""
    entry = audit.Entry(action="unrouted.post", request_id="r\x00", client_addr="c\x00")
    entry.target("v\x00m", "id\x00", None)
    entry.actor_username = "bob\ud800"
    entry.details.update({"path": "/api/v1/x\x00y/", "k\x00": ["\x00", {"n\x00": "\udfff"}]})
    row = audit.record(db, entry, AuditOutcome.DENIED, 404, "NOT\x00FOUND")
    db.expire(row)
    assert (row.request_id, row.client_addr) == ("r\\u0000", "c\\u0000")
    assert (row.object_type, row.object_id) == ("v\\u0000m", "id\\u0000")
    assert (row.actor_username, row.error_code) == ("bob\\ud800", "NOT\\u0000FOUND")
    assert row.changes == {
        "details": {
            "path": "/api/v1/x\\u0000y/",
            "k\\u0000": ["\\u0000", {"n\\u0000": "\\udfff"}],
        }
    }


def test_escape_unstorable_leaves_other_text_alone() -> None:
    text = "plain ünïcode \\u0000 tab\t 😀"
    assert audit.escape_unstorable(text) == text
    assert audit.escape_unstorable("a\x00b\ud800") == "a\\u0000b\\ud800"


# --- who may read what --------------------------------------------------------------------------


@pytest.fixture
def rows(db: Session, make: Factory) -> dict[str, Any]:
    a, b = make.tenant(), make.tenant()
    return {
        "a": a,
        "b": b,
        "in_a": add_row(db, a).id,
        "in_b": add_row(db, b).id,
        "no_tenant": add_row(db, None, action="auth.login", status_code=401).id,
    }


def visible_ids(db: Session, user: User, **filters: Any) -> set[int]:
    return {row.id for row in db.scalars(audit.audit_query(user, audit.AuditFilter(**filters)))}


def test_audit_query_admin_sees_every_row(db: Session, make: Factory, rows: dict[str, Any]) -> None:
    seen = visible_ids(db, make.user(is_admin=True))
    assert {rows["in_a"], rows["in_b"], rows["no_tenant"]} <= seen


@pytest.mark.parametrize("perm", [Perm.AUDIT_VIEW, Perm.TENANT_ADMIN])
def test_audit_query_grant_holder_sees_only_that_tenant(
    db: Session, make: Factory, rows: dict[str, Any], perm: Perm
) -> None:
    holder = make.user()
    assign_perm(db, holder.id, perm, Target(rows["a"].id), granted_by=None)
    assert visible_ids(db, holder) == {rows["in_a"]}


@pytest.mark.parametrize("role", [TenantRole.TENANT_USER, TenantRole.VIEWER])
def test_audit_query_members_without_audit_view_see_nothing(
    db: Session, make: Factory, rows: dict[str, Any], role: TenantRole
) -> None:
    member = make.user()
    make.member(member, rows["a"], role)
    assert visible_ids(db, member) == set()


def test_audit_query_tampered_tenant_filter_finds_nothing(
    db: Session, make: Factory, rows: dict[str, Any]
) -> None:
    holder = make.user()
    assign_perm(db, holder.id, Perm.AUDIT_VIEW, Target(rows["a"].id), granted_by=None)
    assert visible_ids(db, holder, tenant_id=rows["b"].id) == set()
    assert visible_ids(db, holder, tenant_id=rows["a"].id) == {rows["in_a"]}


def test_get_entry_visible_row_and_404_otherwise(
    db: Session, make: Factory, rows: dict[str, Any]
) -> None:
    holder = make.user()
    assign_perm(db, holder.id, Perm.AUDIT_VIEW, Target(rows["a"].id), granted_by=None)
    assert audit.get_entry(db, holder, rows["in_a"]).id == rows["in_a"]
    for hidden in (rows["in_b"], rows["no_tenant"], 2**62):
        with pytest.raises(NotFound):
            audit.get_entry(db, holder, hidden)


# --- filters ------------------------------------------------------------------------------------


def test_audit_query_filters_each_field(db: Session, make: Factory) -> None:
    admin, actor, tenant = make.user(is_admin=True), make.user(), make.tenant()
    target = add_row(
        db,
        tenant,
        actor_id=actor.id,
        object_type="vm",
        object_id="vm-1",
        action="vm.delete",
        outcome=AuditOutcome.DENIED,
        status_code=403,
        request_id="req-filter",
    )
    add_row(db, tenant, request_id="req-other")
    cases = {
        "actor_id": actor.id,
        "object_type": "vm",
        "object_id": "vm-1",
        "action": "vm.delete",
        "outcome": "denied",
        "request_id": "req-filter",
    }
    for name, value in cases.items():
        assert visible_ids(db, admin, tenant_id=tenant.id, **{name: value}) == {target.id}, name


def test_audit_query_time_range_since_inclusive_until_exclusive(db: Session, make: Factory) -> None:
    admin, tenant = make.user(is_admin=True), make.tenant()
    hour = dt.timedelta(hours=1)
    early, mid, late = (add_row(db, tenant, created_at=T0 + n * hour).id for n in range(3))
    assert visible_ids(db, admin, tenant_id=tenant.id, since=T0 + hour) == {mid, late}
    assert visible_ids(db, admin, tenant_id=tenant.id, until=T0 + hour) == {early}
    assert visible_ids(db, admin, tenant_id=tenant.id, since=T0, until=T0 + 2 * hour) == {
        early,
        mid,
    }


def test_audit_query_newest_first(db: Session, make: Factory) -> None:
    admin, tenant = make.user(is_admin=True), make.tenant()
    older = add_row(db, tenant, created_at=T0).id
    newer = add_row(db, tenant, created_at=T0 + dt.timedelta(seconds=1)).id
    query = audit.audit_query(admin, audit.AuditFilter(tenant_id=tenant.id))
    assert [row.id for row in db.scalars(query)] == [newer, older]


# --- append-only, in the database itself -------------------------------------------------------


@pytest.fixture
def raw(owner_url: str) -> Iterator[psycopg.Connection[Any]]:
    """The test database as its owner, whom the triggers refuse too (the application's role is
    refused before them, by its privileges: tests/test_db_roles.py); rolled back."""
    dsn = owner_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("SET lock_timeout = '5s'")
        yield conn
        conn.rollback()


def insert_row(conn: psycopg.Connection[Any]) -> int:
    found = conn.execute(
        "INSERT INTO audit_log (action, outcome, status_code, changes) "
        "VALUES ('test.insert', 'success', 200, '{}') RETURNING id"
    ).fetchone()
    assert found is not None
    return int(found[0])


def test_audit_log_triggers_exist_and_are_enabled(raw: psycopg.Connection[Any]) -> None:
    found = raw.execute(
        "SELECT tgname, tgenabled FROM pg_trigger "
        "WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal ORDER BY tgname"
    ).fetchall()
    assert found == [
        ("audit_log_append_only", "O"),
        ("audit_log_chain", "O"),
        ("audit_log_no_truncate", "O"),
    ]


def test_audit_log_insert_works(raw: psycopg.Connection[Any]) -> None:
    row_id = insert_row(raw)
    found = raw.execute("SELECT action FROM audit_log WHERE id = %s", (row_id,)).fetchone()
    assert found == ("test.insert",)


@pytest.mark.parametrize(
    ("operation", "sql"),
    [
        ("UPDATE", "UPDATE audit_log SET action = 'rewritten' WHERE id = %s"),
        ("DELETE", "DELETE FROM audit_log WHERE id = %s"),
        ("TRUNCATE", "TRUNCATE audit_log"),
    ],
)
def test_audit_log_refuses_rewriting_history(
    raw: psycopg.Connection[Any], operation: str, sql: str
) -> None:
    row_id = insert_row(raw)
    params = (row_id,) if "%s" in sql else None
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"append-only: {operation}"):
        raw.execute(sql, params)
    raw.rollback()
