"""Snapshots of a VM: take, list, show, delete, and revert the VM to one."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import InvalidState, NameTaken, PermissionDenied, QuotaExceeded, ResourceBusy
from api.models import Snapshot
from api.services import quotas, snapshots
from api.services.permissions import Perm
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db, job_queue, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.idempotency import idempotent
from api.web.resources.snapshot.schemas import (
    SNAPSHOT_CREATE_EXAMPLE,
    SNAPSHOT_EXAMPLE,
    SnapshotCreateSchema,
    SnapshotQuerySchema,
    SnapshotSchema,
)

blp = Blueprint(
    "snapshot", __name__, url_prefix="/api/v1/vm", description="Snapshots of virtual machines"
)

CHANGE_ERRORS = (PermissionDenied, InvalidState, ResourceBusy)


def _queued(done: snapshots.Queued) -> dict[str, Any]:
    """Audit what the request did, queue its job after the commit, answer the snapshot."""
    job, snapshot = done.job, done.snapshot
    note(
        "vm",
        job.vm_id,
        job.tenant_id,
        before={"status": done.before},
        after={"status": done.after, "snapshot_status": snapshot.status},
        snapshot_id=snapshot.id,
        snapshot_name=snapshot.name,
        job_id=job.id,
    )
    session = db()
    job_queue().after_commit(session, job)
    commit()
    session.expire_all()  # job_id is derived: read it as committed
    return ok(session.get_one(Snapshot, snapshot.id))


@blp.route("/<uuid:vm_id>/snapshot/")
class Snapshots(MethodView):
    @operation("snapshot_list")
    @blp.arguments(SnapshotQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(SnapshotSchema, many=True))
    def get(
        self, filters: dict[str, Any], page: dict[str, int], vm_id: uuid.UUID
    ) -> dict[str, Any]:
        """List a VM's snapshots, newest first (vm.view; deleted ones with status=deleted)"""
        query = snapshots.snapshots_query(db(), user(), vm_id, filters.get("status"))
        return paginate(db(), query, **page)

    @idempotent
    @operation("snapshot_create", *CHANGE_ERRORS, NameTaken, QuotaExceeded)
    @blp.arguments(SnapshotCreateSchema, example=SNAPSHOT_CREATE_EXAMPLE)
    @blp.response(202, envelope(SnapshotSchema), example=SNAPSHOT_EXAMPLE)
    @audited("vm.snapshot")
    def post(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Take a snapshot of a running or stopped VM (vm.change): `creating` until its job ran

        A libvirt internal snapshot of the VM's qcow2 disk, and of its memory when the VM runs.
        It counts against the tenant's `snapshots` quota until it is deleted. The VM shows
        `snapshotting` while the job is queued or running.
        """
        note("vm", vm_id)
        defaults = quotas.Amounts(**settings().quota_defaults)
        done = snapshots.request_create(
            db(),
            user(),
            vm_id,
            args["name"],
            args["description"],
            request_id=request_id(),
            quota_defaults=defaults,
        )
        return _queued(done)


@blp.route("/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/")
class SnapshotById(MethodView):
    @operation("snapshot_get")
    @blp.response(200, envelope(SnapshotSchema), example=SNAPSHOT_EXAMPLE)
    def get(self, vm_id: uuid.UUID, snapshot_id: uuid.UUID) -> dict[str, Any]:
        """Show one snapshot of a VM (vm.view), deleted ones included"""
        return ok(snapshots.get_snapshot(db(), user(), vm_id, snapshot_id, Perm.VM_VIEW))

    @idempotent
    @operation("snapshot_delete", *CHANGE_ERRORS)
    @blp.response(202, envelope(SnapshotSchema))
    @audited("vm.snapshot_delete")
    def delete(self, vm_id: uuid.UUID, snapshot_id: uuid.UUID) -> dict[str, Any]:
        """Delete a ready (or failed) snapshot (vm.delete): `deleting` until its job ran"""
        note("vm", vm_id)
        done = snapshots.request_delete(db(), user(), vm_id, snapshot_id, request_id())
        return _queued(done)


@blp.route("/<uuid:vm_id>/snapshot/<uuid:snapshot_id>/revert/")
class SnapshotRevert(MethodView):
    @idempotent
    @operation("snapshot_revert", *CHANGE_ERRORS)
    @blp.response(202, envelope(SnapshotSchema))
    @audited("vm.revert")
    def post(self, vm_id: uuid.UUID, snapshot_id: uuid.UUID) -> dict[str, Any]:
        """Revert a running or stopped VM to a ready snapshot (vm.change), by a queued job

        The VM's disk becomes the snapshot's, and the VM ends in the power state the snapshot
        was taken in (its `power_state`): a snapshot taken running is resumed with the memory
        it had then, even if the VM was stopped; one taken stopped leaves the VM stopped, a
        running VM powered off without a shutdown. What the VM wrote since is lost. The VM
        shows `reverting` while the job is queued or running; the snapshot stays.
        """
        note("vm", vm_id)
        done = snapshots.request_revert(db(), user(), vm_id, snapshot_id, request_id())
        return _queued(done)
