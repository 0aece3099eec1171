"""Job and job-event schemas."""

import marshmallow as ma

from api.models import JobKind, JobStatus
from api.web.resources.common import enum_out


class ProgressSchema(ma.Schema):
    events = ma.fields.Integer(required=True)
    host_tasks_done = ma.fields.Integer(required=True)
    current_task = ma.fields.String(allow_none=True)


class JobSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    kind = enum_out(JobKind)
    status = enum_out(JobStatus)
    tenant_id = ma.fields.UUID(dump_only=True, allow_none=True)
    vm_id = ma.fields.UUID(dump_only=True, allow_none=True)
    baremetal_id = ma.fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "the host of a host job"}
    )
    playbook = ma.fields.String(dump_only=True)
    host = ma.fields.String(attribute="limit", dump_only=True)
    rc = ma.fields.Integer(dump_only=True, allow_none=True)
    explanation = ma.fields.String(dump_only=True, allow_none=True)
    artifacts = ma.fields.Dict(dump_only=True)
    request_id = ma.fields.String(dump_only=True, allow_none=True)
    progress = ma.fields.Nested(ProgressSchema, dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    started_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    finished_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class JobStdoutSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    stdout = ma.fields.String(dump_only=True)


class JobQuerySchema(ma.Schema):
    vm_id = ma.fields.UUID()
    tenant_id = ma.fields.UUID()
    status = ma.fields.Enum(JobStatus, by_value=True)


class JobEventSchema(ma.Schema):
    counter = ma.fields.Integer(dump_only=True)
    event = ma.fields.String(dump_only=True)
    play = ma.fields.String(dump_only=True, allow_none=True)
    task = ma.fields.String(dump_only=True, allow_none=True)
    host = ma.fields.String(dump_only=True, allow_none=True)
    status = ma.fields.String(dump_only=True, allow_none=True)
    changed = ma.fields.Boolean(dump_only=True)
    stdout = ma.fields.String(dump_only=True)
    summary = ma.fields.Dict(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class JobEventQuerySchema(ma.Schema):
    host = ma.fields.String(validate=ma.validate.Length(max=255))
    event = ma.fields.String(validate=ma.validate.Length(max=64))
