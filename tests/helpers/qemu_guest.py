"""Boot a guest image under plain qemu (TCG) with a NoCloud seed; reach it by SSH on 127.0.0.1."""

# KVM on this machine cannot boot a full Linux kernel (nested paravirtual KVM), so the guest runs
# under TCG with a bounded translation cache; it reaches SSH in one to two minutes.

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Debian packages (`make default-image` installs them) of the commands booting a guest needs.
GUEST_TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "genisoimage": "genisoimage",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
SSH_OPTIONS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
]  # fmt: skip


@dataclass(frozen=True)
class Guest:
    """A booted guest: its SSH port on 127.0.0.1, key, user and serial console log."""

    port: int
    key: Path
    user: str
    hostname: str
    serial_log: Path
    process: subprocess.Popen[bytes]

    def ssh(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        args = ["ssh", *SSH_OPTIONS, "-i", str(self.key), "-p", str(self.port)]
        return subprocess.run(
            [*args, f"{self.user}@127.0.0.1", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def serial_tail(self, lines: int = 30) -> str:
        text = self.serial_log.read_text(errors="replace") if self.serial_log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def require_tools() -> None:
    """Fail (never skip) when a command is missing: `make test` installs them."""
    missing = sorted({pkg for tool, pkg in GUEST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        pytest.fail(f"missing Debian packages: {' '.join(missing)} (run `make default-image`)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def overlay(base: Path, path: Path, size: str) -> Path:
    """A qcow2 overlay of base: the guest writes there, base is never touched."""
    subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            str(base),
            "-F",
            "qcow2",
            str(path),
            size,
        ],
        check=True,
    )
    return path


def nocloud_seed(workdir: Path, user: str, hostname: str) -> tuple[Path, Path]:
    """A cidata ISO authorizing a fresh ed25519 key for the image's default user; (iso, key)."""
    key = workdir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = key.with_suffix(".pub").read_text().strip()
    seed = workdir / "seed"
    seed.mkdir()
    (seed / "meta-data").write_text(
        f"instance-id: {hostname}-{uuid.uuid4().hex[:8]}\nlocal-hostname: {hostname}\n"
    )
    (seed / "user-data").write_text(
        f"#cloud-config\nusers:\n  - default\nssh_authorized_keys:\n  - {public}\n"
    )
    iso = workdir / "seed.iso"
    subprocess.run(
        ["genisoimage", "-quiet", "-output", str(iso), "-volid", "cidata", "-joliet", "-rock",
         str(seed / "user-data"), str(seed / "meta-data")],
        check=True,
    )  # fmt: skip
    return iso, key


def qemu_args(disk: Path, seed: Path, port: int, serial_log: Path, ram_mb: int) -> list[str]:
    """TCG, user-mode networking isolated from everything but the forward of 127.0.0.1:port."""
    return [
        "qemu-system-x86_64",
        "-accel", "tcg,tb-size=128",
        "-m", str(ram_mb),
        "-smp", "1",
        "-nographic",
        "-monitor", "none",
        "-serial", f"file:{serial_log}",
        "-drive", f"file={disk},if=virtio,format=qcow2",
        "-drive", f"file={seed},if=virtio,format=raw,readonly=on",
        "-nic", f"user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
    ]  # fmt: skip


@contextmanager
def booted(
    disk: Path, workdir: Path, user: str, hostname: str, ram_mb: int = 256
) -> Iterator[Guest]:
    """Start qemu on disk with a NoCloud seed; always kill it afterwards."""
    seed, key = nocloud_seed(workdir, user, hostname)
    port, serial_log = free_port(), workdir / "serial.log"
    process = subprocess.Popen(
        qemu_args(disk, seed, port, serial_log, ram_mb),
        stdin=subprocess.DEVNULL,
        stdout=(workdir / "qemu.out").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield Guest(port, key, user, hostname, serial_log, process)
    finally:
        process.kill()
        process.wait(timeout=30)


def wait_for_ssh(guest: Guest, deadline_seconds: float) -> float:
    """Poll until `ssh … true` succeeds; the seconds it took. Fails with the console's tail."""
    started = time.monotonic()
    deadline = started + deadline_seconds
    last = ""
    while time.monotonic() < deadline:
        if guest.process.poll() is not None:
            pytest.fail(
                f"qemu exited ({guest.process.returncode}); console:\n{guest.serial_tail()}"
            )
        try:
            result = guest.ssh("true", timeout=15)
        except subprocess.TimeoutExpired:
            last = "ssh timed out"
        else:
            if result.returncode == 0:
                return time.monotonic() - started
            last = result.stderr.strip()
        time.sleep(2)
    pytest.fail(
        f"no SSH within {deadline_seconds:.0f} s (last: {last}); console:\n{guest.serial_tail()}"
    )
