"""Virtual machines: request creation, look up, delete."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.models import VM
from api.services import quotas, vms
from api.services.permissions import Perm
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db, inventory_watcher, job_queue, settings
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.resources.vm.schemas import VMCreateSchema, VMQuerySchema, VMSchema

blp = Blueprint("vm", __name__, url_prefix="/api/v1/vm", description="Virtual machines")

PROVISION = "jobs.vms.provision"
DESTROY = "jobs.vms.destroy"


def _create(args: dict[str, Any]) -> dict[str, Any]:
    session = db()
    inventory_watcher().refresh(session)
    # The watcher has now seen the files: keep the sync even if this request is refused below.
    session.commit()
    defaults = quotas.Amounts(**settings().quota_defaults)
    job = vms.create_vm(session, user(), vms.VMRequest(**args), request_id(), defaults)
    note("vm", job.vm_id, job.tenant_id, after={**args, "status": "pending", "job_id": job.id})
    job_queue().after_commit(session, PROVISION, job.id, request_id())
    commit()
    return ok(_reloaded(job.vm_id))


def _reloaded(vm_id: uuid.UUID | None) -> VM:
    """The VM as committed, derived columns (job_id) included."""
    session = db()
    session.expire_all()
    return session.get_one(VM, vm_id)


@blp.route("/")
class VMs(MethodView):
    @blp.arguments(VMQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(VMSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the VMs the caller may see (filter by tenant_id, status, name)"""
        return paginate(db(), vms.vms_query(user(), **filters), **page)

    @blp.arguments(VMCreateSchema)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Request a VM: recorded as pending, created by a queued job"""
        return _create(args)


@blp.route("/create/")
class VMCreate(MethodView):
    @blp.arguments(VMCreateSchema)
    @blp.response(202, envelope(VMSchema))
    @audited("vm.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Request a VM (the seed document's path; same as POST /api/v1/vm/)"""
        return _create(args)


@blp.route("/<uuid:vm_id>/")
class VMById(MethodView):
    @blp.response(200, envelope(VMSchema))
    def get(self, vm_id: uuid.UUID) -> dict[str, Any]:
        """Show one VM with its status, host and libvirt domain"""
        return ok(vms.get_vm(db(), user(), vm_id, Perm.VM_VIEW))

    @blp.response(202, envelope(VMSchema))
    @audited("vm.delete")
    def delete(self, vm_id: uuid.UUID) -> dict[str, Any]:
        """Delete a VM: stop and undefine the domain and remove its disk, by a queued job"""
        session = db()
        note("vm", vm_id)
        job = vms.request_delete(session, user(), vm_id, request_id())
        note("vm", vm_id, job.tenant_id, after={"status": "deleting", "job_id": job.id})
        job_queue().after_commit(session, DESTROY, job.id, request_id())
        commit()
        return ok(_reloaded(vm_id))
