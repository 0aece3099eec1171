"""The build steps of a Debian cloud image: mmdebstrap, guest files, a GRUB-booted disk, qcow2."""

# No loop devices and no mounts: sfdisk writes the partition table into a plain file, `mke2fs -d`
# fills the filesystem from the root directory, and GRUB's boot.img and core.img are written into
# the first sectors with plain file writes (what grub-install does for a BIOS disk).

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

Log = Callable[[str], None]

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
# The host side of the build: Debian package of each tool (`make default-image` installs them).
TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "sfdisk": "fdisk",
    "mke2fs": "e2fsprogs",
    "qemu-img": "qemu-utils",
    "chroot": "coreutils",
}
SECTOR = 512
PART_START = 2048  # sectors: 1 MiB, the usual gap in which GRUB's core.img lives
LOG_TAIL = 25


class ImageBuildError(RuntimeError):
    """The image could not be built; the message says which step and why."""


def build(recipe: dict[str, Any], hash_: str, work: Path, log: Log) -> Path:
    """Build the image described by recipe under work; return the finished qcow2 there."""
    _check_host()
    root, raw, qcow2 = work / "root", work / "disk.raw", work / "image.qcow2"
    fs_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"virtflow-default-image:{hash_}"))
    steps: list[tuple[str, Callable[[], None]]] = [
        (
            "root filesystem (mmdebstrap, from the Debian mirror)",
            lambda: _rootfs(recipe, root, work),
        ),
        ("guest configuration", lambda: _configure(recipe, root, fs_uuid)),
        ("GRUB core image", lambda: _grub_core(recipe, root, work)),
        ("partitioned disk (sfdisk, mke2fs -d)", lambda: _disk(recipe, root, raw, fs_uuid, work)),
        ("boot sectors (boot.img, core.img)", lambda: _boot_sectors(root, raw, work)),
        ("compressed qcow2 (qemu-img convert -c)", lambda: _convert(raw, qcow2, work)),
    ]
    for number, (title, step) in enumerate(steps, start=1):
        started = time.monotonic()
        log(f"[{number}/{len(steps)}] {title} ...")
        step()
        log(f"[{number}/{len(steps)}] done in {time.monotonic() - started:.0f} s")
    return qcow2


def qemu_img_info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True, text=True
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


def _check_host() -> None:
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise ImageBuildError(
            f"missing Debian packages to build the image: {' '.join(missing)} "
            "(`make default-image` installs them)"
        )
    if os.geteuid() != 0:
        raise ImageBuildError(
            "building the default image needs root (mmdebstrap's root mode keeps file owners)"
        )


def _run(args: list[str], work: Path) -> None:
    """Run a build command, its output appended to work/build.log; fail with the log's tail."""
    log_path = work / "build.log"
    with log_path.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        result = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-LOG_TAIL:])
        raise ImageBuildError(f"{args[0]} failed (exit {result.returncode}):\n{tail}")


def _rootfs(recipe: dict[str, Any], root: Path, work: Path) -> None:
    release = recipe["release"]
    sources = [
        f"deb {SECURITY_MIRROR if suite.endswith('-security') else MIRROR} {suite} main"
        for suite in recipe["suites"]
    ]
    # No fsync per unpacked file: a crash loses only the temp dir, which is rebuilt anyway.
    dpkg_opts = ["--dpkgopt=force-unsafe-io"]
    dpkg_opts += [f"--dpkgopt=path-exclude={path}" for path in recipe["path_exclude"]]
    dpkg_opts += [f"--dpkgopt=path-include={path}" for path in recipe["path_include"]]
    _run(
        [
            "mmdebstrap",
            "--mode=root",
            f"--variant={recipe['variant']}",
            f"--include={','.join(recipe['packages'])}",
            *dpkg_opts,
            release,
            str(root),
            *sources,
        ],
        work,
    )


def _configure(recipe: dict[str, Any], root: Path, fs_uuid: str) -> None:
    """The files that make the root filesystem a cloud guest of this disk."""
    kernel, initrd = _boot_files(root)
    files = {
        "etc/fstab": f"UUID={fs_uuid} / ext4 errors=remount-ro 0 1\n",
        "etc/hostname": "debian\n",
        "etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
        # cloud-init writes the first NIC's DHCP stanza into interfaces.d (its fallback config).
        "etc/network/interfaces": (
            "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n"
        ),
        "etc/cloud/cloud.cfg.d/90-virtflow.cfg": _cloud_cfg(recipe),
        # No guest has a floppy disk; probing the emulated controller's drive costs seconds.
        "etc/modprobe.d/virtflow-no-floppy.conf": "blacklist floppy\n",
        "boot/grub/grub.cfg": _grub_cfg(recipe, fs_uuid, kernel, initrd),
        "etc/machine-id": "",  # systemd makes a fresh one on each VM's first boot
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # cloud-init generates each VM's own host keys
    modules = root / "boot/grub/i386-pc"
    shutil.copytree(root / "usr/lib/grub/i386-pc", modules, dirs_exist_ok=True)
    subprocess.run(
        ["chroot", str(root), "passwd", "--lock", "root"], check=True, capture_output=True
    )
    if not (root / "etc/systemd/system/multi-user.target.wants/ssh.service").is_symlink():
        raise ImageBuildError("openssh-server did not enable ssh.service in the image")


def _boot_files(root: Path) -> tuple[str, str]:
    """The kernel and initrd paths GRUB loads: Debian's symlinks, kept current by kernel updates."""
    for kernel, initrd in (("vmlinuz", "initrd.img"), ("boot/vmlinuz", "boot/initrd.img")):
        if (root / kernel).is_symlink() and (root / initrd).is_symlink():
            return f"/{kernel}", f"/{initrd}"
    raise ImageBuildError("the image has no /vmlinuz and /initrd.img (linux-image-amd64)")


def _cloud_cfg(recipe: dict[str, Any]) -> str:
    user = recipe["default_user"]
    config = {
        "datasource_list": recipe["datasources"],
        "disable_root": True,
        "ssh_pwauth": False,
        "growpart": {"mode": "auto", "devices": ["/"]},
        "resize_rootfs": True,
        # RSA and DSA host keys take half a minute to make under TCG; every client since OpenSSH
        # 6.5 speaks ed25519.
        "ssh_genkeytypes": ["ed25519", "ecdsa"],
        "manage_etc_hosts": True,  # sudo resolves the hostname cloud-init sets
        "locale": False,  # no `locales` package: keep the C locale instead of failing to make one
        "system_info": {
            "default_user": {
                "name": user,
                "lock_passwd": True,
                "gecos": "Debian",
                "groups": ["adm", "sudo"],
                "sudo": ["ALL=(ALL) NOPASSWD:ALL"],
                "shell": "/bin/bash",
            }
        },
    }
    return "# Written by VirtFlow's default image build (api/images).\n" + json.dumps(
        config, indent=2
    )


def _grub_cfg(recipe: dict[str, Any], fs_uuid: str, kernel: str, initrd: str) -> str:
    return (
        "serial --unit=0 --speed=115200\n"
        "terminal_input serial console\n"
        "terminal_output serial console\n"
        "set timeout=0\n"
        'menuentry "Debian" {\n'
        f"  linux {kernel} root=UUID={fs_uuid} {recipe['kernel_args']}\n"
        f"  initrd {initrd}\n"
        "}\n"
    )


def _grub_core(recipe: dict[str, Any], root: Path, work: Path) -> None:
    """core.img from the image's own GRUB (grub-pc-bin), so it matches /boot/grub's modules."""
    _run(
        [
            "chroot",
            str(root),
            "grub-mkimage",
            "--format=i386-pc",
            "--prefix=(hd0,msdos1)/boot/grub",
            "--output=/boot/grub/i386-pc/core.img",
            *recipe["grub_modules"],
        ],
        work,
    )
    core = root / "boot/grub/i386-pc/core.img"
    if core.stat().st_size > (PART_START - 1) * SECTOR:
        raise ImageBuildError(f"GRUB's core.img ({core.stat().st_size} bytes) overflows 1 MiB")


def _disk(recipe: dict[str, Any], root: Path, raw: Path, fs_uuid: str, work: Path) -> None:
    total = recipe["disk_gb"] * 1024**3
    with raw.open("wb") as handle:
        handle.truncate(total)
    table = f"label: dos\nstart={PART_START}, type=83, bootable\n"
    log_path = work / "build.log"
    with log_path.open("a") as out:
        subprocess.run(
            ["sfdisk", "--quiet", str(raw)],
            input=table.encode(),
            stdout=out,
            stderr=out,
            check=True,
        )
    offset = PART_START * SECTOR
    _run(
        [
            "mke2fs",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-L",
            "root",
            "-U",
            fs_uuid,
            "-d",
            str(root),
            "-E",
            f"offset={offset}",
            str(raw),
            f"{(total - offset) // 1024}k",
        ],
        work,
    )


def _boot_sectors(root: Path, raw: Path, work: Path) -> None:
    """boot.img's code into the MBR (keeping the partition table), core.img right after it."""
    modules = root / "boot/grub/i386-pc"
    boot = (modules / "boot.img").read_bytes()
    core = (modules / "core.img").read_bytes()
    with raw.open("r+b") as handle:
        handle.write(boot[:440])  # up to the disk signature and the partition table
        handle.seek(SECTOR)
        handle.write(core)
    with (work / "build.log").open("a") as out:
        out.write(f"boot.img 440 bytes at 0, core.img {len(core)} bytes at {SECTOR}\n")


def _convert(raw: Path, qcow2: Path, work: Path) -> None:
    _run(["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], work)
    raw.unlink()
