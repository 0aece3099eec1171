"""Baremetal hosts as the inventory declares them, with what is allocated on each."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from api.errors import PermissionDenied
from api.models import Baremetal
from api.web.auth import user
from api.web.context import db, inventory_watcher
from api.web.envelope import PageArgsSchema, envelope, paginate

blp = Blueprint(
    "baremetal", __name__, url_prefix="/api/v1/baremetal", description="Baremetal KVM hosts"
)


class BaremetalSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    libvirt_uri = ma.fields.String(dump_only=True)
    capacity_vcpus = ma.fields.Integer(dump_only=True)
    capacity_ram_mb = ma.fields.Integer(dump_only=True)
    capacity_disk_gb = ma.fields.Integer(dump_only=True)
    in_inventory = ma.fields.Boolean(dump_only=True)
    synced_at = ma.fields.DateTime(dump_only=True)


@blp.route("/")
class BaremetalHosts(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(BaremetalSchema, many=True))
    def get(self, page: dict[str, int]) -> dict[str, Any]:
        """List baremetal hosts, re-read from the inventory if ops edited it (admins only)"""
        if not user().is_admin:
            raise PermissionDenied("only platform admins see baremetal hosts")
        inventory_watcher().refresh(db())
        db().commit()
        return paginate(db(), select(Baremetal).order_by(Baremetal.name), **page)
