"""Jobs of a VM as other requests leave them, for tests of what a job in flight blocks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind, JobStatus
from api.services import vms


def queued_refresh(session: Session, vm: VM) -> Job:
    """A queued vm.refresh of the VM: a job in flight that changes no status."""
    job = Job(
        kind=JobKind.VM_REFRESH,
        status=JobStatus.QUEUED,
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        playbook="host_domains.yml",
        limit=vms.vm_host_name(session, vm),
        extravars={},
    )
    session.add(job)
    session.flush()
    return job
