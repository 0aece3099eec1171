"""End what a job left behind on this machine: its playbook processes and its run directory.

ansible-runner starts `ansible-playbook` in a session of its own that ignores SIGHUP, so a
work horse that dies (SIGKILL, OOM) leaves the playbook running, reparented to PID 1. Every
process of a job therefore carries its job and VM ids in its environment (TAG_JOB, TAG_VM,
inherited by each fork and exec of ansible), with the run directory of the installation that
started it (TAG_RUNS: two installations on one machine never reap each other's processes),
and the reaper finds them by reading
/proc/<pid>/environ: no pid file to go stale, no pid reuse to fool it, and it finds the
playbook's own children too, whatever process group they are in.

SSH connection masters (ControlPersist) are left alone: they carry the tag of the job that
opened them, serve later jobs to the same host, and exit by themselves when idle.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TAG_JOB = "VIRTFLOW_JOB_ID"
TAG_VM = "VIRTFLOW_VM_ID"
TAG_RUNS = "VIRTFLOW_RUNS_DIR"
PROC = Path("/proc")
KILL_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Tagged:
    pid: int
    job_id: str
    vm_id: str | None


def tags(runs_dir: Path, job_id: str, vm_id: str | None) -> dict[str, str]:
    """Environment variables that mark every process of one job."""
    return {TAG_RUNS: str(runs_dir), TAG_JOB: job_id, **({TAG_VM: vm_id} if vm_id else {})}


def _environ(pid_dir: Path) -> dict[str, str]:
    try:
        raw = (pid_dir / "environ").read_bytes()
    except OSError:  # gone, a zombie, or not ours to read
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _is_ssh_master(pid_dir: Path) -> bool:
    try:
        cmdline = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return False
    return cmdline.startswith(b"ssh: ") and b"[mux]" in cmdline


def tagged_processes(runs_dir: Path, proc: Path = PROC) -> list[Tagged]:
    """Every live process on this machine of a job of the installation using runs_dir."""
    found = []
    me = os.getpid()
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == me:
            continue
        env = _environ(pid_dir)
        ours = env.get(TAG_RUNS) == str(runs_dir)
        if ours and TAG_JOB in env and not _is_ssh_master(pid_dir):
            found.append(Tagged(int(pid_dir.name), env[TAG_JOB], env.get(TAG_VM)))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its parent's wait is missing


def kill(pids: Iterable[int]) -> int:
    """SIGKILL each pid and wait until they are gone; returns how many were signalled."""
    signalled = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        signalled.append(pid)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while any(_alive(pid) for pid in signalled) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(signalled)


def kill_job(runs_dir: Path, job_id: str) -> int:
    """Kill every process of one job; returns how many there were."""
    pids = [t.pid for t in tagged_processes(runs_dir) if t.job_id == job_id]
    if pids:
        log.warning("killing %d leftover process(es) of job %s", len(pids), job_id)
    return kill(pids)


def kill_vm_playbooks(runs_dir: Path, vm_id: str, keep_job: str) -> int:
    """Kill processes of earlier jobs of vm_id, so two playbooks never touch one VM at once."""
    tagged = tagged_processes(runs_dir)
    pids = [t.pid for t in tagged if t.vm_id == vm_id and t.job_id != keep_job]
    if pids:
        log.warning("killing %d process(es) of earlier jobs of VM %s", len(pids), vm_id)
    return kill(pids)


def remove_run_dir(runs_dir: Path, job_id: str) -> None:
    """Remove the job's ansible-runner private data dir, if it is still there."""
    shutil.rmtree(runs_dir / job_id, ignore_errors=True)


def run_dir_job_ids(runs_dir: Path) -> set[str]:
    """Job ids that have a run directory on this machine."""
    if not runs_dir.is_dir():
        return set()
    return {entry.name for entry in runs_dir.iterdir() if entry.is_dir()}


def reap_job(job_id: str, runs_dir: Path) -> int:
    """Kill the job's processes and remove its run directory; returns processes killed."""
    killed = kill_job(runs_dir, job_id)
    remove_run_dir(runs_dir, job_id)
    return killed
