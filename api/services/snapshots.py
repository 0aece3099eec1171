"""Snapshots of a VM: take, list, delete and revert to them; each change queues a job."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind

KINDS = frozenset({JobKind.VM_SNAPSHOT, JobKind.VM_SNAPSHOT_DELETE, JobKind.VM_REVERT})


def ended(session: Session, job: Job, vm: VM, outcome: str, report: Mapping[str, str]) -> None:
    """A snapshot job ended (api.services.outcomes)."""
