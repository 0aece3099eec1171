"""Batches: one create job runs every queued create of its host and tenant in one playbook run,
and each VM still ends on its own (fake ansible-runner, real database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, Job, JobEvent, JobKind, JobStatus, User, VMStatus
from api.services import jobs
from api.services import vms as vm_service
from api.settings import Settings
from jobs import base, worker
from jobs import vms as vm_jobs
from tests.conftest import Factory
from tests.helpers.runner_fakes import LIBVIRT_UUID, FakeRunner, batch_events


@pytest.fixture
def admin(make: Factory) -> User:
    make.baremetal("bm-a")
    return make.user(is_admin=True)


def creates(
    db: Session, admin: User, tenant_id: uuid.UUID, n: int, prefix: str = "web"
) -> list[Job]:
    """n queued creates of the tenant, as n POST /vm/ requests leave them."""
    made = []
    for k in range(n):
        request = vm_service.VMRequest(tenant_id, f"{prefix}-{k}", 1, 64, 1)
        made.append(vm_service.create_vm(db, admin, request, f"r-{prefix}-{k}"))
    db.flush()
    return made


def domains(db: Session, made: list[Job]) -> list[str]:
    return [db.get_one(VM, job.vm_id).domain_name for job in made]


def running(name: str) -> dict[str, Any]:
    return {"state": "running", "uuid": LIBVIRT_UUID, "host": "bm-a"}


def reloaded(db: Session, job: Job) -> tuple[Job, VM]:
    db.expire_all()
    fresh = db.get_one(Job, job.id)
    return fresh, db.get_one(VM, fresh.vm_id)


def test_batch_runs_every_queued_create_of_the_host_in_one_run(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    made = creates(db, admin, make.tenant().id, 3)
    names = domains(db, made)
    runner.events = batch_events({name: running(name) for name in names})

    assert vm_jobs.provision(str(made[0].id)) == "successful"
    assert [vm_jobs.provision(str(job.id)) for job in made[1:]] == ["skipped", "skipped"]

    [run] = runner.runs
    assert [spec["name"] for spec in run.extravars["virtflow_guests"]] == names
    for job, name in zip(made, names, strict=True):
        fresh, vm = reloaded(db, job)
        assert (fresh.status, vm.status, vm.domain_uuid) == (
            JobStatus.SUCCESSFUL,
            VMStatus.RUNNING,
            uuid.UUID(LIBVIRT_UUID),
        )
        assert list(fresh.artifacts["virtflow_guests"]) == [name]  # its own guest only


def test_batch_item_events_go_to_their_own_job(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    made = creates(db, admin, make.tenant().id, 2)
    names = domains(db, made)
    runner.events = batch_events({name: running(name) for name in names})
    vm_jobs.provision(str(made[0].id))

    for job, name in zip(made, names, strict=True):
        rows = db.scalars(select(JobEvent).where(JobEvent.job_id == job.id)).all()
        items = [row.stdout for row in rows if row.event == "runner_item_on_ok"]
        assert items == [f"changed: [bm-a] => (item={name})"]
        assert {"playbook_on_task_start", "playbook_on_stats"} <= {row.event for row in rows}


def test_batch_guest_error_fails_only_that_vm(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    made = creates(db, admin, make.tenant().id, 3)
    names = domains(db, made)
    report = {name: running(name) for name in names}
    report[names[1]] = {"state": "error", "host": "bm-a", "error": "libvirt refused the domain"}
    runner.events, runner.status, runner.rc = batch_events(report), "failed", 2

    vm_jobs.provision(str(made[0].id))

    bad_job, bad_vm = reloaded(db, made[1])
    assert bad_job.status == JobStatus.FAILED
    assert bad_job.explanation == "libvirt refused the domain"
    assert bad_vm.status == VMStatus.ERROR
    for job in (made[0], made[2]):
        fresh, vm = reloaded(db, job)
        assert (fresh.status, fresh.explanation, vm.status) == (
            JobStatus.SUCCESSFUL,
            None,
            VMStatus.RUNNING,
        )


def test_batch_leaves_a_create_queued_while_its_host_runs_one(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    tenant_id = make.tenant().id
    [busy] = creates(db, admin, tenant_id, 1, prefix="busy")
    jobs.claim(db, busy.id, "other-worker:1")
    [waiting] = creates(db, admin, tenant_id, 1, prefix="wait")

    assert vm_jobs.provision(str(waiting.id)) == "deferred"
    assert runner.runs == []
    assert reloaded(db, waiting)[0].status == JobStatus.QUEUED


def test_batch_never_mixes_tenants(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    first = creates(db, admin, make.tenant().id, 1, prefix="a")
    second = creates(db, admin, make.tenant().id, 1, prefix="b")
    names = domains(db, first + second)
    runner.events = batch_events({name: running(name) for name in names})

    vm_jobs.provision(str(first[0].id))  # drains the host: the second tenant's batch follows

    assert [[g["name"] for g in run.extravars["virtflow_guests"]] for run in runner.runs] == [
        [names[0]],
        [names[1]],
    ]
    assert all(reloaded(db, job)[0].status == JobStatus.SUCCESSFUL for job in first + second)


@pytest.fixture
def batch_limit_two(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "settings", lambda: dataclasses.replace(settings, batch_limit=2))


@pytest.mark.usefixtures("batch_limit_two")
def test_batch_limit_splits_the_host_queue(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    made = creates(db, admin, make.tenant().id, 3)
    names = domains(db, made)
    runner.events = batch_events({name: running(name) for name in names})

    vm_jobs.provision(str(made[0].id))

    sizes = [len(run.extravars["virtflow_guests"]) for run in runner.runs]
    assert sizes == [2, 1]
    assert all(reloaded(db, job)[0].status == JobStatus.SUCCESSFUL for job in made)


def test_bury_ends_every_job_of_the_dead_workers_batch(
    db: Session, make: Factory, admin: User
) -> None:
    made = creates(db, admin, make.tenant().id, 2)
    other = creates(db, admin, make.tenant().id, 1, prefix="other")
    for job in made:
        jobs.claim(db, job.id, "host:4242")
    jobs.claim(db, other[0].id, "host:7")
    db.flush()

    worker.bury(str(made[0].id), "the process running this job died (signal 9)")

    for job in made:
        fresh, vm = reloaded(db, job)
        assert fresh.status == JobStatus.ERROR and vm.status == VMStatus.ERROR
    assert reloaded(db, other[0])[0].status == JobStatus.RUNNING


def deletes(db: Session, admin: User, made: list[Job]) -> list[Job]:
    """The created VMs running, then a DELETE of each, as the API leaves them."""
    queued = []
    for job in made:
        job.status = JobStatus.SUCCESSFUL
        db.get_one(VM, job.vm_id).status = VMStatus.RUNNING
        db.flush()
        delete = vm_service.request_delete(db, admin, job.vm_id, f"r-del-{job.id}")
        assert delete is not None
        queued.append(delete)
    db.flush()
    return queued


def running_stop(db: Session, tenant_id: uuid.UUID, vm_id: uuid.UUID | None) -> None:
    """A stop of the VM that its worker is running: a delete of it waits its turn."""
    db.add(
        Job(
            kind=JobKind.VM_STOP,
            status=JobStatus.RUNNING,
            tenant_id=tenant_id,
            vm_id=vm_id,
            playbook="vm_stop.yml",
            limit="bm-a",
            extravars={},
        )
    )
    db.flush()


def queued_in_order(db: Session, *queued: Job) -> None:
    """The jobs' queue order made explicit (one transaction gives them one created_at)."""
    for k, job in enumerate(queued):
        job.created_at = queued[0].created_at + dt.timedelta(seconds=k)
    db.flush()


def test_batch_deletes_every_queued_delete_of_the_host_in_one_run(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    made = creates(db, admin, make.tenant().id, 3)
    names = domains(db, made)
    doomed = deletes(db, admin, made)
    runner.events = batch_events({name: {"state": "absent", "host": "bm-a"} for name in names})

    assert vm_jobs.destroy(str(doomed[0].id)) == "successful"

    [run] = runner.runs
    assert run.playbook == "vm_delete.yml"
    assert [spec["name"] for spec in run.extravars["virtflow_guests"]] == names
    for job in doomed:
        fresh, vm = reloaded(db, job)
        assert (fresh.status, vm.status) == (JobStatus.SUCCESSFUL, VMStatus.DELETED)


def test_batch_delete_leaves_out_a_vm_whose_earlier_job_still_runs(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    tenant_id = make.tenant().id
    made = creates(db, admin, tenant_id, 2)
    names = domains(db, made)
    doomed = deletes(db, admin, made)
    [busy] = creates(db, admin, tenant_id, 1, prefix="busy")
    busy.status = JobStatus.SUCCESSFUL
    db.get_one(VM, busy.vm_id).status = VMStatus.RUNNING
    running_stop(db, tenant_id, busy.vm_id)
    waiting = vm_service.request_delete(db, admin, busy.vm_id, "r-del-busy")
    assert waiting is not None
    db.flush()
    runner.events = batch_events({name: {"state": "absent", "host": "bm-a"} for name in names})

    vm_jobs.destroy(str(doomed[0].id))

    [run] = runner.runs
    assert [spec["name"] for spec in run.extravars["virtflow_guests"]] == names
    assert reloaded(db, waiting)[0].status == JobStatus.QUEUED  # its own worker waits its turn


def test_drain_takes_the_hosts_oldest_queued_job_of_either_kind(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    [old] = creates(db, admin, make.tenant().id, 1, prefix="old")
    [doomed] = deletes(db, admin, [old])
    [first] = creates(db, admin, make.tenant().id, 1, prefix="first")
    [later] = creates(db, admin, make.tenant().id, 1, prefix="later")
    queued_in_order(db, first, doomed, later)
    gone, up, up_later = domains(db, [doomed, first, later])
    runner.events = batch_events(
        {
            gone: {"state": "absent", "host": "bm-a"},
            up: running(up),
            up_later: running(up_later),
        }
    )

    assert vm_jobs.provision(str(first.id)) == "successful"

    ran = [
        (run.playbook, [g["name"] for g in run.extravars["virtflow_guests"]]) for run in runner.runs
    ]
    assert ran == [
        ("vm_create.yml", [up]),
        ("vm_delete.yml", [gone]),  # queued before the later create: not passed over by it
        ("vm_create.yml", [up_later]),
    ]
    assert reloaded(db, doomed)[1].status == VMStatus.DELETED
    assert reloaded(db, later)[1].status == VMStatus.RUNNING


def test_drain_goes_past_a_delete_that_must_wait_for_its_vms_running_job(
    db: Session, make: Factory, admin: User, runner: FakeRunner
) -> None:
    [first] = creates(db, admin, make.tenant().id, 1, prefix="first")
    tenant_id = make.tenant().id
    [old] = creates(db, admin, tenant_id, 1, prefix="old")
    [waiting] = deletes(db, admin, [old])
    running_stop(db, tenant_id, old.vm_id)
    [later] = creates(db, admin, make.tenant().id, 1, prefix="later")
    queued_in_order(db, first, waiting, later)
    up, up_later = domains(db, [first, later])
    runner.events = batch_events({up: running(up), up_later: running(up_later)})

    vm_jobs.provision(str(first.id))

    assert [[g["name"] for g in run.extravars["virtflow_guests"]] for run in runner.runs] == [
        [up],
        [up_later],
    ]
    assert reloaded(db, waiting)[0].status == JobStatus.QUEUED  # its own worker waits its turn
    assert reloaded(db, later)[1].status == VMStatus.RUNNING
