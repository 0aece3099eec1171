"""Baremetal hosts: as the inventory declares them, with their lifecycle state (admins only)."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from api.errors import NotFound
from api.models import Baremetal, HostState
from api.services import hosts
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db, inventory_watcher, job_queue
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.resources.common import enum_out
from api.web.resources.job.schemas import JobSchema

blp = Blueprint(
    "baremetal", __name__, url_prefix="/api/v1/baremetal", description="Baremetal KVM hosts"
)


class BaremetalSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    state = enum_out(HostState)
    state_reason = ma.fields.String(dump_only=True, allow_none=True)
    prepared_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    libvirt_uri = ma.fields.String(dump_only=True)
    capacity_vcpus = ma.fields.Integer(dump_only=True)
    capacity_ram_mb = ma.fields.Integer(dump_only=True)
    capacity_disk_gb = ma.fields.Integer(dump_only=True)
    in_inventory = ma.fields.Boolean(dump_only=True)
    dedicated_tenant_id = ma.fields.UUID(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the one tenant whose VMs the host takes; null: shared"},
    )
    synced_at = ma.fields.DateTime(dump_only=True)
    unmanaged_domains = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        dump_only=True,
        metadata={"description": "domains libvirt lists that match no VM: {name, uuid, state}"},
    )
    domains_checked_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class MaintenanceSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)


@blp.route("/")
class BaremetalHosts(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(BaremetalSchema, many=True))
    def get(self, page: dict[str, int]) -> dict[str, Any]:
        """List baremetal hosts with their state (admins only)"""
        hosts.require_admin(user())
        return paginate(db(), select(Baremetal).order_by(Baremetal.name), **page)


@blp.route("/sync/")
class BaremetalSync(MethodView):
    @audited("baremetal.sync")
    @blp.response(200, envelope(BaremetalSchema, many=True))
    def post(self) -> dict[str, Any]:
        """Read the inventory now: new hosts appear as `new`, removed ones leave (admins only)"""
        hosts.require_admin(user())
        note("baremetal")
        inventory_watcher().refresh(db(), force=True)
        commit()
        return ok(list(db().scalars(select(Baremetal).order_by(Baremetal.name))))


@blp.route("/<uuid:host_id>/")
class BaremetalById(MethodView):
    @blp.response(200, envelope(BaremetalSchema))
    def get(self, host_id: uuid.UUID) -> dict[str, Any]:
        """Show one baremetal host (admins only)"""
        hosts.require_admin(user())
        host = db().get(Baremetal, host_id)
        if host is None:
            raise NotFound()
        return ok(host)


@blp.route("/<uuid:host_id>/prepare/")
class BaremetalPrepare(MethodView):
    @audited("baremetal.prepare")
    @blp.response(202, envelope(JobSchema))
    def post(self, host_id: uuid.UUID) -> dict[str, Any]:
        """Run host_prepare.yml on the host as a job; it is placeable once that succeeds"""
        hosts.require_admin(user())
        session = db()
        note("baremetal", host_id)
        host = hosts.locked_host(session, host_id)
        before = host.state
        job = hosts.request_prepare(session, host, request_id())
        note("baremetal", host_id, before={"state": before}, after={"state": host.state})
        note(job_id=job.id)
        job_queue().after_commit(session, job)
        commit()
        return ok(job)


@blp.route("/<uuid:host_id>/maintenance/")
class BaremetalMaintenance(MethodView):
    @audited("baremetal.maintenance")
    @blp.arguments(MaintenanceSchema)
    @blp.response(200, envelope(BaremetalSchema))
    def post(self, args: dict[str, Any], host_id: uuid.UUID) -> dict[str, Any]:
        """Take the host out of placement, or give it back (existing VMs are still managed)"""
        hosts.require_admin(user())
        session = db()
        note("baremetal", host_id)
        host = hosts.locked_host(session, host_id)
        before = host.state
        hosts.set_maintenance(session, host, args["enabled"])
        note("baremetal", host_id, before={"state": before}, after={"state": host.state})
        commit()
        return ok(host)


class DedicateSchema(ma.Schema):
    tenant_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "null: shared again"}
    )


@blp.route("/<uuid:host_id>/dedicate/")
class BaremetalDedicate(MethodView):
    @audited("baremetal.dedicate")
    @blp.arguments(DedicateSchema)
    @blp.response(200, envelope(BaremetalSchema))
    def post(self, args: dict[str, Any], host_id: uuid.UUID) -> dict[str, Any]:
        """Dedicate the host to one tenant (only its VMs land there), or share it again"""
        hosts.require_admin(user())
        session = db()
        note("baremetal", host_id)
        host = hosts.locked_host(session, host_id)
        before = host.dedicated_tenant_id
        hosts.dedicate(session, host, args["tenant_id"])
        after = host.dedicated_tenant_id
        note(
            "baremetal",
            host_id,
            before={"dedicated_tenant_id": before},
            after={"dedicated_tenant_id": after},
        )
        commit()
        return ok(host)
