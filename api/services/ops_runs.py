"""Hand runs of the playbooks by ops (`ansible-playbook` from the repo root), in the audit trail.

The callback plugin playbooks/callback_plugins/virtflow_audit.py collects a run and calls
record_run once it ends: the run becomes a job of kind `ops.run` (its host results as events,
like any job's) and an audit row `ops.run` naming the OS user, the playbook, the limit, the
extra vars without secrets and the per-host stats. Runs of the API's own runner are never
recorded here: their jobs already are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from api.models import AuditOutcome, Baremetal, Job, JobEvent, JobKind, JobStatus
from api.services import audit
from api.services.jobs import bounded

# An audit row of a hand run answers no HTTP request: its status_code is this.
NO_HTTP_STATUS = 0


@dataclass
class OpsRun:
    """One ansible-playbook run, as the callback plugin saw it."""

    os_user: str
    playbook: str
    limit: str
    extra_vars: dict[str, Any]
    started_at: dt.datetime
    finished_at: dt.datetime
    failed: bool
    stats: dict[str, dict[str, int]]
    first_failure: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def _host(session: Session, limit: str) -> Baremetal | None:
    """The inventory host a one-host run targeted, when VirtFlow knows it."""
    return session.scalar(select(Baremetal).where(Baremetal.name == limit)) if limit else None


def record_run(session: Session, run: OpsRun) -> Job:
    """The run as an `ops.run` job with its events, and its audit row (the caller commits)."""
    host = _host(session, run.limit)
    job = Job(
        kind=JobKind.OPS_RUN,
        status=JobStatus.FAILED if run.failed else JobStatus.SUCCESSFUL,
        baremetal_id=host.id if host else None,
        playbook=run.playbook[:255],
        limit=run.limit[:255],
        extravars=audit.scrub(run.extra_vars),
        explanation=bounded(run.first_failure),
        artifacts={"stats": run.stats},
        created_at=run.started_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
    session.add(job)
    session.flush()
    if run.events:
        session.execute(insert(JobEvent), [{**e, "job_id": job.id} for e in run.events])
    entry = audit.Entry(
        action="ops.run",
        actor_username=f"os:{run.os_user}",
        object_type="job",
        object_id=str(job.id),
        details={
            "os_user": run.os_user,
            "playbook": run.playbook,
            "limit": run.limit,
            "extra_vars": run.extra_vars,
            "stats": run.stats,
            "job_id": str(job.id),
        },
    )
    outcome = AuditOutcome.FAILED if run.failed else AuditOutcome.SUCCESS
    audit.record(session, entry, outcome, NO_HTTP_STATUS, None)
    return job
