"""GET /baremetal/: capacity, what the VMs take and leave, ratios and what discovery found."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from api.models import Baremetal, VMStatus
from tests.conftest import Factory
from tests.helpers.libvirt_domains import add_vm

Headers = dict[str, str]
FOUND = {
    "cpus": 2,
    "memory_mb": 24000,
    "image_dir_free_gb": 80,
    "libvirt_version": "9.0.0",
    "qemu_version": "7.2.22",
    "virt_type": "kvm",
}


def _host(db: Session, name: str) -> Baremetal:
    return db.scalars(select(Baremetal).where(Baremetal.name == name)).one()


def test_baremetal_list_shows_allocated_free_and_vm_count(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers
) -> None:
    tenant, bm_a = make.tenant(), _host(db, "bm-a")
    add_vm(db, tenant, bm_a, VMStatus.RUNNING, "one")
    add_vm(db, tenant, bm_a, VMStatus.STOPPED, "two")
    add_vm(db, tenant, bm_a, VMStatus.DELETED, "gone")
    resp = client.get("/api/v1/baremetal/", headers=admin_headers)
    assert resp.status_code == 200
    shown = {h["name"]: h for h in resp.get_json()["data"]}
    a, b = shown["bm-a"], shown["bm-b"]  # the test inventory: 8/4096/100 and 4/8192/50
    assert a["capacity"] == {"vcpus": 8, "ram_mb": 4096, "disk_gb": 100}
    assert a["allocated"] == {"vcpus": 2, "ram_mb": 128, "disk_gb": 2}
    assert a["free"] == {"vcpus": 6, "ram_mb": 3968, "disk_gb": 98}
    assert (a["vm_count"], b["vm_count"]) == (2, 0)
    assert b["free"] == b["capacity"] == {"vcpus": 4, "ram_mb": 8192, "disk_gb": 50}
    assert (a["capacity_source"], a["declared"]) == ("inventory", a["capacity"])


def test_baremetal_shows_discovery_ratios_and_overrides(
    client: FlaskClient, db: Session, admin_headers: Headers
) -> None:
    host = _host(db, "bm-b")
    host.discovered = FOUND
    host.overrides = {"cpu_allocation_ratio": 8.0}
    db.flush()
    resp = client.get(f"/api/v1/baremetal/{host.id}/", headers=admin_headers)
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert data["discovered"] == FOUND
    assert data["allocation_ratios"] == {"cpu": 8.0, "ram": 1.0, "disk": 1.0}
    assert data["reserved"] == {"vcpus": 0, "ram_mb": 512, "disk_gb": 5}
    assert data["overrides"] == {"cpu_allocation_ratio": 8.0}
    for key in ("state", "state_reason", "domains_checked_at", "discovered_at"):
        assert key in data


def test_baremetal_list_reads_every_hosts_usage_in_one_query(
    client: FlaskClient,
    db: Session,
    connection: Connection,
    make: Factory,
    admin_headers: Headers,
) -> None:
    tenant = make.tenant()
    for name in ("bm-a", "bm-b"):
        add_vm(db, tenant, _host(db, name), VMStatus.RUNNING, f"on-{name}")
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", seen)
    try:
        resp = client.get("/api/v1/baremetal/", headers=admin_headers)
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert resp.status_code == 200
    assert [h["vm_count"] for h in resp.get_json()["data"]] == [1, 1]
    assert len([s for s in statements if "FROM vm" in s]) == 1
