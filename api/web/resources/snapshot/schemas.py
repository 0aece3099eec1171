"""Snapshot schemas: the name reaches libvirt, so it is a strict slug like a VM's."""

import marshmallow as ma

from api.models import SnapshotStatus
from api.web.resources.common import enum_out, slug
from api.web.resources.vm.schemas import VM_NAME_MAX

SNAPSHOT_DESCRIPTION_MAX = 255
# Printable text: no control characters (line breaks and tabs included).
NO_CONTROL_RE = r"^[^\x00-\x1f\x7f]*\Z"

SNAPSHOT_CREATE_EXAMPLE = {"name": "before-upgrade", "description": "kernel 6.1 still"}
SNAPSHOT_EXAMPLE = {
    "status": "success",
    "data": {
        "id": "5d0f3c36-4f0e-4b8e-9d57-3a3f5c2b1e07",
        "tenant_id": "1ed538eb-3c1c-47c7-baac-e8ba056b36aa",
        "vm_id": "00b8c0ba-0349-4dba-a2b1-8c38c04a6337",
        "name": "before-upgrade",
        "description": "kernel 6.1 still",
        "status": "creating",
        "status_reason": None,
        "power_state": None,
        "job_id": "9a1e6f7c-2b3d-4c5e-8f90-a1b2c3d4e5f6",
        "created_at": "2026-11-26T15:02:11.120034+00:00",
        "updated_at": "2026-11-26T15:02:11.120034+00:00",
        "deleted_at": None,
    },
    "meta": {"request_id": "req-snapshot-1"},
}


class SnapshotCreateSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=slug(VM_NAME_MAX),
        metadata={"description": "unique among the VM's snapshots that are not deleted"},
    )
    description = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=[
            ma.validate.Length(max=SNAPSHOT_DESCRIPTION_MAX),
            ma.validate.Regexp(NO_CONTROL_RE, error="must not contain control characters"),
        ],
    )


class SnapshotSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    vm_id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    description = ma.fields.String(dump_only=True, allow_none=True)
    status = enum_out(SnapshotStatus)
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    power_state = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "enum": ["running", "stopped", None],
            "description": (
                "the VM's power state when the snapshot was taken (null until it is ready): "
                "a revert ends the VM in it"
            ),
        },
    )
    job_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the snapshot's latest job: its take, its delete or a revert"},
    )
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)
    deleted_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class SnapshotQuerySchema(ma.Schema):
    status = ma.fields.Enum(
        SnapshotStatus,
        by_value=True,
        metadata={"description": "only snapshots in this status (default: all but deleted)"},
    )
