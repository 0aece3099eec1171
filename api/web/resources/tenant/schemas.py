"""Tenant schemas."""

import marshmallow as ma

from api.models import TenantStatus
from api.web.resources.common import enum_out, slug


class TenantCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=slug(63))


class TenantSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    status = enum_out(TenantStatus)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class TenantQuerySchema(ma.Schema):
    name = ma.fields.String(validate=slug(63))
