"""libvirt is the source of truth: compare the domains a host's libvirt lists with its VMs.

A host.domains job (host_domains.yml, read-only) lists every domain of one host with its UUID
and state; a vm.refresh job lists one VM's. Then, for each VM of the host whose status is
stable (running, stopped, error) and that no job touched since the listing began:

| libvirt reports the VM's domain (UUID = VM id) | the VM becomes                      |
|------------------------------------------------|-------------------------------------|
| running, blocked                               | running                             |
| shutoff, crashed                               | stopped                             |
| paused, shutdown, pmsuspended, other           | unchanged (transient, or not ours)  |
| nothing, VM running or stopped                 | error "domain missing on host <h>"  |
| nothing, VM in error                           | unchanged (its reason says more)    |

Each change is an audit row with outcome `out_of_band`. Every VM the check may look at (not
deleted, no job since the listing began) also gets the IPv4 addresses its running domain reported
(`vm.addresses`, `[]` when it does not run or is missing) and `addresses_at`; addresses change no
status and write no audit row. A host.domains job also stores the
domains that match no VM on the host (`unmanaged_domains`, with their vCPUs and RAM): listed, never
adopted or deleted, and placement counts what they take (api.services.capacity.unmanaged).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, ResourceBusy
from api.models import VM, AuditOutcome, Baremetal, HostState, Job, JobKind, User, VMStatus
from api.models.job import UNFINISHED_JOB_STATUSES
from api.services import audit, lifecycle, vms
from api.services.permissions import Perm

DOMAINS_PLAYBOOK = "host_domains.yml"
STABLE = frozenset({VMStatus.RUNNING, VMStatus.STOPPED, VMStatus.ERROR})
# libvirt domain states (as virsh names them) that say what a VM is; the others are left alone.
OBSERVED = {
    "running": VMStatus.RUNNING,
    "blocked": VMStatus.RUNNING,
    "shutoff": VMStatus.STOPPED,
    "crashed": VMStatus.STOPPED,
}
# Hosts whose VMs the sweep checks: placeable ones, and those in maintenance (still managed).
CHECKED_HOSTS = (HostState.ACTIVE, HostState.MAINTENANCE, HostState.OFFLINE)
AUDIT_ACTION = "vm.reconcile"
NO_HTTP_STATUS = 0  # audit_log.status_code of a row no request wrote


@dataclass(frozen=True)
class Domain:
    name: str
    uuid: str
    state: str
    vcpus: int = 0  # as libvirt defines it; 0 when a report did not say
    ram_mb: int = 0  # its maximum memory
    # A running domain's IPv4 addresses, [{mac, ip, prefix, source}]; () when none reported.
    addresses: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    def unmanaged(self) -> dict[str, Any]:
        """The domain as baremetal.unmanaged_domains lists it."""
        return {k: v for k, v in vars(self).items() if k != "addresses"}


@dataclass(frozen=True)
class Change:
    vm_id: uuid.UUID
    before: tuple[str, str | None]
    after: tuple[str, str | None]


def parse_report(artifacts: dict[str, Any]) -> list[Domain] | None:
    """The domains host_domains.yml reported; None when it reported nothing usable."""
    report = artifacts.get("virtflow_domains")
    listed = report.get("domains") if isinstance(report, dict) else None
    if not isinstance(listed, list):
        return None
    domains = []
    for item in listed:
        if not isinstance(item, dict) or not {"name", "uuid", "state"} <= item.keys():
            return None
        domains.append(
            Domain(
                str(item["name"]),
                str(item["uuid"]).lower(),
                str(item["state"]),
                _count(item.get("vcpus")),
                _count(item.get("ram_mb")),
                _addresses(item.get("addresses")),
            )
        )
    return domains


ADDRESS_SOURCES = frozenset({"agent", "lease"})
MAX_ADDRESSES = 32  # per domain: a guest cannot fill the VM row through its agent


def _addresses(listed: Any) -> tuple[dict[str, Any], ...]:
    """The well-formed IPv4 addresses of a report (a guest agent's answer is the guest's word:
    anything else is dropped), at most MAX_ADDRESSES."""
    if not isinstance(listed, list):
        return ()
    found = [a for a in (_address(item) for item in listed) if a is not None]
    return tuple(found[:MAX_ADDRESSES])


def _address(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or item.get("source") not in ADDRESS_SOURCES:
        return None
    mac, prefix = item.get("mac"), item.get("prefix")
    try:
        ip = ipaddress.IPv4Address(str(item.get("ip")))
    except ValueError:
        return None
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not 0 <= prefix <= 32:
        return None
    mac_text = str(mac).lower() if isinstance(mac, str) and len(mac) <= 17 else None
    return {"mac": mac_text, "ip": str(ip), "prefix": prefix, "source": item["source"]}


def _count(value: Any) -> int:
    """A size from the report: a non-negative int, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def verdict(vm: VM, domain: Domain | None, host: str) -> tuple[VMStatus, str | None] | None:
    """The status and reason libvirt's report means for a stable VM; None: leave it."""
    if domain is None:
        if vm.status == VMStatus.ERROR:
            return None
        return VMStatus.ERROR, f"domain missing on host {host}"
    observed = OBSERVED.get(domain.state)
    return None if observed is None else (observed, None)


def _host_vms(session: Session, host_id: uuid.UUID, only: uuid.UUID | None) -> list[VM]:
    """The host's VMs that are not deleted, locked in id order (VM rows before job rows)."""
    query = select(VM).where(VM.baremetal_id == host_id, VM.status != VMStatus.DELETED)
    if only is not None:
        query = query.where(VM.id == only)
    query = query.order_by(VM.id).with_for_update(of=VM)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def _busy(
    session: Session, vm_ids: list[uuid.UUID], since: dt.datetime, job_id: uuid.UUID
) -> set[uuid.UUID | None]:
    """VMs with a job in flight, or one that ended after the listing began (the report may
    predate what it did)."""
    if not vm_ids:
        return set()
    query = select(Job.vm_id).where(
        Job.vm_id.in_(vm_ids),
        Job.id != job_id,
        or_(Job.status.in_(UNFINISHED_JOB_STATUSES), Job.finished_at >= since),
    )
    return set(session.scalars(query))


def _record(session: Session, vm: VM, change: Change, job: Job, domain: Domain | None) -> None:
    entry = audit.Entry(action=AUDIT_ACTION, request_id=job.request_id)
    entry.target("vm", vm.id, vm.tenant_id)
    entry.before = {"status": change.before[0], "status_reason": change.before[1]}
    entry.after = {"status": change.after[0], "status_reason": change.after[1]}
    seen = {"name": domain.name, "state": domain.state} if domain else None
    entry.details = {"job_id": str(job.id), "domain": seen}
    audit.record(session, entry, AuditOutcome.OUT_OF_BAND, NO_HTTP_STATUS, None)


def _follow(session: Session, vm: VM, job: Job, domain: Domain | None, host: str) -> Change | None:
    """Move one VM to what libvirt reports, with its audit row; None when nothing changes."""
    wanted = verdict(vm, domain, host)
    if wanted is None or (vm.status, vm.status_reason) == wanted:
        return None
    change = Change(vm.id, (vm.status, vm.status_reason), (wanted[0], wanted[1]))
    lifecycle.observed(vm, *wanted)
    _record(session, vm, change, job, domain)
    return change


def _unmanaged(
    session: Session, host_id: uuid.UUID, domains: list[Domain], since: dt.datetime
) -> list[dict[str, str]]:
    """Domains matching no VM of the host (a VM deleted after the listing began still counts)."""
    known = session.scalars(
        select(VM.id).where(
            VM.baremetal_id == host_id,
            or_(VM.status != VMStatus.DELETED, VM.deleted_at >= since),
        )
    )
    ids = {str(vm_id) for vm_id in known}
    return [d.unmanaged() for d in domains if d.uuid not in ids]


def _store_addresses(vm: VM, domain: Domain | None) -> None:
    """The addresses the VM's domain reported; none unless it runs."""
    running = domain is not None and OBSERVED.get(domain.state) == VMStatus.RUNNING
    addresses = list(domain.addresses) if domain is not None and running else []
    if vm.addresses != addresses:
        vm.addresses = addresses
    vm.addresses_at = utcnow()


def reconcile(session: Session, job: Job, domains: list[Domain]) -> list[Change]:
    """Apply a finished host.domains or vm.refresh job's report (job row locked)."""
    vm = session.get(VM, job.vm_id) if job.vm_id else None
    host_id = job.baremetal_id or (vm.baremetal_id if vm else None)
    host = session.get(Baremetal, host_id) if host_id else None
    if host is None:
        return []
    since = job.started_at or job.created_at
    found = {d.uuid: d for d in domains}
    candidates = _host_vms(session, host.id, job.vm_id)
    busy = _busy(session, [v.id for v in candidates], since, job.id)
    changes = []
    for each in candidates:
        if each.id in busy:
            continue
        seen = found.get(str(each.id))
        _store_addresses(each, seen)
        if each.status in STABLE:
            change = _follow(session, each, job, seen, host.name)
            changes += [change] if change else []
    if job.kind == JobKind.HOST_DOMAINS:
        host.unmanaged_domains = _unmanaged(session, host.id, domains, since)
        host.domains_checked_at = utcnow()
    session.flush()
    return changes


def request_host_check(session: Session, host: Baremetal) -> Job:
    """Queue a host.domains job: list the host's domains and reconcile its VMs with them."""
    job = Job(
        kind=JobKind.HOST_DOMAINS,
        baremetal_id=host.id,
        playbook=DOMAINS_PLAYBOOK,
        limit=host.name,
        extravars={},
    )
    session.add(job)
    session.flush()
    return job


def due_hosts(session: Session, interval_seconds: int) -> list[Baremetal]:
    """Checked hosts whose last host.domains job is older than the interval and none in flight."""
    of_host = (Job.kind == JobKind.HOST_DOMAINS, Job.baremetal_id == Baremetal.id)
    latest = select(func.max(Job.created_at)).where(*of_host).scalar_subquery()
    in_flight = exists().where(*of_host, Job.status.in_(UNFINISHED_JOB_STATUSES))
    cutoff = utcnow() - dt.timedelta(seconds=interval_seconds)
    query = select(Baremetal).where(
        Baremetal.state.in_(CHECKED_HOSTS),
        Baremetal.in_inventory,
        ~in_flight,
        or_(latest.is_(None), latest < cutoff),
    )
    return list(session.scalars(query.order_by(Baremetal.name)))


def schedule_checks(session: Session, interval_seconds: int) -> list[Job]:
    """One host.domains job per host that is due (the sweep calls this, then commits)."""
    return [request_host_check(session, host) for host in due_hosts(session, interval_seconds)]


def request_refresh(session: Session, user: User, vm_id: uuid.UUID, request_id: str | None) -> Job:
    """Queue a vm.refresh job: read the VM's domain back from libvirt (needs vm.change)."""
    vm = vms.get_vm(session, user, vm_id, Perm.VM_CHANGE)
    vms.lock_active_tenant(session, vm.tenant_id)
    vm = vms.get_vm(session, user, vm_id, Perm.VM_CHANGE, lock=True)
    if vm.status not in STABLE:
        raise InvalidState(
            f"VM is {vm.status}; only a running, stopped or error VM can be refreshed",
            {"status": vm.status},
        )
    if vms.unfinished_jobs(session, vm):
        raise ResourceBusy()
    return refresh_job(session, vm, request_id, user)


def refresh_job(session: Session, vm: VM, request_id: str | None, user: User | None = None) -> Job:
    """A queued vm.refresh job of the VM; the caller commits, then enqueues. Also queued by a
    worker for a VM whose job was canceled while it ran (lifecycle.canceled_while_running)."""
    job = Job(
        kind=JobKind.VM_REFRESH,
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        playbook=DOMAINS_PLAYBOOK,
        limit=vms.vm_host_name(session, vm),
        extravars={"virtflow_domain_uuids": [str(vm.id)]},
        request_id=request_id,
        created_by_id=user.id if user else None,
    )
    session.add(job)
    session.flush()
    return job
