"""GET /metrics against the app with the real PostgreSQL and Redis: who may read it, request
latency by URL rule and status, job durations, queue depth and hosts by state as the database and
Redis hold them, and a 503 with Retry-After (never a hang or a 500) when one of them is down."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import utcnow
from api.errors import DependencyUnavailable
from api.models import Baremetal, HostState, Job, JobKind, JobStatus
from api.queue import JobQueue, PendingJob
from api.services.metrics import DURATION_BUCKETS
from api.settings import Settings
from api.web.app import create_app
from tests.api.conftest import CLOSED_REDIS_URL
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.metrics import LATENCY, METRICS_TOKEN, bearer, series, value

CLOSED_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/virtflow"
QUICK = {"redis_connect_timeout": 0.5, "redis_socket_timeout": 0.5}
ANSWER_WITHIN_SECONDS = 5.0


def metrics_app(
    settings: Settings, sessions: sessionmaker[Session] | None, **overrides: Any
) -> Flask:
    """The app with metrics on; sessions None: it connects to settings.database_url itself."""
    application = create_app(
        dataclasses.replace(settings, metrics_token=METRICS_TOKEN, **overrides)
    )
    if sessions is not None:
        application.extensions["virtflow_sessions"] = sessions
    application.config["TESTING"] = True
    return application


@pytest.fixture
def metered(settings: Settings, sessions: sessionmaker[Session], redis: Redis) -> FlaskClient:
    return metrics_app(settings, sessions).test_client()


def scrape(client: FlaskClient) -> str:
    resp = client.get("/metrics", headers=bearer())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/plain"
    return resp.get_data(as_text=True)


def test_metrics_off_by_default_answers_404(client: FlaskClient) -> None:
    assert_error(client.get("/metrics", headers=bearer()), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-some-length", METRICS_TOKEN, f"Basic {METRICS_TOKEN}"],
)
def test_metrics_without_the_token_is_401(metered: FlaskClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    resp = metered.get("/metrics", headers=headers)
    body = assert_error(resp, 401, "AUTH_REQUIRED")
    assert "VIRTFLOW_METRICS_TOKEN" in body["error"]["message"]


def test_metrics_admin_jwt_is_not_the_metrics_token(
    metered: FlaskClient, admin_headers: dict[str, str]
) -> None:
    assert_error(metered.get("/metrics", headers=admin_headers), 401, "AUTH_REQUIRED")


def test_metrics_request_latency_counts_by_url_rule_and_status(
    metered: FlaskClient, admin_headers: dict[str, str]
) -> None:
    rule = "/api/v1/vm/<uuid:vm_id>/"
    labels = {"method": "GET", "route": rule, "status": "404"}
    before = value(scrape(metered), f"{LATENCY}_count", **labels)
    missing = uuid.uuid4()
    assert metered.get(f"/api/v1/vm/{missing}/", headers=admin_headers).status_code == 404

    text = scrape(metered)
    assert value(text, f"{LATENCY}_count", **labels) == before + 1
    assert value(text, f"{LATENCY}_bucket", le="+Inf", **labels) == before + 1
    routes = {s["route"] for s in series(text, f"{LATENCY}_count")}
    assert rule in routes
    assert not any(str(missing) in route for route in routes), "a raw path became a label"


def test_metrics_unrouted_paths_and_invented_methods_share_bounded_labels(
    metered: FlaskClient,
) -> None:
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    invented = {"method": "other", "route": "unmatched", "status": "405"}
    text = scrape(metered)
    before = (
        value(text, f"{LATENCY}_count", **unmatched),
        value(text, f"{LATENCY}_count", **invented),
    )
    metered.get(f"/api/v1/nowhere-{uuid.uuid4().hex}/")
    metered.open("/api/v1/health/", method="BREW")

    text = scrape(metered)
    after = (
        value(text, f"{LATENCY}_count", **unmatched),
        value(text, f"{LATENCY}_count", **invented),
    )
    assert after == (before[0] + 1, before[1] + 1)
    assert {s["method"] for s in series(text, f"{LATENCY}_count")} <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "other",
    }


def test_metrics_hosts_by_state_match_the_rows(
    metered: FlaskClient, make: Factory, db: Session
) -> None:
    # inventory_hosts (tests/api/conftest.py) leaves bm-a and bm-b active.
    make.baremetal("bm-m", state=HostState.MAINTENANCE)
    make.baremetal("bm-o1", state=HostState.OFFLINE)
    make.baremetal("bm-o2", state=HostState.OFFLINE)
    make.baremetal("bm-n", state=HostState.NEW, prepared_at=None)

    text = scrape(metered)
    gauges = {state.value: value(text, "virtflow_hosts", state=state.value) for state in HostState}
    assert gauges == {
        "new": 1,
        "preparing": 0,
        "active": 2,
        "maintenance": 1,
        "offline": 2,
        "missing": 0,
    }
    assert sum(gauges.values()) == db.scalar(select(func.count()).select_from(Baremetal))


def _job(host: Baremetal, kind: str, status: str, seconds: float | None, **kw: Any) -> Job:
    started = utcnow() - dt.timedelta(hours=1)
    finished = None if seconds is None else started + dt.timedelta(seconds=seconds)
    return Job(
        kind=kind,
        status=status,
        baremetal_id=host.id,
        playbook="host_prepare.yml",
        limit=host.name,
        started_at=started if kw.pop("started", True) else None,
        finished_at=finished,
        **kw,
    )


def test_metrics_job_durations_by_kind_and_result(
    metered: FlaskClient, make: Factory, db: Session
) -> None:
    host = make.baremetal("bm-jobs")
    db.add_all(
        [
            _job(host, JobKind.HOST_PREPARE, JobStatus.SUCCESSFUL, 5),  # on a bound: counted in it
            _job(host, JobKind.HOST_PREPARE, JobStatus.SUCCESSFUL, 90),
            _job(host, JobKind.HOST_PREPARE, JobStatus.FAILED, 0.5),
            _job(host, JobKind.HOST_DOMAINS, JobStatus.ERROR, 7200),
            _job(host, JobKind.HOST_DOMAINS, JobStatus.RUNNING, None),  # not finished
            _job(host, JobKind.HOST_PREPARE, JobStatus.CANCELED, None, started=False),
        ]
    )
    db.flush()

    text = scrape(metered)
    name = "virtflow_job_duration_seconds"
    ok = {"kind": "host.prepare", "result": "successful"}
    assert value(text, f"{name}_count", **ok) == 2
    assert value(text, f"{name}_sum", **ok) == pytest.approx(95)
    assert value(text, f"{name}_bucket", le="1.0", **ok) == 0
    assert value(text, f"{name}_bucket", le="5.0", **ok) == 1
    assert value(text, f"{name}_bucket", le="120.0", **ok) == 2
    assert value(text, f"{name}_bucket", le="+Inf", **ok) == 2
    failed = {"kind": "host.prepare", "result": "failed"}
    assert value(text, f"{name}_bucket", le="1.0", **failed) == 1
    slow = {"kind": "host.domains", "result": "error"}
    assert value(text, f"{name}_bucket", le=str(DURATION_BUCKETS[-1]), **slow) == 0
    assert value(text, f"{name}_bucket", le="+Inf", **slow) == 1
    # Only jobs that started and finished have a duration.
    assert sorted((s["kind"], s["result"]) for s in series(text, f"{name}_count")) == [
        ("host.domains", "error"),
        ("host.prepare", "failed"),
        ("host.prepare", "successful"),
    ]


def test_metrics_queue_depth_counts_the_rq_queue(metered: FlaskClient, settings: Settings) -> None:
    queue = JobQueue(settings)
    for _ in range(3):
        queue.enqueue(PendingJob("jobs.vms.provision", uuid.uuid4(), None))

    text = scrape(metered)
    name, queue_label = "virtflow_queue_jobs", settings.queue_name
    assert value(text, name, queue=queue_label, state="queued") == 3
    assert value(text, name, queue=queue_label, state="started") == 0
    assert value(text, name, queue=queue_label, state="failed") == 0


def test_metrics_database_unreachable_is_503_with_retry_after(settings: Settings) -> None:
    client = metrics_app(settings, None, database_url=CLOSED_DATABASE_URL).test_client()
    resp = client.get("/metrics", headers=bearer())
    body = assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
    assert body["error"]["details"] == {"dependency": "database"}
    assert resp.headers["Retry-After"] == str(DependencyUnavailable.retry_after)


def test_metrics_redis_unreachable_is_503_with_retry_after(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    client = metrics_app(settings, sessions, redis_url=CLOSED_REDIS_URL).test_client()
    resp = client.get("/metrics", headers=bearer())
    body = assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
    assert body["error"]["details"] == {"dependency": "redis"}
    assert resp.headers["Retry-After"] == str(DependencyUnavailable.retry_after)


def test_metrics_hung_redis_answers_503_within_the_timeout(
    settings: Settings, sessions: sessionmaker[Session], hung_redis_url: str
) -> None:
    client = metrics_app(settings, sessions, redis_url=hung_redis_url, **QUICK).test_client()
    started = time.monotonic()
    resp = client.get("/metrics", headers=bearer())
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")


def test_metrics_stays_out_of_the_openapi_document(metered: FlaskClient) -> None:
    spec = metered.get("/api/v1/openapi.json").get_json()
    assert "/metrics" not in spec["paths"]
