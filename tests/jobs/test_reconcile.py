"""The sweep that recovers jobs whose RQ side was lost (dead worker, dead API process)."""

from __future__ import annotations

import datetime as dt

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import ScheduledJobRegistry
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import VM, Job, JobStatus, User, VMStatus
from api.queue import JobQueue, PendingJob
from api.services import vms as vm_service
from api.settings import Settings
from jobs import reconcile
from tests.conftest import Factory


@pytest.fixture
def queued(db: Session, make: Factory, redis: Redis) -> tuple[VM, Job]:
    make.baremetal("bm-a")
    admin: User = make.user(is_admin=True)
    tenant = make.tenant()
    job = vm_service.create_vm(db, admin, vm_service.VMRequest(tenant.id, "web", 1, 64, 1), "r-1")
    return db.get_one(VM, job.vm_id), job


def _age(db: Session, job: Job, seconds: int) -> None:
    job.created_at = utcnow() - dt.timedelta(seconds=seconds)
    db.flush()


def test_sweep_fails_running_job_whose_rq_job_is_gone(db: Session, queued: tuple[VM, Job]) -> None:
    vm, job = queued
    job.status, vm.status = JobStatus.RUNNING, VMStatus.PROVISIONING
    db.flush()
    assert reconcile.sweep() == {"failed": 1, "requeued": 0}
    db.expire_all()
    assert job.status == JobStatus.ERROR
    assert "worker stopped" in (job.explanation or "")
    assert vm.status == VMStatus.ERROR and vm.status_reason == job.explanation


def test_sweep_leaves_a_job_running_on_a_live_worker(
    db: Session, queued: tuple[VM, Job], settings: Settings, redis: Redis
) -> None:
    _vm, job = queued
    job.status = JobStatus.RUNNING
    db.flush()
    JobQueue(settings).enqueue(PendingJob("jobs.vms.provision", job.id, None))
    rq_job = RQJob.fetch(str(job.id), connection=redis)
    rq_job.set_status("started")
    assert reconcile.sweep() == {"failed": 0, "requeued": 0}
    db.expire_all()
    assert job.status == JobStatus.RUNNING


def test_sweep_requeues_an_old_queued_job_missing_from_rq(
    db: Session, queued: tuple[VM, Job], settings: Settings, redis: Redis
) -> None:
    _vm, job = queued
    _age(db, job, 300)
    assert reconcile.sweep() == {"failed": 0, "requeued": 1}
    rq_job = RQJob.fetch(str(job.id), connection=redis)
    assert rq_job.func_name == "jobs.vms.provision"
    assert str(job.id) in Queue(settings.queue_name, connection=redis).job_ids
    assert reconcile.sweep() == {"failed": 0, "requeued": 0}  # now it is there


def test_sweep_gives_a_fresh_queued_job_time_to_be_enqueued(
    db: Session, queued: tuple[VM, Job]
) -> None:
    assert reconcile.sweep() == {"failed": 0, "requeued": 0}


def test_sweep_schedules_one_next_sweep_per_time_slot(
    db: Session, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_123.0
    monkeypatch.setattr(reconcile, "clock", lambda: now)
    reconcile.sweep()
    reconcile.sweep()  # a second worker sweeping in the same slot schedules the same job
    registry = ScheduledJobRegistry(settings.queue_name, connection=redis)
    ids = registry.get_job_ids()
    assert len(ids) == 1  # the redis fixture removes these keys: they carry the queue's name
    (job_id,) = ids
    slot = reconcile.next_slot(settings.sweep_interval_seconds, now)
    assert job_id == f"{settings.queue_name}-sweep-{slot}"
    assert RQJob.fetch(job_id, connection=redis).func_name == "jobs.reconcile.sweep"
    when = registry.get_scheduled_time(job_id)
    assert when.timestamp() == slot * settings.sweep_interval_seconds
