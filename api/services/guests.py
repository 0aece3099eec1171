"""What makes a VM usable: its image, cloud-init data, NIC and SSH forward, and how to reach it.

A create may name an image (`image_id`), public SSH keys and `user_data` (cloud-config). The keys
and user_data are checked here; the image must be one the caller sees, usable by the VM's tenant,
active and no larger than the VM's disk. Every new VM gets a random MAC, unique among the live
VMs of its host. On a host with user-mode networking (`guest_network` user) it also gets the
lowest free port of VIRTFLOW_GUEST_SSH_PORTS, under the host row lock placement holds.

user_data is a secret: it is stored on the VM row only, never in a job's extravars (the worker
adds it to the run's own extravars when the run starts, jobs/vms.py), and never shown by the API.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import DiskTooSmall, InvalidState, NoCapacity, NotFound, ValidationFailed
from api.models import VM, Baremetal, GuestNetwork, Image, ImageStatus, User, VMStatus
from api.services import images
from api.settings import Settings

GiB = 1024**3
MAX_KEYS = 16
KEY_MAX_BYTES = 8 * 1024
# Per key type: how many length-prefixed fields its base64 body holds (the type string first).
KEY_FIELDS = {
    "ssh-ed25519": 2,  # type, 32-byte key
    "ssh-rsa": 3,  # type, e, n
    "ecdsa-sha2-nistp256": 3,  # type, curve, point
    "ecdsa-sha2-nistp384": 3,
    "ecdsa-sha2-nistp521": 3,
    "sk-ssh-ed25519@openssh.com": 3,  # type, key, application
    "sk-ecdsa-sha2-nistp256@openssh.com": 4,  # type, curve, point, application
}
KEY_LINE = re.compile(r"(?P<type>[^ ]+) +(?P<body>[A-Za-z0-9+/]+={0,2})(?: +(?P<comment>.*))?")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A first line naming a cloud-init format other than cloud-config (a script, #include ...).
OTHER_FORMAT = re.compile(
    r"#!|#(?!cloud-config\s*$)[a-z-]+\s*$|Content-Type:", re.IGNORECASE | re.MULTILINE
)
SSH_PORT = 22  # the guest's own sshd
ROUTE_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Config:
    """The settings a create needs (api.settings.Settings, as the API process has them)."""

    image_store: Path
    user_data_max_bytes: int = 16 * 1024
    ssh_ports: tuple[int, int] = (22000, 22999)

    @classmethod
    def of(cls, settings: Settings) -> Config:
        return cls(settings.images_dir, settings.user_data_max_bytes, settings.guest_ssh_port_range)


DEFAULT = Config.of(Settings())


# --------------------------------------------------------------------------------------------
# Checking what a create brings


def _invalid(field: str, message: str) -> ValidationFailed:
    """A 422 shaped like the schema's own: details.fields.json.<field>."""
    return ValidationFailed(details={"fields": {"json": {field: [message]}}})


def _fields(blob: bytes) -> list[bytes] | None:
    """The length-prefixed strings of an SSH wire-format blob; None when it does not parse."""
    fields, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return None
        size = int.from_bytes(blob[at : at + 4], "big")
        at += 4
        if size > len(blob) - at:
            return None
        fields.append(blob[at : at + size])
        at += size
    return fields


def key_problem(key: str) -> str | None:
    """Why key is not one OpenSSH public key line (type, base64 body, optional comment); None
    when it is. The body must decode and name the declared type, with that type's fields."""
    if len(key.encode("utf-8")) > KEY_MAX_BYTES:
        return f"a key is at most {KEY_MAX_BYTES} bytes"
    if CONTROL.search(key):
        return "a key is one line without control characters"
    found = KEY_LINE.fullmatch(key.strip(" "))
    if found is None:
        return "must be an OpenSSH public key: '<type> <base64> [comment]'"
    if found["type"] not in KEY_FIELDS:
        return f"unknown key type; one of {', '.join(KEY_FIELDS)}"
    return _body_problem(found["type"], found["body"])


def _body_problem(kind: str, body: str) -> str | None:
    """Why the base64 body is not a key of type kind; None when it is."""
    try:
        fields = _fields(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        return "the key's base64 body does not decode"
    if not fields or fields[0] != kind.encode():
        return "the key's body does not hold a key of its declared type"
    if len(fields) != KEY_FIELDS[kind] or (kind.endswith("ed25519") and len(fields[1]) != 32):
        return "the key's body is not a well-formed key of its type"
    if kind.startswith("ecdsa") and fields[1] != kind.rsplit("-", 1)[1].encode():
        return "the key's curve differs from its type"
    return None


def check_keys(keys: Sequence[str]) -> None:
    """422 unless keys are at most MAX_KEYS valid OpenSSH public keys."""
    if len(keys) > MAX_KEYS:
        raise _invalid("ssh_authorized_keys", f"at most {MAX_KEYS} keys")
    for index, key in enumerate(keys):
        problem = key_problem(key)
        if problem is not None:
            raise ValidationFailed(
                details={"fields": {"json": {"ssh_authorized_keys": {str(index): [problem]}}}}
            )


def _has_alias(text: str) -> bool:
    """True when the YAML uses an alias: an expansion bomb once a role writes it out again."""
    return any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, yaml.SafeLoader))


def check_user_data(text: str, max_bytes: int) -> None:
    """422 unless text is cloud-config: at most max_bytes of UTF-8, one YAML mapping without
    aliases. A first line `#cloud-config` is optional (the seed gets its own); scripts and the
    other cloud-init formats are refused. Messages never quote the text: it may hold secrets."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise _invalid("user_data", f"user_data is {size} bytes; at most {max_bytes}")
    if OTHER_FORMAT.match(text.lstrip("\ufeff")):
        raise _invalid("user_data", "must be cloud-config YAML; scripts and other formats are not")
    try:
        aliased = _has_alias(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise _invalid("user_data", f"user_data is not valid YAML{where}") from None
    if aliased:
        raise _invalid("user_data", "user_data must not use YAML anchors and aliases")
    if not isinstance(data, dict):
        raise _invalid("user_data", "user_data must be a YAML mapping (cloud-config)")


def check_request(
    image_id: uuid.UUID | None, keys: Sequence[str], user_data: str | None, config: Config
) -> None:
    """The request's own checks, before anything is read or locked (all 422)."""
    check_keys(keys)
    if user_data is not None:
        check_user_data(user_data, config.user_data_max_bytes)
    if image_id is None and (keys or user_data is not None):
        field = "ssh_authorized_keys" if keys else "user_data"
        raise _invalid(field, "needs image_id: cloud-init runs only in an image")


def usable_image(
    session: Session, user: User, image_id: uuid.UUID, tenant_id: uuid.UUID, disk_gb: int
) -> Image:
    """The image a VM of tenant_id may be made from, share-locked. 404 when the caller cannot
    see it or it is private to another tenant (as for an unknown id), 409 INVALID_STATE unless
    active, 422 DISK_TOO_SMALL when disk_gb GiB is less than its virtual size."""
    # FOR SHARE until the commit: an image delete (FOR UPDATE) then waits and sees this VM.
    query = select(Image).where(Image.id == image_id, images.visible_clause(user))
    query = query.with_for_update(read=True, of=Image).execution_options(populate_existing=True)
    image = session.scalar(query)
    if image is None or image.tenant_id not in (None, tenant_id):
        raise NotFound()
    if image.status != ImageStatus.ACTIVE:
        raise InvalidState(
            f"image {image.name} is {image.status}; only an active image makes VMs",
            {"image_status": image.status},
        )
    minimum = math.ceil((image.virtual_size or 0) / GiB)
    if disk_gb < minimum:
        raise DiskTooSmall(
            f"image {image.name} needs a disk of at least {minimum} GiB",
            {"minimum_disk_gb": minimum, "disk_gb": disk_gb},
        )
    return image


# --------------------------------------------------------------------------------------------
# The NIC and the SSH forward (the host row is locked: placement holds it until the commit)


def _live_on(host: Baremetal) -> Any:
    return (VM.baremetal_id == host.id) & (VM.status != VMStatus.DELETED)


def new_mac(session: Session, host: Baremetal) -> str:
    """A random locally administered MAC in QEMU's 52:54:00 prefix, unused on the host."""
    taken = set(session.scalars(select(VM.mac).where(_live_on(host), VM.mac.is_not(None))))
    while True:
        mac = "52:54:00:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
        if mac not in taken:
            return mac


def allocate_ssh_port(session: Session, host: Baremetal, ports: tuple[int, int]) -> int | None:
    """The lowest port of ports no live VM of the host holds, on a user-mode host; None on a
    NAT host (its guests are reached on their own address). NO_CAPACITY when all are taken."""
    if host.guest_network != GuestNetwork.USER:
        return None
    query = select(VM.ssh_port).where(_live_on(host), VM.ssh_port.is_not(None))
    taken = set(session.scalars(query))
    first, last = ports
    for port in range(first, last + 1):
        if port not in taken:
            return port
    raise NoCapacity(
        f"host {host.name} has no free SSH port in {first}-{last} (VIRTFLOW_GUEST_SSH_PORTS)",
        {"host": host.name, "ssh_ports": f"{first}-{last}"},
    )


def image_source(image: Image, store: Path) -> dict[str, Any]:
    """The spec's `image`: the file on the controller the role copies to the host's cache."""
    return {
        "source": str(images.file_path(store, image.id)),
        "sha256": image.sha256,
        "format": image.disk_format,
    }


# --------------------------------------------------------------------------------------------
# How to reach a guest


def ssh_route(vm: VM, image: Image | None) -> dict[str, Any]:
    """How SSH reaches the VM's guest: as its image's default user, on 127.0.0.1 of its host
    (the forwarded ssh_port, user mode) or on its first address's port 22 (NAT; null until
    known), through the host's SSH (`jump`, null for the controller itself). 409 INVALID_STATE
    for a VM without an image (no cloud-init made a user to log in as)."""
    if image is None:
        raise InvalidState(
            "the VM was made without an image: it has no user to log in as",
            {"image_id": None},
        )
    host = vm.baremetal
    route_host: str | None = ROUTE_HOST
    port: int | None = vm.ssh_port
    if vm.ssh_port is None:
        address = vm.addresses[0]["ip"] if vm.addresses else None
        route_host, port = address, (SSH_PORT if address else None)
    return {
        "user": image.default_user,
        "host": route_host,
        "port": port,
        "jump": host.ssh_jump if host is not None else None,
        "host_key_alias": f"virtflow-vm-{vm.id}",
    }
