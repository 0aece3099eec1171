"""Retention of job events: the purge deletes the events of jobs that ended long ago, oldest
first and a bounded window at a time, never those of unfinished jobs; the jobs stay."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import Job, JobEvent, JobKind, JobStatus, Tenant
from api.services import jobs
from api.settings import Settings, SettingsError
from tests.conftest import Factory

DAY = dt.timedelta(days=1)
RETENTION = 90 * DAY
EVERYTHING = 10**9  # a window past every event


@pytest.fixture
def cutoff(db: Session) -> dt.datetime:
    """The horizon of a 90-day retention, in a database without other events: the purge reads
    the oldest events of the whole table (the test's savepoint brings back any it removes)."""
    db.execute(delete(JobEvent))
    return utcnow() - RETENTION


def job_with_events(
    db: Session, tenant: Tenant, status: JobStatus, ended_days_ago: float | None, events: int
) -> Job:
    ended = None if ended_days_ago is None else utcnow() - ended_days_ago * DAY
    job = Job(
        kind=JobKind.VM_CREATE,
        status=status,
        tenant_id=tenant.id,
        playbook="vm_create.yml",
        limit="bm-a",
        finished_at=ended,
        stdout="PLAY RECAP",
    )
    db.add(job)
    db.flush()
    db.add_all(
        JobEvent(job_id=job.id, counter=n, event="runner_on_ok", created_at=ended or utcnow())
        for n in range(1, events + 1)
    )
    db.flush()
    return job


def stored(db: Session, job: Job) -> int:
    return db.scalar(select(func.count()).where(JobEvent.job_id == job.id)) or 0


def test_purge_deletes_only_the_events_of_jobs_that_ended_before_the_horizon(
    db: Session, make: Factory, cutoff: dt.datetime
) -> None:
    tenant = make.tenant()
    old = [
        job_with_events(db, tenant, status, 91, 3)
        for status in (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.ERROR)
    ]
    canceled = job_with_events(db, tenant, JobStatus.CANCELED, 400, 2)
    recent = job_with_events(db, tenant, JobStatus.SUCCESSFUL, 89, 4)
    running = job_with_events(db, tenant, JobStatus.RUNNING, None, 5)
    # Unfinished, whatever its row says of an end: never purged.
    odd = job_with_events(db, tenant, JobStatus.RUNNING, 200, 2)

    assert jobs.purge_events(db, cutoff, EVERYTHING) == 3 * 3 + 2
    assert [stored(db, job) for job in (*old, canceled)] == [0, 0, 0, 0]
    assert [stored(db, job) for job in (recent, running, odd)] == [4, 5, 2]
    db.expire_all()
    assert db.get_one(Job, canceled.id).stdout == "PLAY RECAP"  # the job stays
    assert jobs.purge_events(db, cutoff, EVERYTHING) == 0


def test_purge_reads_a_bounded_window_of_the_oldest_events(
    db: Session, make: Factory, cutoff: dt.datetime
) -> None:
    tenant = make.tenant()
    first = job_with_events(db, tenant, JobStatus.SUCCESSFUL, 120, 3)
    second = job_with_events(db, tenant, JobStatus.SUCCESSFUL, 100, 4)
    done: list[int] = []
    while purged := jobs.purge_events(db, cutoff, 2):
        done.append(purged)
        assert (stored(db, first) == 0) or stored(db, second) == 4  # oldest first
    assert done == [2, 2, 2, 1]
    assert stored(db, first) == stored(db, second) == 0


def test_purge_skips_what_it_may_not_delete_within_its_window(
    db: Session, make: Factory, cutoff: dt.datetime
) -> None:
    """A window that starts with a job still kept deletes what it holds of jobs past it."""
    tenant = make.tenant()
    kept = job_with_events(db, tenant, JobStatus.SUCCESSFUL, 30, 2)
    gone = job_with_events(db, tenant, JobStatus.SUCCESSFUL, 100, 3)
    assert jobs.purge_events(db, cutoff, 4) == 2  # the window: 2 kept, 2 of the old job
    assert jobs.purge_events(db, cutoff, 4) == 1
    assert (stored(db, kept), stored(db, gone)) == (2, 0)


@pytest.mark.parametrize(
    ("status", "ended_days_ago", "retention_days", "expired"),
    [
        (JobStatus.SUCCESSFUL, 91, 90, True),
        (JobStatus.FAILED, 89, 90, False),
        (JobStatus.SUCCESSFUL, 10_000, 0, False),  # 0: kept forever
        (JobStatus.RUNNING, 200, 90, False),
        (JobStatus.QUEUED, None, 90, False),
    ],
)
def test_events_expired_follows_the_end_of_the_job(
    status: JobStatus, ended_days_ago: float | None, retention_days: int, expired: bool
) -> None:
    now = utcnow()
    ended = None if ended_days_ago is None else now - ended_days_ago * DAY
    job = Job(id=uuid.uuid4(), status=status, finished_at=ended)
    assert jobs.events_expired(job, retention_days, now) is expired


def test_retention_setting_is_read_and_may_not_be_negative() -> None:
    env = {"VIRTFLOW_JOB_EVENT_RETENTION_DAYS": "7"}
    assert Settings.from_env(env).job_event_retention_days == 7
    assert Settings.from_env({}).job_event_retention_days == 90
    refused = Settings.from_env(
        {"VIRTFLOW_JOB_EVENT_RETENTION_DAYS": "-1", "VIRTFLOW_JWT_SECRET": "x" * 48}
    )
    with pytest.raises(SettingsError, match="VIRTFLOW_JOB_EVENT_RETENTION_DAYS"):
        refused.check_serving()
