"""Host lifecycle: the transition table walked state by state, sync's new/missing, placement."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import InvalidState, NoCapacity, ValidationFailed
from api.models import VM, Baremetal, HostState, JobKind, JobStatus, VMStatus
from api.services import hosts, inventory, jobs, libvirt_state
from api.services.placement import Request, choose_host
from tests.conftest import Factory

PREPARE_FROM = {HostState.NEW, HostState.ACTIVE, HostState.MAINTENANCE, HostState.OFFLINE}
MAINTENANCE_FROM = {HostState.NEW, HostState.ACTIVE, HostState.OFFLINE}


@pytest.mark.parametrize("state", list(HostState))
def test_hosts_prepare_from_each_state(db: Session, make: Factory, state: HostState) -> None:
    host = make.baremetal("bm-x", state=state)
    if state not in PREPARE_FROM:
        with pytest.raises(InvalidState) as refused:
            hosts.request_prepare(db, host, "r-1")
        assert refused.value.details == {"state": state.value, "action": "prepare"}
        assert f"while it is {state.value}" in refused.value.detail_message
        return
    job = hosts.request_prepare(db, host, "r-1")
    assert host.state == HostState.PREPARING
    assert (job.kind, job.baremetal_id, job.tenant_id) == (JobKind.HOST_PREPARE, host.id, None)
    assert (job.playbook, job.limit, job.status) == ("host_prepare.yml", "bm-x", JobStatus.QUEUED)


@pytest.mark.parametrize("state", list(HostState))
def test_hosts_maintenance_on_from_each_state(db: Session, make: Factory, state: HostState) -> None:
    host = make.baremetal("bm-x", state=state)
    if state not in MAINTENANCE_FROM:
        with pytest.raises(InvalidState):
            hosts.set_maintenance(db, host, True)
        assert host.state == state
        return
    hosts.set_maintenance(db, host, True)
    assert host.state == HostState.MAINTENANCE


@pytest.mark.parametrize(
    ("prepared", "back_to"), [(True, HostState.ACTIVE), (False, HostState.NEW)]
)
def test_hosts_maintenance_off_returns_to_what_the_host_is(
    db: Session, make: Factory, prepared: bool, back_to: HostState
) -> None:
    host = make.baremetal("bm-x", state=HostState.MAINTENANCE)
    if not prepared:
        host.prepared_at = None
    hosts.set_maintenance(db, host, False)
    assert host.state == back_to


def test_hosts_out_of_inventory_cannot_be_prepared(db: Session, make: Factory) -> None:
    host = make.baremetal("bm-x", in_inventory=False)
    with pytest.raises(InvalidState, match="out of the inventory"):
        hosts.request_prepare(db, host, None)


@pytest.mark.parametrize(
    ("succeeded", "state", "reason"),
    [(True, HostState.ACTIVE, None), (False, HostState.NEW, "task 'x' unreachable on bm-x: ssh")],
)
def test_hosts_prepare_result(
    db: Session, make: Factory, succeeded: bool, state: HostState, reason: str | None
) -> None:
    host = make.baremetal("bm-x", state=HostState.PREPARING, prepared_at=None)
    hosts.apply_prepare_result(host, succeeded, "task 'x' unreachable on bm-x: ssh")
    assert (host.state, host.state_reason) == (state, reason)
    assert (host.prepared_at is not None) == succeeded


def test_hosts_prepare_result_keeps_a_state_an_admin_set_meanwhile(
    db: Session, make: Factory
) -> None:
    host = make.baremetal("bm-x", state=HostState.MAINTENANCE)
    hosts.apply_prepare_result(host, True, None)
    assert host.state == HostState.MAINTENANCE


@pytest.mark.parametrize("state", [s for s in HostState if s != HostState.ACTIVE])
def test_placement_takes_only_active_hosts(db: Session, make: Factory, state: HostState) -> None:
    make.baremetal("big", state=state, capacity_ram_mb=10**6)
    small = make.baremetal("small", capacity_ram_mb=1024)
    assert choose_host(db, Request(1, 64, 1)) == small
    small.state = state
    db.flush()
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1))


def _entry(name: str) -> inventory.HostEntry:
    return inventory.HostEntry(
        name=name,
        libvirt_uri="qemu:///system",
        capacity_vcpus=4,
        capacity_ram_mb=4096,
        capacity_disk_gb=40,
    )


def test_sync_adds_hosts_new_and_keeps_the_state_of_known_ones(db: Session, make: Factory) -> None:
    known = make.baremetal("bm-known", state=HostState.MAINTENANCE)
    inventory.sync(db, [_entry("bm-known"), _entry("bm-added")])
    db.expire_all()
    added = db.scalars(select(Baremetal).where(Baremetal.name == "bm-added")).one()
    assert (added.state, added.prepared_at) == (HostState.NEW, None)
    assert known.state == HostState.MAINTENANCE


def test_sync_marks_a_removed_host_with_vms_missing_and_brings_it_back(
    db: Session, make: Factory
) -> None:
    tenant = make.tenant()
    busy = make.baremetal("bm-busy")
    idle = make.baremetal("bm-idle")
    db.add(
        VM(
            tenant_id=tenant.id,
            name="web",
            baremetal_id=busy.id,
            domain_name="vf-web-1",
            vcpus=1,
            ram_mb=64,
            disk_gb=1,
            status=VMStatus.RUNNING,
        )
    )
    db.flush()
    inventory.sync(db, [])
    db.expire_all()
    assert (busy.state, busy.in_inventory) == (HostState.MISSING, False)
    assert "VMs still live on it" in (busy.state_reason or "")
    assert (idle.state, idle.in_inventory) == (HostState.ACTIVE, False)
    inventory.sync(db, [_entry("bm-busy")])
    db.expire_all()
    assert (busy.state, busy.in_inventory, busy.state_reason) == (HostState.ACTIVE, True, None)


def _check(db: Session, host: Baremetal, ok: bool) -> None:
    """A finished host.domains job on host, then its health verdict (offline after 2)."""
    job = libvirt_state.request_host_check(db, host)
    status = JobStatus.SUCCESSFUL if ok else JobStatus.FAILED
    jobs.finish(db, job.id, status, explanation=None if ok else "task 'List' unreachable on h")
    hosts.after_health_check(db, host, job, ok, offline_after=2)
    db.flush()


def test_hosts_go_offline_after_consecutive_failed_checks_and_come_back(
    db: Session, make: Factory
) -> None:
    host = make.baremetal("bm-x")
    _check(db, host, ok=False)
    assert host.state == HostState.ACTIVE  # one failure is not enough
    _check(db, host, ok=True)
    _check(db, host, ok=False)
    assert host.state == HostState.ACTIVE  # not in a row
    _check(db, host, ok=False)
    assert host.state == HostState.OFFLINE
    assert host.state_reason == "failed 2 health checks in a row: task 'List' unreachable on h"
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1))
    _check(db, host, ok=True)
    assert (host.state, host.state_reason) == (HostState.ACTIVE, None)


@pytest.mark.parametrize("state", [HostState.MAINTENANCE, HostState.NEW])
def test_hosts_health_checks_move_only_active_and_offline_hosts(
    db: Session, make: Factory, state: HostState
) -> None:
    host = make.baremetal("bm-x", state=state)
    for _ in range(3):
        _check(db, host, ok=False)
    _check(db, host, ok=True)
    assert host.state == state


def test_placement_dedicated_host_takes_only_its_tenants_vms(db: Session, make: Factory) -> None:
    owner, other = make.tenant(), make.tenant()
    dedicated = make.baremetal("bm-own", capacity_ram_mb=10**6)
    shared = make.baremetal("bm-shared", capacity_ram_mb=1024)
    hosts.dedicate(db, dedicated, owner.id)
    assert choose_host(db, Request(1, 64, 1), tenant_id=owner.id) == dedicated
    assert choose_host(db, Request(1, 64, 1), tenant_id=other.id) == shared
    hosts.dedicate(db, shared, owner.id)
    with pytest.raises(NoCapacity):
        choose_host(db, Request(1, 64, 1), tenant_id=other.id)
    hosts.dedicate(db, dedicated, None)  # shared again
    assert choose_host(db, Request(1, 64, 1), tenant_id=other.id) == dedicated


def test_hosts_dedicate_to_a_missing_tenant_is_refused(db: Session, make: Factory) -> None:
    host = make.baremetal("bm-x")
    with pytest.raises(ValidationFailed):
        hosts.dedicate(db, host, uuid.uuid4())
    assert host.dedicated_tenant_id is None
