"""GET /metrics: Prometheus text format for the bearer of VIRTFLOW_METRICS_TOKEN (404 without one).

It lives outside /api/v1 and the OpenAPI document: its success is text, not the envelope; its
errors (401, 404, 503 with Retry-After) are enveloped like every other error.

Request latency is observed in each gunicorn worker process. `virtflow serve` hands them one
directory (PROMETHEUS_MULTIPROC_DIR) for prometheus_client's multiprocess mode, so whichever
worker answers a scrape sums every worker's counts. Job durations, queue depth and hosts by
state are read from PostgreSQL and Redis at scrape time (api.services.metrics, JobQueue.depth),
through the request's connections and their timeouts: nothing is counted twice or lost with a
worker, and an unreachable dependency fails the scrape with 503 like any request.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.errors import AuthRequired, NotFound
from api.services import metrics
from api.settings import Settings
from api.web.auth import public
from api.web.context import db, job_queue, settings

log = logging.getLogger(__name__)

PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
AUTH_MESSAGE = "/metrics needs an 'Authorization: Bearer <VIRTFLOW_METRICS_TOKEN>' header."
# Any other method a client invents is counted as "other": labels must stay a bounded set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no URL rule matched (404, 405)

REQUEST_SECONDS = Histogram(
    "virtflow_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, URL rule (never the raw path) and status.",
    ["method", "route", "status"],
    registry=None,  # collected per scrape below, in one process or from every worker's files
)


def route_label() -> str:
    """The URL rule the request matched (/api/v1/vm/<uuid:vm_id>/), never its path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def method_label() -> str:
    return request.method if request.method in METHODS else "other"


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    """after_request, registered first so it runs last (after the audit row is written)."""
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    try:
        labels = (method_label(), route_label(), str(response.status_code))
        REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
    except Exception:  # a metric must never cost the answer
        log.exception("could not record the request's latency")
    return response


@dataclass(frozen=True)
class Snapshot:
    """What a scrape read from PostgreSQL and Redis, before any of it is written out."""

    queue: str
    depth: dict[str, int]
    hosts: dict[str, int]
    durations: list[metrics.Durations]


class SnapshotCollector(Collector):
    """The database- and Redis-backed metrics, as Prometheus families."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield self._durations()
        queue = GaugeMetricFamily(
            "virtflow_queue_jobs",
            "RQ jobs of the queue by state; state=queued is the queue depth.",
            labels=["queue", "state"],
        )
        for state, count in self.snapshot.depth.items():
            queue.add_metric([self.snapshot.queue, state], count)
        yield queue
        hosts = GaugeMetricFamily(
            "virtflow_hosts", "Baremetal hosts by lifecycle state.", labels=["state"]
        )
        for state, count in self.snapshot.hosts.items():
            hosts.add_metric([state], count)
        yield hosts

    def _durations(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "virtflow_job_duration_seconds",
            "Run time (finished_at - started_at) of finished jobs, by kind and result.",
            labels=["kind", "result"],
        )
        bounds = [str(bound) for bound in metrics.DURATION_BUCKETS]
        for row in self.snapshot.durations:
            buckets = [*zip(bounds, row.buckets, strict=True), ("+Inf", row.count)]
            family.add_metric([row.kind, row.result], buckets, sum_value=row.seconds)
        return family


class RequestCollector(Collector):
    """This process's request latencies (no multiprocess directory: one process serves)."""

    def collect(self) -> Iterable[Metric]:
        return REQUEST_SECONDS.collect()


def _registry(snapshot: Snapshot) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(RequestCollector())
    registry.register(SnapshotCollector(snapshot))
    return registry


def _read_snapshot() -> Snapshot:
    queue = job_queue()
    return Snapshot(
        queue=queue.settings.queue_name,
        hosts=metrics.hosts_by_state(db()),
        durations=metrics.job_durations(db()),
        depth=queue.depth(),
    )


def _authorized(token: str) -> bool:
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, f"Bearer {token}".encode())


@public  # not a JWT: Prometheus sends the metrics token
def serve_metrics() -> Response:
    """Prometheus metrics, text format."""
    token = settings().metrics_token
    if not token:
        raise NotFound()
    if not _authorized(token):
        raise AuthRequired(AUTH_MESSAGE)
    body = generate_latest(_registry(_read_snapshot()))
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask, app_settings: Settings) -> None:
    """Route /metrics (always, so the URL map never depends on settings); time requests when
    metrics are on. Call it before any other hook: its timer starts first and stops last."""
    app.add_url_rule(PATH, "metrics", serve_metrics, methods=["GET"])
    if app_settings.metrics_token:
        app.before_request(_start)
        app.after_request(_observe)
