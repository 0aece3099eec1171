"""Host jobs: prepare (host_prepare.yml on one host), after which the host is placeable.

Also `python -m jobs.hosts prepare <host>` (what `virtflow host prepare` execs): the same job,
recorded and run in this process without a worker, for set-up before any worker runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from sqlalchemy import select

from api.models import Baremetal, JobStatus
from api.services import hosts, jobs
from jobs import base
from jobs.execution import execute, finished
from jobs.runner import PlaybookRun

log = logging.getLogger(__name__)


def prepare(job_id: str) -> str:
    """RQ job: run host_prepare.yml on the job's host; the host ends `active`, or `new`."""
    jid = uuid.UUID(job_id)
    with base.sessions()() as session:
        job = jobs.claim(session, jid, base.worker_identity())
        if job is None:
            session.rollback()
            log.info("job %s is not queued any more; nothing to do", jid)
            return "skipped"
        base.bind_request_id(job.request_id)
        run = PlaybookRun(str(job.id), job.playbook, job.limit, dict(job.extravars))
        session.commit()
    try:
        outcome, sink = execute(jid, run)
        result = finished(outcome, sink)
        with base.sessions()() as session:
            job = jobs.finish(
                session,
                jid,
                result.status,
                rc=outcome.rc,
                explanation=result.explanation,
                stdout=sink.stdout,
            )
            host = session.scalar(
                select(Baremetal).where(Baremetal.id == job.baremetal_id).with_for_update()
            )
            if host is not None and job.status == result.status:
                ok = result.status == JobStatus.SUCCESSFUL
                hosts.apply_prepare_result(host, ok, result.explanation)
            session.commit()
    except Exception as exc:
        log.exception("job %s crashed", jid)
        base.record_crash(jid, base.crash_reason(exc))
        raise
    log.info("host job %s finished %s", jid, result.status)
    return str(result.status)


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
