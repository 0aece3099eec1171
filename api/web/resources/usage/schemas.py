"""Usage report schemas."""

import marshmallow as ma

from api.models import TenantStatus
from api.web.resources.common import enum_out
from api.web.resources.tenant.schemas import QuotaSchema


class UsageSchema(QuotaSchema):
    tenant_name = ma.fields.String(required=True)
    tenant_status = enum_out(TenantStatus, required=True)


class UsageQuerySchema(ma.Schema):
    tenant_id = ma.fields.UUID()
