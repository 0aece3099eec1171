"""The default image: its recipe as data, its hash, and its place in the machine-wide cache."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.images import disk
from api.images.disk import ImageBuildError

Log = Callable[[str], None]
__all__ = ["RECIPE", "CachedImage", "ImageBuildError", "ensure", "find", "recipe_hash"]

# Everything that shapes the image. Changing any of it (or the builder's source) changes the
# hash, so the next build makes a new image instead of reusing the cached one.
RECIPE: dict[str, Any] = {
    "name": "debian-12",
    "release": "bookworm",
    "variant": "minbase",
    "suites": ["bookworm", "bookworm-updates", "bookworm-security"],
    "packages": [
        "linux-image-amd64",
        "grub-pc-bin",
        "systemd-sysv",
        "udev",
        "dbus",
        "cloud-init",
        "cloud-guest-utils",
        "fdisk",
        "e2fsprogs",
        "openssh-server",
        "sudo",
        "ifupdown",
        "isc-dhcp-client",
        "netbase",
        "ca-certificates",
        "qemu-guest-agent",
        "procps",
        "less",
    ],
    # Left out of the image by dpkg (the copyright files stay).
    "path_exclude": [
        "/usr/share/man/*",
        "/usr/share/doc/*",
        "/usr/share/info/*",
        "/usr/share/locale/*",
    ],
    "path_include": ["/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias"],
    "disk_gb": 2,
    "format": "qcow2",
    "default_user": "debian",
    "min_ram_mb": 256,
    "kernel_args": "ro console=tty0 console=ttyS0,115200n8",
    "grub_modules": [
        "biosdisk",
        "part_msdos",
        "ext2",
        "normal",
        "linux",
        "configfile",
        "search",
        "echo",
        "test",
        "serial",
        "terminal",
    ],
    # Only datasources that need no network metadata service: boot never waits on one.
    "datasources": ["NoCloud", "ConfigDrive", "None"],
}

BUILDER_SOURCES = (Path(__file__), Path(disk.__file__))
CACHE_PREFIX = "default-"


@dataclass(frozen=True)
class CachedImage:
    """A complete image in the cache: the qcow2 and the manifest written after it."""

    path: Path
    manifest_path: Path
    manifest: dict[str, Any]


def recipe_hash() -> str:
    """sha256 of the recipe and of the builder's own source files."""
    digest = hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode())
    for source in BUILDER_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _stem(hash_: str) -> str:
    return f"{CACHE_PREFIX}{hash_[:16]}"


def find(cache_dir: Path) -> CachedImage | None:
    """The cached image of the current recipe, if it was completely built."""
    stem = _stem(recipe_hash())
    path, manifest_path = cache_dir / f"{stem}.qcow2", cache_dir / f"{stem}.json"
    if not (path.is_file() and manifest_path.is_file()):
        return None
    return CachedImage(path, manifest_path, json.loads(manifest_path.read_text()))


def ensure(cache_dir: Path, *, force: bool = False, log: Log = print) -> CachedImage:
    """The cached image, built first if missing (or if force); safe to run concurrently."""
    if not force and (cached := find(cache_dir)):
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / f".{_stem(recipe_hash())}.lock", log):
        if not force and (cached := find(cache_dir)):
            log(f"built meanwhile by another process: {cached.path}")
            return cached
        return _build(cache_dir, log)


@contextmanager
def _locked(lock_path: Path, log: Log) -> Iterator[None]:
    """An exclusive flock: a second builder of the same recipe waits, then reuses the result."""
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another build of this image is running; waiting for {lock_path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(cache_dir: Path, log: Log) -> CachedImage:
    """Build in a temp dir on the cache's filesystem, then rename: never half an image."""
    hash_ = recipe_hash()
    stem = _stem(hash_)
    for stale in cache_dir.glob(f".build-{stem}-*"):
        shutil.rmtree(stale, ignore_errors=True)  # a build that was killed; we hold the lock
    work = Path(tempfile.mkdtemp(prefix=f".build-{stem}-", dir=cache_dir))
    started = time.monotonic()
    try:
        qcow2 = disk.build(RECIPE, hash_, work, log)
        manifest = _manifest(hash_, qcow2, round(time.monotonic() - started, 1))
        manifest_tmp = work / "manifest.json"
        manifest_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        path, manifest_path = cache_dir / f"{stem}.qcow2", cache_dir / f"{stem}.json"
        qcow2.chmod(0o644)
        manifest_tmp.chmod(0o644)
        qcow2.rename(path)
        manifest_tmp.rename(manifest_path)  # last: its presence marks the image complete
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"built {path} in {time.monotonic() - started:.0f} s")
    return CachedImage(path, manifest_path, manifest)


def _manifest(hash_: str, qcow2: Path, build_seconds: float) -> dict[str, Any]:
    """What the image catalog registers the image from."""
    info = disk.qemu_img_info(qcow2)
    return {
        "name": RECIPE["name"],
        "hash": hash_,
        "file": f"{_stem(hash_)}.qcow2",
        "format": info["format"],
        "virtual_size": info["virtual-size"],
        "size": qcow2.stat().st_size,
        "sha256": _sha256(qcow2),
        "default_user": RECIPE["default_user"],
        "min_ram_mb": RECIPE["min_ram_mb"],
        "os": "debian",
        "release": RECIPE["release"],
        "datasources": RECIPE["datasources"],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": build_seconds,
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
