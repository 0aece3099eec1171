"""What GET /metrics reads from PostgreSQL at scrape time: hosts by state and job durations.

Both are one aggregate statement each, bounded in what they return (one row per state, one per
job kind and result) and in time by the connection's statement_timeout. They are read from the
database, not counted in a process, so every API process and instance reports the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Baremetal, HostState, Job

# Upper bounds (seconds) of the job-duration histogram: playbooks take seconds to half an hour.
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class Durations:
    """The finished jobs of one kind and result (job.status) that ran, as a histogram."""

    kind: str
    result: str
    count: int
    seconds: float  # all their durations added up
    buckets: tuple[int, ...]  # how many took at most each of DURATION_BUCKETS


def hosts_by_state(session: Session) -> dict[str, int]:
    """How many baremetal rows are in each state; every state is listed, 0 when none is."""
    counts = {state.value: 0 for state in HostState}
    rows = session.execute(select(Baremetal.state, func.count()).group_by(Baremetal.state))
    for state, count in rows:
        counts[state] = int(count)
    return counts


def job_durations(session: Session) -> list[Durations]:
    """finished_at - started_at of every job that started and finished, by kind and result.

    Jobs canceled before they started have no duration and are left out.
    """
    seconds = func.greatest(func.extract("epoch", Job.finished_at - Job.started_at), 0)
    bucket_counts = [func.count().filter(seconds <= bound) for bound in DURATION_BUCKETS]
    stmt = (
        select(Job.kind, Job.status, func.count(), func.coalesce(func.sum(seconds), 0))
        .add_columns(*bucket_counts)
        .where(Job.started_at.is_not(None), Job.finished_at.is_not(None))
        .group_by(Job.kind, Job.status)
        .order_by(Job.kind, Job.status)
    )
    return [
        Durations(kind, result, int(count), float(total), tuple(int(b) for b in buckets))
        for kind, result, count, total, *buckets in session.execute(stmt)
    ]
