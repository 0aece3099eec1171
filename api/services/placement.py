"""Choose the baremetal host for a new VM: filter hosts in one query, lock only the chosen one.

The filter reads allocations with one GROUP BY (plus what the host's unmanaged domains take,
api.services.capacity.unmanaged) and takes no locks (a host that already holds a
VM of the request's anti-affinity group is filtered out too); the scheduler
(api.services.scheduler: spread, pack, or an external service) orders what fits. The claim
then locks the best candidate's row and checks it again, in a savepoint: a candidate that
filled up meanwhile is released at once (rolling back to the savepoint drops its row lock)
and the next one is tried. So a placement holds at most one host lock at a time, which
cannot deadlock, and two creates on different hosts never wait for each other: a host
another placement holds is skipped first (SKIP LOCKED) and waited for only when no free
candidate fits. A host with user-mode guest networking must also have a free SSH forward
port (Request.ssh_ports) for the VM: one whose ports are all taken is passed over as a full one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, false, func, select
from sqlalchemy.orm import Session

from api.errors import NoCapacity
from api.models import VM, Baremetal, GuestNetwork, HostState, VMStatus
from api.services import capacity
from api.services.scheduler import DEFAULT, Ask, Candidate, Scheduler


@dataclass(frozen=True)
class Request:
    vcpus: int
    ram_mb: int
    disk_gb: int
    anti_affinity_group: str | None = None  # of the tenant placing: hosts it holds are out
    # (lowest, highest) SSH forward port a user-mode host must have free; None: not asked
    ssh_ports: tuple[int, int] | None = None


def _allocations() -> Subquery:
    """Per host: the vCPUs, RAM and disk of its VMs that are not deleted."""
    return (
        select(
            VM.baremetal_id.label("host_id"),
            func.sum(VM.vcpus).label("vcpus"),
            func.sum(VM.ram_mb).label("ram_mb"),
            func.sum(VM.disk_gb).label("disk_gb"),
        )
        .where(VM.status != VMStatus.DELETED, VM.baremetal_id.is_not(None))
        .group_by(VM.baremetal_id)
        .subquery()
    )


def _candidates(
    session: Session, request: Request, tenant_id: uuid.UUID | None
) -> tuple[list[Candidate], int]:
    """Hosts that fit the request now, with what they have free; and how many were looked at.

    A host dedicated to a tenant is a candidate for that tenant's VMs only."""
    used = _allocations()
    rows = session.execute(
        select(
            Baremetal.id,
            Baremetal.name,
            Baremetal.capacity_vcpus - func.coalesce(used.c.vcpus, 0),
            Baremetal.capacity_ram_mb - func.coalesce(used.c.ram_mb, 0),
            Baremetal.capacity_disk_gb - func.coalesce(used.c.disk_gb, 0),
            Baremetal.unmanaged_domains,
        )
        .outerjoin(used, used.c.host_id == Baremetal.id)
        .where(Baremetal.in_inventory.is_(True), Baremetal.state == HostState.ACTIVE)
        .where(Baremetal.guest_network.is_not(None))  # null: an invalid setting in inventory
        .where(_open_to(tenant_id))
        .where(~_holds_group(tenant_id, request.anti_affinity_group))
    ).all()
    hosts = []
    for host_id, name, vcpus, ram_mb, disk_gb, domains in rows:
        outside = capacity.unmanaged(Baremetal(unmanaged_domains=domains))
        hosts.append(
            Candidate(
                host_id,
                name,
                int(vcpus) - outside.vcpus,
                int(ram_mb) - outside.ram_mb,
                int(disk_gb) - outside.disk_gb,
            )
        )
    fitting = [
        c
        for c in hosts
        if c.free_vcpus >= request.vcpus
        and c.free_ram_mb >= request.ram_mb
        and c.free_disk_gb >= request.disk_gb
    ]
    return fitting, len(hosts)


def _open_to(tenant_id: uuid.UUID | None) -> ColumnElement[bool]:
    """Shared hosts, and the hosts dedicated to tenant_id."""
    shared = Baremetal.dedicated_tenant_id.is_(None)
    return shared if tenant_id is None else shared | (Baremetal.dedicated_tenant_id == tenant_id)


def _holds_group(tenant_id: uuid.UUID | None, group: str | None) -> ColumnElement[bool]:
    """The host already holds a live VM of the tenant's anti-affinity group (never, without one)."""
    if group is None or tenant_id is None:
        return false()
    return (
        select(VM.id)
        .where(
            VM.baremetal_id == Baremetal.id,
            VM.tenant_id == tenant_id,
            VM.anti_affinity_group == group,
            VM.status != VMStatus.DELETED,
        )
        .exists()
    )


def _fits(session: Session, host: Baremetal, request: Request, tenant_id: uuid.UUID | None) -> bool:
    """Re-check one locked host against allocations committed up to now.

    Every placement on a host holds its row lock until it commits, so what the previous holder
    added (capacity, a VM of the same anti-affinity group) is committed and seen here."""
    grouped = select(Baremetal.id).where(
        Baremetal.id == host.id, _holds_group(tenant_id, request.anti_affinity_group)
    )
    return bool(
        session.scalar(grouped) is None
        and host.in_inventory
        and host.state == HostState.ACTIVE
        and host.guest_network is not None
        and host.dedicated_tenant_id in (None, tenant_id)
        and _has_room(session, host, request)
        and _has_port(session, host, request)
    )


def _has_port(session: Session, host: Baremetal, request: Request) -> bool:
    """A user-mode host has a port of request.ssh_ports that no live VM of it holds."""
    if request.ssh_ports is None or host.guest_network != GuestNetwork.USER:
        return True
    first, last = request.ssh_ports
    taken = session.scalar(
        select(func.count()).where(
            VM.baremetal_id == host.id,
            VM.status != VMStatus.DELETED,
            VM.ssh_port.between(first, last),
        )
    )
    return int(taken or 0) < last - first + 1


def _has_room(session: Session, host: Baremetal, request: Request) -> bool:
    """What the host's VMs that are not deleted and its unmanaged domains take, plus request,
    is within its capacity, for every resource."""
    row = session.execute(
        select(
            func.coalesce(func.sum(VM.vcpus), 0),
            func.coalesce(func.sum(VM.ram_mb), 0),
            func.coalesce(func.sum(VM.disk_gb), 0),
        ).where(VM.baremetal_id == host.id, VM.status != VMStatus.DELETED)
    ).one()
    outside = capacity.unmanaged(host)
    return bool(
        row[0] + outside.vcpus + request.vcpus <= host.capacity_vcpus
        and row[1] + outside.ram_mb + request.ram_mb <= host.capacity_ram_mb
        and row[2] + outside.disk_gb + request.disk_gb <= host.capacity_disk_gb
    )


def admit_growth(session: Session, host_id: uuid.UUID, growth: Request) -> Baremetal:
    """A VM on host_id grows by growth (a resize): lock the host's row, as a placement on it
    does, and require room for the growth on top of what the host holds (that VM counted at its
    current size). A VM never moves to grow: NoCapacity when its host cannot take it, whatever
    room other hosts have. The host's state does not matter; a VM lives where it was placed."""
    host = session.scalar(select(Baremetal).where(Baremetal.id == host_id).with_for_update())
    if host is None or not _has_room(session, host, growth):
        name = host.name if host is not None else "(none)"
        raise NoCapacity(
            f"host {name} has no room for the VM's new size; a resize does not move a VM",
            {
                "host": name,
                "vcpus": growth.vcpus,
                "ram_mb": growth.ram_mb,
                "disk_gb": growth.disk_gb,
            },
        )
    return host


def _claim(
    session: Session,
    host_id: uuid.UUID,
    request: Request,
    tenant_id: uuid.UUID | None = None,
    *,
    wait: bool,
) -> Baremetal | None:
    """Lock host_id and keep it if the request still fits; otherwise release it again.

    None when the host is full by now, or, with wait=False, being placed on by another caller.
    """
    savepoint = session.begin_nested()
    lock = select(Baremetal).where(Baremetal.id == host_id)
    host = session.scalar(lock.with_for_update(skip_locked=not wait))
    if host is not None and _fits(session, host, request, tenant_id):
        savepoint.commit()
        return host
    savepoint.rollback()  # releases the row lock this savepoint took
    return None


def choose_host(
    session: Session,
    request: Request,
    scheduler: Scheduler = DEFAULT,
    tenant_id: uuid.UUID | None = None,
) -> Baremetal:
    """The fitting active in-inventory host the scheduler ranks first, locked until the caller
    commits; the next one in its order when that one filled up meanwhile.

    Raises NoCapacity when no host fits. Concurrent callers never take the same last slot.
    """
    fitting, considered = _candidates(session, request, tenant_id)
    ask = Ask(
        tenant_id, request.vcpus, request.ram_mb, request.disk_gb, request.anti_affinity_group
    )
    ranked = [c.id for c in scheduler.rank(ask, fitting)] if fitting else []
    for host_id in ranked:  # first pass: hosts nobody else is placing on right now
        host = _claim(session, host_id, request, tenant_id, wait=False)
        if host is not None:
            return host
    for host_id in ranked:  # then wait our turn on the busy ones, one at a time
        host = _claim(session, host_id, request, tenant_id, wait=True)
        if host is not None:
            return host
    raise _no_capacity(session, request, fitting, considered)


def _no_capacity(
    session: Session, request: Request, fitting: list[Candidate], considered: int
) -> NoCapacity:
    """NO_CAPACITY, naming the SSH ports when they are what the fitting hosts lacked."""
    details: dict[str, object] = {"hosts_considered": considered}
    hosts = [session.get_one(Baremetal, c.id) for c in fitting]
    portless = sorted(h.name for h in hosts if not _has_port(session, h, request))
    if not portless or request.ssh_ports is None:
        return NoCapacity(details=details)
    ports = f"{request.ssh_ports[0]}-{request.ssh_ports[1]}"
    details |= {"hosts_without_ssh_port": portless, "ssh_ports": ports}
    return NoCapacity(
        f"no host has room: {len(portless)} host(s) with room have no free SSH port in {ports} "
        "(VIRTFLOW_GUEST_SSH_PORTS)",
        details,
    )
