"""Baremetal hosts: as the inventory declares them, with their lifecycle state (admins only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import InvalidState, NotFound, PermissionDenied
from api.models import Baremetal, HostState
from api.services import hosts
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db, inventory_watcher, job_queue, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.resources.common import enum_out
from api.web.resources.job.schemas import JobSchema

blp = Blueprint(
    "baremetal", __name__, url_prefix="/api/v1/baremetal", description="Baremetal KVM hosts"
)


def _resources(description: str, *, ratios: bool = False) -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(allow_none=True) if ratios else ma.fields.Integer(allow_none=True),
        dump_only=True,
        metadata={"description": description},
    )


class UnmanagedDomainSchema(ma.Schema):
    name = ma.fields.String(dump_only=True)
    uuid = ma.fields.String(dump_only=True)
    state = ma.fields.String(dump_only=True, metadata={"description": "as virsh names it"})
    vcpus = ma.fields.Integer(dump_only=True)
    ram_mb = ma.fields.Integer(dump_only=True, metadata={"description": "maximum memory, MiB"})


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
        ma.fields.Nested(UnmanagedDomainSchema),
        dump_only=True,
        metadata={"description": "domains libvirt lists that match no VM, never adopted"},
    )
    domains_checked_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    capacity_source = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "where capacity came from: inventory (virtflow_capacity_* vars), "
            "discovered (discovered x ratio - reserved), mixed, or none"
        },
    )
    capacity = _resources("placeable {vcpus, ram_mb, disk_gb}: the capacity_* fields")
    declared = _resources("the inventory's virtflow_capacity_* vars; null: not set")
    allocated = _resources("what the host's VMs that are not deleted take")
    unmanaged = _resources(
        "what its unmanaged domains take (vCPUs and RAM as libvirt defines them; disk unknown: 0)"
    )
    free = _resources(
        "capacity - allocated - unmanaged (negative when the capacity shrank below it)"
    )
    vm_count = ma.fields.Integer(dump_only=True, metadata={"description": "VMs not deleted"})
    allocation_ratios = _resources(
        "{cpu, ram, disk}: the settings with this host's host_vars overrides", ratios=True
    )
    reserved = _resources("{vcpus, ram_mb, disk_gb} kept for the host itself")
    overrides = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(),
        dump_only=True,
        metadata={"description": "the host_vars virtflow_<ratio or reserved> overrides"},
    )
    discovered = ma.fields.Dict(
        keys=ma.fields.String(),
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "what host_prepare.yml found: cpus, memory_mb, image_dir_free_gb, "
            "libvirt_version, qemu_version, virt_type; null: never prepared"
        },
    )
    discovered_at = ma.fields.DateTime(dump_only=True, allow_none=True)


def _shown(found: list[Baremetal]) -> list[dict[str, Any]]:
    """Hosts with their usage (one GROUP BY for all of them) and effective ratios."""
    return hosts.describe_all(db(), found, settings().capacity_policy)


def _one(host: Baremetal) -> dict[str, Any]:
    return ok(_shown([host])[0])


class MaintenanceSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)


@blp.route("/")
class BaremetalHosts(MethodView):
    @operation("baremetal_list", PermissionDenied)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(BaremetalSchema, many=True))
    def get(self, page: dict[str, int]) -> dict[str, Any]:
        """List baremetal hosts with their state (admins only)"""
        hosts.require_admin(user())
        page_of = paginate(db(), select(Baremetal).order_by(Baremetal.name), **page)
        page_of["data"] = _shown(list(page_of["data"]))
        return page_of


@blp.route("/sync/")
class BaremetalSync(MethodView):
    @operation("baremetal_sync", PermissionDenied)
    @audited("baremetal.sync")
    @blp.response(200, envelope(BaremetalSchema, many=True, paged=False))
    def post(self) -> dict[str, Any]:
        """Read the inventory now: new hosts appear as `new`, removed ones leave (admins only)"""
        hosts.require_admin(user())
        note("baremetal")
        inventory_watcher().refresh(db(), force=True)
        commit()
        return ok(_shown(list(db().scalars(select(Baremetal).order_by(Baremetal.name)))))


@blp.route("/<uuid:host_id>/")
class BaremetalById(MethodView):
    @operation("baremetal_get", PermissionDenied)
    @blp.response(200, envelope(BaremetalSchema))
    def get(self, host_id: uuid.UUID) -> dict[str, Any]:
        """Show one baremetal host (admins only)"""
        hosts.require_admin(user())
        host = db().get(Baremetal, host_id)
        if host is None:
            raise NotFound()
        return _one(host)


@blp.route("/<uuid:host_id>/prepare/")
class BaremetalPrepare(MethodView):
    @operation("baremetal_prepare", PermissionDenied, InvalidState)
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


def _change(
    host_id: uuid.UUID, field: str, apply: Callable[[Session, Baremetal], object]
) -> dict[str, Any]:
    """An admin's change of one host attribute, locked, audited with its before and after."""
    hosts.require_admin(user())
    session = db()
    note("baremetal", host_id)
    host = hosts.locked_host(session, host_id)
    before = getattr(host, field)
    apply(session, host)
    note("baremetal", host_id, before={field: before}, after={field: getattr(host, field)})
    commit()
    return _one(host)


@blp.route("/<uuid:host_id>/maintenance/")
class BaremetalMaintenance(MethodView):
    @operation("baremetal_maintenance_set", PermissionDenied, InvalidState)
    @audited("baremetal.maintenance")
    @blp.arguments(MaintenanceSchema)
    @blp.response(200, envelope(BaremetalSchema))
    def post(self, args: dict[str, Any], host_id: uuid.UUID) -> dict[str, Any]:
        """Take the host out of placement, or give it back (existing VMs are still managed)"""
        return _change(host_id, "state", lambda s, h: hosts.set_maintenance(s, h, args["enabled"]))


class DedicateSchema(ma.Schema):
    tenant_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "null: shared again"}
    )


@blp.route("/<uuid:host_id>/dedicate/")
class BaremetalDedicate(MethodView):
    @operation("baremetal_dedicate", PermissionDenied)
    @audited("baremetal.dedicate")
    @blp.arguments(DedicateSchema)
    @blp.response(200, envelope(BaremetalSchema))
    def post(self, args: dict[str, Any], host_id: uuid.UUID) -> dict[str, Any]:
        """Dedicate the host to one tenant (only its VMs land there), or share it again"""
        return _change(
            host_id, "dedicated_tenant_id", lambda s, h: hosts.dedicate(s, h, args["tenant_id"])
        )
