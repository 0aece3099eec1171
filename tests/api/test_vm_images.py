"""VMs from an image over HTTP: image_id, ssh_authorized_keys and user_data at create (and what
is refused), user_data write-only everywhere, the NIC and addresses in the VM, the SSH route."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.models import (
    VM,
    AuditLog,
    Baremetal,
    GuestNetwork,
    IdempotencyKey,
    Image,
    ImageStatus,
    Job,
    Tenant,
    User,
)
from api.settings import Settings
from tests.api.conftest import build_app, counts, vm_body
from tests.conftest import Factory
from tests.helpers import ssh_keys
from tests.helpers.http import assert_error
from tests.helpers.images import MiB, stored_image

Headers = dict[str, str]
SECRET = "pa55-in-user-data-9f2c"
USER_DATA = f"#cloud-config\nwrite_files:\n  - path: /etc/token\n    content: {SECRET}\n"


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant("acme")


@pytest.fixture
def member(make: Factory, tenant: Tenant) -> User:
    user = make.user()
    make.member(user, tenant, "tenant_user")
    return user


@pytest.fixture
def headers(make: Factory, member: User) -> Headers:
    return make.headers(member)


@pytest.fixture
def image(db: Session) -> Image:
    return stored_image(db, name="debian-12")


def post(client: FlaskClient, headers: Headers, body: dict[str, Any], **extra: str) -> Any:
    return client.post("/api/v1/vm/", json=body, headers={**headers, **extra})


def image_body(tenant: Tenant, image: Image, **kw: Any) -> dict[str, Any]:
    return vm_body(tenant.id, image_id=str(image.id), **kw)


def audit_rows(action: str, resp: Any) -> Select[tuple[AuditLog]]:
    """The audit rows of one request (rows of earlier tests' committed requests may exist)."""
    request_id = resp.get_json()["meta"]["request_id"]
    return select(AuditLog).where(AuditLog.action == action, AuditLog.request_id == request_id)


def field_errors(resp: Any) -> dict[str, Any]:
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    found: dict[str, Any] = body["error"]["details"]["fields"]["json"]
    return found


# --- a create from an image ---------------------------------------------------------------------


def test_vm_create_from_an_image_shows_it_and_never_user_data(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    body = image_body(
        tenant, image, ssh_authorized_keys=[ssh_keys.ED25519, ssh_keys.RSA], user_data=USER_DATA
    )
    resp = post(client, headers, body)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert data["image_id"] == str(image.id)
    assert data["ssh_authorized_keys"] == [ssh_keys.ED25519, ssh_keys.RSA]
    assert (data["user_data_present"], data["addresses"], data["addresses_at"]) == (True, [], None)
    assert data["mac"].startswith("52:54:00:") and data["ssh_port"] is None
    assert "user_data" not in data
    for path in (f"/api/v1/vm/{data['id']}/", "/api/v1/vm/", f"/api/v1/job/{data['job_id']}/"):
        shown = client.get(path, headers=headers)
        assert shown.status_code == 200
        assert SECRET not in shown.get_data(as_text=True)
    row = db.get_one(VM, uuid.UUID(data["id"]))
    assert row.user_data == USER_DATA


def test_vm_create_audit_row_and_idempotency_record_hold_no_user_data(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    body = image_body(tenant, image, user_data=USER_DATA)
    key_value = f"k-{uuid.uuid4()}"  # unique: rows of earlier tests' committed requests may exist
    resp = post(client, headers, body, **{"Idempotency-Key": key_value})
    assert resp.status_code == 202
    [row] = db.scalars(audit_rows("vm.create", resp))
    assert row.changes["after"]["cloud_config_given"] is True
    assert SECRET not in repr(row.changes)
    [key] = db.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key_value))
    assert SECRET not in repr(key.response)
    replay = post(client, headers, body, **{"Idempotency-Key": key_value})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert SECRET not in replay.get_data(as_text=True)


def test_vm_create_refused_user_data_leaves_no_trace_in_logs_or_audit(
    *,
    client: FlaskClient,
    db: Session,
    headers: Headers,
    tenant: Tenant,
    image: Image,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = image_body(tenant, image, user_data=f"token: [{SECRET}\n")
    resp = post(client, headers, body)
    assert field_errors(resp) == {"user_data": ["user_data is not valid YAML (line 2, column 1)"]}
    assert SECRET not in resp.get_data(as_text=True)
    [row] = db.scalars(audit_rows("vm.create", resp))
    assert (row.status_code, SECRET in repr(row.changes)) == (422, False)
    assert SECRET not in caplog.text


def test_vm_create_run_by_a_worker_puts_user_data_in_no_log_line(
    *,
    client: FlaskClient,
    db: Session,
    headers: Headers,
    tenant: Tenant,
    image: Image,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = post(client, headers, image_body(tenant, image, user_data=USER_DATA))
    assert resp.status_code == 202
    assert SECRET not in caplog.text
    job = db.get_one(Job, uuid.UUID(resp.get_json()["data"]["job_id"]))
    assert SECRET not in repr(job.extravars)


# --- what a create refuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"ssh_authorized_keys": [ssh_keys.ED25519]}, "ssh_authorized_keys"),
        ({"user_data": "a: 1\n"}, "user_data"),
    ],
)
def test_vm_create_keys_or_user_data_without_an_image_is_422(
    *, client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, extra: Any, field: str
) -> None:
    before = counts(db)
    resp = post(client, headers, vm_body(tenant.id, **extra))
    assert field_errors(resp) == {field: ["needs image_id: cloud-init runs only in an image"]}
    assert counts(db) == before


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        (["ssh-ed25519 AAAA"], {"0"}),
        ([ssh_keys.ED25519, "ssh-dss AAAAB3NzaC1kc3M="], {"1"}),
        ([f"{ssh_keys.ED25519}\nssh-rsa AAAA"], {"0"}),
    ],
)
def test_vm_create_bad_keys_are_422_by_index(
    *, client: FlaskClient, headers: Headers, tenant: Tenant, image: Image, keys: Any, where: Any
) -> None:
    resp = post(client, headers, image_body(tenant, image, ssh_authorized_keys=keys))
    assert set(field_errors(resp)["ssh_authorized_keys"]) == where


@pytest.mark.parametrize(
    "keys",
    [
        [ssh_keys.ED25519] * 17,
        [ssh_keys.ED25519 + " " + "c" * 8192],
        [""],
        "ssh-ed25519 AAAA",
        [1],
    ],
)
def test_vm_create_keys_out_of_shape_are_422(
    client: FlaskClient, headers: Headers, tenant: Tenant, image: Image, keys: Any
) -> None:
    resp = post(client, headers, image_body(tenant, image, ssh_authorized_keys=keys))
    assert "ssh_authorized_keys" in field_errors(resp)


def test_vm_create_oversized_user_data_is_422(
    client: FlaskClient, headers: Headers, tenant: Tenant, image: Image, settings: Settings
) -> None:
    limit = settings.user_data_max_bytes
    fits = "a: " + "x" * (limit - 3)
    assert post(client, headers, image_body(tenant, image, user_data=fits)).status_code == 202
    too_big = "a: " + "x" * (limit - 2)
    resp = post(client, headers, image_body(tenant, image, name="web-2", user_data=too_big))
    assert field_errors(resp) == {"user_data": [f"user_data is {limit + 1} bytes; at most {limit}"]}


@pytest.mark.parametrize("user_data", ["- a list\n", "#!/bin/sh\nreboot\n", "a: &x 1\nb: *x\n", 42])
def test_vm_create_invalid_user_data_is_422(
    client: FlaskClient, headers: Headers, tenant: Tenant, image: Image, user_data: Any
) -> None:
    resp = post(client, headers, image_body(tenant, image, user_data=user_data))
    assert "user_data" in field_errors(resp)


def test_vm_create_with_another_tenants_private_image_is_404_as_an_unknown_one(
    client: FlaskClient, db: Session, make: Factory, headers: Headers, tenant: Tenant
) -> None:
    before = counts(db)
    theirs = stored_image(db, tenant_id=make.tenant("globex").id)
    for image_id in (theirs.id, uuid.uuid4()):
        resp = post(client, headers, vm_body(tenant.id, image_id=str(image_id)))
        assert_error(resp, 404, "NOT_FOUND")
    assert counts(db) == before


def test_vm_create_with_the_tenants_private_image_is_accepted(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant
) -> None:
    ours = stored_image(db, tenant_id=tenant.id)
    resp = post(client, headers, vm_body(tenant.id, image_id=str(ours.id)))
    assert resp.status_code == 202, resp.get_json()


def test_vm_create_with_a_pending_image_is_409(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant
) -> None:
    pending = stored_image(db, status=ImageStatus.PENDING)
    resp = post(client, headers, vm_body(tenant.id, image_id=str(pending.id)))
    body = assert_error(resp, 409, "INVALID_STATE")
    assert body["error"]["details"] == {"image_status": "pending"}


def test_vm_create_disk_smaller_than_the_image_is_422_disk_too_small(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    image.virtual_size = 10 * 1024 * MiB + 1
    db.flush()
    before = counts(db)
    resp = post(client, headers, image_body(tenant, image, disk_gb=10))
    body = assert_error(resp, 422, "DISK_TOO_SMALL")
    assert body["error"]["details"] == {"minimum_disk_gb": 11, "disk_gb": 10}
    assert counts(db) == before


def test_vm_create_on_user_mode_hosts_takes_ports_until_none_is_left(
    *,
    db: Session,
    sessions: sessionmaker[Session],
    redis: Redis,
    settings: Settings,
    headers: Headers,
    tenant: Tenant,
    image: Image,
) -> None:
    db.execute(update(Baremetal).values(guest_network=GuestNetwork.USER))
    app = next(build_app(settings, sessions, redis, guest_ssh_ports="23000-23000"))
    client = app.test_client()  # one port per host, and two hosts: a full one is passed over
    ports = {post(client, headers, image_body(tenant, image, name=f"vm-{i}")) for i in range(2)}
    assert {r.status_code for r in ports} == {202}, [r.get_json() for r in ports]
    assert {r.get_json()["data"]["ssh_port"] for r in ports} == {23000}
    blank = post(client, headers, vm_body(tenant.id, "blank"))  # no sshd, no port: placed
    assert blank.status_code == 202 and blank.get_json()["data"]["ssh_port"] is None
    resp = post(client, headers, image_body(tenant, image, name="vm-2"))
    body = assert_error(resp, 409, "NO_CAPACITY")
    assert body["error"]["details"] == {
        "hosts_considered": 2,
        "hosts_without_ssh_port": ["bm-a", "bm-b"],
        "ssh_ports": "23000-23000",
    }
    assert "no free SSH port in 23000-23000" in body["error"]["message"]


# --- addresses and the SSH route ----------------------------------------------------------------


def test_vm_get_shows_the_addresses_the_domain_check_stored(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    data = post(client, headers, image_body(tenant, image)).get_json()["data"]
    address = {"mac": data["mac"], "ip": "192.168.213.5", "prefix": 24, "source": "lease"}
    vm = db.get_one(VM, uuid.UUID(data["id"]))
    vm.addresses = [address]
    db.flush()
    shown = client.get(f"/api/v1/vm/{data['id']}/", headers=headers).get_json()["data"]
    assert shown["addresses"] == [address]


def test_vm_ssh_route_of_a_nat_guest_once_its_address_is_known(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    data = post(client, headers, image_body(tenant, image)).get_json()["data"]
    path = f"/api/v1/vm/{data['id']}/ssh/"
    route = client.get(path, headers=headers).get_json()["data"]
    assert route == {
        "user": "debian",
        "host": None,
        "port": None,
        "jump": None,  # the test inventory's hosts are ansible_connection local
        "host_key_alias": f"virtflow-vm-{data['id']}",
    }
    vm = db.get_one(VM, uuid.UUID(data["id"]))
    vm.addresses = [{"mac": vm.mac, "ip": "192.168.213.5", "prefix": 24, "source": "agent"}]
    db.flush()
    route = client.get(path, headers=headers).get_json()["data"]
    assert (route["host"], route["port"]) == ("192.168.213.5", 22)


def test_vm_ssh_route_of_a_user_mode_guest_is_its_forward_through_the_jump(
    client: FlaskClient, db: Session, headers: Headers, tenant: Tenant, image: Image
) -> None:
    jump = {"host": "10.200.0.2", "port": 22, "user": "fleet-1"}
    db.execute(update(Baremetal).values(guest_network=GuestNetwork.USER, ssh_jump=jump))
    data = post(client, headers, image_body(tenant, image)).get_json()["data"]
    route = client.get(f"/api/v1/vm/{data['id']}/ssh/", headers=headers).get_json()["data"]
    assert route == {
        "user": "debian",
        "host": "127.0.0.1",
        "port": data["ssh_port"],
        "jump": jump,
        "host_key_alias": f"virtflow-vm-{data['id']}",
    }


def test_vm_ssh_route_of_a_blank_vm_is_409_and_of_an_unseen_one_404(
    client: FlaskClient, make: Factory, headers: Headers, tenant: Tenant
) -> None:
    data = post(client, headers, vm_body(tenant.id)).get_json()["data"]
    resp = client.get(f"/api/v1/vm/{data['id']}/ssh/", headers=headers)
    assert_error(resp, 409, "INVALID_STATE")
    stranger = make.headers(make.user())
    assert_error(client.get(f"/api/v1/vm/{data['id']}/ssh/", headers=stranger), 404, "NOT_FOUND")
