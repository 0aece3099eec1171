"""VMs on a host and the domains host_domains.yml would report for them, for reconciler tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import VM, Baremetal, Job, JobStatus, Tenant, VMStatus
from api.services import vms
from tests.helpers.runner_fakes import event


def add_vm(session: Session, tenant: Tenant, host: Baremetal, status: VMStatus, name: str) -> VM:
    """A VM on host in status, as its last (finished) job left it."""
    vm_id = uuid.uuid4()
    vm = VM(
        id=vm_id,
        tenant_id=tenant.id,
        name=name,
        vcpus=1,
        ram_mb=64,
        disk_gb=1,
        status=status,
        baremetal_id=host.id,
        domain_name=vms.domain_name(name, vm_id),
        domain_uuid=vm_id,
    )
    session.add(vm)
    session.flush()
    return vm


def started(session: Session, job: Job) -> Job:
    """job as a worker left it when the playbook began: running since now."""
    job.status, job.started_at = JobStatus.RUNNING, utcnow()
    session.flush()
    return job


def domain(vm: VM, state: str) -> dict[str, str]:
    """What host_domains.yml reports for vm's domain."""
    return {"name": vm.domain_name, "uuid": str(vm.id), "state": state}


def report(host: str, domains: list[dict[str, str]]) -> dict[str, Any]:
    """The set_stats data of host_domains.yml."""
    return {"virtflow_domains": {"host": host, "domains": domains}}


def domains_events(host: str, domains: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The ansible-runner events of a successful host_domains.yml run."""
    return [
        event(1, "playbook_on_start"),
        event(2, "playbook_on_task_start", task="List the domains with their UUID and state"),
        event(3, "playbook_on_stats", stdout="PLAY RECAP", artifact_data=report(host, domains)),
    ]
