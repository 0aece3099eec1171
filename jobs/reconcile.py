"""The sweep: no job stays `running` or `queued` forever, and nothing a dead job left survives.

Every worker process runs it every VIRTFLOW_SWEEP_INTERVAL seconds from a thread of its own
(jobs.worker), and ops may run it with `virtflow jobs sweep`. It needs nothing from Redis to
keep its schedule, so a Redis restart cannot stop it. Each pass:
- fails every `running` job whose lease (job.heartbeat_at) is older than VIRTFLOW_JOB_LEASE:
  its worker died, whatever RQ believes; the VM goes `error`, where the user can delete it;
- queues again every `queued` job older than VIRTFLOW_QUEUED_GRACE that RQ does not hold (the
  API could not reach Redis after its commit, or Redis lost its queue in a restart);
- deletes token sessions and revocations whose tokens have all expired, and idempotency keys
  older than 24 h;
- syncs the baremetal hosts from the inventory when ops edited it (never on a request's path);
- queues a host.domains job (libvirt's domains compared with the VMs, api.services.libvirt_state)
  on each active or maintenance host whose last one is older than VIRTFLOW_DOMAIN_CHECK_INTERVAL;
- deletes the events of jobs that ended more than VIRTFLOW_JOB_EVENT_RETENTION_DAYS ago, oldest
  first, at most PURGE_BATCHES statements of PURGE_BATCH events each (the job rows stay);
- on this machine, kills the processes of jobs that are not running any more (the playbook a
  dead work horse left) and removes their run directories.
All but the last are fleet-wide and run in one worker at a time (PostgreSQL advisory locks);
the last is per machine, since processes and run directories are.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import asdict, dataclass

from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import Job, JobStatus
from api.queue import JOB_FUNCS, JobQueue, PendingJob
from api.services import idempotency, jobs, libvirt_state, tokens
from api.services.inventory import InventoryWatcher
from api.settings import Settings
from jobs import base, reaper

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the fleet-wide part ("vfsweep"), and of the event purge.
SWEEP_LOCK = 0x7666_7377_6565_70
PURGE_LOCK = SWEEP_LOCK + 1
# Events one purge statement reads at most (the oldest), and statements per sweep: a sweep
# holds the worker's forks back (jobs.worker.FORK_GUARD), so its share of a backlog is small;
# 30,000 events every VIRTFLOW_SWEEP_INTERVAL is still over 7 million a hour.
PURGE_BATCH = 10_000
PURGE_BATCHES = 3


@dataclass
class SweepResult:
    failed: int = 0
    requeued: int = 0
    tokens_pruned: int = 0
    idempotency_keys_purged: int = 0
    killed: int = 0
    dirs_removed: int = 0
    domain_checks: int = 0
    events_purged: int = 0


# RQ states in which RQ will still run the job. A finished one is not held: a create that found
# a batch running on its host returned ("deferred") and left its row queued for that batch.
RQ_PENDING = frozenset({RQStatus.QUEUED, RQStatus.STARTED, RQStatus.DEFERRED, RQStatus.SCHEDULED})


def _rq_holds(connection: Redis, job_id: uuid.UUID) -> bool:
    try:
        rq_job = RQJob.fetch(str(job_id), connection=connection)
    except NoSuchJobError:
        return False
    return rq_job.get_status(refresh=False) in RQ_PENDING


def _lost_queued(session: Session, grace: int) -> list[tuple[uuid.UUID, str, str | None]]:
    rows = session.execute(
        select(Job.id, Job.kind, Job.request_id).where(
            Job.status == JobStatus.QUEUED,
            Job.created_at < utcnow() - dt.timedelta(seconds=grace),
        )
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _requeue(settings: Settings, queued: list[tuple[uuid.UUID, str, str | None]]) -> int:
    queue = JobQueue(settings)
    requeued = 0
    try:
        for job_id, kind, request_id in queued:
            if not _rq_holds(queue.redis, job_id):
                queue.enqueue(PendingJob(JOB_FUNCS[kind], job_id, request_id))
                requeued += 1
    except RedisError as exc:  # try again next pass; the jobs stay queued meanwhile
        log.warning("sweep: Redis unreachable, lost queued jobs wait (%s)", exc)
    return requeued


def fleet_pass(settings: Settings, result: SweepResult) -> None:
    """Fail expired leases, requeue lost queued jobs, sync the inventory and queue domain
    checks, in one worker of the fleet at a time."""
    with base.throwaway() as session:
        if not session.scalar(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))):
            return  # another worker is sweeping right now
        expired = jobs.expired_leases(session, settings.job_lease_seconds)
        queued = _lost_queued(session, settings.queued_grace_seconds)
        for job_id in expired:
            reason = base.worker_gone(f"no heartbeat for {settings.job_lease_seconds}s")
            result.failed += base.record_crash(job_id, reason)
        result.requeued = _requeue(settings, queued)
        result.tokens_pruned = tokens.prune_expired(session, utcnow())
        result.idempotency_keys_purged = idempotency.purge_expired(session, utcnow())
        InventoryWatcher(settings.inventory_path, settings.capacity_policy).refresh(session)
        checks = libvirt_state.schedule_checks(session, settings.domain_check_interval_seconds)
        queue = JobQueue(settings)
        for job in checks:
            queue.after_commit(session, job)  # a lost enqueue is requeued by a later pass
        result.domain_checks = len(checks)
        session.commit()


def retention_pass(
    settings: Settings, result: SweepResult, batch: int = PURGE_BATCH, batches: int = PURGE_BATCHES
) -> None:
    """Delete events past retention, a transaction per batch, in one worker at a time; stop at
    the first batch that finds none."""
    days = settings.job_event_retention_days
    if days <= 0:
        return
    ended_before = utcnow() - dt.timedelta(days=days)
    for _ in range(batches):
        with base.throwaway() as session:
            if not session.scalar(select(func.pg_try_advisory_xact_lock(PURGE_LOCK))):
                return  # another worker is purging right now
            purged = jobs.purge_events(session, ended_before, batch)
            session.commit()
        result.events_purged += purged
        if not purged:
            return


def local_pass(settings: Settings, result: SweepResult) -> None:
    """Kill processes and remove run directories of jobs that are not running any more."""
    tagged = reaper.tagged_processes(settings.runs_dir)
    dirs = reaper.run_dir_job_ids(settings.runs_dir)
    ids = {t.job_id for t in tagged} | dirs
    candidates = [u for u in map(_uuid, ids) if u is not None]
    with base.throwaway() as session:
        running = {str(j) for j in jobs.running_among(session, candidates)}
    orphans = [t.pid for t in tagged if t.job_id not in running]
    if orphans:
        log.warning("sweep: killing %d orphan playbook process(es)", len(orphans))
        result.killed = reaper.kill(orphans)
    for job_id in dirs - running:
        reaper.remove_run_dir(settings.runs_dir, job_id)
        result.dirs_removed += 1


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def sweep() -> dict[str, int]:
    """One pass of both parts; returns what it did."""
    settings = base.settings()
    result = SweepResult()
    fleet_pass(settings, result)
    retention_pass(settings, result)
    local_pass(settings, result)
    if any(asdict(result).values()):
        log.info("sweep: %s", asdict(result))
    return asdict(result)
