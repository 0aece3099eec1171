"""The VM lifecycle table: every operation from every status, through the real request and job
functions, against the one table (api.services.lifecycle.OPERATIONS)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from api.errors import InvalidState, ResourceBusy
from api.models import VM, Job, JobKind, JobStatus, Tenant, User, VMStatus
from api.queue import JOB_FUNCS
from api.services import lifecycle, resize, snapshots, vms
from tests.conftest import Factory
from tests.helpers.snapshots import ready_snapshot
from tests.helpers.vm_jobs import queued_refresh

REQUESTED = [k for k, op in lifecycle.OPERATIONS.items() if op.allowed_from]


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    make.baremetal("bm-1")
    return make.tenant()


def vm_in(db: Session, admin: User, tenant: Tenant, status: VMStatus) -> VM:
    """A VM whose create job has finished, left in the given status."""
    job = vms.create_vm(db, admin, vms.VMRequest(tenant.id, "web", 1, 64, 1), None)
    job.status = JobStatus.SUCCESSFUL
    vm = db.get_one(VM, job.vm_id)
    vm.status = status
    db.flush()
    return vm


def request(db: Session, admin: User, vm: VM, kind: JobKind) -> Job | None:
    if kind == JobKind.VM_DELETE:
        return vms.request_delete(db, admin, vm.id, None)
    if kind == JobKind.VM_RESIZE:
        return resize.request_resize(db, admin, vm.id, {"vcpus": vm.vcpus + 1}, None)[0]
    if kind == JobKind.VM_SNAPSHOT:
        return snapshots.request_create(db, admin, vm.id, "snap-new", None, request_id=None).job
    if kind in (JobKind.VM_SNAPSHOT_DELETE, JobKind.VM_REVERT):
        snapshot = ready_snapshot(db, vm)
        act = (
            snapshots.request_delete
            if kind == JobKind.VM_SNAPSHOT_DELETE
            else snapshots.request_revert
        )
        return act(db, admin, vm.id, snapshot.id, None).job
    return vms.request_power(db, admin, vm.id, kind, None)


@pytest.mark.parametrize("kind", REQUESTED, ids=str)
@pytest.mark.parametrize("status", list(VMStatus), ids=str)
def test_lifecycle_request_is_allowed_exactly_from_the_table(
    db: Session, admin: User, tenant: Tenant, status: VMStatus, kind: JobKind
) -> None:
    op = lifecycle.operation(kind)
    vm = vm_in(db, admin, tenant, status)
    if status in op.allowed_from:
        job = request(db, admin, vm, kind)
        if kind == JobKind.VM_DELETE and status == VMStatus.PENDING:
            # Its create never ran: deleted at once, no job, libvirt untouched.
            assert (job, vm.status) == (None, VMStatus.DELETED)
            return
        assert job is not None
        assert (vm.status, job.kind, job.status) == (op.queued, kind, JobStatus.QUEUED)
        assert job.playbook == op.playbook
        return
    with pytest.raises(InvalidState) as refused:
        request(db, admin, vm, kind)
    # The message names the operation and the status, in one sentence.
    assert f"cannot {op.verb} VM web while it is {status}" in refused.value.detail_message
    assert refused.value.details["status"] == status
    assert refused.value.details["operation"] == kind.value
    assert vm.status == status  # nothing changed


def test_lifecycle_refusal_names_the_operation_in_flight(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    vms.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    with pytest.raises(InvalidState) as refused:
        vms.request_power(db, admin, vm.id, JobKind.VM_START, None)
    assert refused.value.detail_message == (
        "cannot start VM web while it is stopping (a vm.stop job is in flight); it must be stopped"
    )
    assert refused.value.details["in_flight"] == ["vm.stop"]


def test_lifecycle_power_request_with_a_job_in_flight_is_busy(
    db: Session, admin: User, tenant: Tenant
) -> None:
    vm = vm_in(db, admin, tenant, VMStatus.RUNNING)
    queued_refresh(db, vm)
    with pytest.raises(ResourceBusy):
        vms.request_power(db, admin, vm.id, JobKind.VM_STOP, None)
    assert vm.status == VMStatus.RUNNING


@pytest.mark.parametrize("kind", list(lifecycle.OPERATIONS), ids=str)
@pytest.mark.parametrize("status", list(VMStatus), ids=str)
def test_lifecycle_job_starts_only_from_what_its_request_left(
    kind: JobKind, status: VMStatus
) -> None:
    op = lifecycle.operation(kind)
    vm = VM(status=status)
    refused = lifecycle.job_may_start(vm, op)
    if status == op.queued:
        assert refused is None
        lifecycle.job_started(vm, op)
        assert vm.status == op.running
    else:
        assert refused == f"VM is {status}, not {op.queued}"


@pytest.mark.parametrize("kind", list(lifecycle.OPERATIONS), ids=str)
def test_lifecycle_job_result_follows_what_the_playbook_reported(kind: JobKind) -> None:
    op = lifecycle.operation(kind)
    for reported, becomes in op.results.items():
        done = VM(status=op.running, status_reason="old")
        assert lifecycle.job_finished(done, op, reported, None)
        assert (done.status, done.status_reason) == (becomes, None)
        assert (done.deleted_at is not None) == (becomes == VMStatus.DELETED)
    reports = next(iter(op.results))

    other = VM(status=op.running)
    assert not lifecycle.job_finished(other, op, "paused", None)
    assert (other.status, other.status_reason) == (
        VMStatus.ERROR,
        "libvirt reported the domain as paused",
    )
    failed = VM(status=op.running)
    assert not lifecycle.job_finished(failed, op, reports, "task 'x' failed")
    assert (failed.status, failed.status_reason) == (VMStatus.ERROR, "task 'x' failed")
    assert failed.deleted_at is None


@pytest.mark.parametrize("kind", list(lifecycle.OPERATIONS), ids=str)
@pytest.mark.parametrize("status", list(VMStatus), ids=str)
def test_lifecycle_cancel_undoes_only_what_its_request_did(kind: JobKind, status: VMStatus) -> None:
    op = lifecycle.operation(kind)
    for prior in sorted(lifecycle.POWERED):
        vm = VM(status=status)
        undone = lifecycle.canceled(vm, op, prior)
        if op.undo is not None and status == op.queued:
            assert undone and vm.status == (prior if op.undo == lifecycle.PRIOR else op.undo)
        else:
            assert not undone and vm.status == status


@pytest.mark.parametrize("kind", list(lifecycle.OPERATIONS), ids=str)
def test_lifecycle_request_keeps_the_status_a_cancel_returns_to(kind: JobKind) -> None:
    op = lifecycle.operation(kind)
    for before in sorted(op.allowed_from) or [VMStatus.PENDING]:
        vm = VM(status=before)
        assert lifecycle.requested(vm, op) == before
        assert vm.status == op.queued
        if op.undo == lifecycle.PRIOR:
            assert lifecycle.canceled(vm, op, before) and vm.status == before


def test_lifecycle_prior_undo_without_a_kept_status_changes_nothing() -> None:
    # A job queued before prior_status was kept: nothing known to go back to.
    op = lifecycle.operation(JobKind.VM_SNAPSHOT)
    vm = VM(status=op.queued)
    assert not lifecycle.canceled(vm, op, None)
    assert vm.status == op.queued


def test_lifecycle_every_operation_has_its_job_function_and_playbook() -> None:
    for kind, op in lifecycle.OPERATIONS.items():
        assert JOB_FUNCS[kind.value] == op.job_func
        module, func = op.job_func.rsplit(".", 1)
        assert module == "jobs.vms" and func.isidentifier()
    assert set(JOB_FUNCS) == {k.value for k in JobKind} - {JobKind.OPS_RUN.value}


@pytest.mark.parametrize("status", [VMStatus.DELETED, VMStatus.RUNNING, VMStatus.STOPPED])
def test_lifecycle_job_error_leaves_stable_and_final_statuses(status: VMStatus) -> None:
    vm = VM(status=status, status_reason=None)
    assert not lifecycle.job_error(vm, "worker died", JobKind.VM_STOP)
    assert (vm.status, vm.status_reason) == (status, None)


def test_lifecycle_job_error_puts_a_transitional_vm_in_error() -> None:
    vm = VM(id=uuid.uuid4(), status=VMStatus.STOPPING)
    assert lifecycle.job_error(vm, "worker died", JobKind.VM_STOP)
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, "worker died")


def test_lifecycle_a_pending_delete_outlives_the_job_it_waits_for() -> None:
    # A delete was requested while a stop ran: whatever the stop does, the VM stays deleting.
    stop, delete = lifecycle.operation(JobKind.VM_STOP), lifecycle.operation(JobKind.VM_DELETE)
    vm = VM(status=VMStatus.DELETING)
    assert not lifecycle.job_finished(vm, stop, "stopped", None)
    assert not lifecycle.job_error(vm, "worker died", JobKind.VM_STOP)
    assert vm.status == VMStatus.DELETING
    # The delete's own crash is an error, as for any job.
    assert lifecycle.job_error(vm, "worker died", JobKind.VM_DELETE)
    assert vm.status == VMStatus.ERROR
    done = VM(status=VMStatus.DELETING)
    assert lifecycle.job_finished(done, delete, "absent", None)
    assert done.status == VMStatus.DELETED


def test_lifecycle_table_in_data_model_md_is_the_code() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "data-model.md").read_text()
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| `vm.")
    ]
    documented = {row[0].strip("`"): row[1:] for row in rows}
    assert set(documented) == {kind.value for kind in lifecycle.OPERATIONS}
    for kind, op in lifecycle.OPERATIONS.items():
        cells = documented[kind.value]
        func, playbook, allowed, queued, running, results, undo = cells
        plain = [c.strip("`") for c in (func, playbook, queued, running, undo)]
        assert plain == [
            op.job_func,
            op.playbook,
            op.queued,
            op.running,
            op.undo or "(cannot be canceled)",
        ]
        assert results == ", ".join(f"`{r}` → `{s}`" for r, s in op.results.items())
        for status in VMStatus:
            named = f"`{status.value}`" in allowed
            if allowed.startswith("every status but"):
                assert named == (status not in op.allowed_from), (kind, status)
            else:
                assert named == (status in op.allowed_from), (kind, status)


@pytest.mark.parametrize(
    ("reported", "gap"),
    [
        ({"vcpus": "2", "ram_mb": "512", "disk_gb": "5"}, None),
        (
            {"vcpus": "1", "ram_mb": "512", "disk_gb": "4"},
            "the domain got 1 vCPUs instead of 2, 4 GiB of disk instead of 5",
        ),
        (
            {"vcpus": "2", "ram_mb": "256", "disk_gb": "5"},
            "the domain got 256 MiB of RAM instead of 512",
        ),
        ({"vcpus": "2", "ram_mb": "512"}, "the playbook did not report what it allocated"),
    ],
)
def test_lifecycle_created_successfully_means_allocated_as_requested(
    reported: dict[str, str], gap: str | None
) -> None:
    vm = VM(vcpus=2, ram_mb=512, disk_gb=5)
    assert lifecycle.allocation_gap(vm, reported) == gap
