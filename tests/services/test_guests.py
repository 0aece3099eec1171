"""What a create from an image brings (keys, user_data, the image) and what it is given (MAC, SSH
port), below the HTTP layer, on the real database."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import DiskTooSmall, InvalidState, NoCapacity, NotFound, ValidationFailed
from api.models import VM, Baremetal, GuestNetwork, ImageStatus, Job, Tenant, User, VMStatus
from api.services import guests, images, vms
from api.settings import Settings, SettingsError
from tests.conftest import Factory
from tests.helpers import ssh_keys
from tests.helpers.images import MiB, stored_image

CONFIG = guests.Config(Path("/srv/images"), user_data_max_bytes=256, ssh_ports=(22000, 22002))
MAC_RE = re.compile(r"52:54:00(:[0-9a-f]{2}){3}")


@pytest.fixture
def admin(make: Factory) -> User:
    return make.user(is_admin=True)


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant()


@pytest.fixture
def user_host(make: Factory) -> Baremetal:
    return make.baremetal("bm-u", guest_network=GuestNetwork.USER)


def create(db: Session, user: User, tenant: Tenant, name: str = "web", **kw: Any) -> VM:
    request = vms.VMRequest(tenant.id, name, 1, 256, kw.pop("disk_gb", 2), **kw)
    job = vms.create_vm(db, user, request, None, config=CONFIG)
    return db.get_one(VM, job.vm_id)


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, Any]:
    found: dict[str, Any] = exc.value.details["fields"]["json"]
    return found


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        ssh_keys.ED25519,
        ssh_keys.RSA,
        ssh_keys.ECDSA_256,
        ssh_keys.ECDSA_384,
        ssh_keys.ECDSA_521,
        ssh_keys.sk_ed25519(),
        ssh_keys.sk_ecdsa(),
        ssh_keys.ED25519.rsplit(" ", 1)[0],  # no comment
        ssh_keys.ED25519 + " with spaces in the comment",
    ],
)
def test_guests_key_problem_accepts_openssh_public_keys(key: str) -> None:
    assert guests.key_problem(key) is None


ED_TYPE, ED_BODY, _ = ssh_keys.ED25519.split(" ")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "must be an OpenSSH public key"),
        ("ssh-ed25519", "must be an OpenSSH public key"),
        (f"ssh-dss {ED_BODY}", "unknown key type"),
        (f'command="rm -rf /" {ssh_keys.ED25519}', "must be an OpenSSH public key"),
        (f"no-pty {ssh_keys.ED25519}", "must be an OpenSSH public key"),
        (f"{ED_TYPE} {ED_BODY[:-1]}", "does not decode"),
        (f"{ED_TYPE} {ED_BODY}\n{ssh_keys.RSA}", "control characters"),
        (f"{ssh_keys.ED25519} evil\rcomment", "control characters"),
        (f"ssh-rsa {ED_BODY}", "does not hold a key of its declared type"),
        (f"{ED_TYPE} {ssh_keys.wire(b'ssh-ed25519', bytes(31))}", "not a well-formed key"),
        (f"{ED_TYPE} {ssh_keys.wire(b'ssh-ed25519', bytes(32), b'x')}", "not a well-formed key"),
        (f"{ED_TYPE} {ssh_keys.wire(b'ssh-ed25519')[:-4]}AAAA", "does not hold a key"),
        (
            "ecdsa-sha2-nistp384 " + ssh_keys.wire(b"ecdsa-sha2-nistp384", b"nistp256", b"4"),
            "curve differs",
        ),
        (f"{ssh_keys.ED25519} {'x' * 8192}", "at most 8192 bytes"),
    ],
)
def test_guests_key_problem_names_what_is_wrong(key: str, problem: str) -> None:
    found = guests.key_problem(key)
    assert found is not None and problem in found


def test_guests_check_keys_limits_their_number_and_names_the_bad_one() -> None:
    guests.check_keys([ssh_keys.ED25519] * guests.MAX_KEYS)
    with pytest.raises(ValidationFailed) as exc:
        guests.check_keys([ssh_keys.ED25519] * (guests.MAX_KEYS + 1))
    assert fields_of(exc) == {"ssh_authorized_keys": ["at most 16 keys"]}
    with pytest.raises(ValidationFailed) as exc:
        guests.check_keys([ssh_keys.ED25519, "ssh-ed25519 AAAA"])
    assert list(fields_of(exc)["ssh_authorized_keys"]) == ["1"]


# --- user_data ----------------------------------------------------------------------------------

SECRET = "hunter2-do-not-log"


@pytest.mark.parametrize(
    "text",
    [
        "#cloud-config\npackages: [nginx]\n",
        "packages: [nginx]\n",  # the #cloud-config line is optional
        "# a comment first\nruncmd: [[touch, /x]]\n",
        "\ufeff#cloud-config\n{}\n",
    ],
)
def test_guests_check_user_data_accepts_a_cloud_config_mapping(text: str) -> None:
    guests.check_user_data(text, 256)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"password: {SECRET}\n" + "x: y\n" * 60, "at most 256"),
        (f"password: [{SECRET}\n", "not valid YAML (line 2, column 1)"),
        (f"- {SECRET}\n", "must be a YAML mapping"),
        (SECRET, "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
        ("a: 1\n---\nb: 2\n", "not valid YAML"),
        ("a: &x [1]\nb: *x\n", "anchors and aliases"),
        (f"#!/bin/sh\necho {SECRET}\n", "scripts and other formats"),
        ("#include\nhttps://example.com/x\n", "scripts and other formats"),
        ("#cloud-boothook\na: 1\n", "scripts and other formats"),
        ("Content-Type: multipart/mixed\n", "scripts and other formats"),
    ],
)
def test_guests_check_user_data_refuses_and_never_quotes_it(text: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        guests.check_user_data(text, 256)
    [message] = fields_of(exc)["user_data"]
    assert problem in message
    assert SECRET not in str(exc.value.details)


def test_guests_check_user_data_counts_utf8_bytes() -> None:
    guests.check_user_data("a: " + "é" * 126, 256)  # 3 + 252 bytes
    with pytest.raises(ValidationFailed):
        guests.check_user_data("a: " + "é" * 127, 256)


@pytest.mark.parametrize(
    ("keys", "user_data", "field"),
    [([ssh_keys.ED25519], None, "ssh_authorized_keys"), ([], "a: 1", "user_data")],
)
def test_guests_keys_or_user_data_without_an_image_are_refused(
    keys: list[str], user_data: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        guests.check_request(None, keys, user_data, CONFIG)
    assert fields_of(exc) == {field: ["needs image_id: cloud-init runs only in an image"]}


# --- the image ----------------------------------------------------------------------------------


def test_guests_create_from_an_image_sends_its_spec_without_user_data(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    image = stored_image(db)
    vm = create(
        db,
        admin,
        tenant,
        image_id=image.id,
        ssh_authorized_keys=[f"  {ssh_keys.ED25519} "],
        user_data=f"#cloud-config\npassword: {SECRET}\n",
    )
    assert (vm.image_id, vm.ssh_authorized_keys) == (image.id, [ssh_keys.ED25519])
    assert vm.user_data == f"#cloud-config\npassword: {SECRET}\n"
    assert vm.ssh_port is None  # a nat host
    [job] = db.scalars(select(Job).where(Job.vm_id == vm.id))
    [spec] = job.extravars["virtflow_guests"]
    assert spec == {
        **vms.guest_spec(vm),
        "mac": vm.mac,
        "image": {
            "source": str(images.file_path(CONFIG.image_store, image.id)),
            "sha256": image.sha256,
            "format": "qcow2",
        },
        "hostname": "web",
        "ssh_authorized_keys": [ssh_keys.ED25519],
    }
    assert SECRET not in str(job.extravars)


def test_guests_a_tenant_member_creates_from_its_private_image(
    db: Session, make: Factory, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    member = make.user()
    make.member(member, tenant, "tenant_user")
    image = stored_image(db, tenant_id=tenant.id)
    assert create(db, member, tenant, image_id=image.id).image_id == image.id


def test_guests_another_tenants_private_image_is_not_found(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    member = make.user()
    make.member(member, tenant, "tenant_user")
    other = stored_image(db, tenant_id=make.tenant().id)
    for caller in (member, admin):  # even an admin: a private image serves its tenant only
        with pytest.raises(NotFound):
            create(db, caller, tenant, image_id=other.id)
    with pytest.raises(NotFound):
        create(db, admin, tenant, image_id=uuid.uuid4())


@pytest.mark.parametrize("status", [ImageStatus.PENDING, ImageStatus.DELETED])
def test_guests_an_image_that_is_not_active_is_invalid_state(
    db: Session, make: Factory, admin: User, tenant: Tenant, status: ImageStatus
) -> None:
    make.baremetal("bm-n")
    image = stored_image(db, status=status)
    with pytest.raises(InvalidState) as exc:
        create(db, admin, tenant, image_id=image.id)
    assert exc.value.details == {"image_status": status}


def test_guests_a_disk_smaller_than_the_image_is_disk_too_small(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    image = stored_image(db)
    image.virtual_size = 2 * guests.GiB + MiB  # rounds up to 3 GiB
    db.flush()
    with pytest.raises(DiskTooSmall) as exc:
        create(db, admin, tenant, image_id=image.id, disk_gb=2)
    assert exc.value.details == {"minimum_disk_gb": 3, "disk_gb": 2}
    assert create(db, admin, tenant, image_id=image.id, disk_gb=3).disk_gb == 3


# --- the NIC and the SSH port -------------------------------------------------------------------


def test_guests_every_vm_gets_its_own_mac_and_a_nat_host_no_port(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    made = [create(db, admin, tenant, f"vm-{i}") for i in range(5)]
    assert all(MAC_RE.fullmatch(vm.mac or "") for vm in made)
    assert len({vm.mac for vm in made}) == 5
    assert {vm.ssh_port for vm in made} == {None}


def test_guests_a_blank_vm_on_a_user_host_takes_no_port(
    db: Session, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    blank = [create(db, admin, tenant, f"vm-{i}") for i in range(4)]  # more than the range
    assert {(vm.baremetal_id, vm.ssh_port) for vm in blank} == {(user_host.id, None)}
    assert create(db, admin, tenant, "imaged", image_id=stored_image(db).id).ssh_port == 22000


def test_guests_ssh_ports_are_the_lowest_free_and_reused_after_delete(
    db: Session, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    image = stored_image(db)  # only a VM from an image has an sshd to forward to
    first, second, third = (
        create(db, admin, tenant, f"vm-{i}", image_id=image.id) for i in range(3)
    )
    assert [first.ssh_port, second.ssh_port, third.ssh_port] == [22000, 22001, 22002]
    with pytest.raises(NoCapacity) as exc:
        create(db, admin, tenant, "vm-full", image_id=image.id)
    assert exc.value.details == {
        "hosts_considered": 1,
        "hosts_without_ssh_port": ["bm-u"],
        "ssh_ports": "22000-22002",
    }
    assert "no free SSH port in 22000-22002" in exc.value.detail_message
    second.status = VMStatus.DELETING  # its domain still holds the port
    db.flush()
    with pytest.raises(NoCapacity):
        create(db, admin, tenant, "vm-full", image_id=image.id)
    second.status = VMStatus.DELETED
    db.flush()
    assert create(db, admin, tenant, "vm-again", image_id=image.id).ssh_port == 22001


def test_guests_ssh_ports_are_per_host(
    db: Session, make: Factory, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    image = stored_image(db)  # only a VM from an image has an sshd to forward to
    other = make.baremetal("bm-v", guest_network=GuestNetwork.USER)
    made = [create(db, admin, tenant, f"vm-{i}", image_id=image.id) for i in range(4)]
    by_host: dict[uuid.UUID | None, list[int | None]] = {}
    for vm in made:
        by_host.setdefault(vm.baremetal_id, []).append(vm.ssh_port)
    assert sorted(by_host) == sorted([user_host.id, other.id])  # spread over both
    assert all(ports == [22000, 22001] for ports in by_host.values())


def test_guests_allocate_ssh_port_on_a_full_host_is_no_capacity(
    db: Session, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    image = stored_image(db)  # only a VM from an image has an sshd to forward to
    # Placement passes a full host over; this is the check under the host's lock itself.
    for i in range(3):
        create(db, admin, tenant, f"vm-{i}", image_id=image.id)
    with pytest.raises(NoCapacity) as exc:
        guests.allocate_ssh_port(db, user_host, CONFIG.ssh_ports)
    assert exc.value.details == {"host": "bm-u", "ssh_ports": "22000-22002"}
    assert guests.allocate_ssh_port(db, user_host, (22000, 22003)) == 22003


def test_guests_the_database_refuses_two_live_vms_on_one_port(
    db: Session, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    image = stored_image(db)  # only a VM from an image has an sshd to forward to
    vm = create(db, admin, tenant, "vm-0", image_id=image.id)
    clash = create(db, admin, tenant, "vm-1", image_id=image.id)
    clash.ssh_port = vm.ssh_port
    with pytest.raises(IntegrityError), db.begin_nested():
        db.flush()


# --- the route to a guest -----------------------------------------------------------------------


def test_guests_ssh_route_user_mode_is_the_forward_through_the_jump(
    db: Session, admin: User, tenant: Tenant, user_host: Baremetal
) -> None:
    user_host.ssh_jump = {"host": "192.0.2.7", "port": 2222, "user": "ops"}
    image = stored_image(db)
    vm = create(db, admin, tenant, image_id=image.id)
    assert guests.ssh_route(vm, image) == {
        "user": "debian",
        "host": "127.0.0.1",
        "port": 22000,
        "jump": {"host": "192.0.2.7", "port": 2222, "user": "ops"},
        "host_key_alias": f"virtflow-vm-{vm.id}",
    }


def test_guests_ssh_route_nat_is_the_first_address_once_known(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    image = stored_image(db)
    vm = create(db, admin, tenant, image_id=image.id)
    route = guests.ssh_route(vm, image)
    assert (route["host"], route["port"], route["jump"]) == (None, None, None)
    vm.addresses = [
        {"mac": vm.mac, "ip": "192.168.213.9", "prefix": 24, "source": "lease"},
        {"mac": vm.mac, "ip": "192.168.213.10", "prefix": 24, "source": "agent"},
    ]
    route = guests.ssh_route(vm, image)
    assert (route["host"], route["port"]) == ("192.168.213.9", 22)


def test_guests_ssh_route_of_a_blank_vm_is_invalid_state(
    db: Session, make: Factory, admin: User, tenant: Tenant
) -> None:
    make.baremetal("bm-n")
    with pytest.raises(InvalidState):
        guests.ssh_route(create(db, admin, tenant), None)


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (22000, 22999)),
        ({"VIRTFLOW_GUEST_SSH_PORTS": "2222-2222"}, (2222, 2222)),
        ({"VIRTFLOW_GUEST_SSH_PORTS": "1024-65535"}, (1024, 65535)),
    ],
)
def test_guests_ssh_port_setting_is_a_range(env: dict[str, str], expected: tuple[int, int]) -> None:
    settings = Settings.from_env(env)
    assert settings.guest_ssh_port_range == expected
    assert guests.Config.of(settings).ssh_ports == expected


@pytest.mark.parametrize("ports", ["22", "22-1023", "23000-22000", "1024-65536", "a-b"])
def test_guests_a_bad_ssh_port_setting_stops_serving(ports: str) -> None:
    env = {"VIRTFLOW_GUEST_SSH_PORTS": ports, "VIRTFLOW_JWT_SECRET": "x" * 48}
    with pytest.raises(SettingsError, match="VIRTFLOW_GUEST_SSH_PORTS"):
        Settings.from_env(env).check_serving()


def test_guests_user_data_limit_setting() -> None:
    assert Settings.from_env({"VIRTFLOW_USER_DATA_MAX_BYTES": "1024"}).user_data_max_bytes == 1024
    settings = Settings.from_env(
        {"VIRTFLOW_USER_DATA_MAX_BYTES": "0", "VIRTFLOW_JWT_SECRET": "x" * 48}
    )
    with pytest.raises(SettingsError, match="VIRTFLOW_USER_DATA_MAX_BYTES"):
        settings.check_serving()
