"""The reconciler's comparison, without Ansible: VMs follow what libvirt reports for a host."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, ResourceBusy
from api.models import VM, AuditLog, Baremetal, HostState, Job, JobKind, JobStatus, VMStatus
from api.services import libvirt_state, vms
from api.services.libvirt_state import Domain, parse_report
from tests.conftest import Factory
from tests.helpers.libvirt_domains import add_vm, domain, report, started


@pytest.fixture
def host(make: Factory) -> Baremetal:
    return make.baremetal("bm-a")


@pytest.fixture
def check(db: Session, host: Baremetal) -> Job:
    """A host.domains job of host, its playbook started now."""
    return started(db, libvirt_state.request_host_check(db, host))


def run(db: Session, job: Job, *domains: dict[str, str]) -> list[libvirt_state.Change]:
    parsed = libvirt_state.parse_report(report("bm-a", list(domains)))
    assert parsed is not None
    return libvirt_state.reconcile(db, job, parsed)


def audit_rows(db: Session, vm: VM) -> list[AuditLog]:
    query = select(AuditLog).where(AuditLog.object_type == "vm", AuditLog.object_id == str(vm.id))
    return list(db.scalars(query))


def test_parse_report_reads_the_domains() -> None:
    got = libvirt_state.parse_report(
        report("bm-a", [{"name": "vf-a-1", "uuid": "ABC", "state": "running"}])
    )
    assert got == [Domain("vf-a-1", "abc", "running")]


@pytest.mark.parametrize(
    "artifacts",
    [{}, {"virtflow_domains": {}}, {"virtflow_domains": {"domains": [{"name": "x"}]}}],
)
def test_parse_report_without_a_usable_report_is_none(artifacts: dict[str, object]) -> None:
    assert libvirt_state.parse_report(artifacts) is None


def test_reconcile_out_of_band_stop_makes_the_vm_stopped_with_an_audit_row(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    changes = run(db, check, domain(vm, "shutoff"))
    assert [(c.before, c.after) for c in changes] == [
        ((VMStatus.RUNNING, None), (VMStatus.STOPPED, None))
    ]
    assert (vm.status, vm.status_reason) == (VMStatus.STOPPED, None)
    [row] = audit_rows(db, vm)
    assert (row.action, row.outcome, row.tenant_id, row.actor_id) == (
        "vm.reconcile",
        "out_of_band",
        vm.tenant_id,
        None,
    )
    assert row.changes["after"] == {"status": "stopped", "status_reason": None}
    assert row.changes["details"]["job_id"] == str(check.id)


def test_reconcile_out_of_band_start_makes_the_vm_running(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.STOPPED, "web")
    run(db, check, domain(vm, "running"))
    assert vm.status == VMStatus.RUNNING
    assert [r.outcome for r in audit_rows(db, vm)] == ["out_of_band"]


def test_reconcile_missing_domain_puts_the_vm_in_error(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.STOPPED, "web")
    run(db, check)
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, "domain missing on host bm-a")
    assert audit_rows(db, vm)[0].changes["details"]["domain"] is None


def test_reconcile_error_vm_whose_domain_exists_returns_to_its_real_state(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")
    vm.status_reason = "domain missing on host bm-a"
    run(db, check, domain(vm, "running"))
    assert (vm.status, vm.status_reason) == (VMStatus.RUNNING, None)


def test_reconcile_error_vm_without_domain_keeps_its_reason(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")
    vm.status_reason = "task 'Create the disk' failed"
    assert run(db, check) == []
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, "task 'Create the disk' failed")
    assert audit_rows(db, vm) == []


def test_reconcile_matching_state_changes_nothing_and_records_nothing(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    assert run(db, check, domain(vm, "running")) == []
    assert audit_rows(db, vm) == []


def test_reconcile_leaves_a_paused_domain_alone(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    assert run(db, check, domain(vm, "paused")) == []
    assert vm.status == VMStatus.RUNNING


def test_reconcile_lists_unknown_domains_as_unmanaged_and_leaves_them(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    stranger = {
        "name": "ops-test",
        "uuid": "0b5e55ed-0000-4000-8000-000000000001",
        "state": "shutoff",
        "vcpus": 1,
        "ram_mb": 512,
    }
    run(db, check, domain(vm, "running"), stranger)
    assert host.unmanaged_domains == [stranger]
    assert host.domains_checked_at is not None
    assert vm.status == VMStatus.RUNNING


def test_reconcile_leaves_a_vm_with_a_job_in_flight_untouched(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    admin = make.user(is_admin=True)
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    stop = vms.request_power(db, admin, vm.id, JobKind.VM_STOP, None)  # stopping, job queued
    vm.status = VMStatus.RUNNING  # even a stable status with a queued job is left alone
    assert run(db, check) == []
    assert vm.status == VMStatus.RUNNING
    assert stop.status == JobStatus.QUEUED
    assert host.unmanaged_domains == []


def test_reconcile_leaves_a_vm_whose_job_ended_after_the_listing_began(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.STOPPED, "web")
    stop = Job(
        kind=JobKind.VM_STOP,
        status=JobStatus.SUCCESSFUL,
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        playbook="vm_stop.yml",
        limit="bm-a",
        finished_at=utcnow() + dt.timedelta(seconds=1),
    )
    db.add(stop)
    db.flush()
    assert run(db, check, domain(vm, "running")) == []  # the report predates the stop
    assert vm.status == VMStatus.STOPPED


def test_reconcile_ignores_deleted_vms(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.DELETED, "web")
    vm.deleted_at = utcnow() - dt.timedelta(hours=1)
    assert run(db, check) == []
    assert vm.status == VMStatus.DELETED
    assert audit_rows(db, vm) == []


def test_reconcile_skips_vms_in_transition(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.PROVISIONING, "web")
    assert run(db, check) == []
    assert vm.status == VMStatus.PROVISIONING


def test_reconcile_of_a_refresh_touches_only_its_vm_and_not_the_unmanaged_list(
    db: Session, make: Factory, host: Baremetal
) -> None:
    tenant, admin = make.tenant(), make.user(is_admin=True)
    vm = add_vm(db, tenant, host, VMStatus.ERROR, "web")
    other = add_vm(db, tenant, host, VMStatus.RUNNING, "db")
    job = started(db, libvirt_state.request_refresh(db, admin, vm.id, "r-1"))
    run(db, job, domain(vm, "shutoff"))
    assert (vm.status, other.status) == (VMStatus.STOPPED, VMStatus.RUNNING)
    assert host.domains_checked_at is None
    assert audit_rows(db, vm)[0].request_id == "r-1"


def test_request_refresh_queues_a_read_only_job_for_the_vm(
    db: Session, make: Factory, host: Baremetal
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")
    job = libvirt_state.request_refresh(db, make.user(is_admin=True), vm.id, None)
    assert (job.kind, job.status, job.tenant_id, job.vm_id, job.limit, job.playbook) == (
        JobKind.VM_REFRESH,
        JobStatus.QUEUED,
        vm.tenant_id,
        vm.id,
        "bm-a",
        "host_domains.yml",
    )
    assert vm.status == VMStatus.ERROR


def test_request_refresh_refuses_a_vm_in_transition(
    db: Session, make: Factory, host: Baremetal
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.STOPPING, "web")
    with pytest.raises(InvalidState):
        libvirt_state.request_refresh(db, make.user(is_admin=True), vm.id, None)


def test_request_refresh_refuses_a_vm_with_a_job_in_flight(
    db: Session, make: Factory, host: Baremetal
) -> None:
    admin = make.user(is_admin=True)
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    libvirt_state.request_refresh(db, admin, vm.id, None)
    with pytest.raises(ResourceBusy):
        libvirt_state.request_refresh(db, admin, vm.id, None)


def test_due_hosts_are_checked_hosts_without_a_recent_or_unfinished_check(
    db: Session, make: Factory
) -> None:
    fresh = make.baremetal("bm-fresh")
    stale = make.baremetal("bm-stale")
    busy = make.baremetal("bm-busy")
    make.baremetal("bm-new", state=HostState.NEW)
    make.baremetal("bm-drained", state=HostState.MAINTENANCE)
    libvirt_state.request_host_check(db, fresh).status = JobStatus.SUCCESSFUL
    old = libvirt_state.request_host_check(db, stale)
    old.status, old.created_at = JobStatus.SUCCESSFUL, utcnow() - dt.timedelta(seconds=61)
    libvirt_state.request_host_check(db, busy).created_at = utcnow() - dt.timedelta(hours=1)
    db.flush()
    due = libvirt_state.due_hosts(db, 60)
    assert [h.name for h in due] == ["bm-drained", "bm-stale"]


@pytest.mark.parametrize(
    ("listed", "sizes"),
    [
        ({"vcpus": 2, "ram_mb": 2048}, (2, 2048)),
        ({}, (0, 0)),  # a report of before sizes were listed
        ({"vcpus": "2", "ram_mb": -5}, (0, 0)),
        ({"vcpus": True, "ram_mb": None}, (0, 0)),
    ],
)
def test_parse_report_keeps_domain_sizes_and_counts_bad_ones_as_zero(
    listed: dict[str, object], sizes: tuple[int, int]
) -> None:
    item = {"name": "ops-vm", "uuid": "ABC", "state": "running", **listed}
    [parsed] = parse_report({"virtflow_domains": {"host": "bm-a", "domains": [item]}}) or []
    assert (parsed.uuid, parsed.vcpus, parsed.ram_mb) == ("abc", *sizes)


AGENT = {"mac": "52:54:00:12:34:56", "ip": "10.0.2.15", "prefix": 24, "source": "agent"}
LEASE = {"mac": "52:54:00:ab:cd:ef", "ip": "192.168.213.7", "prefix": 24, "source": "lease"}


def with_addresses(vm: VM, state: str, *addresses: object) -> dict[str, object]:
    return {**domain(vm, state), "addresses": list(addresses)}


def test_parse_report_keeps_well_formed_ipv4_addresses_only() -> None:
    bad = [
        {**AGENT, "ip": "fe80::1"},
        {**AGENT, "ip": "not an ip"},
        {**AGENT, "prefix": 33},
        {**AGENT, "prefix": True},
        {**AGENT, "source": "arp"},
        "10.0.2.15",
    ]
    listed = {"name": "vf-a-1", "uuid": "abc", "state": "running", "addresses": [AGENT, *bad]}
    [got] = parse_report({"virtflow_domains": {"domains": [listed]}}) or []
    assert got.addresses == (AGENT,)


def test_reconcile_stores_the_running_domains_addresses(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    tenant = make.tenant()
    web = add_vm(db, tenant, host, VMStatus.RUNNING, "web")
    dbvm = add_vm(db, tenant, host, VMStatus.RUNNING, "db")
    run(db, check, with_addresses(web, "running", AGENT, LEASE), domain(dbvm, "running"))
    assert (web.addresses, dbvm.addresses) == ([AGENT, LEASE], [])
    assert web.addresses_at is not None and dbvm.addresses_at is not None
    # No status changed: addresses write no audit row.
    assert audit_rows(db, web) == []


@pytest.mark.parametrize("state", ["shutoff", "missing"])
def test_reconcile_clears_the_addresses_of_a_domain_that_does_not_run(
    db: Session, make: Factory, host: Baremetal, check: Job, state: str
) -> None:
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    vm.addresses = [AGENT]
    reported = [] if state == "missing" else [with_addresses(vm, state, AGENT)]
    run(db, check, *reported)
    assert vm.addresses == []


def test_reconcile_leaves_the_addresses_of_a_vm_with_a_job_in_flight(
    db: Session, make: Factory, host: Baremetal, check: Job
) -> None:
    admin = make.user(is_admin=True)
    vm = add_vm(db, make.tenant(), host, VMStatus.RUNNING, "web")
    vm.addresses = [AGENT]
    vms.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    run(db, check, with_addresses(vm, "running", LEASE))
    assert (vm.addresses, vm.addresses_at) == ([AGENT], None)


def test_reconcile_lists_unmanaged_domains_without_their_addresses(
    db: Session, host: Baremetal, check: Job
) -> None:
    stranger = {"name": "hand-made", "uuid": "abc", "state": "running", "addresses": [AGENT]}
    run(db, check, stranger)
    assert host.unmanaged_domains == [
        {"name": "hand-made", "uuid": "abc", "state": "running", "vcpus": 0, "ram_mb": 0}
    ]


def test_refresh_stores_addresses_of_its_vm_only(
    db: Session, make: Factory, host: Baremetal
) -> None:
    tenant, admin = make.tenant(), make.user(is_admin=True)
    vm = add_vm(db, tenant, host, VMStatus.RUNNING, "web")
    other = add_vm(db, tenant, host, VMStatus.RUNNING, "db")
    other.addresses = [LEASE]
    job = started(db, libvirt_state.request_refresh(db, admin, vm.id, None))
    run(db, job, with_addresses(vm, "running", AGENT))
    assert (vm.addresses, other.addresses) == ([AGENT], [LEASE])
