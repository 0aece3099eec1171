"""The sweep: expired leases end `error`, lost queued jobs are queued again, orphans are reaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import VM, AuthSession, IdempotencyKey, Job, JobStatus, User, VMStatus
from api.services import tokens
from api.services import vms as vm_service
from api.settings import Settings
from jobs import base, reaper, reconcile
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


def _running(db: Session, vm: VM, job: Job, beat_age: float) -> None:
    job.status, vm.status = JobStatus.RUNNING, VMStatus.PROVISIONING
    job.started_at = job.heartbeat_at = utcnow() - dt.timedelta(seconds=beat_age)
    db.flush()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Stand-in playbook processes, killed afterwards whatever the test did."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def _tagged_sleep(
    procs: list[subprocess.Popen[bytes]], runs_dir: Path, job_id: object, vm_id: object = None
) -> subprocess.Popen[bytes]:
    env = reaper.tags(runs_dir, str(job_id), str(vm_id) if vm_id else None)
    proc = subprocess.Popen(["sleep", "120"], env=env)
    procs.append(proc)
    return proc


def _exited_by_kill(proc: subprocess.Popen[bytes]) -> bool:
    return proc.wait(timeout=5) == -9


def test_sweep_fails_running_job_whose_lease_expired(
    db: Session, queued: tuple[VM, Job], settings: Settings
) -> None:
    vm, job = queued
    _running(db, vm, job, beat_age=settings.job_lease_seconds + 5)
    assert reconcile.sweep()["failed"] == 1
    db.expire_all()
    assert job.status == JobStatus.ERROR
    assert f"no heartbeat for {settings.job_lease_seconds}s" in (job.explanation or "")
    assert vm.status == VMStatus.ERROR and vm.status_reason == job.explanation


def test_sweep_leaves_a_running_job_whose_lease_is_fresh(
    db: Session, queued: tuple[VM, Job]
) -> None:
    vm, job = queued
    _running(db, vm, job, beat_age=1)  # RQ knows nothing of it: the lease alone decides
    assert reconcile.sweep()["failed"] == 0
    db.expire_all()
    assert job.status == JobStatus.RUNNING


def test_sweep_fleet_pass_runs_in_one_worker_at_a_time(
    db: Session, queued: tuple[VM, Job], settings: Settings, engine: Engine
) -> None:
    vm, job = queued
    _running(db, vm, job, beat_age=settings.job_lease_seconds + 5)
    with engine.connect() as other_worker:
        assert other_worker.scalar(select(func.pg_try_advisory_lock(reconcile.SWEEP_LOCK)))
        try:
            assert reconcile.sweep()["failed"] == 0
        finally:
            other_worker.scalar(select(func.pg_advisory_unlock(reconcile.SWEEP_LOCK)))
    assert reconcile.sweep()["failed"] == 1


def test_sweep_requeues_an_old_queued_job_missing_from_rq(
    db: Session, queued: tuple[VM, Job], settings: Settings, redis: Redis
) -> None:
    _vm, job = queued
    _age(db, job, 300)
    assert reconcile.sweep()["requeued"] == 1
    rq_job = RQJob.fetch(str(job.id), connection=redis)
    assert rq_job.func_name == "jobs.vms.provision"
    assert str(job.id) in Queue(settings.queue_name, connection=redis).job_ids
    assert reconcile.sweep()["requeued"] == 0  # now it is there


def test_sweep_requeues_an_old_queued_job_whose_rq_job_finished(
    db: Session, queued: tuple[VM, Job], settings: Settings, redis: Redis
) -> None:
    """A create that found a batch on its host returned and left its row queued; if that batch's
    worker died before it took the job, the sweep queues it again."""
    _vm, job = queued
    _age(db, job, 300)
    rq_job = Queue(settings.queue_name, connection=redis).enqueue_call(
        "jobs.vms.provision", kwargs={"job_id": str(job.id)}, job_id=str(job.id)
    )
    rq_job.set_status("finished")
    assert reconcile.sweep()["requeued"] == 1
    assert str(job.id) in Queue(settings.queue_name, connection=redis).job_ids


def test_sweep_gives_a_fresh_queued_job_time_to_be_enqueued(
    db: Session, queued: tuple[VM, Job]
) -> None:
    assert reconcile.sweep()["requeued"] == 0


def test_sweep_with_redis_down_keeps_lost_jobs_queued(
    db: Session, queued: tuple[VM, Job], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vm, job = queued
    _age(db, job, 300)
    dead = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    monkeypatch.setattr(base, "settings", lambda: dead)
    assert reconcile.sweep()["requeued"] == 0
    db.expire_all()
    assert job.status == JobStatus.QUEUED


def test_sweep_prunes_expired_token_sessions(db: Session, make: Factory) -> None:
    user = make.user()
    gone = tokens.open_session(db, user.id, dt.timedelta(seconds=-1)).id
    live = tokens.open_session(db, user.id, dt.timedelta(days=1)).id
    db.flush()
    assert reconcile.sweep()["tokens_pruned"] == 1
    db.expire_all()
    assert db.get(AuthSession, gone) is None
    assert db.get(AuthSession, live) is not None


def test_sweep_purges_idempotency_keys_older_than_24h(db: Session, make: Factory) -> None:
    user = make.user()
    now = utcnow()
    for key, age in (("old", dt.timedelta(hours=25)), ("new", dt.timedelta(hours=1))):
        db.add(IdempotencyKey(user_id=user.id, key=key, fingerprint="f" * 64, created_at=now - age))
    db.flush()
    assert reconcile.sweep()["idempotency_keys_purged"] == 1
    db.expire_all()
    assert list(db.scalars(select(IdempotencyKey.key))) == ["new"]


def test_sweep_kills_processes_of_a_job_that_ended(
    db: Session,
    queued: tuple[VM, Job],
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
) -> None:
    vm, job = queued
    job.status = JobStatus.ERROR
    db.flush()
    orphan = _tagged_sleep(procs, settings.runs_dir, job.id, vm.id)
    (settings.runs_dir / str(job.id)).mkdir()
    result = reconcile.sweep()
    assert (result["killed"], result["dirs_removed"]) == (1, 1)
    assert _exited_by_kill(orphan)
    assert not (settings.runs_dir / str(job.id)).exists()


def test_sweep_spares_processes_of_running_jobs_and_other_installations(
    db: Session,
    queued: tuple[VM, Job],
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    vm, job = queued
    _running(db, vm, job, beat_age=1)
    live = _tagged_sleep(procs, settings.runs_dir, job.id, vm.id)
    (settings.runs_dir / str(job.id)).mkdir()
    foreign = _tagged_sleep(procs, tmp_path / "other-install", "an-unknown-job")
    assert reconcile.sweep()["killed"] == 0
    assert live.poll() is None and foreign.poll() is None
    assert (settings.runs_dir / str(job.id)).is_dir()
    (settings.runs_dir / str(job.id)).rmdir()
