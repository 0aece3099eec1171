"""The default image for real: built (or reused) in the machine-wide cache, then booted to SSH."""

# The first run on a machine builds it (a few minutes); later runs, from any clone, reuse it.

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import api.db
from api import cli
from api.images import default_image
from api.models import Image
from api.settings import Settings
from tests.helpers import qemu_guest

pytestmark = pytest.mark.e2e

SSH_DEADLINE_SECONDS = 300  # TCG boots it in 50-75 s; a loaded CI machine gets slack
OVERLAY_SIZE = "3G"  # larger than the image: cloud-init must grow the root filesystem


@pytest.fixture(scope="module")
def image() -> default_image.CachedImage:
    qemu_guest.require_tools()
    cache = Settings.from_env().image_cache
    try:
        return default_image.ensure(cache, log=print)
    except default_image.ImageBuildError as exc:
        pytest.fail(f"the default image could not be built: {exc}")


def _info(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], capture_output=True, text=True, check=True
    ).stdout
    info: dict[str, object] = json.loads(out)
    return info


def test_default_image_is_a_standalone_qcow2_its_manifest_describes(
    image: default_image.CachedImage,
) -> None:
    info = _info(image.path)
    assert info["format"] == "qcow2"
    assert "backing-filename" not in info
    assert info["virtual-size"] == default_image.RECIPE["disk_gb"] * 1024**3
    manifest = image.manifest
    assert manifest["hash"] == default_image.recipe_hash()
    assert image.path.name == manifest["file"]
    assert manifest["format"] == "qcow2"
    assert manifest["virtual_size"] == info["virtual-size"]
    assert manifest["size"] == image.path.stat().st_size
    assert manifest["default_user"] == "debian"
    assert manifest["sha256"] == hashlib.sha256(image.path.read_bytes()).hexdigest()


def test_default_image_ensure_reuses_the_cached_image(image: default_image.CachedImage) -> None:
    mtime = image.path.stat().st_mtime_ns
    again = default_image.ensure(image.path.parent, log=print)
    assert again.path == image.path
    assert again.path.stat().st_mtime_ns == mtime


def test_default_image_cli_prints_the_cached_path_without_building(
    image: default_image.CachedImage,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "image", "build-default"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{image.path}\n"
    assert "[1/6]" not in result.stderr


def test_default_image_ensure_default_registers_it_public_once(
    image: default_image.CachedImage,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
    settings: Settings,
    db: Session,
) -> None:
    # `make run` runs it: the catalog gets the cached image, public, under its recipe's name.
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    monkeypatch.setattr(api.db, "session_factory", lambda *_args: sessions)
    name = f"debian-12-{image.manifest['hash'][:8]}"
    first = CliRunner().invoke(cli.main, ["image", "ensure-default"])
    assert first.exit_code == 0, first.output
    assert f"default image {name!r} registered, public" in first.output
    again = CliRunner().invoke(cli.main, ["image", "ensure-default"])
    assert again.exit_code == 0, again.output
    assert f"default image {name!r} is registered" in again.output
    [row] = db.scalars(select(Image).where(Image.name == name))
    assert (row.status, row.visibility, row.tenant_id) == ("active", "public", None)
    assert (row.sha256, row.default_user) == (image.manifest["sha256"], "debian")
    assert row.virtual_size == image.manifest["virtual_size"]


def test_default_image_recipe_hash_covers_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    before = default_image.recipe_hash()
    monkeypatch.setitem(
        default_image.RECIPE, "packages", [*default_image.RECIPE["packages"], "vim"]
    )
    assert default_image.recipe_hash() != before


def test_default_image_half_built_files_are_not_an_image(tmp_path: Path) -> None:
    """Only the manifest, renamed in last, makes a qcow2 in the cache count as built."""
    stem = f"{default_image.CACHE_PREFIX}{default_image.recipe_hash()[:16]}"
    (tmp_path / f"{stem}.qcow2").write_bytes(b"partial")
    assert default_image.find(tmp_path) is None


def test_default_image_second_builder_waits_for_the_first_and_reuses_its_image(
    image: default_image.CachedImage, tmp_path: Path
) -> None:
    """The lock: a build running elsewhere is waited for, then its image is taken as it is."""
    stem = image.path.stem
    held, waiting = threading.Event(), threading.Event()
    lines: list[str] = []

    def other_builder() -> None:
        with (tmp_path / f".{stem}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            held.set()
            waiting.wait(60)
            os.link(image.path, tmp_path / image.path.name)
            os.link(image.manifest_path, tmp_path / image.manifest_path.name)

    def log(line: str) -> None:
        lines.append(line)
        if line.startswith("another build of this image is running"):
            waiting.set()

    thread = threading.Thread(target=other_builder)
    thread.start()
    assert held.wait(10)
    reused = default_image.ensure(tmp_path, log=log)
    thread.join(10)
    assert reused.path == tmp_path / image.path.name
    assert lines[-1] == f"built meanwhile by another process: {reused.path}"
    assert not list(tmp_path.glob(".build-*"))


def test_default_image_failed_build_leaves_nothing_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> Path:
        raise default_image.ImageBuildError("mmdebstrap failed (exit 1)")

    monkeypatch.setattr(default_image.disk, "build", fail)
    with pytest.raises(default_image.ImageBuildError):
        default_image.ensure(tmp_path, log=print)
    assert default_image.find(tmp_path) is None
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_default_image_boots_to_ssh_as_its_default_user_with_a_grown_root(
    image: default_image.CachedImage, tmp_path: Path
) -> None:
    untouched = image.path.stat().st_mtime_ns
    disk = qemu_guest.overlay(image.path, tmp_path / "overlay.qcow2", OVERLAY_SIZE)
    user = image.manifest["default_user"]
    with qemu_guest.booted(disk, tmp_path, user, "vf-image-test") as guest:
        took = qemu_guest.wait_for_ssh(guest, SSH_DEADLINE_SECONDS)
        print(f"boot to SSH: {took:.0f} s")
        checks = guest.ssh(
            "cloud-init status --wait >/dev/null; cloud-init status; hostname; nproc; "
            "findmnt -bno SIZE /; sudo -n passwd --status root; systemctl is-active ssh",
            timeout=180,
        )
    assert checks.returncode == 0, checks.stderr
    status, hostname, cpus, root_bytes, root_status, sshd = checks.stdout.split("\n")[:6]
    assert status == "status: done", guest.serial_tail()
    assert hostname == "vf-image-test"
    assert int(cpus) == 1
    assert int(root_bytes) > 2.5 * 1024**3  # growpart and resize2fs used the 3 GiB overlay
    assert root_status.split()[1] == "L"  # root's password is locked
    assert sshd == "active"
    assert image.path.stat().st_mtime_ns == untouched  # the guest wrote to its overlay only
