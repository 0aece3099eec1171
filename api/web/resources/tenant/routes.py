"""Tenants: admins create them; members see theirs."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import PermissionDenied
from api.services import tenants
from api.services.permissions import Perm
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db
from api.web.envelope import PageArgsSchema, envelope, ok, paginate
from api.web.resources.tenant.schemas import TenantCreateSchema, TenantQuerySchema, TenantSchema

blp = Blueprint("tenant", __name__, url_prefix="/api/v1/tenant", description="Tenants")


@blp.route("/")
class Tenants(MethodView):
    @blp.arguments(TenantQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(TenantSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the tenants the caller may see"""
        return paginate(db(), tenants.tenants_query(user(), **filters), **page)

    @blp.arguments(TenantCreateSchema)
    @blp.response(201, envelope(TenantSchema))
    @audited("tenant.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Create a tenant (platform admins only)"""
        if not user().is_admin:
            raise PermissionDenied("only platform admins create tenants")
        tenant = tenants.create_tenant(db(), args["name"])
        note("tenant", tenant.id, tenant.id, after={"name": tenant.name, "status": tenant.status})
        commit()
        return ok(tenant)


@blp.route("/<uuid:tenant_id>/")
class TenantById(MethodView):
    @blp.response(200, envelope(TenantSchema))
    def get(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        """Show one tenant"""
        return ok(tenants.get_tenant(db(), user(), tenant_id, Perm.TENANT_VIEW))
