"""The only caller of ansible_runner: run one playbook from the repo against one inventory host."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from api.settings import Settings


@dataclass(frozen=True)
class PlaybookRun:
    ident: str
    playbook: str
    limit: str
    extravars: dict[str, Any] = field(default_factory=dict)


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

    Artifacts go to a temporary private data dir that is removed afterwards: the events, which
    on_event stores, are the lasting record.
    """
    root = settings.ansible_dir
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="virtflow-run-") as private_dir:
        runner = ansible_runner.run(
            private_data_dir=private_dir,
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
            },
            ident=run.ident,
            event_handler=on_event,
            cancel_callback=should_cancel,
            timeout=settings.job_timeout_seconds,
            quiet=True,
        )
        return RunOutcome(status=str(runner.status), rc=runner.rc)
