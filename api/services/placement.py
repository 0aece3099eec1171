"""Choose the baremetal host for a new VM."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import NoCapacity
from api.models import VM, Baremetal, VMStatus


@dataclass(frozen=True)
class Request:
    vcpus: int
    ram_mb: int
    disk_gb: int


def _allocated(session: Session, host: Baremetal) -> tuple[int, int, int]:
    row = session.execute(
        select(
            func.coalesce(func.sum(VM.vcpus), 0),
            func.coalesce(func.sum(VM.ram_mb), 0),
            func.coalesce(func.sum(VM.disk_gb), 0),
        ).where(VM.baremetal_id == host.id, VM.status != VMStatus.DELETED)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def choose_host(session: Session, request: Request) -> Baremetal:
    """The in-inventory host with the most free RAM that fits the request.

    Candidate rows are locked FOR UPDATE in a fixed order, so two concurrent placements
    cannot both take the last free slot of a host.
    """
    hosts = session.scalars(
        select(Baremetal)
        .where(Baremetal.in_inventory.is_(True))
        .order_by(Baremetal.name)
        .with_for_update()
    ).all()
    best: tuple[int, Baremetal] | None = None
    for host in hosts:
        vcpus, ram, disk = _allocated(session, host)
        free_ram = host.capacity_ram_mb - ram
        fits = (
            vcpus + request.vcpus <= host.capacity_vcpus
            and ram + request.ram_mb <= host.capacity_ram_mb
            and disk + request.disk_gb <= host.capacity_disk_gb
        )
        if fits and (best is None or free_ram > best[0]):
            best = (free_ram, host)
    if best is None:
        raise NoCapacity(details={"hosts_considered": len(hosts)})
    return best[1]
