"""Image files made with qemu-img for the image catalog's tests, and images in the database."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from api.models import Image, ImageFormat, ImageStatus, ImageVisibility

MiB = 1024 * 1024


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=30)


def qcow2(path: Path, size: str = "16M") -> Path:
    """A valid empty qcow2 (about 200 KiB on disk)."""
    qemu_img("create", "-f", "qcow2", str(path), size)
    return path


def raw(path: Path, size: int = MiB) -> Path:
    """A valid raw image of size bytes, with content (zeros would do; this is not all zeros)."""
    path.write_bytes(bytes(range(256)) * (size // 256))
    return path


def qcow2_with_backing(path: Path, backing: str = "/etc/hostname") -> Path:
    """A qcow2 whose backing file is a host file: the guest would read it."""
    qemu_img("create", "-f", "qcow2", "-b", backing, "-F", "raw", str(path), "1M")
    return path


def qcow2_with_data_file(path: Path, data_file: Path) -> Path:
    """A qcow2 whose clusters live in an external data file (any host path it names)."""
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={data_file}", str(path), "1M")
    return path


def stored_image(
    session: Session,
    *,
    name: str | None = None,
    tenant_id: uuid.UUID | None = None,
    status: ImageStatus = ImageStatus.ACTIVE,
    disk_format: ImageFormat = ImageFormat.QCOW2,
) -> Image:
    """An image row as registration (and, when active, an upload) leaves it; no file."""
    active = status == ImageStatus.ACTIVE
    image = Image(
        id=uuid.uuid4(),
        name=name or f"img-{uuid.uuid4().hex[:8]}",
        disk_format=disk_format,
        visibility=ImageVisibility.PRIVATE if tenant_id else ImageVisibility.PUBLIC,
        tenant_id=tenant_id,
        default_user="debian",
        status=status,
        virtual_size=16 * MiB if active else None,
        size=200_000 if active else None,
        sha256="0" * 64 if active else None,
    )
    session.add(image)
    session.flush()
    return image


def qcow2_bytes(size: str = "16M") -> bytes:
    """The content of a valid empty qcow2, made in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        return qcow2(Path(tmp) / "disk.qcow2", size).read_bytes()
