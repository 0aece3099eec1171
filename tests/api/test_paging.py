"""Paging at scale: totals counted up to a limit and estimated past it, and cursor (keyset)
pages of job events and the audit log that equal the OFFSET pages."""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db_roles import libpq_url
from api.models import AuditLog, AuditOutcome, JobEvent, Tenant
from api.services import audit
from api.services.permissions import Perm, Target, assign_perm
from api.settings import Settings, SettingsError
from api.web import envelope
from tests.api.conftest import create_vm
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.job_events import add_events

Headers = dict[str, str]
EVENT_COUNT = 7
AUDIT_COUNT = 7


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant("paged")


@pytest.fixture
def job_id(client: FlaskClient, admin_headers: Headers, tenant: Tenant, db: Session) -> uuid.UUID:
    """A job with EVENT_COUNT events, counters 1.., on hosts bm-a and bm-b in turn."""
    job = uuid.UUID(create_vm(client, admin_headers, tenant.id)["job_id"])
    specs = [{"counter": n, "host": "bm-a" if n % 2 else "bm-b"} for n in range(1, EVENT_COUNT + 1)]
    add_events(db, job, specs)
    return job


@pytest.fixture
def audit_ids(db: Session, tenant: Tenant) -> list[int]:
    """AUDIT_COUNT audit rows of the tenant, newest (highest id) first."""
    rows = [
        audit.record(
            db,
            audit.Entry(action="test.paged", tenant_id=tenant.id, object_id=str(n)),
            AuditOutcome.SUCCESS,
            200,
            None,
        )
        for n in range(AUDIT_COUNT)
    ]
    return sorted((row.id for row in rows), reverse=True)


@pytest.fixture
def limit_counts(app: Flask, settings: Settings) -> Callable[[int], None]:
    """Sets the app's VIRTFLOW_EXACT_COUNT_LIMIT."""

    def limit_to(limit: int) -> None:
        app.extensions["virtflow_settings"] = dataclasses.replace(settings, exact_count_limit=limit)

    return limit_to


def get(client: FlaskClient, url: str, headers: Headers) -> dict[str, Any]:
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    return body


def offset_pages(client: FlaskClient, url: str, headers: Headers, per_page: int) -> list[Any]:
    """Every page of url read with ?page=, until an empty one."""
    pages, page = [], 1
    while data := get(client, f"{url}per_page={per_page}&page={page}", headers)["data"]:
        pages.append(data)
        page += 1
    return pages


def cursor_pages(
    client: FlaskClient, url: str, headers: Headers, per_page: int
) -> tuple[list[Any], list[Any]]:
    """Every page of url read by following meta.pagination.next; and the nexts seen."""
    pages, nexts = [], []
    body = get(client, f"{url}per_page={per_page}", headers)
    while True:
        pages.append(body["data"])
        nexts.append(body["meta"]["pagination"]["next"])
        if nexts[-1] is None:
            return pages, nexts
        body = get(client, f"{url}per_page={per_page}&after={nexts[-1]}", headers)


# --- totals ---------------------------------------------------------------------------------


def test_paging_total_is_exact_up_to_the_limit(
    client: FlaskClient,
    limit_counts: Callable[[int], None],
    admin_headers: Headers,
    job_id: uuid.UUID,
) -> None:
    limit_counts(EVENT_COUNT)
    body = get(client, f"/api/v1/job/{job_id}/events/?per_page=2", admin_headers)
    assert body["meta"]["pagination"] == {
        "page": 1,
        "per_page": 2,
        "total": EVENT_COUNT,
        "pages": 4,
        "next": 2,
    }


def test_paging_total_past_the_limit_is_an_estimate_and_flagged(
    client: FlaskClient,
    limit_counts: Callable[[int], None],
    admin_headers: Headers,
    job_id: uuid.UUID,
) -> None:
    limit_counts(3)
    pagination = get(client, f"/api/v1/job/{job_id}/events/?per_page=2", admin_headers)["meta"][
        "pagination"
    ]
    assert pagination["total_is_estimate"] is True
    assert pagination["total"] >= 4  # at least the limit plus one, whatever the planner says
    assert pagination["pages"] == math.ceil(pagination["total"] / 2)


def test_paging_last_page_knows_its_total_without_counting(
    client: FlaskClient,
    limit_counts: Callable[[int], None],
    admin_headers: Headers,
    job_id: uuid.UUID,
) -> None:
    limit_counts(3)
    body = get(client, f"/api/v1/job/{job_id}/events/?per_page=2&page=4", admin_headers)
    assert [e["counter"] for e in body["data"]] == [7]
    assert body["meta"]["pagination"] == {
        "page": 4,
        "per_page": 2,
        "total": EVENT_COUNT,
        "pages": 4,
        "next": None,
    }


@pytest.mark.parametrize("as_admin", [True, False])
def test_paging_a_list_without_cursor_flags_its_estimate_too(
    client: FlaskClient,
    limit_counts: Callable[[int], None],
    db: Session,
    make: Factory,
    as_admin: bool,
) -> None:
    """The estimate is the plan of the caller's own query: its visibility predicate included."""
    caller = make.user(is_admin=as_admin)
    for n in range(4):
        assign_perm(db, caller.id, Perm.TENANT_VIEW, Target(make.tenant(f"paged-{n}").id), None)
    limit_counts(2)
    body = get(client, "/api/v1/tenant/?per_page=1", make.headers(caller))
    pagination = body["meta"]["pagination"]
    assert pagination["total_is_estimate"] is True and pagination["total"] >= 3
    assert "next" not in pagination


def test_paging_estimate_reads_the_plan_of_the_filtered_query(db: Session, owner_url: str) -> None:
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as owner:
        owner.execute("ANALYZE audit_log")  # statistics of what is committed: no rows read later
    rows = db.scalar(select(func.count()).select_from(AuditLog))
    assert envelope.estimate(db, select(AuditLog)) == max(rows or 0, 1)
    assert envelope.estimate(db, select(AuditLog).where(AuditLog.id < 0)) == 1  # never 0


def test_paging_count_is_exact_below_the_limit_and_bounded_above(
    db: Session, job_id: uuid.UUID
) -> None:
    query = select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.counter)
    assert envelope.count(db, query, EVENT_COUNT) == (EVENT_COUNT, False)
    total, estimated = envelope.count(db, query, 3)
    assert estimated and total >= 4


# --- cursors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1, 3, 7, 50])
@pytest.mark.parametrize("filters", ["", "host=bm-a&"])
def test_paging_event_cursor_pages_equal_offset_pages(
    client: FlaskClient, admin_headers: Headers, job_id: uuid.UUID, per_page: int, filters: str
) -> None:
    url = f"/api/v1/job/{job_id}/events/?{filters}"
    by_cursor, nexts = cursor_pages(client, url, admin_headers, per_page)
    assert by_cursor == offset_pages(client, url, admin_headers, per_page)
    counters = [e["counter"] for page in by_cursor for e in page]
    assert counters == sorted(counters) and len(counters) == len(set(counters))
    assert nexts[-1] is None
    assert nexts[:-1] == [page[-1]["counter"] for page in by_cursor[:-1]]


@pytest.mark.parametrize("per_page", [1, 3, 7, 50])
def test_paging_audit_cursor_pages_equal_offset_pages(
    client: FlaskClient,
    admin_headers: Headers,
    tenant: Tenant,
    audit_ids: list[int],
    per_page: int,
) -> None:
    url = f"/api/v1/audit/?tenant_id={tenant.id}&action=test.paged&"
    by_cursor, nexts = cursor_pages(client, url, admin_headers, per_page)
    assert by_cursor == offset_pages(client, url, admin_headers, per_page)
    assert [row["id"] for page in by_cursor for row in page] == audit_ids  # newest first
    assert nexts[-1] is None


def test_paging_cursor_total_counts_the_rows_after_it(
    client: FlaskClient, admin_headers: Headers, tenant: Tenant, audit_ids: list[int]
) -> None:
    url = f"/api/v1/audit/?tenant_id={tenant.id}&action=test.paged&per_page=2&after={audit_ids[2]}"
    body = get(client, url, admin_headers)
    assert [row["id"] for row in body["data"]] == audit_ids[3:5]
    assert body["meta"]["pagination"] == {
        "page": 1,
        "per_page": 2,
        "total": AUDIT_COUNT - 3,
        "pages": 2,
        "next": audit_ids[4],
    }


def test_paging_pages_after_a_cursor_are_pages_of_the_rows_after_it(
    client: FlaskClient, admin_headers: Headers, job_id: uuid.UUID
) -> None:
    url = f"/api/v1/job/{job_id}/events/?after=2&per_page=2"
    second = get(client, f"{url}&page=2", admin_headers)
    assert [e["counter"] for e in second["data"]] == [5, 6]
    assert second["meta"]["pagination"] == {
        "page": 2,
        "per_page": 2,
        "total": EVENT_COUNT - 2,
        "pages": 3,
        "next": 6,
    }


def test_paging_cursor_at_the_end_is_an_empty_last_page(
    client: FlaskClient,
    admin_headers: Headers,
    tenant: Tenant,
    job_id: uuid.UUID,
    audit_ids: list[int],
) -> None:
    events = get(client, f"/api/v1/job/{job_id}/events/?after={EVENT_COUNT}", admin_headers)
    oldest = get(
        client,
        f"/api/v1/audit/?tenant_id={tenant.id}&action=test.paged&after={audit_ids[-1]}",
        admin_headers,
    )
    for body in (events, oldest):
        assert body["data"] == []
        assert body["meta"]["pagination"] == {
            "page": 1,
            "per_page": 50,
            "total": 0,
            "pages": 0,
            "next": None,
        }


def test_paging_cursor_is_a_position_not_a_row(
    client: FlaskClient, admin_headers: Headers, tenant: Tenant, audit_ids: list[int]
) -> None:
    """A cursor between rows, or past the newest, pages from there: nothing to look up."""
    above = get(
        client,
        f"/api/v1/audit/?tenant_id={tenant.id}&action=test.paged&after={audit_ids[0] + 10**6}",
        admin_headers,
    )
    assert [row["id"] for row in above["data"]] == audit_ids


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=abc", "after"),
        ("after=1.5", "after"),
        ("after=2147483648", "after"),  # past job_event.counter's INTEGER
    ],
)
def test_paging_bad_event_cursor_is_422(
    client: FlaskClient, admin_headers: Headers, job_id: uuid.UUID, query: str, field: str
) -> None:
    resp = client.get(f"/api/v1/job/{job_id}/events/?{query}", headers=admin_headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert list(body["error"]["details"]["fields"]["query"]) == [field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("after=9223372036854775808", "after"),  # past audit_log.id's BIGINT
    ],
)
def test_paging_bad_audit_cursor_is_422(
    client: FlaskClient, admin_headers: Headers, query: str, field: str
) -> None:
    resp = client.get(f"/api/v1/audit/?{query}", headers=admin_headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert list(body["error"]["details"]["fields"]["query"]) == [field]


def test_paging_audit_cursor_keeps_the_callers_visibility(
    client: FlaskClient, db: Session, make: Factory, tenant: Tenant, audit_ids: list[int]
) -> None:
    outsider = make.user()
    assign_perm(db, outsider.id, Perm.AUDIT_VIEW, Target(make.tenant("other").id), granted_by=None)
    headers = make.headers(outsider)
    seen = get(client, f"/api/v1/audit/?after={audit_ids[0] + 1}&per_page=200", headers)
    assert seen["data"] == [] and seen["meta"]["pagination"]["next"] is None
    holder = make.user()
    assign_perm(db, holder.id, Perm.AUDIT_VIEW, Target(tenant.id), granted_by=None)
    mine = get(client, f"/api/v1/audit/?after={audit_ids[0] + 1}", make.headers(holder))
    assert [row["id"] for row in mine["data"]][: len(audit_ids)] == audit_ids


def test_paging_exact_count_limit_setting_is_read_and_must_be_positive() -> None:
    assert Settings.from_env({"VIRTFLOW_EXACT_COUNT_LIMIT": "500"}).exact_count_limit == 500
    assert Settings.from_env({}).exact_count_limit == envelope.DEFAULT_EXACT_COUNT_LIMIT
    refused = Settings.from_env(
        {"VIRTFLOW_EXACT_COUNT_LIMIT": "0", "VIRTFLOW_JWT_SECRET": "x" * 48}
    )
    with pytest.raises(SettingsError, match="VIRTFLOW_EXACT_COUNT_LIMIT"):
        refused.check_serving()
