"""The reaper finds a job's processes by their environment tags and kills only those."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import reaper
from tests.helpers.stack import wait_for

Popen = subprocess.Popen[bytes]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def spawn(runs: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(
        job_id: str, vm_id: str | None = None, runs_dir: Path = runs
    ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["sleep", "120"], env=reaper.tags(runs_dir, job_id, vm_id))
        started.append(proc)
        # Popen returns once exec has begun, but the kernel fills in the new program's
        # /proc/<pid>/environ a moment later: under load a scan at once can see it empty.
        environ = Path(f"/proc/{proc.pid}/environ")
        wait_for("tagged", lambda: job_id.encode() in environ.read_bytes(), 5, every=0.01)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_tagged_processes_finds_only_this_installations_jobs(
    spawn, runs: Path, tmp_path: Path
) -> None:
    mine = spawn("job-1", "vm-1")
    spawn("job-2", runs_dir=tmp_path / "elsewhere")
    untagged = subprocess.Popen(["sleep", "120"])
    try:
        found = reaper.tagged_processes(runs)
    finally:
        untagged.kill()
        untagged.wait()
    assert [(t.pid, t.job_id, t.vm_id) for t in found] == [(mine.pid, "job-1", "vm-1")]


def test_kill_job_kills_every_process_of_the_job(spawn, runs: Path) -> None:
    first, second, other = spawn("job-1"), spawn("job-1"), spawn("job-2")
    assert reaper.kill_job(runs, "job-1") == 2
    assert first.wait(timeout=5) == -9 and second.wait(timeout=5) == -9
    assert other.poll() is None


def test_kill_vm_playbooks_keeps_the_current_job(spawn, runs: Path) -> None:
    earlier, current, other_vm = (
        spawn("job-old", "vm-1"),
        spawn("job-new", "vm-1"),
        spawn("j", "vm-2"),
    )
    assert reaper.kill_vm_playbooks(runs, "vm-1", keep_job="job-new") == 1
    assert earlier.wait(timeout=5) == -9
    assert current.poll() is None and other_vm.poll() is None


def test_reap_job_removes_its_run_dir(spawn, runs: Path) -> None:
    job_id = str(uuid.uuid4())
    (runs / job_id / "artifacts").mkdir(parents=True)
    proc = spawn(job_id)
    assert reaper.reap_job(job_id, runs) == 1
    assert proc.wait(timeout=5) == -9
    assert not (runs / job_id).exists()
    assert reaper.run_dir_job_ids(runs) == set()


def test_kill_of_a_process_already_gone_counts_nothing() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert reaper.kill([proc.pid]) == 0
