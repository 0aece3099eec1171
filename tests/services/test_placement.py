"""Placement: the fitting host with most free RAM, claimed by locking that host's row only."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.errors import NoCapacity
from api.models import VM, Baremetal, GuestNetwork, HostState, Tenant, VMStatus
from api.services import vms
from api.services.placement import CLAIM_ATTEMPTS, Request, _claim, choose_host
from api.services.scheduler import Ask, Candidate
from tests.conftest import Factory


def add_vm(session: Session, tenant: Tenant, host: Baremetal, **kw: Any) -> VM:
    vm_id = uuid.uuid4()
    values: dict[str, Any] = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1, "status": VMStatus.RUNNING}
    values.update(kw)
    vm = VM(
        id=vm_id,
        tenant_id=tenant.id,
        name=f"vm-{vm_id.hex[:8]}",
        baremetal_id=host.id,
        domain_name=f"vf-{vm_id.hex[:8]}",
        **values,
    )
    session.add(vm)
    session.flush()
    return vm


def test_placement_picks_host_with_most_free_ram(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    big = make.baremetal("big", capacity_ram_mb=16384)
    small = make.baremetal("small", capacity_ram_mb=8192)
    assert choose_host(db, Request(1, 1024, 1)) == big
    add_vm(db, tenant, big, ram_mb=12288)
    assert choose_host(db, Request(1, 1024, 1)) == small


def test_placement_ties_go_to_first_name(db: Session, make: Factory) -> None:
    make.baremetal("zeta")
    alpha = make.baremetal("alpha")
    assert choose_host(db, Request(1, 64, 1)) == alpha


def test_placement_skips_hosts_that_do_not_fit(db: Session, make: Factory) -> None:
    roomy = make.baremetal("roomy", capacity_vcpus=2, capacity_ram_mb=65536)
    wide = make.baremetal("wide", capacity_vcpus=32, capacity_ram_mb=4096)
    assert choose_host(db, Request(4, 1024, 1)) == wide
    assert choose_host(db, Request(2, 8192, 1)) == roomy
    with pytest.raises(NoCapacity) as exc:
        choose_host(db, Request(4, 8192, 1))
    assert exc.value.details == {"hosts_considered": 2}


def test_placement_counts_every_vm_but_deleted(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    host = make.baremetal("only", capacity_vcpus=4)
    for status in (VMStatus.PENDING, VMStatus.ERROR, VMStatus.DELETING):
        add_vm(db, tenant, host, status=status)
    add_vm(db, tenant, host, status=VMStatus.DELETED, vcpus=4)
    assert choose_host(db, Request(1, 64, 1)) == host
    add_vm(db, tenant, host, status=VMStatus.STOPPED)
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1))


def test_placement_exact_fit_is_accepted(db: Session, make: Factory) -> None:
    host = make.baremetal("exact", capacity_vcpus=2, capacity_ram_mb=1024, capacity_disk_gb=10)
    assert choose_host(db, Request(2, 1024, 10)) == host
    with pytest.raises(NoCapacity):
        choose_host(db, Request(2, 1024, 11))


def test_placement_ignores_hosts_out_of_inventory(db: Session, make: Factory) -> None:
    make.baremetal("gone", in_inventory=False, capacity_ram_mb=10**6)
    kept = make.baremetal("kept")
    assert choose_host(db, Request(1, 64, 1)) == kept


def test_placement_skips_a_host_with_an_invalid_guest_network(db: Session, make: Factory) -> None:
    # guest_network null: the inventory's virtflow_guest_network is invalid (inventory sync).
    bad = make.baremetal("bad", capacity_ram_mb=10**6)
    bad.guest_network = None
    db.flush()
    kept = make.baremetal("kept")
    assert choose_host(db, Request(1, 64, 1)) == kept
    assert _claim(db, [bad.id], Request(1, 64, 1), wait=False) == (bad.id, None)


def test_placement_without_hosts_is_no_capacity(db: Session) -> None:
    with pytest.raises(NoCapacity) as exc:
        choose_host(db, Request(1, 64, 1))
    assert exc.value.details == {"hosts_considered": 0}


def test_placement_keeps_an_anti_affinity_group_on_different_hosts(
    db: Session, make: Factory
) -> None:
    tenant, other = make.tenant(), make.tenant()
    roomy = make.baremetal("roomy", capacity_ram_mb=65536)
    second = make.baremetal("second", capacity_ram_mb=8192)
    add_vm(db, tenant, roomy, anti_affinity_group="web")
    web = Request(1, 64, 1, "web")
    assert choose_host(db, web, tenant_id=tenant.id) == second  # though roomy has more room
    add_vm(db, tenant, second, anti_affinity_group="web")
    with pytest.raises(NoCapacity):
        choose_host(db, web, tenant_id=tenant.id)
    # Another group, no group, and another tenant's group of the same name are not kept apart.
    assert choose_host(db, Request(1, 64, 1, "db"), tenant_id=tenant.id) == roomy
    assert choose_host(db, Request(1, 64, 1), tenant_id=tenant.id) == roomy
    assert choose_host(db, web, tenant_id=other.id) == roomy


def test_placement_counts_what_unmanaged_domains_take(db: Session, make: Factory) -> None:
    roomy = make.baremetal("roomy", capacity_vcpus=4, capacity_ram_mb=8192)
    other = make.baremetal("other", capacity_vcpus=4, capacity_ram_mb=4096)
    # A guest ops made by hand on roomy, as the last host.domains check listed it.
    roomy.unmanaged_domains = [
        {
            "name": "ops-vm",
            "uuid": str(uuid.uuid4()),
            "state": "running",
            "vcpus": 3,
            "ram_mb": 6144,
        }
    ]
    db.flush()
    assert choose_host(db, Request(1, 1024, 1)) == other  # roomy has 2048 MiB free, not 8192
    with pytest.raises(NoCapacity):  # only roomy's 8192 MiB could, were the guest not there
        choose_host(db, Request(1, 4097, 1))
    other.unmanaged_domains = [{"name": "x", "uuid": str(uuid.uuid4()), "state": "shutoff"}]
    db.flush()  # a listing without sizes counts nothing
    assert choose_host(db, Request(4, 4096, 1)) == other


def test_placement_anti_affinity_ignores_deleted_vms(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    host = make.baremetal("only")
    add_vm(db, tenant, host, anti_affinity_group="web", status=VMStatus.DELETED)
    assert choose_host(db, Request(1, 64, 1, "web"), tenant_id=tenant.id) == host
    add_vm(db, tenant, host, anti_affinity_group="web", status=VMStatus.ERROR)
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1, "web"), tenant_id=tenant.id)


# --- locking, across real concurrent transactions ----------------------------------------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[Any]:
    """commit(vcpus=[...]): a committed tenant and one host per entry with that many 1-vCPU
    slots (other connections must see them); all removed afterwards."""
    made: list[tuple[uuid.UUID, list[uuid.UUID]]] = []

    def commit(
        vcpus: list[int], ram_mb: list[int] | None = None
    ) -> tuple[uuid.UUID, list[uuid.UUID]]:
        prefix = f"lock-{uuid.uuid4().hex[:8]}"
        with Session(engine) as session:
            tenant = Tenant(name=prefix)
            hosts = [
                Baremetal(
                    name=f"{prefix}-{i}",
                    libvirt_uri="qemu:///system",
                    capacity_vcpus=cpus,
                    capacity_ram_mb=(ram_mb or [1024] * len(vcpus))[i],
                    capacity_disk_gb=10,
                    synced_at=text("now()"),
                    state=HostState.ACTIVE,
                )
                for i, cpus in enumerate(vcpus)
            ]
            session.add_all([tenant, *hosts])
            session.commit()
            made.append((tenant.id, [h.id for h in hosts]))
        return made[-1]

    yield commit
    with Session(engine) as session:
        for tenant_id, host_ids in made:
            session.execute(delete(VM).where(VM.tenant_id == tenant_id))
            session.execute(delete(Tenant).where(Tenant.id == tenant_id))
            session.execute(delete(Baremetal).where(Baremetal.id.in_(host_ids)))
        session.commit()


@pytest.fixture
def committed_host(committed: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A committed tenant and a one-slot host."""
    tenant_id, (host_id,) = committed([1])
    return tenant_id, host_id


def test_placement_locks_hosts_until_the_placing_transaction_ends(
    engine: Engine, committed_host: tuple[uuid.UUID, uuid.UUID]
) -> None:
    with Session(engine) as first, Session(engine) as second:
        choose_host(first, Request(1, 64, 1))
        second.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            choose_host(second, Request(1, 64, 1))
        second.rollback()
        first.rollback()
        assert choose_host(second, Request(1, 64, 1)).id == committed_host[1]


def test_placement_concurrent_callers_cannot_share_the_last_slot(
    engine: Engine, committed_host: tuple[uuid.UUID, uuid.UUID]
) -> None:
    tenant_id, host_id = committed_host
    outcome: list[object] = []
    waiting = threading.Event()

    def second_caller() -> None:
        with Session(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '10s'"))
            waiting.set()
            try:
                outcome.append(choose_host(second, Request(1, 64, 1)))
            except Exception as exc:
                outcome.append(exc)

    with Session(engine) as first:
        host = choose_host(first, Request(1, 64, 1))
        assert host.id == host_id
        thread = threading.Thread(target=second_caller)
        thread.start()
        waiting.wait(5)
        thread.join(0.3)
        assert thread.is_alive(), "the second caller must wait for the first one's row locks"
        add_vm(first, first.get_one(Tenant, tenant_id), host)
        first.commit()
    thread.join(10)
    assert not thread.is_alive()
    [result] = outcome
    assert isinstance(result, NoCapacity), result


def test_placement_on_another_host_does_not_wait_for_a_busy_one(
    engine: Engine, committed: Any
) -> None:
    _tenant, (roomier, other) = committed([1, 1], ram_mb=[2048, 1024])
    with Session(engine) as first, Session(engine) as second:
        assert choose_host(first, Request(1, 64, 1)).id == roomier  # held until first ends
        second.execute(text("SET LOCAL lock_timeout = '100ms'"))  # waiting would fail
        assert choose_host(second, Request(1, 64, 1)).id == other
        first.rollback()
        second.rollback()


def test_placement_claim_of_a_host_that_filled_up_releases_its_lock(
    engine: Engine, committed: Any
) -> None:
    tenant_id, (host_id,) = committed([1])
    with Session(engine) as filler:
        add_vm(filler, filler.get_one(Tenant, tenant_id), filler.get_one(Baremetal, host_id))
        filler.commit()
    with Session(engine) as late, Session(engine) as third:
        # `late` ranked the host as free before the filler committed, then claims it.
        assert _claim(late, [host_id], Request(1, 64, 1), wait=True) == (host_id, None)
        locked_now = third.execute(
            select(Baremetal.id).where(Baremetal.id == host_id).with_for_update(nowait=True)
        ).scalar_one()
        assert locked_now == host_id  # late's transaction is open, but it holds no lock
        third.rollback()
        late.rollback()


def test_placement_parallel_creates_admit_exactly_the_room_there_is(
    engine: Engine, committed: Any
) -> None:
    tenant_id, _hosts = committed([2, 3])  # room for exactly 5 one-vCPU VMs
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def create() -> None:
        with Session(engine) as session:
            session.execute(text("SET LOCAL lock_timeout = '20s'"))
            start.wait(10)
            try:
                host = choose_host(session, Request(1, 64, 1))
            except NoCapacity:
                outcomes.append("no capacity")
                return
            add_vm(session, session.get_one(Tenant, tenant_id), host)
            session.commit()
            outcomes.append("placed")

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["no capacity"] * 7 + ["placed"] * 5


def test_placement_parallel_creates_in_one_group_take_one_host_each(
    engine: Engine, committed: Any
) -> None:
    tenant_id, hosts = committed([8, 8, 8])  # room for 24 VMs, but the group allows 3
    outcomes: list[uuid.UUID | str] = []
    start = threading.Barrier(8)
    web = Request(1, 64, 1, "web")

    def create() -> None:
        with Session(engine) as session:
            session.execute(text("SET LOCAL lock_timeout = '20s'"))
            start.wait(10)
            try:
                host = choose_host(session, web, tenant_id=tenant_id)
            except NoCapacity:
                outcomes.append("no capacity")
                return
            add_vm(session, session.get_one(Tenant, tenant_id), host, anti_affinity_group="web")
            session.commit()
            outcomes.append(host.id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    placed = [o for o in outcomes if o != "no capacity"]
    assert sorted(map(str, placed)) == sorted(map(str, hosts))  # one on each host
    assert outcomes.count("no capacity") == 5


# --- statements per create -----------------------------------------------------------------------


def hosts(db: Session, count: int, **kw: Any) -> list[Baremetal]:
    """count active hosts with room, added in one flush."""
    made = [
        Baremetal(
            name=f"n-{i:04d}-{uuid.uuid4().hex[:6]}",
            libvirt_uri="qemu:///system",
            capacity_vcpus=16,
            capacity_ram_mb=16384,
            capacity_disk_gb=200,
            synced_at=text("now()"),
            state=HostState.ACTIVE,
            **kw,
        )
        for i in range(count)
    ]
    db.add_all(made)
    db.flush()
    return made


@contextmanager
def statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements run on connection inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


@pytest.mark.parametrize("group", [None, "web"])
def test_placement_statements_per_create_do_not_grow_with_hosts(
    db: Session, make: Factory, group: str | None
) -> None:
    admin, tenant = make.user(is_admin=True), make.tenant()
    counts: list[int] = []
    for number, name in ((5, "first"), (195, "second")):  # 5 hosts, then 200
        hosts(db, number)
        db.expunge_all()  # each create starts from the same empty identity map
        with statements(db.connection()) as seen:
            vms.create_vm(db, admin, vms.VMRequest(tenant.id, name, 1, 64, 1, group), None)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_placement_statements_of_a_refused_create_do_not_grow_with_hosts(
    db: Session, make: Factory
) -> None:
    tenant = make.tenant()
    imaged = Request(1, 64, 1, ssh_ports=(22000, 22000))  # one port, held on every host
    counts: list[int] = []
    for number in (5, 195):  # 5 user-mode hosts, then 200
        for host in hosts(db, number, guest_network=GuestNetwork.USER):
            add_vm(db, tenant, host, ssh_port=22000)
        with statements(db.connection()) as seen, pytest.raises(NoCapacity) as exc:
            choose_host(db, imaged, tenant_id=tenant.id)
        assert len(exc.value.details["hosts_without_ssh_port"]) == len(counts) * 195 + 5
        counts.append(len(seen))
    assert counts == [1, 1]  # the survey alone: no host is worth a lock


class Filler:
    """A scheduler that fills every host it ranks before placement claims them: each claim finds
    its host full, as when other creates won every race since the survey."""

    def __init__(self, db: Session, tenant: Tenant) -> None:
        self.db, self.tenant = db, tenant

    def rank(self, ask: Ask, candidates: list[Candidate]) -> list[Candidate]:
        for c in candidates:
            add_vm(self.db, self.tenant, self.db.get_one(Baremetal, c.id), vcpus=16)
        return candidates


def test_placement_tries_a_bounded_number_of_hosts(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    hosts(db, 20)
    with statements(db.connection()) as seen, pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1), Filler(db, tenant), tenant.id)
    locks = [s for s in seen if "FOR UPDATE" in s]
    assert len(locks) == 2 * CLAIM_ATTEMPTS  # found full: 5 in the first pass, 5 waited on
