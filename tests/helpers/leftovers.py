"""What a stack's jobs may leave on the machine: processes and ansible-runner run directories.

Read straight from /proc, independently of jobs.reaper, so a test checks the reaper rather
than repeating it.
"""

from __future__ import annotations

import time
from pathlib import Path

PROC = Path("/proc")


def _live(pid_dir: Path) -> bool:
    try:
        state = (pid_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def job_processes(runs_dir: Path, job_id: str | None = None) -> dict[int, str]:
    """pid -> command line of every live process started for a job of the stack at runs_dir
    (of that one job, when job_id is given)."""
    marker = f"VIRTFLOW_RUNS_DIR={runs_dir}".encode()
    of_job = f"VIRTFLOW_JOB_ID={job_id}".encode() if job_id else None
    found = {}
    for pid_dir in PROC.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            environ = (pid_dir / "environ").read_bytes().split(b"\0")
            cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker in environ and (of_job is None or of_job in environ) and _live(pid_dir):
            found[int(pid_dir.name)] = cmdline.decode(errors="replace")[:200]
    return found


def run_dirs(runs_dir: Path) -> list[str]:
    return sorted(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else []


def assert_none_left(runs_dir: Path, timeout: float = 20) -> None:
    """No job process and no run directory remain (polled: the sweep may still be at it)."""
    deadline = time.monotonic() + timeout
    while True:
        procs, dirs = job_processes(runs_dir), run_dirs(runs_dir)
        if not procs and not dirs:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind: processes {procs}, run dirs {dirs}")
        time.sleep(0.3)
