"""The only caller of ansible_runner: run one playbook from the repo against one inventory host."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from api.settings import Settings
from jobs.reaper import tags

# Seconds between two calls of the cancel callback while the playbook prints nothing (a long
# wait: a shutdown deadline, a pause); ansible-runner's pexpect_timeout, 5 by default. A call
# reads a flag (jobs.cancel): a cancel stops the playbook within a second or two.
CANCEL_CHECK_SECONDS = 1


@dataclass(frozen=True)
class PlaybookRun:
    ident: str
    playbook: str
    limit: str
    extravars: dict[str, Any] = field(default_factory=dict)
    vm_id: str | None = None


@dataclass(frozen=True)
class RunOutcome:
    status: str  # ansible-runner's: successful, failed, timeout, canceled, error
    rc: int | None


def run_playbook(
    settings: Settings,
    run: PlaybookRun,
    on_event: Callable[[dict[str, Any]], bool],
    should_cancel: Callable[[], bool] | None = None,
) -> RunOutcome:
    """Run playbooks/<run.playbook> with run.extravars, limited to run.limit; blocks until done.

    Artifacts go to the job's private data dir, <runs_dir>/<ident>, removed afterwards (the
    reaper removes it when the process dies first): the events, which on_event stores, are the
    lasting record. Every process of the run carries the job's tags (jobs.reaper).
    should_cancel: called about every CANCEL_CHECK_SECONDS; True stops the run (ansible-runner
    kills its process group, and the status is `canceled`).
    """
    root = settings.ansible_dir
    bin_dir = Path(sys.executable).parent
    private_dir = settings.runs_dir / run.ident
    settings.runs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.rmtree(private_dir, ignore_errors=True)  # a dead earlier attempt's leftovers
    private_dir.mkdir(mode=0o700)
    _runner_settings(private_dir)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(private_dir),
            project_dir=str(root),
            playbook=str(root / "playbooks" / run.playbook),
            inventory=str(settings.inventory_path),
            limit=run.limit,
            extravars=run.extravars,
            envvars={
                "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1",
                # pexpect finds ansible-playbook on this PATH; the worker may run as
                # .venv/bin/virtflow without its virtualenv on PATH.
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                **tags(settings.runs_dir, run.ident, run.vm_id),
            },
            ident=run.ident,
            event_handler=on_event,
            cancel_callback=should_cancel,
            timeout=settings.job_timeout_seconds,
            quiet=True,
        )
        return RunOutcome(status=str(runner.status), rc=runner.rc)
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)


def _runner_settings(private_dir: Path) -> None:
    """ansible-runner's env/settings. A file: ansible-runner 2.4 drops the `settings` argument
    of run() when the private data dir has no env/settings."""
    env = private_dir / "env"
    env.mkdir(mode=0o700)
    (env / "settings").write_text(json.dumps({"pexpect_timeout": CANCEL_CHECK_SECONDS}))
