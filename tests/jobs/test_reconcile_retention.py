"""The sweep's retention pass: events of jobs that ended past VIRTFLOW_JOB_EVENT_RETENTION_DAYS
go, a bounded number of batches per sweep, in one worker at a time."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import Job, JobEvent, JobKind, JobStatus
from api.settings import Settings
from jobs import base, reconcile
from tests.conftest import Factory


@pytest.fixture
def old_job(db: Session, make: Factory) -> Job:
    """A job that ended 100 days ago with 7 events, in a table with no other events."""
    db.execute(delete(JobEvent))
    job = Job(
        kind=JobKind.VM_CREATE,
        status=JobStatus.SUCCESSFUL,
        tenant_id=make.tenant().id,
        playbook="vm_create.yml",
        limit="bm-a",
        finished_at=utcnow() - dt.timedelta(days=100),
    )
    db.add(job)
    db.flush()
    db.add_all(
        JobEvent(job_id=job.id, counter=n, event="runner_on_ok", created_at=job.finished_at)
        for n in range(1, 8)
    )
    db.flush()
    return job


def stored(db: Session, job: Job) -> int:
    return db.scalar(select(func.count()).where(JobEvent.job_id == job.id)) or 0


def test_sweep_purges_events_past_retention(db: Session, old_job: Job) -> None:
    assert reconcile.sweep()["events_purged"] == 7
    assert stored(db, old_job) == 0
    assert db.get(Job, old_job.id) is not None


def test_retention_pass_runs_a_bounded_number_of_batches(
    db: Session, old_job: Job, settings: Settings
) -> None:
    passes = []
    for _ in range(3):
        result = reconcile.SweepResult()
        reconcile.retention_pass(settings, result, batch=2, batches=2)
        passes.append(result.events_purged)
    assert passes == [4, 3, 0]
    assert stored(db, old_job) == 0


def test_retention_0_keeps_events_forever(
    db: Session, old_job: Job, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    forever = dataclasses.replace(settings, job_event_retention_days=0)
    monkeypatch.setattr(base, "settings", lambda: forever)
    assert reconcile.sweep()["events_purged"] == 0
    assert stored(db, old_job) == 7


def test_retention_longer_than_the_age_keeps_the_events(
    db: Session, old_job: Job, settings: Settings
) -> None:
    result = reconcile.SweepResult()
    reconcile.retention_pass(dataclasses.replace(settings, job_event_retention_days=101), result)
    assert (result.events_purged, stored(db, old_job)) == (0, 7)


def test_retention_pass_waits_for_the_worker_purging_now(
    db: Session, old_job: Job, settings: Settings, engine: Engine
) -> None:
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": reconcile.PURGE_LOCK})
        try:
            result = reconcile.SweepResult()
            reconcile.retention_pass(settings, result)
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": reconcile.PURGE_LOCK})
    assert (result.events_purged, stored(db, old_job)) == (0, 7)
