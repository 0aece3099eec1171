"""The image catalog: register, list, show and delete images; receive and validate their content.

Images are platform objects: only platform admins register, upload and delete them (as for
baremetal hosts, the check is `is_admin`). Reading follows visibility: a public image is seen by
every user, a private one by the members of its tenant (`tenant.view` on it) and by admins; any
other caller gets 404. Content arrives as a stream (an upload or the admin CLI's import), is
written in chunks to a temporary file in the image store while its sha256 is computed, checked
by `qemu-img info`, and only then renamed to the image's id: the store never holds an unchecked
file under an image's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import (
    ImageInUse,
    ImageInvalid,
    InvalidState,
    NameTaken,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
)
from api.models import (
    VM,
    Image,
    ImageFormat,
    ImageStatus,
    ImageVisibility,
    Tenant,
    User,
    VMStatus,
)
from api.services.permissions import Perm, objects_clause

log = logging.getLogger(__name__)

NAME_MAX = 64
# A slug: it reaches libvirt volume names and cloud-init later, never a path (files are ids).
NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,63}")
# A POSIX portable user name as useradd accepts it (no leading '-' or digit), at most 32.
DEFAULT_USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
CHUNK_BYTES = 1024 * 1024
# A progress log line every this many bytes received.
PROGRESS_BYTES = 256 * CHUNK_BYTES
QEMU_IMG_TIMEOUT = 30
# qemu-img runs under these limits (as OpenStack does, CVE-2015-5162): a crafted image cannot
# make it eat the controller's memory or CPU.
QEMU_IMG_LIMITS = ("--as=1073741824", "--cpu=30")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class ImageSpec:
    """What registering an image declares (the API's and the CLI's input alike)."""

    name: str
    disk_format: str = ImageFormat.QCOW2
    default_user: str = "virtflow"
    tenant_id: uuid.UUID | None = None  # None: public

    @property
    def visibility(self) -> ImageVisibility:
        return ImageVisibility.PRIVATE if self.tenant_id else ImageVisibility.PUBLIC


@dataclass(frozen=True)
class Received:
    """Content written to a temporary file of the store, not yet checked."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Inspected:
    """What qemu-img found in a file it accepted."""

    disk_format: str
    virtual_size: int


# --------------------------------------------------------------------------------------------
# Reading


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied("only platform admins manage images")


def visible_clause(user: User) -> ColumnElement[bool]:
    """The images user may see: public ones, and private ones of tenants it may view."""
    if user.is_admin:
        return true()
    private = objects_clause(user, Perm.TENANT_VIEW, Image.tenant_id)
    return or_(Image.visibility == ImageVisibility.PUBLIC, private)


def images_query(
    session: Session,
    user: User,
    *,
    name: str | None = None,
    visibility: str | None = None,
    tenant_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Select[Image]:
    """The images user may see, by name: those not deleted, or those in status."""
    query = select(Image).where(visible_clause(user))
    if status is None:
        query = query.where(Image.status != ImageStatus.DELETED)
    else:
        query = query.where(Image.status == status)
    if name is not None:
        query = query.where(Image.name == name)
    if visibility is not None:
        query = query.where(Image.visibility == visibility)
    if tenant_id is not None:
        query = query.where(Image.tenant_id == tenant_id)
    return query.order_by(Image.name, Image.created_at, Image.id)


def get_image(session: Session, user: User, image_id: uuid.UUID, *, lock: bool = False) -> Image:
    """The image if user may see it (deleted ones too), else 404."""
    query = select(Image).where(Image.id == image_id, visible_clause(user))
    if lock:
        query = query.with_for_update(of=Image).execution_options(populate_existing=True)
    image = session.scalar(query)
    if image is None:
        raise NotFound()
    return image


def _require_status(image: Image, allowed: ImageStatus, verb: str) -> None:
    if image.status != allowed:
        raise InvalidState(
            f"cannot {verb} image {image.name} while it is {image.status}; it must be {allowed}",
            {"image_status": image.status},
        )


# --------------------------------------------------------------------------------------------
# Registering and deleting


def check_spec(spec: ImageSpec) -> None:
    """The same rules as the API's schema, for callers without one (the admin CLI)."""
    bad: dict[str, list[str]] = {}
    if not NAME_RE.fullmatch(spec.name):
        bad["name"] = ["must be a slug: a-z first, then a-z, 0-9 and '-', at most 64"]
    if not DEFAULT_USER_RE.fullmatch(spec.default_user):
        bad["default_user"] = ["must be a POSIX user name: [a-z_][a-z0-9_-]*, at most 32"]
    if spec.disk_format not in set(ImageFormat):
        bad["format"] = [f"must be one of {', '.join(ImageFormat)}"]
    if bad:
        raise ValidationFailed(details={"fields": {"json": bad}})


def register(session: Session, spec: ImageSpec, created_by: User | None) -> Image:
    """A `pending` image row (no content yet). 404 for an unknown tenant, 409 NAME_TAKEN."""
    check_spec(spec)
    if spec.tenant_id is not None and session.get(Tenant, spec.tenant_id) is None:
        raise NotFound("no such tenant", {"field": "tenant_id"})
    taken = select(Image.id).where(Image.name == spec.name, Image.status != ImageStatus.DELETED)
    if session.scalar(taken) is not None:
        raise NameTaken(f"an image named {spec.name!r} exists", {"field": "name"})
    image = Image(
        id=uuid.uuid4(),
        name=spec.name,
        disk_format=spec.disk_format,
        visibility=spec.visibility,
        tenant_id=spec.tenant_id,
        default_user=spec.default_user,
        status=ImageStatus.PENDING,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(image)
    session.flush()
    return image


def tenant_id_of(session: Session, name_or_id: str) -> uuid.UUID:
    """A tenant's id from its name or its id (the admin CLI's --tenant); 404 when none."""
    try:
        clause = Tenant.id == uuid.UUID(name_or_id)
    except ValueError:
        clause = Tenant.name == name_or_id
    found = session.scalar(select(Tenant.id).where(clause))
    if found is None:
        raise NotFound(f"no tenant {name_or_id!r}", {"tenant": name_or_id})
    return found


def create(session: Session, user: User, spec: ImageSpec) -> Image:
    """Register an image (platform admins only)."""
    require_admin(user)
    return register(session, spec, user)


def users_of(session: Session, image_id: uuid.UUID) -> list[VM]:
    """The VMs not deleted whose disk was made from the image."""
    query = select(VM).where(VM.image_id == image_id, VM.status != VMStatus.DELETED)
    return list(session.scalars(query.order_by(VM.created_at, VM.id)))


def delete(session: Session, user: User, image_id: uuid.UUID) -> tuple[Image, str]:
    """Mark the image deleted (admins only); returns it and its status before.

    409 IMAGE_IN_USE while VMs that are not deleted reference it; 409 INVALID_STATE when it is
    deleted already. The caller removes its file after the commit (remove_file)."""
    get_image(session, user, image_id)  # 404 before 403: no existence leak
    require_admin(user)
    image = get_image(session, user, image_id, lock=True)
    if image.status == ImageStatus.DELETED:
        raise InvalidState(f"image {image.name} is deleted already", {"image_status": image.status})
    vms = users_of(session, image.id)
    if vms:
        raise ImageInUse(
            f"image {image.name} is used by {len(vms)} VM(s)",
            {"vm_ids": [str(vm.id) for vm in vms[:20]], "count": len(vms)},
        )
    before = image.status
    image.status = ImageStatus.DELETED
    image.deleted_at = utcnow()
    session.flush()
    return image, before


# --------------------------------------------------------------------------------------------
# Content


def file_path(store: Path, image_id: uuid.UUID) -> Path:
    """The image's file: named by its id (never by a name a caller chose)."""
    return store / str(image_id)


def remove_file(store: Path, image_id: uuid.UUID) -> None:
    file_path(store, image_id).unlink(missing_ok=True)


def upload_target(session: Session, user: User, image_id: uuid.UUID) -> Image:
    """The image an upload may fill: admins only (404 first for what user cannot see), and
    `pending` (409 INVALID_STATE: an active image's content never changes)."""
    image = get_image(session, user, image_id)
    require_admin(user)
    _require_status(image, ImageStatus.PENDING, "upload content to")
    return image


def receive(source: Readable, store: Path, image_id: uuid.UUID, max_bytes: int) -> Received:
    """Copy source to a temporary file of the store in chunks, hashing as it goes.

    Past max_bytes: 413 PAYLOAD_TOO_LARGE. On any failure the temporary file is removed."""
    store.mkdir(parents=True, exist_ok=True, mode=0o750)
    fd, name = tempfile.mkstemp(prefix=f".{image_id}.", suffix=".part", dir=store)
    path, size, digest = Path(name), 0, hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        f"images are limited to {max_bytes} bytes", {"max_bytes": max_bytes}
                    )
                digest.update(chunk)
                out.write(chunk)
                if size // PROGRESS_BYTES > (size - len(chunk)) // PROGRESS_BYTES:
                    log.info("image %s: %d MiB received", image_id, size // CHUNK_BYTES)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("image %s: %d bytes received, sha256 %s", image_id, size, digest.hexdigest())
    return Received(path, size, digest.hexdigest())


def qemu_img_info(path: Path) -> dict[str, Any]:
    """`qemu-img info --output=json` of path, the format probed (never trusted from the caller),
    the backing chain not opened; ImageInvalid when qemu-img cannot read it."""
    argv = ["prlimit", *QEMU_IMG_LIMITS, "qemu-img", "info", "--output=json", str(path)]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=QEMU_IMG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise ImageInvalid(
            f"qemu-img did not answer within {QEMU_IMG_TIMEOUT} s", {"reason": "unreadable"}
        ) from None
    if done.returncode != 0:
        log.warning("qemu-img info %s failed: %s", path, done.stderr.strip()[:500])
        raise ImageInvalid("qemu-img could not read the image", {"reason": "unreadable"})
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def inspect(path: Path, declared: str) -> Inspected:
    """Check the file is an image of the declared format that reads no other file.

    Refused (422 IMAGE_INVALID, with details.reason): a detected format other than the declared
    one (a raw file declared qcow2, a qcow2 declared raw), a backing file, an external data file
    (format-specific.data.data-file: both would make a guest disk read host files), an encrypted
    or empty image, or a file qemu-img cannot read."""
    info = qemu_img_info(path)
    detected = str(info.get("format", ""))
    if detected != declared:
        raise ImageInvalid(
            f"the content is {detected or 'unknown'}, not {declared} as declared",
            {"reason": "format_mismatch", "declared": declared, "detected": detected},
        )
    if "backing-filename" in info or "full-backing-filename" in info:
        raise ImageInvalid("the image has a backing file", {"reason": "backing_file"})
    specific = info.get("format-specific", {}).get("data", {})
    if "data-file" in specific:
        raise ImageInvalid("the image has an external data file", {"reason": "data_file"})
    if info.get("encrypted"):
        raise ImageInvalid("the image is encrypted", {"reason": "encrypted"})
    virtual_size = int(info.get("virtual-size", 0))
    if virtual_size <= 0:
        raise ImageInvalid("the image is empty", {"reason": "empty"})
    return Inspected(detected, virtual_size)


def accept(session: Session, image_id: uuid.UUID, received: Received, store: Path) -> Image:
    """Check received content against its image and make it the image's file: `active`.

    The image row is locked only after qemu-img has run; it must still be `pending` (409
    INVALID_STATE: another upload won). Anything refused removes the temporary file."""
    try:
        image = session.get_one(Image, image_id)
        inspected = inspect(received.path, image.disk_format)
        image = session.scalars(
            select(Image)
            .where(Image.id == image_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        _require_status(image, ImageStatus.PENDING, "upload content to")
        os.replace(received.path, file_path(store, image_id))
    finally:
        with contextlib.suppress(FileNotFoundError):
            received.path.unlink()
    image.status = ImageStatus.ACTIVE
    image.size, image.sha256 = received.size, received.sha256
    image.virtual_size = inspected.virtual_size
    session.flush()
    log.info("image %s (%s) active: %d bytes", image.name, image.id, received.size)
    return image


def import_file(
    session: Session, source: Path, spec: ImageSpec, store: Path, max_bytes: int
) -> Image:
    """Register an image and give it the content of a file on the controller (the admin CLI):
    the same checks as an upload; nothing is kept when one fails (the caller rolls back)."""
    if not source.is_file():
        raise NotFound(f"{source} is not a regular file", {"path": str(source)})
    if source.stat().st_size > max_bytes:
        raise PayloadTooLarge(f"images are limited to {max_bytes} bytes", {"max_bytes": max_bytes})
    image = register(session, spec, None)
    with source.open("rb") as stream:
        received = receive(stream, store, image.id, max_bytes)
    return accept(session, image.id, received, store)
