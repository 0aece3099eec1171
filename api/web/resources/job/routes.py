"""Jobs: one playbook run each, with status, progress, output and events; queued ones cancel."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import InvalidState, PermissionDenied, ResourceBusy
from api.models import Job
from api.services import jobs, vms
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate
from api.web.resources.job.schemas import (
    JOB_EXAMPLE,
    JobEventQuerySchema,
    JobEventSchema,
    JobQuerySchema,
    JobSchema,
    JobStdoutSchema,
)

blp = Blueprint("job", __name__, url_prefix="/api/v1/job", description="Jobs and their events")


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
    @blp.response(200, envelope(JobStdoutSchema))
    def get(self, job_id: uuid.UUID) -> dict[str, Any]:
        """Show the playbook output of a finished job (bounded)"""
        return ok(jobs.get_job(db(), user(), job_id))


@blp.route("/<uuid:job_id>/events/")
class JobEvents(MethodView):
    @operation("job_events_list")
    @blp.arguments(JobEventQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(JobEventSchema, many=True))
    def get(
        self, filters: dict[str, Any], page: dict[str, int], job_id: uuid.UUID
    ) -> dict[str, Any]:
        """Page through a job's ansible-runner events in order"""
        job = jobs.get_job(db(), user(), job_id)
        return paginate(db(), jobs.events_query(job, **filters), **page)


@blp.route("/<uuid:job_id>/cancel/")
class JobCancel(MethodView):
    @operation("job_cancel", PermissionDenied, ResourceBusy, InvalidState)
    @blp.response(200, envelope(JobSchema))
    @audited("job.cancel")
    def post(self, job_id: uuid.UUID) -> dict[str, Any]:
        """Cancel a queued job (job.cancel)

        The VM goes back to its state before the request: a canceled stop leaves it running,
        a canceled start stopped, and a canceled create ends it `deleted` (it never reached
        libvirt; its quota and name are freed). 409 RESOURCE_BUSY once a worker runs the job;
        409 INVALID_STATE when it has finished, or is a delete (deletes cannot be canceled).
        """
        note("job", job_id)
        job, change = vms.cancel_job(db(), user(), job_id)
        note(
            "job", job.id, job.tenant_id, before={"status": "queued"}, after={"status": job.status}
        )
        if change is not None:
            note(vm_id=job.vm_id, vm_status_before=change[0], vm_status_after=change[1])
        commit()
        return ok(_WithProgress(job))
