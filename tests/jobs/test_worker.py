"""The worker process: a killed work horse's job is buried at once; the sweep keeps its time."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
from sqlalchemy.orm import Session

from api.models import VM, Job, JobStatus, VMStatus
from api.settings import Settings
from jobs import reaper, reconcile, worker


def test_bury_records_error_kills_the_playbook_and_removes_the_run_dir(
    db: Session, claimed: tuple[VM, Job], settings: Settings
) -> None:
    vm, job = claimed
    playbook = subprocess.Popen(
        ["sleep", "120"], env=reaper.tags(settings.runs_dir, str(job.id), str(vm.id))
    )
    (settings.runs_dir / str(job.id)).mkdir()
    try:
        worker.bury(str(job.id), "the process running this job died (signal 9) before it finished")
        assert playbook.wait(timeout=5) == -9
    finally:
        playbook.kill()
        playbook.wait()
    db.expire_all()
    assert job.status == JobStatus.ERROR
    assert job.explanation == "the process running this job died (signal 9) before it finished"
    assert (vm.status, vm.status_reason) == (VMStatus.ERROR, job.explanation)
    assert not (settings.runs_dir / str(job.id)).exists()


def test_bury_ignores_ids_that_are_not_virtflow_jobs(db: Session, claimed: tuple[VM, Job]) -> None:
    _vm, job = claimed
    worker.bury("a-sweep-or-foreign-job", "died")
    db.expire_all()
    assert job.status == JobStatus.RUNNING


def test_sweeper_runs_every_interval_and_survives_a_failing_sweep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[float] = []
    three = threading.Event()

    def flaky_sweep() -> dict[str, int]:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            three.set()
        if len(calls) == 1:
            raise ConnectionError("database down")
        return {}

    monkeypatch.setattr(reconcile, "sweep", flaky_sweep)
    sweeper = worker.Sweeper(interval=0.05)
    sweeper.start()
    try:
        assert three.wait(timeout=5)
    finally:
        sweeper.stopped.set()
        sweeper.join(timeout=5)
    assert not sweeper.is_alive()
    assert len(calls) >= 3


class FakeRQWorker:
    """Stands in for rq.Worker.work(): quits on an error, or stops on request."""

    def __init__(self, stop: bool, raises: Exception | None = None) -> None:
        self._shutdown_requested_date = "now" if stop else None
        self.raises = raises
        self.worked = 0

    def work(self, burst: bool = False) -> bool:
        self.worked += 1
        if self.raises:
            raise self.raises
        return False


def test_work_starts_a_new_worker_after_a_redis_error_until_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    fakes = [
        FakeRQWorker(stop=False, raises=RedisConnectionError("restarting")),
        FakeRQWorker(stop=False),  # rq's "found an unhandled exception, quitting"
        FakeRQWorker(stop=True),
    ]
    built = iter(fakes)
    monkeypatch.setattr(worker, "build_worker", lambda _connection: next(built))
    monkeypatch.setattr(worker.time, "sleep", lambda _seconds: None)
    worker.work(connection=None, burst=False)  # type: ignore[arg-type]
    assert [f.worked for f in fakes] == [1, 1, 1]


def test_work_in_burst_mode_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRQWorker(stop=False)
    monkeypatch.setattr(worker, "build_worker", lambda _connection: fake)
    worker.work(connection=None, burst=True)  # type: ignore[arg-type]
    assert fake.worked == 1


@pytest.mark.parametrize(
    ("stopping", "reason"),
    [
        (True, "the worker was stopped while this job ran (cold shutdown)"),
        (False, "the job ran past its time limit and was stopped"),
    ],
)
def test_kill_horse_buries_the_current_job_with_the_cause(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, stopping: bool, reason: str
) -> None:
    from redis import Redis

    buried: list[tuple[str, str]] = []
    monkeypatch.setattr(worker, "bury", lambda job_id, why: buried.append((job_id, why)))
    rq_worker = worker.build_worker(Redis.from_url(settings.redis_url))
    horse = subprocess.Popen(["sleep", "120"], start_new_session=True)  # its own group
    try:
        rq_worker._horse_pid = horse.pid
        rq_worker._vf_job_id = "job-1"
        if stopping:
            rq_worker._shutdown_requested_date = "now"  # type: ignore[assignment]
        rq_worker.kill_horse()
        assert horse.wait(timeout=5) == -9
    finally:
        horse.kill()
        horse.wait()
    assert buried == [("job-1", reason)]
