"""Guests made from an image, by hand runs of the playbooks against the local libvirt.

Images here are qcow2 files made with qemu-img (no OS: QEMU opens them, nothing boots), except
the default image, which boots for real under TCG and answers SSH on a 127.0.0.1 forward.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.images import default_image
from api.settings import Settings
from tests.helpers import qemu_guest
from tests.helpers.playbooks import (
    CACHE_DIR,
    HOST,
    IMAGE_DIR,
    global_stats,
    output,
    remove_guest,
    run_playbook,
    virsh,
)
from tests.helpers.stack import free_port, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="libvirt system tests run as root"),
]

GiB = 1024**3
SECRET = f"vf-secret-{secrets.token_hex(8)}"  # put in user_data; must never be printed
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheSeedOnlyNotARealOne test@virtflow"
SSH = ["ssh", *qemu_guest.SSH_OPTIONS]
SSH_DEADLINE_SECONDS = 240  # TCG boots the default image to SSH in 50-110 s


@dataclass(frozen=True)
class SmallImage:
    path: Path
    sha256: str

    def spec(self) -> dict[str, str]:
        return {"source": str(self.path), "sha256": self.sha256, "format": "qcow2"}

    @property
    def cached(self) -> Path:
        return CACHE_DIR / self.sha256


def make_image(path: Path, size: str = "1536M") -> SmallImage:
    """A qcow2 of `size` virtual bytes with a random block, so its sha256 is this run's own."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    pattern = str(secrets.randbelow(255) + 1)
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern} 0 64k", str(path)],
        check=True,
        capture_output=True,
    )
    return SmallImage(path, hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def image(tmp_path: Path) -> Iterator[SmallImage]:
    made = make_image(tmp_path / "tiny.qcow2")
    try:
        yield made
    finally:
        made.cached.unlink(missing_ok=True)  # this run's image only; no other guest uses it


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Guest names a test uses (append to it); removed afterwards whatever happened."""
    used: list[str] = []
    try:
        yield used
    finally:
        for name in used:
            remove_guest(name)


def new_name(names: list[str]) -> str:
    name = f"vf-t-{secrets.token_hex(4)}"
    names.append(name)
    return name


def guest_spec(name: str, image: SmallImage, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "uuid": str(uuid.uuid4()),
        "vcpus": 1,
        "ram_mb": 128,
        "disk_gb": 2,
        "image": image.spec(),
        **extra,
    }


def qemu_img_info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--force-share", "--output=json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    info: dict[str, Any] = json.loads(out)
    return info


def iso_file(iso: Path, name: str) -> str:
    """One file of a seed ISO by its Rock Ridge name, read back with isoinfo (genisoimage)."""
    proc = subprocess.run(
        ["isoinfo", "-i", str(iso), "-R", "-x", f"/{name}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return proc.stdout


def domain_xml(name: str) -> str:
    proc = virsh("dumpxml", "--inactive", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def assert_secret_hidden(proc: subprocess.CompletedProcess[str]) -> None:
    assert SECRET not in proc.stdout + proc.stderr, output(proc)


def test_image_guest_gets_an_overlay_on_the_cache_a_seed_and_its_nic(
    image: SmallImage, names: list[str]
) -> None:
    name, port = new_name(names), free_port()
    user_data = f"#cloud-config\nwrite_files:\n  - path: /etc/vf\n    content: {SECRET}\n"
    spec = guest_spec(
        name,
        image,
        ssh_port=port,
        hostname="web-one",
        ssh_authorized_keys=[KEY],
        user_data=user_data,
    )
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[spec], json_output=True)
    assert_secret_hidden(created)  # the json callback prints every task's full result
    reported = global_stats(created)["virtflow_guests"][name]
    mac = reported["mac"]
    assert reported["state"] == "running"
    assert (reported["ssh_port"], reported["network"], reported["disk_gb"]) == (port, "user", 2)
    assert mac.startswith("52:54:00:")

    # The disk: a qcow2 overlay on the host's copy of the image, named by its sha256.
    disk = qemu_img_info(IMAGE_DIR / f"{name}.qcow2")
    assert disk["backing-filename"] == str(image.cached)
    assert disk["backing-filename-format"] == "qcow2"
    assert disk["virtual-size"] == 2 * GiB
    assert image.cached.read_bytes() == image.path.read_bytes()
    assert stat.S_IMODE(image.cached.stat().st_mode) == 0o644  # QEMU reads it whoever owns it

    # The NoCloud seed, private, with the hostname, the key and the user's cloud-config.
    seed = IMAGE_DIR / f"{name}-seed.iso"
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    meta = iso_file(seed, "meta-data")
    assert f"instance-id: {spec['uuid']}" in meta
    assert "local-hostname: web-one" in meta
    user = iso_file(seed, "user-data")
    assert user.startswith("#cloud-config\n")
    assert "hostname: web-one" in user
    assert KEY in user
    assert SECRET in user  # the ISO is the one place user_data is written
    network = iso_file(seed, "network-config")
    assert "dhcp4: true" in network
    assert mac in network

    # The domain: TCG with a bounded translation cache (host_vars), the SSH forward on
    # 127.0.0.1, the seed as a read-only cdrom and the guest agent's channel.
    xml = domain_xml(name)
    assert "<domain type='qemu'" in xml
    assert "<tb-cache unit='KiB'>131072</tb-cache>" in xml
    assert f"user,id=vfnet0,hostfwd=tcp:127.0.0.1:{port}-:22" in xml
    assert f"mac={mac}," in xml
    assert f"<source file='{seed}'/>" in xml
    assert "<readonly/>" in xml
    assert "name='org.qemu.guest_agent.0'" in xml


def test_image_guests_share_the_cached_image_and_delete_keeps_it(
    image: SmallImage, names: list[str]
) -> None:
    first, second = new_name(names), new_name(names)
    one = guest_spec(first, image, user_data=f"#cloud-config\npassword: {SECRET}\n")
    created = run_playbook("vm_create.yml", "-l", HOST, "-v", guests=[one])
    assert created.returncode == 0, output(created)
    assert_secret_hidden(created)  # -v prints each loop item's result
    assert "TASK [libvirt_guest : Copy the image from the controller" in created.stdout
    cached = image.cached.stat()

    # The second guest on the same image reuses the host's copy: nothing is sent again.
    two = guest_spec(second, image)
    again = run_playbook("vm_create.yml", "-l", HOST, guests=[two])
    assert again.returncode == 0, output(again)
    assert "Copy the image from the controller" not in again.stdout
    assert image.cached.stat().st_ino == cached.st_ino
    assert qemu_img_info(IMAGE_DIR / f"{second}.qcow2")["backing-filename"] == str(image.cached)

    # Deleting one removes its overlay and seed, never the shared base.
    deleted = run_playbook("vm_delete.yml", "-l", HOST, guests=[one])
    assert deleted.returncode == 0, output(deleted)
    assert_secret_hidden(deleted)
    assert not (IMAGE_DIR / f"{first}.qcow2").exists()
    assert not (IMAGE_DIR / f"{first}-seed.iso").exists()
    assert image.cached.exists()

    # The other guest's QEMU opens the base again after a stop and a start (libvirt chowned
    # it to the QEMU user and left it so; the mode keeps it readable in any case).
    ref = {"name": second, "uuid": two["uuid"]}
    stopped = run_playbook("vm_stop.yml", "-l", HOST, guests=[{**ref, "force": True}])
    assert stopped.returncode == 0, output(stopped)
    started = run_playbook("vm_start.yml", "-l", HOST, guests=[ref])
    assert started.returncode == 0, output(started)
    assert virsh("domstate", second).stdout.strip() == "running"

    deleted = run_playbook("vm_delete.yml", "-l", HOST, guests=[ref])
    assert deleted.returncode == 0, output(deleted)
    assert not (IMAGE_DIR / f"{second}-seed.iso").exists()
    assert image.cached.exists()


def test_image_guest_disk_smaller_than_its_image_is_refused_with_nothing_made(
    image: SmallImage, names: list[str]
) -> None:
    name = new_name(names)
    spec = guest_spec(name, image, disk_gb=1)  # the image has 1.5 GiB
    refused = run_playbook("vm_create.yml", "-l", HOST, guests=[spec])
    assert refused.returncode != 0
    assert f"The disk of {name} (1 GiB) is smaller than its image" in refused.stdout
    assert name not in virsh("list", "--all", "--name").stdout
    assert not (IMAGE_DIR / f"{name}.qcow2").exists()
    assert not (IMAGE_DIR / f"{name}-seed.iso").exists()
    assert not image.cached.exists()  # not even the image was copied


def test_image_guest_that_fails_to_start_is_rolled_back_seed_included(
    image: SmallImage, names: list[str]
) -> None:
    name = new_name(names)
    with socket.socket() as taken:  # QEMU cannot listen on a forward port that is in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = guest_spec(name, image, ssh_port=port, user_data=f"#cloud-config\nx: {SECRET}\n")
        failed = run_playbook("vm_create.yml", "-l", HOST, guests=[spec])
    assert failed.returncode != 0
    assert_secret_hidden(failed)
    words = " ".join(failed.stdout.split())  # the message is folded over lines
    assert f"disks {name}, seeds {name};" in words, output(failed)
    assert name not in virsh("list", "--all", "--name").stdout
    assert not (IMAGE_DIR / f"{name}.qcow2").exists()
    assert not (IMAGE_DIR / f"{name}-seed.iso").exists()
    assert image.cached.exists()  # the cache is never rolled back: other guests may use it


def test_image_guest_user_data_that_is_not_a_mapping_is_refused_unprinted(
    image: SmallImage, names: list[str]
) -> None:
    name = new_name(names)
    spec = guest_spec(name, image, user_data=f"just {SECRET}")
    refused = run_playbook("vm_create.yml", "-l", HOST, guests=[spec])
    assert refused.returncode != 0
    assert_secret_hidden(refused)
    assert '"user_data": {"hidden": true, "mapping": false}' in refused.stdout, output(refused)
    assert not (IMAGE_DIR / f"{name}.qcow2").exists()


@pytest.fixture(scope="module")
def default() -> default_image.CachedImage:
    """The default image from the machine-wide cache, built if missing, as tests/images gets it.

    Like tests/images it never skips: a machine that cannot build it fails here, with why."""
    qemu_guest.require_tools()
    try:
        return default_image.ensure(Settings.from_env().image_cache, log=print)
    except default_image.ImageBuildError as exc:
        pytest.fail(f"the default image could not be built: {exc}")


def ssh_hostname(key: Path, port: int) -> str:
    try:
        proc = subprocess.run(
            [*SSH, "-i", str(key), "-p", str(port), "debian@127.0.0.1", "hostname"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def agent_addresses(vm_id: str) -> list[dict[str, Any]]:
    proc = run_playbook(
        "host_domains.yml",
        "-l",
        HOST,
        "-e",
        json.dumps({"virtflow_domain_uuids": [vm_id]}),
        json_output=True,
    )
    [domain] = global_stats(proc)["virtflow_domains"]["domains"]
    return [a for a in domain.get("addresses", []) if a["source"] == "agent"]


def test_default_image_guest_boots_to_ssh_and_reports_its_address(
    default: default_image.CachedImage, names: list[str], tmp_path: Path
) -> None:
    name, port = new_name(names), free_port()
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    image = {"source": str(default.path), "sha256": default.manifest["sha256"], "format": "qcow2"}
    spec = {
        "name": name,
        "uuid": str(uuid.uuid4()),
        "vcpus": 1,
        "ram_mb": 256,
        "disk_gb": 3,
        "ssh_port": port,
        "hostname": "deb-test",
        "image": image,
        "ssh_authorized_keys": [key.with_suffix(".pub").read_text().strip()],
    }
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[spec], json_output=True)
    mac = global_stats(created)["virtflow_guests"][name]["mac"]

    wait_for(
        "SSH as debian on the forward",
        lambda: ssh_hostname(key, port) == "deb-test",
        SSH_DEADLINE_SECONDS,
        every=3,
    )
    # The guest agent starts with the guest; its address is QEMU user networking's DHCP one.
    found = wait_for("the agent's address", lambda: agent_addresses(spec["uuid"]), 120, every=3)
    assert found == [{"mac": mac, "ip": "10.0.2.15", "prefix": 24, "source": "agent"}]

    deleted = run_playbook("vm_delete.yml", "-l", HOST, guests=[spec])
    assert deleted.returncode == 0, output(deleted)
    assert not (IMAGE_DIR / f"{name}.qcow2").exists()
    assert not (IMAGE_DIR / f"{name}-seed.iso").exists()
    assert (CACHE_DIR / default.manifest["sha256"]).exists()
