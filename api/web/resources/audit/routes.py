"""The API audit log: who did what to which object, with what outcome."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.models import AuditLog
from api.services import audit
from api.web.auth import user
from api.web.context import db
from api.web.contract import operation
from api.web.envelope import Keyset, envelope, ok, paginate_keyset
from api.web.resources.audit.schemas import (
    AuditEntrySchema,
    AuditPageArgsSchema,
    AuditQuerySchema,
)

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="API audit log")
NEWEST_FIRST = Keyset(AuditLog.id, descending=True)


@blp.route("/")
class AuditEntries(MethodView):
    @operation("audit_list")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.arguments(AuditPageArgsSchema, location="query")
    @blp.response(200, envelope(AuditEntrySchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
        """List the audit records the caller may read, newest first, filtered and paged

        Newest first by id (the order of the hash chain). `meta.pagination.next` is the
        `after` of the next page (null on the last): a page read with `?after=` costs the same
        however deep it is, where `?page=` skips the rows before it.
        """
        query = audit.audit_query(user(), audit.AuditFilter(**filters))
        return paginate_keyset(db(), query, NEWEST_FIRST, **page)


@blp.route("/<int:audit_id>/")
class AuditEntryById(MethodView):
    @operation("audit_get")
    @blp.response(200, envelope(AuditEntrySchema))
    def get(self, audit_id: int) -> dict[str, Any]:
        """Show one audit record (404 unless the caller may read it)"""
        return ok(audit.get_entry(db(), user(), audit_id))
