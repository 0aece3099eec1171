"""Virtual machines: request creation, look up, stop, start, refresh, delete, and grants."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import (
    AlreadyExists,
    Conflict,
    DiskTooSmall,
    FreshTokenRequired,
    InvalidState,
    NameTaken,
    NoCapacity,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ResourceBusy,
    SchedulerUnavailable,
)
from api.models import VM, Image, JobKind
from api.services import (
    force_delete,
    guests,
    libvirt_state,
    lifecycle,
    memberships,
    quotas,
    resize,
    scheduler,
    vms,
)
from api.services.permissions import Perm
from api.web.audit import act_as, audited, note
from api.web.auth import user
from api.web.context import commit, db, job_queue, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.idempotency import idempotent
from api.web.resources.job.schemas import JobSchema
from api.web.resources.tenant.routes import grant_view, revoke_view
from api.web.resources.tenant.schemas import GrantSchema
from api.web.resources.vm.schemas import (
    VM_CREATE_EXAMPLE,
    VM_EXAMPLE,
    VM_RESIZE_EXAMPLE,
    SSHRouteSchema,
    VMCreateSchema,
    VMDeleteArgsSchema,
    VMGrantArgsSchema,
    VMQuerySchema,
    VMRebootSchema,
    VMResizeSchema,
    VMSchema,
    VMStartSchema,
    VMStopSchema,
)

blp = Blueprint("vm", __name__, url_prefix="/api/v1/vm", description="Virtual machines")

# What a create can meet: the tenant (404/403/409), the image (404/409/422), the name, the
# quota, placement (and the host's SSH ports), a race.
CREATE_ERRORS = (
    NotFound,
    PermissionDenied,
    InvalidState,
    DiskTooSmall,
    NameTaken,
    QuotaExceeded,
    NoCapacity,
    Conflict,
    SchedulerUnavailable,
)
POWER_ERRORS = (PermissionDenied, InvalidState, ResourceBusy)


def _create(args: dict[str, Any]) -> dict[str, Any]:
    session = db()
    defaults = quotas.Amounts(**settings().quota_defaults)
    note("vm", None, args["tenant_id"])  # a refusal is recorded against the tenant it targeted
    chooser = scheduler.configured(settings().scheduler_policy, settings().scheduler_url)
    config = guests.Config.of(settings())
    request = vms.VMRequest(**args)
    job = vms.create_vm(
        session, user(), request, request_id(), defaults, chooser=chooser, config=config
    )
    # user_data is a secret: the audit row says only whether there was one (under a key that
    # audit.scrub keeps: it drops every key containing "user_data").
    shown = {key: value for key, value in args.items() if key != "user_data"}
    shown["cloud_config_given"] = request.user_data is not None
    note("vm", job.vm_id, job.tenant_id, after={**shown, "status": "pending", "job_id": job.id})
    job_queue().after_commit(session, job)
    commit()
    return ok(_reloaded(job.vm_id))


def _reloaded(vm_id: uuid.UUID | None) -> VM:
    """The VM as committed, derived columns (job_id) included."""
    session = db()
    session.expire_all()
    return session.get_one(VM, vm_id)


@blp.route("/")
class VMs(MethodView):
    @operation("vm_list")
    @blp.arguments(VMQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(VMSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the VMs the caller may see (filter by tenant_id, status, name)"""
        body = paginate(db(), vms.vms_query(user(), **filters), **page)
        vms.with_job_ids(db(), body["data"])
        return body

    @idempotent
    @operation("vm_create", *CREATE_ERRORS)
    @blp.arguments(VMCreateSchema, example=VM_CREATE_EXAMPLE)
    @blp.response(202, envelope(VMSchema), example=VM_EXAMPLE)
    @audited("vm.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Request a VM: recorded as pending, created by a queued job"""
        return _create(args)


@blp.route("/create/")
class VMCreate(MethodView):
    @idempotent
    @operation("vm_create_alias", *CREATE_ERRORS)
    @blp.arguments(VMCreateSchema)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Request a VM (the seed document's path; same as POST /api/v1/vm/)"""
        return _create(args)


@blp.route("/<uuid:vm_id>/")
class VMById(MethodView):
    @operation("vm_get")
    @blp.response(200, envelope(VMSchema), example=VM_EXAMPLE)
    def get(self, vm_id: uuid.UUID) -> dict[str, Any]:
        """Show one VM with its status, host and libvirt domain"""
        return ok(vms.get_vm(db(), user(), vm_id, Perm.VM_VIEW))

    @idempotent
    @operation("vm_delete", *POWER_ERRORS)
    @blp.arguments(VMDeleteArgsSchema, location="query")
    @blp.response(202, envelope(VMSchema))
    @blp.alt_response(
        200,
        schema=envelope(VMSchema),
        description=(
            "the VM is deleted already: force=true, or its create job had not started "
            "(canceled; libvirt had nothing of it)"
        ),
    )
    @audited("vm.delete")
    def delete(
        self, args: dict[str, Any], vm_id: uuid.UUID
    ) -> dict[str, Any] | tuple[dict[str, Any], int]:
        """Delete a VM: stop and undefine the domain and remove its disk, by a queued job

        From any live status. Queued jobs of the VM are canceled; a VM whose create job had not
        started is deleted at once (200). A running job of the VM finishes first, then the
        delete job runs; the VM shows `deleting` meanwhile.

        With `?force=true` (platform admins) the VM is marked `deleted` at once and libvirt is
        not reached: for a VM whose host is unreachable or gone from the inventory. Its queued
        jobs are canceled; a running job refuses it with 409 RESOURCE_BUSY.
        """
        if args["force"]:
            return _force_delete(vm_id), 200
        session = db()
        note("vm", vm_id)
        job = vms.request_delete(session, user(), vm_id, request_id())
        if job is None:  # its create never ran: deleted now, nothing in libvirt to remove
            tenant_id = session.get_one(VM, vm_id).tenant_id
            note("vm", vm_id, tenant_id, after={"status": "deleted", "job_id": None})
            commit(status=200)
            return ok(_reloaded(vm_id)), 200
        note("vm", vm_id, job.tenant_id, after={"status": "deleting", "job_id": job.id})
        job_queue().after_commit(session, job)
        commit()
        return ok(_reloaded(vm_id))


def _force_delete(vm_id: uuid.UUID) -> dict[str, Any]:
    act_as("vm.force_delete")
    note("vm", vm_id)
    done = force_delete.force_delete(db(), user(), vm_id)
    vm = done.vm
    note(
        "vm",
        vm.id,
        vm.tenant_id,
        before={"status": done.before},
        after={"status": vm.status, "status_reason": vm.status_reason},
        canceled_job_ids=done.canceled,
        tenant_deleted=done.tenant_deleted,
    )
    commit(status=200)
    return ok(_reloaded(vm_id))


def _power(
    vm_id: uuid.UUID, kind: JobKind, force: bool = False, timeout: int | None = None
) -> dict[str, Any]:
    session = db()
    note("vm", vm_id)
    job = vms.request_power(
        session, user(), vm_id, kind, request_id(), force=force, timeout=timeout
    )
    op = lifecycle.operation(kind)
    [before] = op.allowed_from  # power operations start from one status
    note("vm", vm_id, job.tenant_id, before={"status": before}, after={"status": op.queued})
    note(job_id=job.id)
    if kind in vms.SHUTS_DOWN:
        shutdown: dict[str, Any] = {vms.SHUTS_DOWN[kind]: force, "timeout": timeout}
        note(**shutdown)
    job_queue().after_commit(session, job)
    commit()
    return ok(_reloaded(vm_id))


@blp.route("/<uuid:vm_id>/stop/")
class VMStop(MethodView):
    @idempotent
    @operation("vm_stop", *POWER_ERRORS)
    @blp.arguments(VMStopSchema, required=False)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.stop")
    def post(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Stop a running VM (vm.change): `stopping` until its queued job has shut it down"""
        return _power(vm_id, JobKind.VM_STOP, force=args["force"], timeout=args["timeout"])


@blp.route("/<uuid:vm_id>/start/")
class VMStart(MethodView):
    @idempotent
    @operation("vm_start", *POWER_ERRORS)
    @blp.arguments(VMStartSchema, required=False)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.start")
    def post(self, _args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Start a stopped VM (vm.change): `starting` until its queued job has booted it"""
        return _power(vm_id, JobKind.VM_START)


@blp.route("/<uuid:vm_id>/reboot/")
class VMReboot(MethodView):
    @idempotent
    @operation("vm_reboot", *POWER_ERRORS)
    @blp.arguments(VMRebootSchema, required=False)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.reboot")
    def post(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Reboot a running VM (vm.change): `rebooting` until its queued job has power-cycled it

        The domain is shut off (an ACPI shutdown, powered off at `timeout`; at once with
        `"hard": true`) and started again as defined: libvirt must report it running.
        """
        return _power(vm_id, JobKind.VM_REBOOT, force=args["hard"], timeout=args["timeout"])


# What a resize can meet: the VM (403/409 status or a job in flight), sizes (422), the quota,
# the room left on the VM's host.
RESIZE_ERRORS = (*POWER_ERRORS, QuotaExceeded, NoCapacity)


@blp.route("/<uuid:vm_id>/resize/")
class VMResize(MethodView):
    @idempotent
    @operation("vm_resize", *RESIZE_ERRORS)
    @blp.arguments(VMResizeSchema, example=VM_RESIZE_EXAMPLE)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.resize")
    def post(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Resize a stopped VM (vm.change): `resizing` until its queued job has applied the size

        vCPUs and RAM up or down, the disk grown only (less than the VM's disk is 422). The
        growth is admitted against the tenant's quota and the room left on the VM's own host
        (a VM never moves to grow); the VM shows its new size at once. When the job fails or is
        canceled, the VM keeps its old size (or what libvirt reports it has) with the reason.
        """
        session = db()
        note("vm", vm_id)
        defaults = quotas.Amounts(**settings().quota_defaults)
        job, old = resize.request_resize(
            session, user(), vm_id, args, request_id(), quota_defaults=defaults
        )
        vm = session.get_one(VM, vm_id)
        after = {**resize.Sizes.of(vm).as_dict(), "status": vm.status}
        before = {**old.as_dict(), "status": job.prior_status}
        note("vm", vm_id, job.tenant_id, before=before, after=after)
        note(job_id=job.id)
        job_queue().after_commit(session, job)
        commit()
        return ok(_reloaded(vm_id))


@blp.route("/<uuid:vm_id>/refresh/")
class VMRefresh(MethodView):
    @idempotent
    @operation("vm_refresh", *POWER_ERRORS)
    @blp.response(202, envelope(JobSchema))
    @audited("vm.refresh")
    def post(self, vm_id: uuid.UUID) -> dict[str, Any]:
        """Read the VM's state back from libvirt (vm.change): a queued vm.refresh job

        A running, stopped or error VM follows what libvirt reports for its domain: running,
        stopped, or error "domain missing on host <host>"; each change is an audit row with
        outcome `out_of_band`. The VM's own status does not change until the job has run.
        """
        session = db()
        note("vm", vm_id)
        job = libvirt_state.request_refresh(session, user(), vm_id, request_id())
        note("vm", vm_id, job.tenant_id, job_id=job.id)
        job_queue().after_commit(session, job)
        commit()
        return ok(job)


@blp.route("/<uuid:vm_id>/ssh/")
class VMSSHRoute(MethodView):
    @operation("vm_ssh_route", InvalidState)
    @blp.response(200, envelope(SSHRouteSchema))
    def get(self, vm_id: uuid.UUID) -> dict[str, Any]:
        """How to reach the VM's guest by SSH (vm.view): user, address and the host to jump through

        The user is the image's default_user; `host`/`port` are where SSH connects from the
        VM's baremetal host (127.0.0.1 and the forwarded port with user-mode networking, the
        guest's first address and 22 on a NAT network, null until an address is known); `jump`
        is that host as Ansible reaches it (null: the controller itself). 409 INVALID_STATE for
        a VM made without an image.
        """
        session = db()
        vm = vms.get_vm(session, user(), vm_id, Perm.VM_VIEW)
        image = session.get(Image, vm.image_id) if vm.image_id else None
        return ok(guests.ssh_route(vm, image))


@blp.route("/<uuid:vm_id>/permission/")
class VMGrants(MethodView):
    @operation("vm_permission_list")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(GrantSchema, many=True))
    def get(self, page: dict[str, int], vm_id: uuid.UUID) -> dict[str, Any]:
        """List the grants on a VM (anyone who can view it)"""
        session = db()
        target = memberships.grant_target(session, user(), vm_id=vm_id)
        return paginate(session, memberships.grants_query(target), **page)

    @operation(
        "vm_permission_grant",
        FreshTokenRequired,
        PermissionDenied,
        AlreadyExists,
        InvalidState,
        Conflict,
    )
    @blp.arguments(VMGrantArgsSchema)
    @blp.response(201, envelope(GrantSchema))
    @audited("permission.grant")
    def post(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Grant a permission on a VM (fresh token; needs vm.change and the permission itself)"""
        return grant_view(args, vm_id=vm_id)

    @operation("vm_permission_revoke", FreshTokenRequired, PermissionDenied)
    @blp.arguments(VMGrantArgsSchema, location="query")
    @blp.response(200, envelope(GrantSchema))
    @audited("permission.revoke")
    def delete(self, args: dict[str, Any], vm_id: uuid.UUID) -> dict[str, Any]:
        """Revoke a grant on a VM, named by the query ?user_id=&permission= (fresh token)"""
        return revoke_view(args, vm_id=vm_id)
