"""Tenant, member, grant and quota schemas."""

from typing import Any, ClassVar

import marshmallow as ma

from api.models import QUOTA_RESOURCES, TenantRole, TenantStatus
from api.services.permissions import GRANTABLE, ObjectType
from api.web.resources.common import bounded_int, enum_out, slug

QUOTA_MAX = 100_000_000  # a sanity bound for a limit, far above any real tenant
TENANT_ID_EXAMPLE = "1ed538eb-3c1c-47c7-baac-e8ba056b36aa"
TENANT_EXAMPLE = {
    "status": "success",
    "data": {
        "id": TENANT_ID_EXAMPLE,
        "name": "acme",
        "status": "active",
        "created_at": "2026-11-26T14:35:47.674729+00:00",
        "updated_at": "2026-11-26T14:35:47.674729+00:00",
    },
    "meta": {"request_id": "66a4cd6a34d14c62a75b1a808ea613ae"},
}
QUOTA_EXAMPLE = {
    "status": "success",
    "data": {
        "tenant_id": TENANT_ID_EXAMPLE,
        "resources": {
            "vcpus": {"limit": 32, "used": 2, "available": 30},
            "ram_mb": {"limit": 65536, "used": 1024, "available": 64512},
            "disk_gb": {"limit": 1000, "used": 20, "available": 980},
            "vms": {"limit": 10, "used": 2, "available": 8},
            "snapshots": {"limit": 10, "used": 0, "available": 10},
        },
    },
    "meta": {"request_id": "8dcf1b03c4e84e3592a07cac9f435105"},
}


class TenantCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=slug(63))


class TenantUpdateSchema(ma.Schema):
    """Only the name changes; status is read-only (422)."""

    name = ma.fields.String(required=True, validate=slug(63))


class TenantSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    status = enum_out(TenantStatus)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class TenantQuerySchema(ma.Schema):
    name = ma.fields.String(validate=slug(63))


class MemberCreateSchema(ma.Schema):
    user_id = ma.fields.UUID(required=True)
    role = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([r.value for r in TenantRole]),
        metadata={"enum": [r.value for r in TenantRole]},
    )


class MemberSchema(ma.Schema):
    user_id = ma.fields.UUID(dump_only=True)
    username = ma.fields.String(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    role = enum_out(TenantRole)
    created_at = ma.fields.DateTime(dump_only=True)


class MemberRemovedSchema(ma.Schema):
    user_id = ma.fields.UUID(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    role = enum_out(TenantRole)
    grants_dropped = ma.fields.Integer(
        dump_only=True, metadata={"description": "the user's grants inside the tenant, removed"}
    )
    delegated_grants_revoked = ma.fields.Integer(
        dump_only=True,
        metadata={
            "description": "other users' grants that were delegated from the user's grants or "
            "role (transitively), revoked with them; the audit row lists them"
        },
    )


def grant_args_schema(object_type: ObjectType) -> type[ma.Schema]:
    """{"user_id", "permission"}; permission must be grantable on object_type (else 422)."""
    grantable = sorted(p.value for p in GRANTABLE[object_type])
    fields: dict[str, ma.fields.Field[Any]] = {
        "user_id": ma.fields.UUID(required=True),
        "permission": ma.fields.String(
            required=True,
            validate=ma.validate.OneOf(grantable),
            metadata={"enum": grantable, "description": f"grantable on a {object_type.value}"},
        ),
    }
    name = f"{object_type.value.capitalize()}GrantArgs"
    return ma.Schema.from_dict(fields, name=name)


TenantGrantArgsSchema = grant_args_schema(ObjectType.TENANT)


class GrantSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    user_id = ma.fields.UUID(dump_only=True)
    permission = ma.fields.String(dump_only=True)
    object_type = ma.fields.String(dump_only=True, metadata={"enum": [t.value for t in ObjectType]})
    object_id = ma.fields.UUID(dump_only=True)
    tenant_id = ma.fields.UUID(dump_only=True)
    granted_by_id = ma.fields.UUID(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class ResourceSchema(ma.Schema):
    limit = ma.fields.Integer(required=True)
    used = ma.fields.Integer(required=True)
    available = ma.fields.Integer(required=True, metadata={"description": "max(limit - used, 0)"})


class QuotaSchema(ma.Schema):
    tenant_id = ma.fields.UUID(required=True)
    resources = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(QUOTA_RESOURCES)),
        values=ma.fields.Nested(ResourceSchema),
        required=True,
        metadata={"description": f"one entry per resource: {', '.join(QUOTA_RESOURCES)}"},
    )


class QuotaLimitsSchema(ma.Schema):
    """The limits to set; resources left out keep theirs. Usage is read-only (422)."""

    openapi_extra: ClassVar[dict[str, int]] = {"minProperties": 1}

    vcpus = bounded_int(0, QUOTA_MAX)
    ram_mb = bounded_int(0, QUOTA_MAX, metadata={"description": "MiB"})
    disk_gb = bounded_int(0, QUOTA_MAX, metadata={"description": "GiB"})
    vms = bounded_int(0, QUOTA_MAX)
    snapshots = bounded_int(0, QUOTA_MAX)

    @ma.validates_schema
    def _not_empty(self, data: dict[str, int], **_kwargs: object) -> None:
        if not data:
            raise ma.ValidationError("give at least one limit", "_schema")


class QuotaCheckSchema(ma.Schema):
    vcpus = bounded_int(0, QUOTA_MAX, required=True)
    ram_mb = bounded_int(0, QUOTA_MAX, required=True, metadata={"description": "MiB"})
    disk_gb = bounded_int(0, QUOTA_MAX, required=True, metadata={"description": "GiB"})
    vms = bounded_int(0, QUOTA_MAX, load_default=1, metadata={"description": "default 1"})


class QuotaExceededSchema(ma.Schema):
    resource = ma.fields.String(required=True)
    requested = ma.fields.Integer(required=True)
    used = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)


class QuotaCheckResultSchema(ma.Schema):
    fits = ma.fields.Boolean(required=True)
    exceeded = ma.fields.List(ma.fields.Nested(QuotaExceededSchema), required=True)
