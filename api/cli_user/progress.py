"""Waiting on a job: a spinner on stderr (when stderr is a TTY) naming the job's current task."""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from collections.abc import Callable

from api.cli_user.session import Session
from api.client.api.job import job_events_list, job_get
from api.client.models import Job, JobEnvelope, JobEvent, JobEventListEnvelope, JobStatus
from api.client.types import Unset

POLL_SECONDS = 1.0  # between two reads of the job; tests set it to 0
TICK_SECONDS = 0.1  # between two frames of the spinner
FRAMES = "|/-\\"
EVENTS_PER_PAGE = 200  # the API's largest page
TERMINAL = frozenset({JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.ERROR, JobStatus.CANCELED})


class Spinner:
    """One line on stderr, redrawn in place; silent when stderr is not a terminal."""

    def __init__(self) -> None:
        self.stream = sys.stderr
        self.enabled = self.stream.isatty()
        self.text = ""
        self.frame = 0
        self.drawn = 0

    def update(self, text: str) -> None:
        self.text = text
        self.tick()

    def tick(self) -> None:
        if not self.enabled or not self.text:
            return
        width = shutil.get_terminal_size().columns - 1
        line = f"{FRAMES[self.frame % len(FRAMES)]} {self.text}"[:width]
        self.frame += 1
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)

    def clear(self) -> None:
        """Erase the line, so that what stdout prints next starts on a clean one."""
        if self.enabled and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0

    def pause(self) -> None:
        """Wait POLL_SECONDS, turning the spinner meanwhile."""
        deadline = time.monotonic() + POLL_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(TICK_SECONDS, left) if self.enabled else left)
            self.tick()


def describe(job: Job) -> str:
    """`vm.create 1c0f9e2a: running, task "libvirt_guest : Start the domain" (5 of ~24 tasks
    done)`: the total is the server's estimate (the last successful run's), when it has one."""
    line = f"{job.kind} {str(job.id)[:8]}: {job.status}"
    progress = job.progress
    if isinstance(progress, Unset):
        return line
    task = progress.current_task
    if task and not isinstance(task, Unset):
        line += f', task "{task}"'
    total = progress.tasks_total
    of = f" of ~{total}" if isinstance(total, int) else ""
    return line + f" ({progress.host_tasks_done}{of} tasks done)"


def get_job(session: Session, job_id: uuid.UUID) -> Job:
    return session.call(JobEnvelope, job_get.sync_detailed, job_id).data


def wait_job(session: Session, job_id: uuid.UUID) -> Job:
    """Poll the job until it ends; the spinner shows its status and current task."""
    spinner = Spinner()
    try:
        while (job := get_job(session, job_id)).status not in TERMINAL:
            spinner.update(describe(job))
            spinner.pause()
    finally:
        spinner.clear()
    return job


def follow_events(session: Session, job_id: uuid.UUID, emit: Callable[[JobEvent], None]) -> Job:
    """emit every event of the job, as it comes, until the job has ended; the job at its end.

    The job is read before the events: once it reads as ended, the events read after it
    are all there are.
    """
    spinner = Spinner()
    cursor = EventCursor(session, job_id)
    try:
        while True:
            job = get_job(session, job_id)
            fresh = cursor.drain()
            if fresh:
                spinner.clear()
                for event in fresh:
                    emit(event)
            if job.status in TERMINAL:
                return job
            spinner.update(describe(job))
            spinner.pause()
    finally:
        spinner.clear()


class EventCursor:
    """Where a follower is in a job's events: the last counter seen, read on with `?after=`
    (each page costs the same however long the job's output grows)."""

    def __init__(self, session: Session, job_id: uuid.UUID) -> None:
        self.session = session
        self.job_id = job_id
        self.seen = 0

    def drain(self) -> list[JobEvent]:
        """The events stored since the last drain, in counter order."""
        fresh: list[JobEvent] = []
        while True:
            batch = self.session.call(
                JobEventListEnvelope,
                job_events_list.sync_detailed,
                self.job_id,
                after=self.seen,
                per_page=EVENTS_PER_PAGE,
            ).data
            fresh += batch
            if batch:
                self.seen = batch[-1].counter
            if len(batch) < EVENTS_PER_PAGE:
                return fresh
