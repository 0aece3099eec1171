"""Audit log schemas."""

import datetime as dt
from typing import Any

import marshmallow as ma

from api.models import AuditOutcome
from api.services.audit import BIGINT_MAX
from api.web.envelope import PageArgsSchema
from api.web.resources.common import enum_out


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    actor_id = ma.fields.UUID(dump_only=True, allow_none=True)
    actor_username = ma.fields.String(dump_only=True, allow_none=True)
    tenant_id = ma.fields.UUID(dump_only=True, allow_none=True)
    action = ma.fields.String(dump_only=True, metadata={"description": "e.g. vm.create"})
    object_type = ma.fields.String(dump_only=True, allow_none=True)
    object_id = ma.fields.String(dump_only=True, allow_none=True)
    outcome = enum_out(AuditOutcome)
    status_code = ma.fields.Integer(dump_only=True)
    error_code = ma.fields.String(dump_only=True, allow_none=True)
    request_id = ma.fields.String(dump_only=True, allow_none=True)
    client_addr = ma.fields.String(dump_only=True, allow_none=True)
    changes = ma.fields.Dict(
        dump_only=True,
        metadata={"description": '{"before": {...}, "after": {...}, "details": {...}}'},
    )


class AuditQuerySchema(ma.Schema):
    tenant_id = ma.fields.UUID()
    actor_id = ma.fields.UUID()
    object_type = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    object_id = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    action = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    outcome = ma.fields.Enum(AuditOutcome, by_value=True)
    request_id = ma.fields.String(validate=ma.validate.Length(min=1, max=128))
    # ISO 8601; without an offset UTC is meant (send '+' as %2B, or use 'Z').
    since = ma.fields.AwareDateTime(
        default_timezone=dt.UTC, metadata={"description": "from this time on (inclusive)"}
    )
    until = ma.fields.AwareDateTime(
        default_timezone=dt.UTC, metadata={"description": "before this time (exclusive)"}
    )

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and since > until:
            raise ma.ValidationError("must not be later than until", field_name="since")


class AuditPageArgsSchema(PageArgsSchema):
    after = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=BIGINT_MAX),
        metadata={
            "description": "an audit id (meta.pagination.next): list the rows after it only, "
            "i.e. older (lower ids); its first page reads as fast however deep the cursor is"
        },
    )
