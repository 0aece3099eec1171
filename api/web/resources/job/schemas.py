"""Job and job-event schemas."""

from typing import ClassVar

import marshmallow as ma

from api.models import JobKind, JobStatus
from api.web.envelope import PageArgsSchema
from api.web.resources.common import enum_out

COUNTER_MAX = 2**31 - 1  # job_event.counter is an INTEGER

JOB_EXAMPLE = {
    "status": "success",
    "data": {
        "id": "c428f87d-6f6b-4e02-8089-c180cbd6e52a",
        "kind": "vm.create",
        "status": "running",
        "tenant_id": "1ed538eb-3c1c-47c7-baac-e8ba056b36aa",
        "vm_id": "00b8c0ba-0349-4dba-a2b1-8c38c04a6337",
        "baremetal_id": None,
        "playbook": "vm_create.yml",
        "host": "kvm-01",
        "rc": None,
        "explanation": None,
        "artifacts": {},
        "request_id": "req-create-1",
        "progress": {
            "events": 6,
            "host_tasks_done": 2,
            "tasks_total": 24,
            "current_task": "Start the domain",
        },
        "created_at": "2026-11-26T14:36:02.515729+00:00",
        "started_at": "2026-11-26T14:36:03.101772+00:00",
        "finished_at": None,
        "cancel_requested_at": None,
    },
    "meta": {"request_id": "b0b5a3c1d2e34f5a8b9c0d1e2f3a4b5c"},
}


class ProgressSchema(ma.Schema):
    events = ma.fields.Integer(required=True, metadata={"description": "events stored so far"})
    host_tasks_done = ma.fields.Integer(
        required=True, metadata={"description": "host task results stored so far"}
    )
    tasks_total = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "an estimate of host_tasks_done at the end: the host task results of "
            "the latest successful job of the same kind and playbook (a successful job: its "
            "own); null when there is none. A run that takes another branch may end above or "
            "below it"
        },
    )
    current_task = ma.fields.String(allow_none=True)


class JobSchema(ma.Schema):
    # Progress is computed for one job (GET /job/{id}/, cancel), not for every job of a list.
    optional_output: ClassVar[frozenset[str]] = frozenset({"progress"})

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
    cancel_requested_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "a cancel of the running job was asked: its worker stops it"},
    )


class JobStdoutSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    stdout = ma.fields.String(dump_only=True)


class JobStdoutQuerySchema(ma.Schema):
    format = ma.fields.String(
        validate=ma.validate.OneOf(("json", "txt")),
        metadata={
            "description": "txt: the output as text/plain (so does Accept: text/plain); "
            "json (default): the envelope"
        },
    )


class JobEventStreamQuerySchema(ma.Schema):
    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0, max=COUNTER_MAX),
        metadata={"description": "send the events whose counter is above it; Last-Event-ID wins"},
    )


class LastEventIdSchema(ma.Schema):
    last_event_id = ma.fields.Integer(
        data_key="Last-Event-ID",
        validate=ma.validate.Range(min=0, max=COUNTER_MAX),
        metadata={"description": "the id (counter) of the last event received: resume after it"},
    )


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


class JobEventPageArgsSchema(PageArgsSchema):
    after = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=COUNTER_MAX),
        metadata={
            "description": "a counter (meta.pagination.next): list the events after it only; "
            "its first page reads as fast however deep the cursor is"
        },
    )
