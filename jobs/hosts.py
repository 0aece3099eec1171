"""Host jobs: prepare (host_prepare.yml on one host), after which the host is placeable, and
domains (host_domains.yml, read-only): the VMs follow what libvirt reports.

Also `python -m jobs.hosts prepare <host>` (what `virtflow host prepare` execs): the same job,
recorded and run in this process without a worker, for set-up before any worker runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Baremetal, Job, JobKind, JobStatus
from api.services import hosts, jobs, libvirt_state
from jobs import base
from jobs.execution import Finished, complete
from jobs.runner import PlaybookRun

log = logging.getLogger(__name__)


def _claim(job_id: uuid.UUID) -> PlaybookRun | None:
    """Move the job queued -> running; None when it is not queued any more."""
    with base.sessions()() as session:
        job = jobs.claim(session, job_id, base.worker_identity())
        if job is None:
            session.rollback()
            log.info("job %s is not queued any more; nothing to do", job_id)
            return None
        base.bind_request_id(job.request_id)
        # No vm_id: a read-only run must not reap the playbook of the VM's own job.
        run = PlaybookRun(str(job.id), job.playbook, job.limit, dict(job.extravars))
        session.commit()
    return run


def _apply_prepare(session: Session, job: Job, result: Finished) -> None:
    host = session.scalar(
        select(Baremetal).where(Baremetal.id == job.baremetal_id).with_for_update()
    )
    if host is None:
        return
    succeeded = result.status == JobStatus.SUCCESSFUL
    hosts.apply_prepare_result(host, succeeded, result.explanation)
    if not succeeded:
        return  # a failed run's report (if any) may be partial: keep the last good one
    discovered = hosts.parse_discovery(result.artifacts, host.name)
    if discovered is None:
        log.warning("job %s: host_prepare.yml did not report the host's resources", job.id)
        return
    hosts.record_discovery(host, discovered, base.settings().capacity_policy)


def _apply_domains(session: Session, job: Job, result: Finished) -> None:
    ok = result.status == JobStatus.SUCCESSFUL
    if job.kind == JobKind.HOST_DOMAINS and job.baremetal_id is not None:
        host = hosts.locked_host(session, job.baremetal_id)
        hosts.after_health_check(session, host, job, ok, base.settings().host_offline_after)
    if not ok:
        return  # libvirt could not be read: nothing is known, nothing changes
    domains = libvirt_state.parse_report(result.artifacts)
    if domains is None:
        log.warning("job %s: the playbook did not report the domains", job.id)
        return
    changes = libvirt_state.reconcile(session, job, domains)
    if changes:
        log.info("job %s: %d VM(s) followed libvirt", job.id, len(changes))


def _run(job_id: str, apply: Callable[[Session, Job, Finished], None]) -> str:
    jid = uuid.UUID(job_id)
    run = _claim(jid)
    if run is None:
        return "skipped"
    return complete(jid, run, apply)


def prepare(job_id: str) -> str:
    """RQ job: run host_prepare.yml on the job's host; the host ends `active`, or `new`."""
    return _run(job_id, _apply_prepare)


def domains(job_id: str) -> str:
    """RQ job (host.domains, vm.refresh): list the domains, and the VMs follow libvirt."""
    return _run(job_id, _apply_domains)


def prepare_now(name: str) -> str:
    """Record a host.prepare job for the named host and run it here; returns its status."""
    with base.sessions()() as session:
        job = hosts.request_prepare(session, hosts.host_by_name(session, name), None)
        session.commit()
        job_id = str(job.id)
    return prepare(job_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="virtflow host")
    parser.add_argument("action", choices=["prepare"])
    parser.add_argument("host")
    args = parser.parse_args(argv)
    status = prepare_now(args.host)
    print(f"host {args.host}: prepare {status}")
    sys.exit(0 if status == JobStatus.SUCCESSFUL else 1)


if __name__ == "__main__":
    main()
