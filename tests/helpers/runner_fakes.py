"""A stand-in for jobs.runner.run_playbook and the ansible-runner events it feeds a job."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobs.runner import PlaybookRun, RunOutcome

LIBVIRT_UUID = "6f1c9a3e-6a55-4d1e-9d0b-3f5a8c2e7b10"


def event(counter: int, name: str, *, stdout: str = "", **data: Any) -> dict[str, Any]:
    """An ansible-runner event as the event_handler receives it."""
    return {
        "uuid": str(uuid.uuid4()),
        "counter": counter,
        "event": name,
        "stdout": stdout,
        "created": f"2026-01-01T00:00:{counter:02d}.000000",
        "event_data": {"play": "Create VirtFlow guests", **data},
    }


def stats(counter: int, guests: dict[str, Any] | None) -> dict[str, Any]:
    artifact = {"virtflow_guests": guests} if guests is not None else {}
    return event(counter, "playbook_on_stats", stdout="PLAY RECAP", artifact_data=artifact)


def host_report(counter: int, report: dict[str, Any]) -> dict[str, Any]:
    """host_prepare.yml's stats event with the resources it found (virtflow_host)."""
    artifact = {"virtflow_host": report}
    return event(counter, "playbook_on_stats", stdout="PLAY RECAP", artifact_data=artifact)


def success_events(domain: str, state: str = "running") -> list[dict[str, Any]]:
    guest: dict[str, Any] = {"state": state, "host": "bm-a"}
    if state == "running":
        guest["uuid"] = LIBVIRT_UUID
    return [
        event(1, "playbook_on_start"),
        event(2, "playbook_on_play_start", stdout="PLAY [Create VirtFlow guests]"),
        event(3, "playbook_on_task_start", task="Define the domain"),
        event(
            4,
            "runner_on_ok",
            stdout="changed: [bm-a]",
            task="Define the domain",
            host="bm-a",
            res={"changed": True, "msg": "defined"},
        ),
        event(5, "playbook_on_task_start", task="Start the domain"),
        event(
            6,
            "runner_on_ok",
            stdout="ok: [bm-a]",
            task="Start the domain",
            host="bm-a",
            res={"changed": False},
        ),
        stats(7, {domain: guest}),
    ]


def batch_events(report: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A run over several guests: a shared task, one item event per guest, the report."""
    items = [
        event(
            3 + k,
            "runner_item_on_ok",
            stdout=f"changed: [bm-a] => (item={name})",
            task="Create the guests",
            host="bm-a",
            res={"changed": True, "_ansible_item_label": name},
        )
        for k, name in enumerate(report)
    ]
    return [
        event(1, "playbook_on_start"),
        event(2, "playbook_on_task_start", task="Create the guests"),
        *items,
        stats(3 + len(items), report),
    ]


def failed_events() -> list[dict[str, Any]]:
    return [
        event(1, "playbook_on_start"),
        event(2, "playbook_on_task_start", task="Create the disk"),
        event(
            3,
            "runner_on_failed",
            stdout="fatal: [bm-a]: FAILED! => no space left",
            task="Create the disk",
            host="bm-a",
            res={"failed": True, "msg": "No space left on device", "rc": 1},
        ),
        event(
            4,
            "runner_on_failed",
            task="Later task",
            host="bm-a",
            res={"failed": True, "msg": "second failure"},
        ),
        stats(5, {}),
    ]


def _report_allocation(item: dict[str, Any], run: PlaybookRun) -> None:
    """As the real role does: a guest reported running (a create) or stopped (a resize) got what
    its spec asked for, unless the test's event says otherwise (then its own vcpus, ram_mb and
    disk_gb stand). A spec without sizes (a stop) adds none."""
    artifact = item.get("event_data", {}).get("artifact_data") or {}
    guests = artifact.get("virtflow_guests")
    if not isinstance(guests, dict):
        return
    for spec in run.extravars.get("virtflow_guests", []):
        reported = guests.get(spec.get("name"))
        if isinstance(reported, dict) and reported.get("state") in ("running", "stopped"):
            for key in ("vcpus", "ram_mb", "disk_gb"):
                if key in spec:
                    reported.setdefault(key, spec[key])


def _report_snapshot(item: dict[str, Any], run: PlaybookRun) -> None:
    """As the role's snapshot entry points do: a guest whose spec names a snapshot is reported
    with it, and a snapshot just taken holds the state the guest is reported in."""
    artifact = item.get("event_data", {}).get("artifact_data") or {}
    guests = artifact.get("virtflow_guests")
    if not isinstance(guests, dict):
        return
    for spec in run.extravars.get("virtflow_guests", []):
        reported = guests.get(spec.get("name"))
        if isinstance(reported, dict) and "snapshot" in spec:
            reported.setdefault("snapshot", spec["snapshot"])
            if run.playbook == "vm_snapshot.yml":
                reported.setdefault("snapshot_state", reported.get("state"))


@dataclass
class FakeRunner:
    """Stands in for jobs.runner.run_playbook: feeds events, then returns or raises."""

    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = "successful"
    rc: int | None = 0
    raises: Exception | None = None
    runs: list[PlaybookRun] = field(default_factory=list)
    during: Callable[[], None] | None = None
    # As ansible-runner does while a playbook runs: call should_cancel until it says stop (then
    # the run is `canceled`), at most this many seconds; 0: never asks.
    waits_for_cancel: float = 0
    canceled_after: float | None = None  # seconds it waited, when should_cancel stopped it

    def __call__(
        self,
        settings: Any,
        run: PlaybookRun,
        on_event: Callable[[dict[str, Any]], bool],
        should_cancel: Callable[[], bool] | None = None,
    ) -> RunOutcome:
        self.runs.append(run)
        for item in self.events:
            _report_allocation(item, run)
            _report_snapshot(item, run)
            assert on_event(item) is True
        if self.during:
            self.during()
        if self.raises:
            raise self.raises
        if self.waits_for_cancel and should_cancel is not None and self._canceled(should_cancel):
            return RunOutcome("canceled", 254)
        return RunOutcome(self.status, self.rc)

    def _canceled(self, should_cancel: Callable[[], bool]) -> bool:
        start = time.monotonic()
        while time.monotonic() - start < self.waits_for_cancel:
            if should_cancel():
                self.canceled_after = time.monotonic() - start
                return True
            time.sleep(0.01)
        return False
