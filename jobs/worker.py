"""The worker process: an RQ worker that buries its dead jobs, with the periodic sweep beside it.

`virtflow worker` execs `python -m jobs.worker`, so the API package never imports jobs.
- A work horse killed under a job (SIGKILL, OOM, a cold shutdown) ends the job `error` at
  once, and its playbook processes and run directory go with it (RQ itself calls no failure
  callback for a killed horse).
- The parent never keeps a database connection: what it records, it records on a connection
  of its own (jobs.base.throwaway), so no forked job inherits a socket.
- A daemon thread runs jobs.reconcile.sweep every VIRTFLOW_SWEEP_INTERVAL seconds; it needs no
  RQ scheduler and no Redis to keep time, so a Redis restart or a dead worker holding RQ's
  scheduler lock cannot stop it. A sweep and a fork never overlap (FORK_GUARD): a horse forked
  mid-sweep would inherit whatever lock the sweep held in SQLAlchemy or psycopg, and hang.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
import uuid
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from api.services import jobs
from jobs import base, reaper, reconcile

log = logging.getLogger(__name__)
FORK_GUARD = threading.Lock()


class VirtFlowWorker(Worker):
    """rq.Worker that records and reaps a job whose work horse was killed."""

    _vf_job_id: str | None = None

    def execute_job(self, job: Any, queue: Queue) -> None:
        self._vf_job_id = job.id
        try:
            super().execute_job(job, queue)
        finally:
            self._vf_job_id = None

    def fork_work_horse(self, job: Any, queue: Queue) -> None:
        with FORK_GUARD:
            super().fork_work_horse(job, queue)

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        super().kill_horse(sig)
        if not self._vf_job_id:
            return
        if _stop_requested(self):  # a second SIGTERM or SIGINT: the cold shutdown
            bury(self._vf_job_id, "the worker was stopped while this job ran (cold shutdown)")
        else:  # RQ's monitor: the job outlived its RQ timeout
            bury(self._vf_job_id, "the job ran past its time limit and was stopped")

    def handle_work_horse_killed(self, job: Any, retpid: Any, ret_val: Any, rusage: Any) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)  # type: ignore[no-untyped-call]
        cause = f"signal {os.WTERMSIG(ret_val)}" if ret_val and os.WIFSIGNALED(ret_val) else "exit"
        bury(job.id, f"the process running this job died ({cause}) before it finished")


def bury(job_id: str, reason: str) -> None:
    """End a job whose process died: record it, kill what it left, remove its run directory;
    the same for the other jobs of the batch the process ran (jobs.batch)."""
    try:
        jid = uuid.UUID(job_id)
    except ValueError:
        return  # not a VirtFlow job id
    ids = [jid]
    try:
        with base.throwaway() as session:
            ids += [other for other in jobs.running_with_worker(session, jid) if other != jid]
        for each in ids:
            base.record_crash(each, reason)
    except Exception:  # never let bookkeeping kill the worker; the sweep retries
        log.exception("could not record the end of job %s", job_id)
    for each in ids:
        reaper.reap_job(str(each), base.settings().runs_dir)


class Sweeper(threading.Thread):
    """Runs the sweep now and then every interval seconds until stopped."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="virtflow-sweeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                with FORK_GUARD:
                    reconcile.sweep()
            except Exception:  # a dependency is down: log it and try again next time
                log.exception("sweep failed")
            self.stopped.wait(self.interval)


def build_worker(connection: Redis) -> VirtFlowWorker:
    settings = base.settings()
    queue = Queue(settings.queue_name, connection=connection)
    return VirtFlowWorker([queue], connection=connection)


def _stop_requested(current: Worker) -> bool:
    # RQ's request_stop (SIGTERM, SIGINT) stamps this, busy or idle.
    return getattr(current, "_shutdown_requested_date", None) is not None


def work(connection: Redis, burst: bool) -> None:
    """Run RQ workers one after another until one stops on request.

    rq.Worker.work() quits on a Redis error met outside its dequeue (a Redis restart at the
    wrong moment); the process must not die with it, or nothing would run the jobs that the
    sweep queues again once Redis is back.
    """
    backoff = 1.0
    while True:
        current = build_worker(connection)
        try:
            current.work(burst=burst)
        except RedisError:
            log.exception("the worker lost Redis")
        if burst or _stop_requested(current):
            return
        log.warning("the worker quit on an error; starting a new one in %.0fs", backoff)
        time.sleep(backoff)
        if _stop_requested(current):  # a SIGTERM during the pause
            return
        backoff = min(backoff * 2, 30.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="virtflow worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--sweep-once", action="store_true", help="run one sweep and exit")
    args = parser.parse_args(argv)
    settings = base.settings()
    if args.sweep_once:
        print(reconcile.sweep())
        return
    connection = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=30,
    )
    sweeper = Sweeper(settings.sweep_interval_seconds)
    sweeper.start()
    try:
        work(connection, args.burst)
    finally:
        sweeper.stopped.set()


if __name__ == "__main__":
    main()
