"""VM action history schemas."""

import marshmallow as ma

from api.services.actions import RESULTS

ACTION_EXAMPLE = {
    "status": "success",
    "data": [
        {
            "action": "vm.reconcile",
            "request_id": None,
            "actor": None,
            "source": "reconciler",
            "requested_at": "2026-11-26T15:02:11.402118+00:00",
            "started_at": "2026-11-26T15:02:11.402118+00:00",
            "finished_at": "2026-11-26T15:02:11.402118+00:00",
            "result": "out_of_band",
            "message": "libvirt reported the domain shutoff",
            "status_before": "running",
            "status_after": "stopped",
            "job_id": "5d0f3c2e-8a61-4a7e-9a0b-2f4d9c1e7b36",
            "audit_id": 4812,
        },
        {
            "action": "vm.create",
            "request_id": "req-create-1",
            "actor": {"id": "7b1f4a5e-2c8d-4e1a-9f3b-6d2e8c4a1b07", "username": "alice"},
            "source": "api",
            "requested_at": "2026-11-26T14:36:02.515729+00:00",
            "started_at": "2026-11-26T14:36:03.101772+00:00",
            "finished_at": "2026-11-26T14:36:41.877304+00:00",
            "result": "successful",
            "message": None,
            "status_before": None,
            "status_after": None,
            "job_id": "c428f87d-6f6b-4e02-8089-c180cbd6e52a",
            "audit_id": None,
        },
    ],
    "meta": {
        "request_id": "b0b5a3c1d2e34f5a8b9c0d1e2f3a4b5c",
        "pagination": {"page": 1, "per_page": 50, "total": 2, "pages": 1},
    },
}


class ActorSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)


class ActionSchema(ma.Schema):
    action = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "the job's kind, or the audit action: vm.create, vm.stop, "
            "vm.reconcile, vm.force_delete, ops.run ..."
        },
    )
    request_id = ma.fields.String(dump_only=True, allow_none=True)
    actor = ma.fields.Nested(
        ActorSchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "the user who asked; null for the reconciler and hand runs"},
    )
    source = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "`api` (a request, by `actor`), `reconciler` (libvirt changed "
            "without VirtFlow) or `ops:<OS user>` (a hand run of a playbook)"
        },
    )
    requested_at = ma.fields.DateTime(dump_only=True)
    started_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    finished_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    result = ma.fields.String(dump_only=True, metadata={"enum": list(RESULTS)})
    message = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the job's explanation, or what a change without a job saw"},
    )
    status_before = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "a change without a job: the VM's status before it"},
    )
    status_after = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "a change without a job: the VM's status after it"},
    )
    job_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "the job that ran it; for vm.reconcile the job whose report found "
            "the change; null for a force delete"
        },
    )
    audit_id = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "the audit row that recorded a change without a job, or a hand run"
        },
    )


class ActionQuerySchema(ma.Schema):
    action = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    result = ma.fields.String(validate=ma.validate.OneOf(RESULTS))
