"""Tenants and baremetal hosts through the API: who may create and see them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from api.models import Baremetal, Tenant
from api.services.inventory import InventoryWatcher
from tests.api.conftest import count, vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error

Headers = dict[str, str]
NEW_HOST_INVENTORY = """\
all:
  children:
    baremetal:
      hosts:
        bm-new:
          virtflow_capacity_vcpus: 4
          virtflow_capacity_ram_mb: 4096
          virtflow_capacity_disk_gb: 40
"""


def test_tenant_admin_creates(client: FlaskClient, admin_headers: Headers, db: Session) -> None:
    resp = client.post("/api/v1/tenant/", json={"name": "acme"}, headers=admin_headers)
    assert resp.status_code == 201
    data = resp.get_json()["data"]
    assert (data["name"], data["status"]) == ("acme", "active")
    assert db.get(Tenant, uuid.UUID(data["id"])) is not None


def test_tenant_duplicate_name_is_name_taken(
    client: FlaskClient, admin_headers: Headers, make: Factory, db: Session
) -> None:
    make.tenant("acme")
    before = count(db, Tenant)
    resp = client.post("/api/v1/tenant/", json={"name": "acme"}, headers=admin_headers)
    assert_error(resp, 409, "NAME_TAKEN")
    assert count(db, Tenant) == before


@pytest.mark.parametrize("name", ["Acme", "a b", "1acme", "a" * 64, "acme\n", ""])
def test_tenant_bad_name_is_422(
    client: FlaskClient, admin_headers: Headers, db: Session, name: str
) -> None:
    before = count(db, Tenant)
    resp = client.post("/api/v1/tenant/", json={"name": name}, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == ["name"]
    assert count(db, Tenant) == before


def test_tenant_non_admin_cannot_create(client: FlaskClient, make: Factory, db: Session) -> None:
    user = make.user()
    make.member(user, make.tenant(), "tenant_user")
    before = count(db, Tenant)
    resp = client.post("/api/v1/tenant/", json={"name": "mine"}, headers=make.headers(user))
    assert_error(resp, 403, "PERMISSION_DENIED")
    assert count(db, Tenant) == before


def test_tenant_members_see_only_their_tenants(client: FlaskClient, make: Factory) -> None:
    mine, theirs = make.tenant("mine"), make.tenant("theirs")
    user = make.user()
    make.member(user, mine, "viewer")
    headers = make.headers(user)
    listed = client.get("/api/v1/tenant/", headers=headers).get_json()["data"]
    assert [t["name"] for t in listed] == ["mine"]
    assert client.get(f"/api/v1/tenant/{mine.id}/", headers=headers).status_code == 200
    assert_error(client.get(f"/api/v1/tenant/{theirs.id}/", headers=headers), 404, "NOT_FOUND")
    assert client.get("/api/v1/tenant/?name=theirs", headers=headers).get_json()["data"] == []


def test_baremetal_admin_lists_inventory_hosts(
    client: FlaskClient, admin_headers: Headers, db: Session
) -> None:
    body = client.get("/api/v1/baremetal/", headers=admin_headers).get_json()
    hosts = {h["name"]: h for h in body["data"]}
    assert set(hosts) == {"bm-a", "bm-b"}
    assert (hosts["bm-a"]["capacity_vcpus"], hosts["bm-a"]["capacity_ram_mb"]) == (8, 4096)
    assert hosts["bm-a"]["libvirt_uri"] == "qemu:///system"
    assert hosts["bm-b"]["libvirt_uri"] == "qemu+ssh://root@bm-b/system"
    assert all(h["in_inventory"] for h in hosts.values())
    assert db.scalars(select(Baremetal.name).order_by(Baremetal.name)).all() == ["bm-a", "bm-b"]


def test_baremetal_is_admin_only(client: FlaskClient, make: Factory) -> None:
    user = make.user()
    make.member(user, make.tenant(), "tenant_user")
    assert_error(
        client.get("/api/v1/baremetal/", headers=make.headers(user)), 403, "PERMISSION_DENIED"
    )


def test_baremetal_sync_reads_a_hand_edit_and_new_hosts_wait_for_prepare(
    client: FlaskClient, app: Flask, make: Factory, admin_headers: Headers, tmp_path: Path
) -> None:
    inventory_dir = tmp_path / "inventory"
    inventory_dir.mkdir()
    (inventory_dir / "hosts.yml").write_text(NEW_HOST_INVENTORY, encoding="utf-8")
    app.extensions["virtflow_inventory"] = InventoryWatcher(inventory_dir)
    tenant = make.tenant()
    # A request never reads the inventory: the new host is unknown until a sync.
    assert "bm-new" not in names(client.get("/api/v1/baremetal/", headers=admin_headers))
    synced = client.post("/api/v1/baremetal/sync/", headers=admin_headers)
    assert synced.status_code == 200, synced.get_json()
    hosts = {h["name"]: h for h in synced.get_json()["data"]}
    assert (hosts["bm-new"]["state"], hosts["bm-new"]["in_inventory"]) == ("new", True)
    assert hosts["bm-a"]["in_inventory"] is False  # not in the edited inventory
    # Only bm-new is in the inventory now, and a `new` host takes no VM.
    refused = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=admin_headers)
    assert_error(refused, 409, "NO_CAPACITY")


def names(resp: TestResponse) -> set[str]:
    return {h["name"] for h in resp.get_json()["data"]}
