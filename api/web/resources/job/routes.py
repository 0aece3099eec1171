"""Jobs: one playbook run each, with status, progress, output and events; unfinished ones cancel."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.db import utcnow
from api.errors import EventsPurged, InvalidState, PermissionDenied
from api.models import Job, JobEvent, JobStatus
from api.services import jobs, vms
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db, sessions, settings
from api.web.contract import operation
from api.web.envelope import Keyset, PageArgsSchema, envelope, ok, paginate, paginate_keyset
from api.web.resources.job import stream
from api.web.resources.job.schemas import (
    JOB_EXAMPLE,
    JobEventPageArgsSchema,
    JobEventQuerySchema,
    JobEventSchema,
    JobEventStreamQuerySchema,
    JobQuerySchema,
    JobSchema,
    JobStdoutQuerySchema,
    JobStdoutSchema,
    LastEventIdSchema,
)

blp = Blueprint("job", __name__, url_prefix="/api/v1/job", description="Jobs and their events")
BY_COUNTER = Keyset(JobEvent.counter)
TEXT = {"type": "string"}
# One message of a text/event-stream (the schema of each event, as OpenAPI 3.2's itemSchema).
SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "description": "the JobEvent's event, or `end`"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "a JobEvent; for `end`, {job_id, status}",
        },
        "id": {"type": "string", "description": "the JobEvent's counter (`end` has none)"},
        "retry": {"type": "integer", "description": "milliseconds before reconnecting"},
    },
}


class _WithProgress:
    """A job plus its computed progress, for JobSchema to dump."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.progress = jobs.progress(db(), job)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)


@blp.route("/")
class Jobs(MethodView):
    @operation("job_list")
    @blp.arguments(JobQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(JobSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the jobs the caller may see (filter by vm_id, tenant_id, status)"""
        return paginate(db(), jobs.jobs_query(user(), **filters), **page)


@blp.route("/<uuid:job_id>/")
class JobById(MethodView):
    @operation("job_get")
    @blp.response(200, envelope(JobSchema), example=JOB_EXAMPLE)
    def get(self, job_id: uuid.UUID) -> dict[str, Any]:
        """Show a job's status, return code, timings and progress"""
        return ok(_WithProgress(jobs.get_job(db(), user(), job_id)))


@blp.route("/<uuid:job_id>/stdout/")
class JobStdout(MethodView):
    @operation("job_stdout_get")
    @blp.arguments(JobStdoutQuerySchema, location="query")
    @blp.response(200, envelope(JobStdoutSchema))
    @blp.alt_response(200, schema=TEXT, content_type="text/plain")
    def get(self, query: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any] | Response:
        """Show a job's playbook output so far (bounded), as the envelope or as text

        A finished job's output as saved at its end; a queued or running job's is the output
        of the events stored so far. Text (`text/plain; charset=utf-8`) with `?format=txt` or
        `Accept: text/plain`; the envelope otherwise (`?format=json` wins over Accept).
        """
        job = jobs.get_job(db(), user(), job_id)
        text = jobs.output(db(), job, settings().job_stdout_limit)
        if _wants_text(query.get("format")):
            return Response(text, mimetype="text/plain")
        return ok({"id": job.id, "stdout": text})


def _wants_text(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "txt"
    return request.accept_mimetypes.best_match(("application/json", "text/plain")) == "text/plain"


def _with_events(job_id: uuid.UUID) -> Job:
    """The job, if the caller may view it and its events are still kept."""
    job = jobs.get_job(db(), user(), job_id)
    if jobs.events_expired(job, settings().job_event_retention_days, utcnow()):
        raise EventsPurged()
    return job


@blp.route("/<uuid:job_id>/events/")
class JobEvents(MethodView):
    @operation("job_events_list", EventsPurged)
    @blp.arguments(JobEventQuerySchema, location="query")
    @blp.arguments(JobEventPageArgsSchema, location="query")
    @blp.response(200, envelope(JobEventSchema, many=True))
    def get(
        self, filters: dict[str, Any], page: dict[str, Any], job_id: uuid.UUID
    ) -> dict[str, Any]:
        """Page through a job's ansible-runner events in order

        By counter. `meta.pagination.next` is the `after` of the next page (null on the last):
        a page read with `?after=` costs the same however deep it is, where `?page=` skips
        the rows before it. 410 EVENTS_PURGED once the job ended longer ago than
        VIRTFLOW_JOB_EVENT_RETENTION_DAYS.
        """
        job = _with_events(job_id)
        query = jobs.events_query(job, **filters)
        return paginate_keyset(db(), query, BY_COUNTER, **page)


@blp.route("/<uuid:job_id>/events/stream/")
class JobEventStream(MethodView):
    @operation("job_events_stream", EventsPurged)
    @blp.arguments(JobEventStreamQuerySchema, location="query")
    @blp.arguments(LastEventIdSchema, location="headers")
    @blp.response(200, SSE_EVENT, content_type="text/event-stream")
    def get(self, query: dict[str, Any], headers: dict[str, Any], job_id: uuid.UUID) -> Response:
        """Follow a job's events as server-sent events until it ends

        Each stored event, in counter order, as `id: <counter>`, `event: <event>`, `data:
        <JobEvent as JSON>`; then `event: end` with `{"job_id", "status"}` once the job is
        finished. Resumes after the `Last-Event-ID` header, else after `?after=`. A comment
        line every 15 s while nothing is stored. It ends without `end` after
        VIRTFLOW_SSE_MAX_SECONDS: reconnect with Last-Event-ID (an EventSource does so itself).
        410 EVENTS_PURGED once the job ended longer ago than VIRTFLOW_JOB_EVENT_RETENTION_DAYS.
        """
        job = _with_events(job_id)
        after = headers.get("last_event_id", query["after"])
        db().close()  # the stream polls with sessions of its own: no connection held meanwhile
        follow = stream.Follow(sessions(), job.id, after, settings().sse_max_seconds)
        return stream.response(follow)


@blp.route("/<uuid:job_id>/cancel/")
class JobCancel(MethodView):
    @operation("job_cancel", PermissionDenied, InvalidState)
    @blp.response(200, envelope(JobSchema))
    @blp.alt_response(
        202,
        schema=envelope(JobSchema),
        description=(
            "the job is running: its worker is asked to stop the playbook, and ends it "
            "`canceled` within seconds (`cancel_requested_at` set, `status` still `running`)"
        ),
    )
    @audited("job.cancel")
    def post(self, job_id: uuid.UUID) -> tuple[dict[str, Any], int]:
        """Cancel a queued or running job (job.cancel)

        A queued job ends `canceled` now (200) and the VM goes back to its state before the
        request: a canceled stop leaves it running, a canceled start stopped, and a canceled
        create ends it `deleted` (it never reached libvirt; its quota and name are freed).

        A running job (202) is stopped by its worker within seconds: it ends `canceled`, and
        its VM `error` ("its stop job was canceled while it ran; ...") while a vm.refresh job
        reads libvirt back, after which the VM is what libvirt reports (a canceled create stays
        `error`: delete the VM). If the playbook ends first, its own outcome stands.

        409 INVALID_STATE when the job has ended, its cancel was already requested, it is a
        delete (queued or running), or a running host job.
        """
        note("job", job_id)
        job, change = vms.cancel_job(db(), user(), job_id)
        if job.status == JobStatus.RUNNING:  # asked to stop: its worker ends it
            after = {"status": job.status, "cancel_requested_at": job.cancel_requested_at}
            note("job", job.id, job.tenant_id, before={"status": "running"}, after=after)
            commit(status=202)
            return ok(_WithProgress(job)), 202
        note(
            "job", job.id, job.tenant_id, before={"status": "queued"}, after={"status": job.status}
        )
        if change is not None:
            note(vm_id=job.vm_id, vm_status_before=change[0], vm_status_after=change[1])
        commit()
        return ok(_WithProgress(job)), 200
