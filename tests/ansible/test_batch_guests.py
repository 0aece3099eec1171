"""A batch of guests created by one virtflow_guests call: one failed guest fails alone."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers.fake_libvirt import FakeLibvirtError, load_role_module
from tests.helpers.playbooks import (
    HOST,
    IMAGE_DIR,
    REPO,
    domains,
    output,
    remove_guest,
    run_playbook,
    virsh,
)

MODULE_PATH = REPO / "roles" / "libvirt_guest" / "library" / "virtflow_guests.py"
TINY = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="libvirt system tests run as root")


@pytest.fixture
def vg(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_role_module(MODULE_PATH, monkeypatch)


class FakeDomain:
    def __init__(self, name: str, states: list[int]) -> None:
        self._name, self._states, self.active, self.undefined = name, states, False, False

    def state(self) -> list[int]:
        return [self._states.pop(0) if len(self._states) > 1 else self._states[0], 0]

    def isActive(self) -> bool:
        return self.active

    def create(self) -> None:
        self.active = True

    def destroy(self) -> None:
        self.active = False

    def undefineFlags(self, _flags: int) -> None:
        self.undefined = True

    def autostart(self) -> int:
        return 1

    def info(self) -> list[int]:
        return [1, 65536, 65536, 1, 0]

    def UUIDString(self) -> str:
        return "0F0E0D0C-0000-4000-8000-000000000001"


class FakeConn:
    """Defines every domain except those named in refuse; domains start running at once."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse, self.doms = refuse, {}

    def lookupByName(self, name: str) -> FakeDomain:
        if name not in self.doms or self.doms[name].undefined:
            raise FakeLibvirtError("no domain")
        return self.doms[name]

    def defineXML(self, xml: str) -> FakeDomain:
        name = xml.split("<name>")[1].split("</name>", maxsplit=1)[0]
        if name in self.refuse:
            raise FakeLibvirtError(f"operation failed: domain '{name}' refused\nsecond line")
        self.doms[name] = FakeDomain(name, [1])
        return self.doms[name]


def test_virtflow_guests_qemu_img_argv_is_blank_or_an_overlay(vg: ModuleType) -> None:
    blank = {"path": "/d/a.qcow2", "size_gb": 3, "backing": None}
    overlay = {**blank, "backing": "/d/cache/ab", "backing_format": "raw"}
    assert vg.qemu_img_create_argv(blank) == [
        "qemu-img", "create", "-q", "-f", "qcow2", "/d/a.qcow2", "3G",
    ]  # fmt: skip
    assert vg.qemu_img_create_argv(overlay) == [
        "qemu-img", "create", "-q", "-f", "qcow2", "-b", "/d/cache/ab", "-F", "raw",
        "/d/a.qcow2", "3G",
    ]  # fmt: skip


def test_virtflow_guests_with_uuid_adds_the_existing_uuid_only_when_missing(vg: ModuleType) -> None:
    xml = f"<domain xmlns:qemu='{QEMU_NS}'><name>a</name><qemu:commandline/></domain>"
    added = vg.with_uuid(xml, "u-1")
    assert "<name>a</name><uuid>u-1</uuid>" in added
    assert "<qemu:commandline" in added  # the template's prefix, not ns0
    given = "<domain><name>a</name><uuid>u-2</uuid></domain>"
    assert vg.with_uuid(given, "u-1") == given


def test_virtflow_guests_short_error_is_one_bounded_line(vg: ModuleType) -> None:
    assert vg.short("start", ValueError("first line\nTraceback ...")) == "start failed: first line"
    proc_error = subprocess.CalledProcessError(1, ["qemu-img"], stderr="warn\nqemu-img: no space\n")
    assert vg.short("qemu-img create", proc_error) == "qemu-img create failed: qemu-img: no space"
    long = vg.short("define", ValueError("x" * 1000))
    assert len(long) == vg.MAX_ERROR and long.endswith("...")


def test_virtflow_guests_waits_for_all_guests_together_until_the_deadline(vg: ModuleType) -> None:
    # a runs at the third poll, b never does (shutoff): one shared deadline, not one per guest.
    now = [0.0]
    doms = {"a": FakeDomain("a", [5, 5, 1]), "b": FakeDomain("b", [5])}

    def sleep(seconds: float) -> None:
        now[0] += seconds

    states = vg.wait_running(doms, 3, clock=lambda: now[0], sleep=sleep)
    assert states == {"a": "running", "b": "shutoff"}
    assert now[0] == 3.0  # 6 polls of 0.5 s for both, not 3 s per guest


def test_virtflow_guests_undoes_only_the_failed_guest(vg: ModuleType, tmp_path: Path) -> None:
    conn = FakeConn(refuse={"bad"})
    seed = tmp_path / "bad-seed.iso"
    seed.write_text("seed")

    def guest(name: str) -> dict[str, Any]:
        disk = {"path": str(tmp_path / f"{name}.qcow2"), "size_gb": 1, "backing": None}
        xml = f"<domain><name>{name}</name></domain>"
        return {"name": name, "xml": xml, "disk": disk, "autostart": True, "discard_on_failure": []}

    bad = {**guest("bad"), "discard_on_failure": [str(seed)]}
    vg.disk_bytes = lambda _path: 1073741824
    good, failed = vg.run(conn, [guest("good"), bad], 5, False)
    assert good["failed"] is False and good["state"] == "running" and good["ram_mb"] == 64
    assert good["uuid"] == "0f0e0d0c-0000-4000-8000-000000000001"
    assert (tmp_path / "good.qcow2").stat().st_mode & 0o777 == 0o600
    assert failed["failed"] is True and failed["state"] == "error"
    assert failed["error"] == "define failed: operation failed: domain 'bad' refused"
    assert not (tmp_path / "bad.qcow2").exists()  # this call created it: removed
    assert not seed.exists()
    assert failed["undone"] == {"domain": False, "disk": True, "files": [str(seed)]}


class MeetingDomain(FakeDomain):
    """Its start returns only once `parties` guests are being started at once; refused when
    named so (after the meeting)."""

    def __init__(self, name: str, meeting: threading.Barrier, refuse: bool) -> None:
        super().__init__(name, [1])
        self.meeting, self.refuse = meeting, refuse

    def create(self) -> None:
        self.meeting.wait()  # BrokenBarrierError after its timeout: the starts did not overlap
        if self.refuse:
            raise FakeLibvirtError("internal error: qemu unexpectedly closed the monitor")
        super().create()


class MeetingConn(FakeConn):
    def __init__(self, meeting: threading.Barrier, refuse: set[str]) -> None:
        super().__init__(refuse=set())
        self.meeting, self.refuse_start = meeting, refuse

    def defineXML(self, xml: str) -> FakeDomain:
        name = xml.split("<name>")[1].split("</name>", maxsplit=1)[0]
        self.doms[name] = MeetingDomain(name, self.meeting, name in self.refuse_start)
        return self.doms[name]


def test_virtflow_guests_starts_the_guests_at_once_and_fails_only_one_that_cannot_start(
    vg: ModuleType, tmp_path: Path
) -> None:
    conn = MeetingConn(threading.Barrier(3, timeout=10), refuse={"g1"})
    vg.disk_bytes = lambda _path: 1073741824
    specs = []
    for name in ("g0", "g1", "g2"):
        disk = {"path": str(tmp_path / f"{name}.qcow2"), "size_gb": 1, "backing": None}
        specs.append({"name": name, "xml": f"<domain><name>{name}</name></domain>", "disk": disk})

    results = vg.run(conn, [{**spec, "autostart": True} for spec in specs], 5, False, parallel=3)

    assert [(r["name"], r["state"]) for r in results] == [
        ("g0", "running"),
        ("g1", "error"),
        ("g2", "running"),
    ]
    assert (
        results[1]["error"] == "start failed: internal error: qemu unexpectedly closed the monitor"
    )
    assert conn.doms["g1"].undefined and not (tmp_path / "g1.qcow2").exists()
    assert (tmp_path / "g0.qcow2").exists() and not conn.doms["g0"].undefined


def test_virtflow_guests_check_mode_changes_nothing(vg: ModuleType, tmp_path: Path) -> None:
    disk = {"path": str(tmp_path / "new.qcow2"), "size_gb": 1, "backing": None}
    xml = "<domain><name>new</name></domain>"
    spec = {"name": "new", "xml": xml, "disk": disk, "autostart": True}
    conn = FakeConn(refuse=set())
    [predicted] = vg.run(conn, [spec], 5, True)
    assert predicted == {"name": "new", "changed": True, "failed": False}
    assert conn.doms == {}
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A 127.0.0.1 port this test listens on: a guest that forwards it cannot start."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def batch_names() -> Iterator[list[str]]:
    tag = secrets.token_hex(3)
    names = [f"vf-t-{tag}-{suffix}" for suffix in ("a", "b", "bad")]
    try:
        yield names
    finally:
        for name in names:
            remove_guest(name)


def domuuid(name: str) -> str:
    proc = virsh("domuuid", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.e2e
@needs_root
def test_vm_create_batch_fails_only_the_guest_that_cannot_start(
    batch_names: list[str], taken_port: int
) -> None:
    # localhost uses user networking (inventory/host_vars/localhost.yml): QEMU cannot bind the
    # SSH forward of the third guest (its port is taken), so libvirt fails to start it after
    # this run created its disk and defined it; validation cannot know a port is taken.
    first, second, bad = batch_names
    specs = [{"name": first, **TINY}, {"name": second, **TINY}]
    specs.append({"name": bad, **TINY, "ssh_port": taken_port})
    proc = run_playbook("vm_create.yml", "-l", HOST, guests=specs, json_output=True)
    assert proc.returncode != 0, output(proc)
    result = json.loads(proc.stdout)
    stats = result["global_custom_stats"]["virtflow_guests"]
    for name in (first, second):
        assert stats[name]["state"] == "running", output(proc)
        assert stats[name]["uuid"] == domuuid(name)
        assert (stats[name]["vcpus"], stats[name]["ram_mb"], stats[name]["disk_gb"]) == (1, 64, 1)
        assert virsh("domstate", name).stdout.strip() == "running"
    assert set(stats[bad]) == {"state", "host", "error"}, output(proc)
    assert (stats[bad]["state"], stats[bad]["host"]) == ("error", HOST)
    assert stats[bad]["error"].startswith("start failed:"), stats[bad]["error"]
    assert "\n" not in stats[bad]["error"]
    assert bad not in domains()
    assert not (IMAGE_DIR / f"{bad}.qcow2").exists()
    words = " ".join(proc.stdout.split())
    assert f"for them: domains {bad}, disks {bad}, seeds none;" in words, output(proc)
    # The run failed on the report's last task, not in a rollback of the whole batch.
    host_stats = result["stats"][HOST]
    assert (host_stats["failures"], host_stats["rescued"]) == (1, 0), host_stats
