"""VM resize: the request (quota delta, host room, sizes), and how its job's end leaves the VM
(the new size, or the old one back with the reason, or what libvirt reported it has)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.errors import InvalidState, NoCapacity, QuotaExceeded, ResourceBusy, ValidationFailed
from api.models import (
    VM,
    Baremetal,
    Job,
    JobKind,
    JobStatus,
    Snapshot,
    SnapshotStatus,
    Tenant,
    User,
    VMStatus,
)
from api.services import lifecycle, quotas, resize, vms
from api.settings import Settings
from jobs import base, execution
from jobs import vms as vm_jobs
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, event, stats, success_events
from tests.helpers.vm_jobs import queued_refresh

OLD = {"vcpus": 2, "ram_mb": 1024, "disk_gb": 10}


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def host(make: Factory) -> Baremetal:
    return make.baremetal("bm-r", capacity_vcpus=8, capacity_ram_mb=8192, capacity_disk_gb=100)


def stopped_vm(db: Session, admin: User, tenant: Tenant, name: str = "web", **sizes: int) -> VM:
    """A VM whose create job succeeded, then stopped (resizable)."""
    size = {**OLD, **sizes}
    request = vms.VMRequest(tenant.id, name, size["vcpus"], size["ram_mb"], size["disk_gb"])
    job = vms.create_vm(db, admin, request, None)
    job.status = JobStatus.SUCCESSFUL
    vm = db.get_one(VM, job.vm_id)
    vm.status = VMStatus.STOPPED
    db.flush()
    return vm


def sizes(vm: VM) -> dict[str, int]:
    return {"vcpus": vm.vcpus, "ram_mb": vm.ram_mb, "disk_gb": vm.disk_gb}


def jobs_of(db: Session, vm: VM) -> list[Job]:
    return list(db.scalars(select(Job).where(Job.vm_id == vm.id, Job.kind == JobKind.VM_RESIZE)))


# --- the request ------------------------------------------------------------------------------


def test_resize_request_writes_the_new_size_and_keeps_the_old_one_on_its_job(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant())
    job, old = resize.request_resize(db, admin, vm.id, {"vcpus": 4, "disk_gb": 20}, "r-9")
    assert old == resize.Sizes(**OLD)
    assert (vm.status, sizes(vm)) == (VMStatus.RESIZING, {**OLD, "vcpus": 4, "disk_gb": 20})
    assert (job.kind, job.status, job.playbook, job.limit) == (
        JobKind.VM_RESIZE,
        JobStatus.QUEUED,
        "vm_resize.yml",
        "bm-r",
    )
    assert job.prior_status == VMStatus.STOPPED
    assert job.extravars == {
        "virtflow_guests": [
            {"name": vm.domain_name, "uuid": str(vm.id), "vcpus": 4, "ram_mb": 1024, "disk_gb": 20}
        ],
        "virtflow_resize_from": OLD,
    }


def test_resize_request_admits_only_the_growth_against_the_quota(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    # The VM already uses 2 of the 4 vCPUs and all 1024 MiB: down on RAM, up to the limit on CPU.
    tenant = make.tenant(quota={"vcpus": 4, "ram_mb": 1024})
    vm = stopped_vm(db, admin, tenant)
    resize.request_resize(db, admin, vm.id, {"vcpus": 4, "ram_mb": 512}, None)
    assert quotas.usage(db, tenant.id).vcpus == 4
    assert quotas.usage(db, tenant.id).ram_mb == 512  # the decrease is freed at once


def test_resize_request_over_the_quota_changes_nothing(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    tenant = make.tenant(quota={"vcpus": 4})
    vm = stopped_vm(db, admin, tenant)
    with pytest.raises(QuotaExceeded) as refused:
        resize.request_resize(db, admin, vm.id, {"vcpus": 5}, None)
    assert refused.value.details["resource"] == "vcpus"
    assert (refused.value.details["requested"], refused.value.details["used"]) == (3, 2)
    assert (vm.status, sizes(vm), jobs_of(db, vm)) == (VMStatus.STOPPED, OLD, [])


def test_resize_decrease_frees_quota_for_another_vm(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    tenant = make.tenant(quota={"vcpus": 3})
    vm = stopped_vm(db, admin, tenant)
    request = vms.VMRequest(tenant.id, "other", 2, 64, 1)
    with pytest.raises(QuotaExceeded):
        vms.create_vm(db, admin, request, None)
    resize.request_resize(db, admin, vm.id, {"vcpus": 1}, None)
    assert vms.create_vm(db, admin, request, None).kind == JobKind.VM_CREATE


def test_resize_request_needs_room_on_the_vms_own_host(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant(), vcpus=6)
    # Another host has all the room in the world: a resize never moves the VM there.
    make.baremetal("bm-roomy", capacity_vcpus=64, capacity_ram_mb=65536, capacity_disk_gb=1000)
    with pytest.raises(NoCapacity) as refused:
        resize.request_resize(db, admin, vm.id, {"vcpus": 9}, None)
    assert refused.value.details["host"] == "bm-r"
    assert refused.value.details["vcpus"] == 3
    assert (vm.status, sizes(vm)["vcpus"], vm.baremetal_id) == (VMStatus.STOPPED, 6, host.id)
    # Up to what the host holds: 8 vCPUs, the VM's 6 counted once.
    resize.request_resize(db, admin, vm.id, {"vcpus": 8}, None)
    assert vm.vcpus == 8


def test_resize_request_counts_the_hosts_unmanaged_domains(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant())
    host.unmanaged_domains = [{"name": "by-hand", "vcpus": 5, "ram_mb": 512}]
    db.flush()
    with pytest.raises(NoCapacity):
        resize.request_resize(db, admin, vm.id, {"vcpus": 4}, None)


def test_resize_request_that_only_shrinks_needs_no_room(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant(), vcpus=8)
    host.capacity_vcpus = 4  # the host was shrunk below what it holds
    db.flush()
    resize.request_resize(db, admin, vm.id, {"vcpus": 4}, None)
    assert vm.vcpus == 4


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ({"disk_gb": 9}, "A disk only grows: VM web has 10 GiB; ask for 10 or more."),
        ({}, "Give at least one of vcpus, ram_mb, disk_gb."),
        ({"vcpus": 2, "disk_gb": 10}, "VM web has this size already: 2 vCPUs, 1024 MiB of RAM"),
    ],
)
@pytest.mark.usefixtures("host")
def test_resize_request_refuses_a_disk_shrink_or_no_change(
    db: Session, make: Factory, admin: User, wanted: dict[str, int], message: str
) -> None:
    vm = stopped_vm(db, admin, make.tenant())
    with pytest.raises(ValidationFailed) as refused:
        resize.request_resize(db, admin, vm.id, wanted, None)
    assert refused.value.detail_message.startswith(message)
    assert (vm.status, sizes(vm), jobs_of(db, vm)) == (VMStatus.STOPPED, OLD, [])


def test_resize_request_with_a_job_in_flight_is_busy(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant())
    queued_refresh(db, vm)
    with pytest.raises(ResourceBusy):
        resize.request_resize(db, admin, vm.id, {"vcpus": 3}, None)
    assert (vm.status, sizes(vm)) == (VMStatus.STOPPED, OLD)


@pytest.mark.parametrize("status", [SnapshotStatus.READY, SnapshotStatus.ERROR])
def test_resize_request_is_refused_while_the_vm_has_snapshots(
    db: Session, make: Factory, admin: User, host: Baremetal, status: SnapshotStatus
) -> None:
    # A revert would bring back the domain's old definition and the disk's old size.
    vm = stopped_vm(db, admin, make.tenant())
    db.add(Snapshot(tenant_id=vm.tenant_id, vm_id=vm.id, name="before", status=status))
    db.flush()
    with pytest.raises(InvalidState) as refused:
        resize.request_resize(db, admin, vm.id, {"vcpus": 3}, None)
    assert "while it has snapshots (1); delete them first" in refused.value.detail_message
    assert refused.value.details["snapshots"] == 1
    assert (vm.status, sizes(vm), jobs_of(db, vm)) == (VMStatus.STOPPED, OLD, [])


def test_resize_request_ignores_deleted_snapshots(
    db: Session, make: Factory, admin: User, host: Baremetal
) -> None:
    vm = stopped_vm(db, admin, make.tenant())
    db.add(Snapshot(tenant_id=vm.tenant_id, vm_id=vm.id, name="old", status=SnapshotStatus.DELETED))
    db.flush()
    job, _ = resize.request_resize(db, admin, vm.id, {"vcpus": 3}, None)
    assert (vm.status, vm.vcpus, job.kind) == (VMStatus.RESIZING, 3, JobKind.VM_RESIZE)


# --- the end of its job -----------------------------------------------------------------------


@pytest.fixture
def runner(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    """Job functions run here on the test's sessions, with a fake ansible-runner."""
    monkeypatch.setattr(base, "sessions", lambda: sessions)
    monkeypatch.setattr(base, "throwaway", sessions)
    monkeypatch.setattr(base, "settings", lambda: settings)
    fake = FakeRunner()
    monkeypatch.setattr(execution, "run_playbook", fake)
    return fake


@pytest.fixture
def resizing(db: Session, make: Factory, admin: User, host: Baremetal) -> tuple[VM, Job]:
    """A stopped 2 vCPU, 1024 MiB, 10 GiB VM with a queued resize to 4 vCPUs and 20 GiB."""
    vm = stopped_vm(db, admin, make.tenant())
    job, _old = resize.request_resize(db, admin, vm.id, {"vcpus": 4, "disk_gb": 20}, None)
    return vm, job


def reload(db: Session, *objs: Any) -> None:
    db.expire_all()
    for obj in objs:
        db.refresh(obj)


def failed_with(domain: str, reported: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A vm_resize.yml run whose growing of the disk failed, and what it then read back."""
    return [
        event(1, "playbook_on_start"),
        event(
            2,
            "runner_on_failed",
            task="Grow the guest disks",
            host="bm-r",
            res={"failed": True, "msg": "qemu-img: Could not resize file"},
        ),
        stats(3, {domain: reported} if reported is not None else {}),
    ]


def test_resize_job_success_leaves_the_vm_stopped_with_its_new_size(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    runner.events = success_events(vm.domain_name, state="stopped")
    assert vm_jobs.resize(str(job.id)) == "successful"
    reload(db, vm, job)
    assert (vm.status, vm.status_reason) == (VMStatus.STOPPED, None)
    assert sizes(vm) == {"vcpus": 4, "ram_mb": 1024, "disk_gb": 20}
    assert job.artifacts["virtflow_guests"][vm.domain_name]["vcpus"] == 4
    assert runner.runs[0].playbook == "vm_resize.yml"


def test_resize_job_failure_puts_the_old_size_back_with_the_reason(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    # The role read the domain back after the failure: nothing changed, still shut off.
    reported = {"state": "stopped", "host": "bm-r", **OLD}
    runner.events, runner.status, runner.rc = failed_with(vm.domain_name, reported), "failed", 2
    assert vm_jobs.resize(str(job.id)) == "failed"
    reload(db, vm, job)
    assert vm.status == VMStatus.STOPPED  # the old size stays, and the VM can start
    assert sizes(vm) == OLD
    assert vm.status_reason == (
        f"resize to 4 vCPUs, 20 GiB of disk failed: {job.explanation}; "
        "the VM keeps 2 vCPUs, 1024 MiB of RAM, 10 GiB of disk"
    )
    assert "qemu-img: Could not resize file" in (job.explanation or "")


def test_resize_job_failure_part_way_keeps_what_libvirt_reports(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    # The vCPUs were set before the disk step failed: the VM row says what the domain has.
    reported = {"state": "stopped", "host": "bm-r", **OLD, "vcpus": 4}
    runner.events, runner.status, runner.rc = failed_with(vm.domain_name, reported), "failed", 2
    vm_jobs.resize(str(job.id))
    reload(db, vm, job)
    assert (vm.status, sizes(vm)) == (VMStatus.STOPPED, {**OLD, "vcpus": 4})
    assert (vm.status_reason or "").endswith(
        "libvirt and qemu-img report that the VM has 4 vCPUs, 1024 MiB of RAM, 10 GiB of disk"
    )


def test_resize_job_failure_without_a_report_is_error_with_the_old_size(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    runner.events, runner.status, runner.rc = failed_with(vm.domain_name, None), "failed", 2
    vm_jobs.resize(str(job.id))
    reload(db, vm, job)
    # Nothing read back: libvirt's state is unknown, so error, at the size the VM had.
    assert (vm.status, sizes(vm)) == (VMStatus.ERROR, OLD)
    assert (vm.status_reason or "").startswith("resize to 4 vCPUs, 20 GiB of disk failed: ")


def test_resize_job_with_another_allocation_is_error_with_the_difference(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    runner.events = success_events(vm.domain_name, state="stopped")
    runner.events[-1]["event_data"]["artifact_data"]["virtflow_guests"][vm.domain_name].update(
        {"vcpus": 3, "disk_gb": 20, "ram_mb": 1024}
    )
    assert vm_jobs.resize(str(job.id)) == "successful"
    reload(db, vm, job)
    assert vm.status == VMStatus.ERROR
    assert vm.status_reason == (
        "resize to 4 vCPUs, 20 GiB of disk failed: the domain got 3 vCPUs instead of 4; "
        "libvirt and qemu-img report that the VM has 3 vCPUs, 1024 MiB of RAM, 20 GiB of disk"
    )
    assert sizes(vm) == {"vcpus": 3, "ram_mb": 1024, "disk_gb": 20}


def test_resize_cancel_of_the_queued_job_puts_the_old_size_back(
    db: Session, resizing: tuple[VM, Job], admin: User
) -> None:
    vm, job = resizing
    vms.cancel_job(db, admin, job.id)
    assert (job.status, vm.status, sizes(vm)) == (JobStatus.CANCELED, VMStatus.STOPPED, OLD)
    assert vm.status_reason == (
        "resize to 4 vCPUs, 20 GiB of disk was canceled; "
        "the VM keeps 2 vCPUs, 1024 MiB of RAM, 10 GiB of disk"
    )


def test_resize_canceled_by_a_delete_frees_the_growth(
    db: Session, resizing: tuple[VM, Job], admin: User
) -> None:
    vm, job = resizing
    vms.request_delete(db, admin, vm.id, None)
    assert (job.status, vm.status, sizes(vm)) == (JobStatus.CANCELED, VMStatus.DELETING, OLD)


def test_resize_job_crash_is_error_with_the_old_size(
    db: Session, resizing: tuple[VM, Job], runner: FakeRunner
) -> None:
    vm, job = resizing
    runner.raises = RuntimeError("boom")
    with pytest.raises(RuntimeError):
        vm_jobs.resize(str(job.id))
    reload(db, vm, job)
    assert (job.status, vm.status, sizes(vm)) == (JobStatus.ERROR, VMStatus.ERROR, OLD)
    assert (vm.status_reason or "").startswith("resize to 4 vCPUs, 20 GiB of disk failed: ")
    assert (vm.status_reason or "").endswith(
        "the VM keeps 2 vCPUs, 1024 MiB of RAM, 10 GiB of disk"
    )


def test_resize_old_size_is_read_from_the_job_only() -> None:
    job = Job(id=uuid.uuid4(), extravars={"virtflow_guests": []})
    assert resize.old_size(job) is None
    job.extravars = {"virtflow_resize_from": {"vcpus": 1, "ram_mb": 64, "disk_gb": "x"}}
    assert resize.old_size(job) is None
    job.extravars = {"virtflow_resize_from": {"vcpus": 1, "ram_mb": 64, "disk_gb": 2}}
    assert resize.old_size(job) == resize.Sizes(1, 64, 2)


@pytest.mark.parametrize("kind", list(lifecycle.OPERATIONS), ids=str)
def test_resize_alone_leaves_a_failed_run_that_read_the_domain_back_as_it_read(
    kind: JobKind,
) -> None:
    op = lifecycle.operation(kind)
    vm = VM(status=op.running)
    lifecycle.job_finished(vm, op, "stopped", "task 'x' failed", playbook_failed=True)
    expected = VMStatus.STOPPED if kind == JobKind.VM_RESIZE else VMStatus.ERROR
    assert (vm.status, vm.status_reason) == (expected, "task 'x' failed")
    # A run that succeeded with a wrong result (another size) is an error, for every operation.
    wrong = VM(status=op.running)
    lifecycle.job_finished(wrong, op, "stopped", "the domain got 3 vCPUs instead of 4")
    assert wrong.status == VMStatus.ERROR
