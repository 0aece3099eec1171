"""A running job's lease: renewed while it runs, lost once something else ended the job."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.db import utcnow
from api.models import VM, Job, JobStatus
from api.services import jobs
from jobs.lease import Lease


@pytest.fixture
def running(db: Session, claimed: tuple[VM, Job]) -> Job:
    """A claimed job whose lease was last renewed ten minutes ago."""
    job = claimed[1]
    job.heartbeat_at = utcnow() - dt.timedelta(seconds=600)
    db.flush()
    return job


def test_lease_renew_moves_the_heartbeat(
    db: Session, sessions: sessionmaker[Session], running: Job
) -> None:
    before = running.heartbeat_at
    lease = Lease(sessions, [running.id], every=60)
    lease.renew()
    db.expire_all()
    assert before is not None and running.heartbeat_at is not None
    assert running.heartbeat_at > before
    assert not lease.lost
    assert jobs.expired_leases(db, 30) == []


def test_lease_is_lost_when_the_job_ended_elsewhere(
    db: Session, sessions: sessionmaker[Session], running: Job
) -> None:
    jobs.finish(db, running.id, JobStatus.ERROR, explanation="the sweep ended it")
    db.flush()
    lease = Lease(sessions, [running.id], every=60)
    lease.renew()
    assert lease.lost


def test_lease_thread_notices_the_loss_while_the_playbook_runs(
    db: Session, sessions: sessionmaker[Session], running: Job
) -> None:
    jobs.finish(db, running.id, JobStatus.CANCELED, explanation="canceled")
    db.flush()
    with Lease(sessions, [running.id], every=0.05) as lease:
        deadline = time.monotonic() + 5
        while not lease.lost and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lease.lost


def test_expired_leases_names_only_stale_running_jobs(db: Session, running: Job) -> None:
    assert jobs.expired_leases(db, 30) == [running.id]
    assert jobs.expired_leases(db, 3600) == []
