"""Choose the baremetal host for a new VM: survey hosts in one query, lock only the chosen one.

The survey reads allocations of the whole fleet with one GROUP BY (plus what each host's
unmanaged domains take, api.services.capacity.unmanaged, and the SSH forward ports its VMs hold)
and takes no locks. It keeps the hosts with room, open to the tenant, holding no VM of the
request's anti-affinity group and, on a host with user-mode guest networking, with a free SSH
forward port (Request.ssh_ports) for a VM that needs one. The scheduler
(api.services.scheduler: spread, pack, or an external service) orders them. The claim then
locks the best candidate nobody else is placing on (one SELECT ... FOR UPDATE SKIP LOCKED
over the ranked list) and checks it again under that lock, in a savepoint: a candidate that
filled up meanwhile is released at once (rolling back to the savepoint drops its row lock) and
the next one is tried; when every candidate is held by another placement, it waits for them
one at a time. At most CLAIM_ATTEMPTS hosts are tried in each pass, so a create runs the same
statements with 5 hosts or 1,000. A placement holds at most one host lock at a time, which
cannot deadlock, and two creates on different hosts never wait for each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, any_, bindparam, false, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
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


# Hosts one placement locks and re-checks in each of its two passes before NO_CAPACITY: more
# would mean it lost the race for that many hosts in a row, and the survey is stale anyway.
CLAIM_ATTEMPTS = 5


def _allocations(ports: tuple[int, int] | None) -> Subquery:
    """Per host: the vCPUs, RAM and disk of its VMs that are not deleted, and how many ports of
    ports (when asked) they hold; one GROUP BY for the whole fleet."""
    taken = func.count(VM.ssh_port).filter(VM.ssh_port.between(*ports)) if ports else literal(0)
    return (
        select(
            VM.baremetal_id.label("host_id"),
            func.sum(VM.vcpus).label("vcpus"),
            func.sum(VM.ram_mb).label("ram_mb"),
            func.sum(VM.disk_gb).label("disk_gb"),
            taken.label("ports_taken"),
        )
        .where(VM.status != VMStatus.DELETED, VM.baremetal_id.is_not(None))
        .group_by(VM.baremetal_id)
        .subquery()
    )


@dataclass(frozen=True)
class _Survey:
    """What one read of the fleet found for a request."""

    fitting: list[Candidate]  # room and, where one is needed, a free SSH port
    portless: list[str]  # names of hosts with room whose SSH ports are all taken
    considered: int  # active in-inventory hosts open to the tenant, outside the group


def _survey(session: Session, request: Request, tenant_id: uuid.UUID | None) -> _Survey:
    """The hosts that fit the request now, with what they have free: one query, no locks.

    A host dedicated to a tenant is a candidate for that tenant's VMs only."""
    used = _allocations(request.ssh_ports)
    rows = session.execute(
        select(
            Baremetal.id,
            Baremetal.name,
            Baremetal.capacity_vcpus - func.coalesce(used.c.vcpus, 0),
            Baremetal.capacity_ram_mb - func.coalesce(used.c.ram_mb, 0),
            Baremetal.capacity_disk_gb - func.coalesce(used.c.disk_gb, 0),
            # null when empty, as it mostly is: no JSON to parse for that host
            func.nullif(Baremetal.unmanaged_domains, literal([], JSONB)),
            Baremetal.guest_network,
            func.coalesce(used.c.ports_taken, 0),
        )
        .outerjoin(used, used.c.host_id == Baremetal.id)
        .where(Baremetal.in_inventory.is_(True), Baremetal.state == HostState.ACTIVE)
        .where(Baremetal.guest_network.is_not(None))  # null: an invalid setting in inventory
        .where(_open_to(tenant_id))
        .where(~_holds_group(tenant_id, request.anti_affinity_group))
    ).all()
    fitting, portless = [], []
    for host_id, name, vcpus, ram_mb, disk_gb, domains, network, ports_taken in rows:
        outside = capacity.unmanaged_of(domains)
        free = Candidate(
            host_id,
            name,
            int(vcpus) - outside.vcpus,
            int(ram_mb) - outside.ram_mb,
            int(disk_gb) - outside.disk_gb,
        )
        if not _room_for(free, request):
            continue
        if _ports_full(request, network, int(ports_taken)):
            portless.append(name)
        else:
            fitting.append(free)
    return _Survey(fitting, sorted(portless), len(rows))


def _room_for(free: Candidate, request: Request) -> bool:
    return (
        free.free_vcpus >= request.vcpus
        and free.free_ram_mb >= request.ram_mb
        and free.free_disk_gb >= request.disk_gb
    )


def _ports_full(request: Request, network: str | None, taken: int) -> bool:
    """A user-mode host whose live VMs hold every port of request.ssh_ports."""
    if request.ssh_ports is None or network != GuestNetwork.USER:
        return False
    first, last = request.ssh_ports
    return taken >= last - first + 1


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
    host_ids: list[uuid.UUID],
    request: Request,
    tenant_id: uuid.UUID | None = None,
    *,
    wait: bool,
) -> tuple[uuid.UUID | None, Baremetal | None]:
    """Lock the first of host_ids and keep it if the request still fits; else release it.

    wait=False: the first of host_ids, in their order, that no other caller holds (SKIP
    LOCKED; one statement however many are held). wait=True: host_ids[0], once its holder is
    done. Returns (the host locked and re-checked or None when every one was held, that host
    when the request still fits on it, else None).
    """
    savepoint = session.begin_nested()
    if wait:
        lock = select(Baremetal).where(Baremetal.id == host_ids[0]).with_for_update()
    else:
        ranked = bindparam("ranked", host_ids, type_=ARRAY(PG_UUID(as_uuid=True)))
        lock = (
            select(Baremetal)
            .where(Baremetal.id == any_(ranked))
            .order_by(func.array_position(ranked, Baremetal.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    # populate_existing: a host already in the session must show the row read under the lock.
    host = session.scalar(lock.execution_options(populate_existing=True))
    if host is not None and _fits(session, host, request, tenant_id):
        savepoint.commit()
        return host.id, host
    savepoint.rollback()  # releases the row lock this savepoint took
    return (host.id if host is not None else None), None


def _claim_ranked(
    session: Session, ranked: list[uuid.UUID], request: Request, tenant_id: uuid.UUID | None
) -> Baremetal | None:
    """The best of ranked the request still fits on, locked; at most CLAIM_ATTEMPTS hosts
    locked and re-checked in each pass (a host found full is dropped), then None."""
    left = list(ranked)
    for _ in range(CLAIM_ATTEMPTS):  # first: the best host nobody else is placing on now
        if not left:
            return None
        tried, host = _claim(session, left, request, tenant_id, wait=False)
        if host is not None:
            return host
        if tried is None:  # every one left is being placed on by another caller
            break
        left.remove(tried)  # it filled up since the survey
    return _wait_for(session, left, request, tenant_id)


def _wait_for(
    session: Session, left: list[uuid.UUID], request: Request, tenant_id: uuid.UUID | None
) -> Baremetal | None:
    """Wait our turn on the best of left, one at a time, for at most CLAIM_ATTEMPTS hosts."""
    for host_id in left[:CLAIM_ATTEMPTS]:
        _tried, host = _claim(session, [host_id], request, tenant_id, wait=True)
        if host is not None:
            return host
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
    The statements it runs do not grow with the number of hosts.
    """
    survey = _survey(session, request, tenant_id)
    ask = Ask(
        tenant_id, request.vcpus, request.ram_mb, request.disk_gb, request.anti_affinity_group
    )
    ranked = [c.id for c in scheduler.rank(ask, survey.fitting)] if survey.fitting else []
    host = _claim_ranked(session, ranked, request, tenant_id)
    if host is None:
        raise _no_capacity(request, survey)
    return host


def _no_capacity(request: Request, survey: _Survey) -> NoCapacity:
    """NO_CAPACITY, naming the SSH ports when they are what the hosts with room lacked."""
    details: dict[str, object] = {"hosts_considered": survey.considered}
    if not survey.portless or request.ssh_ports is None:
        return NoCapacity(details=details)
    ports = f"{request.ssh_ports[0]}-{request.ssh_ports[1]}"
    details |= {"hosts_without_ssh_port": survey.portless, "ssh_ports": ports}
    return NoCapacity(
        f"no host has room: {len(survey.portless)} host(s) with room have no free SSH port in "
        f"{ports} (VIRTFLOW_GUEST_SSH_PORTS)",
        details,
    )
