"""Resize a stopped VM: vCPUs and RAM up or down, the disk grown only."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from api.models import VM, Job


def ended(session: Session, job: Job, vm: VM, outcome: str, report: Mapping[str, str]) -> None:
    """A resize job ended (api.services.outcomes)."""
