"""Record hand runs of these playbooks in VirtFlow's audit trail (api.services.ops_runs).

Ansible loads callback plugins that sit beside the playbooks, so every `ansible-playbook
playbooks/<op>.yml` from the repo root is recorded: an `ops.run` job with the host results as
events, and an `ops.run` audit row (OS user, playbook, limit, extra vars without secrets,
stats). Runs of VirtFlow's own runner carry VIRTFLOW_JOB_ID and are not recorded twice. When
the database cannot be reached, the run goes on and ends with a warning.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: virtflow_audit
type: aggregate
short_description: record hand runs of VirtFlow's playbooks in its audit trail
description:
  - Writes an ops.run job with its events and an ops.run audit row to VirtFlow's database.
  - Skips runs made by VirtFlow's own runner (VIRTFLOW_JOB_ID set).
"""

RUNNER_TAG = "VIRTFLOW_JOB_ID"  # jobs.reaper.TAG_JOB: set on every run of the API's runner
STATUS = {"ok": "ok", "failed": "failed", "unreachable": "unreachable", "skipped": "skipped"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "virtflow_audit"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self) -> None:
        super().__init__()
        self.active = RUNNER_TAG not in os.environ
        self.started = _now()
        self.playbook = ""
        self.play = ""
        self.task = ""
        self.extra_vars: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.first_failure: str | None = None

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.playbook = Path(playbook._file_name).name
        self._event("playbook_on_start")

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.play = play.get_name()
        self.extra_vars = dict(play.get_variable_manager().extra_vars)
        self._event("playbook_on_play_start")

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self.task = task.get_name()

    def v2_runner_on_ok(self, result: Any) -> None:
        self._host_event("runner_on_ok", "ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._host_event("runner_on_failed", "ignored" if ignore_errors else "failed", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._host_event("runner_on_unreachable", "unreachable", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._host_event("runner_on_skipped", "skipped", result)

    def _event(self, name: str, **row: Any) -> None:
        self.events.append(
            {
                "counter": len(self.events) + 1,
                "event": name,
                "play": self.play or None,
                "task": row.pop("task", None),
                "host": row.pop("host", None),
                "status": row.pop("status", None),
                "changed": row.pop("changed", False),
                "stdout": "",
                "summary": row.pop("summary", {}),
                "created_at": _now(),
            }
        )

    def _host_event(self, name: str, status: str, result: Any) -> None:
        res = result._result if isinstance(result._result, dict) else {}
        host = result._host.get_name()
        changed = bool(res.get("changed"))
        msg = str(res.get("msg", ""))[:1024]
        if status in ("failed", "unreachable") and self.first_failure is None:
            self.first_failure = f"task '{self.task}' {status} on {host}: {msg or 'no message'}"
        summary = {"msg": msg} if msg else {}
        if res.get("_ansible_no_log"):
            summary = {"censored": "no_log"}
        shown = "changed" if status == "ok" and changed else status
        self._event(name, task=self.task, host=host, status=shown, changed=changed, summary=summary)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if not self.active:
            return
        per_host = {h: stats.summarize(h) for h in sorted(stats.processed)}
        failed = any(s["failures"] or s["unreachable"] for s in per_host.values())
        try:
            self._record(per_host, failed)
        except Exception as exc:  # the run itself must not fail for its record
            self._display.warning(
                f"VirtFlow audit: this run was not recorded ({type(exc).__name__}): is the "
                "database (VIRTFLOW_DATABASE_URL) reachable and migrated?"
            )

    def _record(self, per_host: dict[str, dict[str, int]], failed: bool) -> None:
        from api.db import session_factory  # noqa: PLC0415 - only when a run ends
        from api.services.ops_runs import OpsRun, record_run  # noqa: PLC0415
        from api.settings import Settings  # noqa: PLC0415

        settings = Settings.from_env()
        run = OpsRun(
            os_user=getpass.getuser(),
            playbook=self.playbook,
            limit=str(context.CLIARGS.get("subset") or ""),
            extra_vars=self.extra_vars,
            started_at=self.started,
            finished_at=_now(),
            failed=failed,
            stats=per_host,
            first_failure=self.first_failure,
            events=self.events,
        )
        with session_factory(settings.database_url, settings.db_timeouts)() as session:
            job = record_run(session, run)
            session.commit()
        # stderr: stdout may be another callback's machine-readable output (ansible.posix.json).
        self._display.display(f"VirtFlow audit: recorded as ops.run job {job.id}", stderr=True)
