"""Resource usage across tenants, for platform admins (管理員可以查詢資源使用狀況)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import PermissionDenied
from api.models import Tenant
from api.services import quotas
from api.web.auth import user
from api.web.context import db, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, paginate
from api.web.resources.usage.schemas import UsageQuerySchema, UsageSchema

blp = Blueprint("usage", __name__, url_prefix="/api/v1/usage", description="Resource usage")


@blp.route("/")
class Usage(MethodView):
    @operation("usage_list", PermissionDenied)
    @blp.arguments(UsageQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(UsageSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List each tenant's limits and usage (platform admins only; filter by tenant_id)"""
        if not user().is_admin:
            raise PermissionDenied("only platform admins see usage across tenants")
        session = db()
        body = paginate(session, quotas.usage_query(user(), **filters), **page)
        tenants: list[Tenant] = list(body["data"])
        defaults = quotas.Amounts(**settings().quota_defaults)
        figures = quotas.usage_by_tenant(session, [t.id for t in tenants], defaults)
        body["data"] = [
            {
                "tenant_id": t.id,
                "tenant_name": t.name,
                "tenant_status": t.status,
                "resources": quotas.report(*figures[t.id]),
            }
            for t in tenants
        ]
        return body
