"""Jobs: one playbook run each, with status, progress, output and events."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.models import Job
from api.services import jobs
from api.web.auth import user
from api.web.context import db
from api.web.envelope import PageArgsSchema, envelope, ok, paginate
from api.web.resources.job.schemas import (
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
    @blp.arguments(JobQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(JobSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the jobs the caller may see (filter by vm_id, tenant_id, status)"""
        return paginate(db(), jobs.jobs_query(user(), **filters), **page)


@blp.route("/<uuid:job_id>/")
class JobById(MethodView):
    @blp.response(200, envelope(JobSchema))
    def get(self, job_id: uuid.UUID) -> dict[str, Any]:
        """Show a job's status, return code, timings and progress"""
        return ok(_WithProgress(jobs.get_job(db(), user(), job_id)))


@blp.route("/<uuid:job_id>/stdout/")
class JobStdout(MethodView):
    @blp.response(200, envelope(JobStdoutSchema))
    def get(self, job_id: uuid.UUID) -> dict[str, Any]:
        """Show the playbook output of a finished job (bounded)"""
        return ok(jobs.get_job(db(), user(), job_id))


@blp.route("/<uuid:job_id>/events/")
class JobEvents(MethodView):
    @blp.arguments(JobEventQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(JobEventSchema, many=True))
    def get(
        self, filters: dict[str, Any], page: dict[str, int], job_id: uuid.UUID
    ) -> dict[str, Any]:
        """Page through a job's ansible-runner events in order"""
        job = jobs.get_job(db(), user(), job_id)
        return paginate(db(), jobs.events_query(job, **filters), **page)
