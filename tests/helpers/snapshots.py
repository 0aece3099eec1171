"""Snapshot rows as a finished vm.snapshot job leaves them, for tests that act on one."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api.models import VM, Snapshot, SnapshotStatus


def ready_snapshot(
    session: Session, vm: VM, name: str = "snap-1", power_state: str | None = None
) -> Snapshot:
    """A ready snapshot of vm, taken in power_state (default: the VM's status if powered)."""
    taken = power_state or (vm.status if vm.status in ("running", "stopped") else "stopped")
    snapshot = Snapshot(
        id=uuid.uuid4(),
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        name=name,
        status=SnapshotStatus.READY,
        power_state=taken,
    )
    session.add(snapshot)
    session.flush()
    return snapshot
