"""Batches: one job runs every queued operation of its kind for its host in one playbook run.

A create job (BATCHED) does not run alone: under its host's batch lock it claims the queued
jobs of the same kind, host and tenant (jobs.queued_batch: SELECT ... FOR UPDATE SKIP LOCKED,
its own first, up to VIRTFLOW_BATCH_LIMIT) and runs the playbook once with all their guests.
Each VM keeps its own job: its own status, explanation, events (its guest's item events and the
run's shared ones) and audit row (outcomes.ended, through apply). A guest the playbook reports
`error` fails only its VM (roles/libvirt_guest undoes what the run made for it).

One host never runs two batches at once: a job that finds one running on its host leaves its
row queued and returns, and the batch's worker takes it next: after a batch it claims the host's
oldest queued create or delete, of either kind (drain), until none is left or it has run for a
job timeout (then it hands the next one to the queue, so no RQ timeout kills it). Hosts run in
parallel, one batch each. A batch never mixes tenants: the run's shared output would show one
tenant another's domain names.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind, JobStatus
from api.queue import JOB_FUNCS, JobQueue, PendingJob
from api.services import jobs, lifecycle
from jobs import base
from jobs.execution import Finished, Guest, execute, finished
from jobs.runner import PlaybookRun

log = logging.getLogger(__name__)

BATCHED = frozenset({JobKind.VM_CREATE, JobKind.VM_DELETE})
CLAIM_RETRIES = 25  # a leader whose own VM row an API request holds tries again, this many times
CLAIM_PAUSE = 0.2  # seconds between two of those tries

Prepare = Callable[[Job, VM], dict[str, Any]]  # a job's extravars for the run (secrets added)
Apply = Callable[[Session, Job, Finished, Guest], None]  # a VM's result, in its transaction


@dataclass
class Claimed:
    guests: list[Guest] = field(default_factory=list)
    specs: list[dict[str, Any]] = field(default_factory=list)
    common: dict[str, Any] = field(default_factory=dict)  # extravars other than the guests
    host_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None


After = Callable[[Claimed], None]  # once a batch's VMs are saved, in a transaction of its own


@dataclass(frozen=True)
class Handler:
    """How a batched kind runs: its operation, each job's extravars for the run, each VM's
    result, and what follows a batch once its VMs are saved."""

    op: lifecycle.Operation
    prepare: Prepare
    apply: Apply
    then: After | None = None


Handlers = Mapping[str, Handler]  # by job kind: the kinds a draining worker takes


class HostBusy(Exception):
    """Another batch runs on the host; it takes this job next."""


def _common(extravars: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extravars.items() if k != "virtflow_guests"}


def _take(
    session: Session, claimed: Claimed, job: Job, op: lifecycle.Operation, prepare: Prepare
) -> None:
    """Add a locked queued job to the batch, or end it `canceled` if its VM moved on."""
    vm = session.get(VM, job.vm_id) if job.vm_id else None
    refused = lifecycle.job_may_start(vm, op)
    if vm is None or refused is not None:
        jobs.finish(session, job.id, JobStatus.CANCELED, explanation=refused)
        return
    extravars = prepare(job, vm)
    if claimed.guests and _common(extravars) != claimed.common:
        return  # another run's settings: left queued, a batch of its own later
    jobs.start_claimed(job, base.worker_identity())
    lifecycle.job_started(vm, op)
    claimed.common = _common(extravars)
    claimed.specs += extravars.get("virtflow_guests", [])
    claimed.guests.append(Guest(job.id, vm.id, vm.domain_name))


def claim(
    leader_id: uuid.UUID, op: lifecycle.Operation, prepare: Prepare
) -> tuple[Claimed, Job] | None:
    """Claim the leader's batch; None when the leader is not queued (another batch took it, or
    it was canceled). Raises HostBusy when a batch runs on the host."""
    with base.sessions()() as session:
        leader = session.get(Job, leader_id)
        if leader is None or leader.status != JobStatus.QUEUED:
            return None
        host_id = session.scalar(select(VM.baremetal_id).where(VM.id == leader.vm_id))
        if host_id is None:  # no host to batch on: the job alone
            alone = jobs.locked(session, leader.id)
            batch = [alone] if alone is not None and alone.status == JobStatus.QUEUED else []
        elif jobs.host_batch_running(session, host_id, BATCHED):
            session.rollback()
            raise HostBusy(str(host_id))
        else:
            batch = jobs.queued_batch(session, leader, host_id, base.settings().batch_limit)
        claimed = Claimed()
        for job in batch:
            _take(session, claimed, job, op, prepare)
        claimed.host_id, claimed.tenant_id = host_id, leader.tenant_id
        session.commit()
        session.expunge(leader)
        return claimed, leader


def _claim_with_retries(
    leader_id: uuid.UUID, op: lifecycle.Operation, prepare: Prepare, tries: int
) -> tuple[Claimed, Job] | None:
    """claim(), again a moment later while the leader stays queued and nothing was claimed
    (an API request held its VM row: SKIP LOCKED passed over it)."""
    for _ in range(tries):
        got = claim(leader_id, op, prepare)
        if got is None or got[0].guests:
            return got
        time.sleep(CLAIM_PAUSE)
    return None


def guest_result(overall: Finished, guest: Guest) -> Finished:
    """One VM's result from its batch's: its own entry in the report decides; a guest the run
    did not report gets the run's own result."""
    reported = overall.artifacts.get("virtflow_guests")
    entry = reported.get(guest.domain) if isinstance(reported, dict) else None
    artifacts: dict[str, object] = {}
    if isinstance(entry, dict):
        artifacts["virtflow_guests"] = {guest.domain: entry}
    if not isinstance(entry, dict) or overall.status == JobStatus.CANCELED:
        return Finished(overall.status, overall.explanation, artifacts)
    if entry.get("state") == "error":
        reason = str(entry.get("error") or "the playbook could not create this guest")
        return Finished(JobStatus.FAILED, jobs.bounded(reason), artifacts)
    return Finished(JobStatus.SUCCESSFUL, None, artifacts)


def complete_batch(claimed: Claimed, run: PlaybookRun, apply: Apply) -> str:
    """Run a claimed batch and save each VM's result in a transaction of its own."""
    ids = [guest.job_id for guest in claimed.guests]
    try:
        ran = execute(ids[0], run, claimed.guests)
        overall = finished(ran)
        for guest in claimed.guests:
            _finish_guest(
                guest, guest_result(overall, guest), ran.outcome.rc, ran.sink.stdout, apply
            )
    except Exception as exc:
        log.exception("batch of job %s crashed", ids[0])
        for job_id in ids:
            base.record_crash(job_id, base.crash_reason(exc))
        raise
    log.info("batch of job %s (%d VMs) finished %s", ids[0], len(ids), overall.status)
    return str(overall.status)


def _finish_guest(
    guest: Guest, result: Finished, rc: int | None, stdout: str, apply: Apply
) -> None:
    with base.sessions()() as session:
        before = jobs.locked(session, guest.job_id)
        ended_elsewhere = before is not None and before.status in jobs.TERMINAL
        job = jobs.finish(
            session,
            guest.job_id,
            result.status,
            rc=rc,
            explanation=result.explanation,
            stdout=stdout,
            artifacts=dict(result.artifacts),
        )
        if not ended_elsewhere:
            apply(session, job, result, guest)
        session.commit()


def _next_queued(host_id: uuid.UUID, kinds: Handlers, skip: set[uuid.UUID]) -> Job | None:
    """The host's oldest queued job of any of kinds, but those of skip: the next leader."""
    with base.sessions()() as session:
        job = jobs.oldest_queued(session, host_id, list(kinds), skip)
        if job is not None:
            session.expunge(job)
        return job


def _hand_over(job: Job) -> None:
    """Queue the next leader in RQ: this worker has drained long enough."""
    try:
        JobQueue(base.settings()).enqueue(PendingJob(JOB_FUNCS[job.kind], job.id, job.request_id))
    except Exception:  # the sweep queues a lost queued job again after VIRTFLOW_QUEUED_GRACE
        log.exception("could not hand job %s over to the queue", job.id)


def _run(claimed: Claimed, leader: Job, handler: Handler) -> str:
    base.bind_request_id(leader.request_id)
    extravars = {**claimed.common, "virtflow_guests": claimed.specs}
    first = claimed.guests[0]
    one_vm = str(first.vm_id) if len(claimed.guests) == 1 else None  # tags its processes
    run = PlaybookRun(str(first.job_id), leader.playbook, leader.limit, extravars, one_vm)
    status = complete_batch(claimed, run, handler.apply)
    if handler.then is not None:
        handler.then(claimed)
    return status


def run_batches(leader_id: uuid.UUID, kind: str, handlers: Handlers) -> str:
    """Run the leader's batch, then the host's next ones while any is queued (drain).

    The drain takes the host's oldest queued job of any kind in handlers, each batch run by its
    own kind's handler: a delete queued behind creates is not passed over by the creates that
    arrive after it. The leader's own status is returned ("deferred": a batch ran on the host).
    """
    status = "skipped"
    began = time.monotonic()
    host_id: uuid.UUID | None = None
    passed_over: set[uuid.UUID] = set()  # queued, but not claimable now: not tried again
    next_id = leader_id
    while True:
        handler = handlers[kind]
        try:
            tries = CLAIM_RETRIES if next_id == leader_id else 1  # its own job, or the host's next
            got = _claim_with_retries(next_id, handler.op, handler.prepare, tries)
        except HostBusy:
            log.info("job %s waits: a batch runs on its host and takes it next", next_id)
            return "deferred" if next_id == leader_id else status
        if got is None or not got[0].guests:
            passed_over.add(next_id)
        else:
            outcome = _run(*got, handler)
            status = outcome if next_id == leader_id else status
            host_id = got[0].host_id
        following = _next_queued(host_id, handlers, passed_over) if host_id is not None else None
        if following is None:
            return status
        if time.monotonic() - began >= base.settings().job_timeout_seconds:
            _hand_over(following)
            return status
        next_id, kind = following.id, following.kind
