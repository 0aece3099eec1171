"""A VM's action history: every operation on it, whoever or whatever made it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.services import actions
from api.web.auth import user
from api.web.context import db
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, paginate
from api.web.resources.action.schemas import ACTION_EXAMPLE, ActionQuerySchema, ActionSchema

blp = Blueprint("vm_action", __name__, url_prefix="/api/v1/vm", description="A VM's action history")


@blp.route("/<uuid:vm_id>/action/")
class VMActions(MethodView):
    @operation("vm_action_list")
    @blp.arguments(ActionQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(ActionSchema, many=True), example=ACTION_EXAMPLE)
    def get(
        self, filters: dict[str, Any], page: dict[str, int], vm_id: uuid.UUID
    ) -> dict[str, Any]:
        """List a VM's actions, newest first: its jobs, hand runs and out-of-band changes

        Anyone who can view the VM reads them, a deleted VM's included. Filter by `action`
        (vm.stop, vm.reconcile, ops.run ...) and `result` (a job status, or `out_of_band`).
        """
        session = db()
        return paginate(session, actions.vm_history(session, user(), vm_id, **filters), **page)
