"""A batch of guests removed by one virtflow_guests_absent call: a refused guest stays alone."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

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

MODULE_PATH = REPO / "roles" / "libvirt_guest" / "library" / "virtflow_guests_absent.py"
TINY = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}
ALL_FLAGS = 1 | 2 | 4 | 16

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="libvirt system tests run as root")


@pytest.fixture
def vga(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_role_module(MODULE_PATH, monkeypatch)


class FakeDomain:
    def __init__(self, uuid: str, active: bool, refuse_undefine: bool = False) -> None:
        self.uuid, self.active, self.refuse_undefine = uuid, active, refuse_undefine
        self.undefined_with: int | None = None

    def UUIDString(self) -> str:
        return self.uuid

    def isActive(self) -> bool:
        return self.active

    def destroy(self) -> None:
        self.active = False

    def undefineFlags(self, flags: int) -> None:
        if self.refuse_undefine:
            raise FakeLibvirtError("operation failed: cannot undefine\nsecond line", code=1)
        self.undefined_with = flags


class FakeConn:
    def __init__(self, doms: dict[str, FakeDomain]) -> None:
        self.doms = doms

    def lookupByName(self, name: str) -> FakeDomain:
        dom = self.doms.get(name)
        if dom is None or dom.undefined_with is not None:
            raise FakeLibvirtError("no domain")
        return dom


def files(tmp_path: Path, name: str) -> list[str]:
    paths = [tmp_path / f"{name}.qcow2", tmp_path / f"{name}-seed.iso"]
    for path in paths:
        path.write_text(name)
    return [str(path) for path in paths]


def test_virtflow_guests_absent_removes_domains_and_files_and_refuses_a_reused_name(
    vga: ModuleType, tmp_path: Path
) -> None:
    good = FakeDomain("0F0E0D0C-0000-4000-8000-000000000001", active=True)
    other = FakeDomain("aaaaaaaa-0000-4000-8000-000000000002", active=True)
    conn = FakeConn({"good": good, "reused": other})
    guests = [
        {"name": "good", "uuid": good.uuid.lower(), "paths": files(tmp_path, "good")},
        {"name": "reused", "uuid": "bbbbbbbb-0000-4000-8000-000000000003"},
    ]
    guests[1]["paths"] = files(tmp_path, "reused")
    removed, refused = vga.run(conn, guests, False)
    assert removed == {"name": "good", "changed": True, "failed": False}
    assert (good.active, good.undefined_with) == (False, ALL_FLAGS)
    assert not any(Path(path).exists() for path in guests[0]["paths"])
    assert refused == {
        "name": "reused",
        "changed": False,
        "failed": True,
        "error": "Domain reused has UUID aaaaaaaa-0000-4000-8000-000000000002, "
        "not bbbbbbbb-0000-4000-8000-000000000003: not removing it.",
    }
    assert (other.active, other.undefined_with) == (True, None)  # untouched, files included
    assert all(Path(path).exists() for path in guests[1]["paths"])


def test_virtflow_guests_absent_is_idempotent_for_missing_domains_and_files(
    vga: ModuleType, tmp_path: Path
) -> None:
    spec = {"name": "gone", "uuid": "0f0e0d0c-0000-4000-8000-000000000001"}
    guest = {**spec, "paths": [str(tmp_path / "gone.qcow2")]}
    assert vga.run(FakeConn({}), [guest], False) == [
        {"name": "gone", "changed": False, "failed": False}
    ]


def test_virtflow_guests_absent_without_uuid_removes_a_stopped_domain(
    vga: ModuleType, tmp_path: Path
) -> None:
    dom = FakeDomain("0f0e0d0c-0000-4000-8000-000000000001", active=False)
    [result] = vga.run(
        FakeConn({"hand": dom}), [{"name": "hand", "uuid": None, "paths": []}], False
    )
    assert result == {"name": "hand", "changed": True, "failed": False}
    assert dom.undefined_with == ALL_FLAGS


def test_virtflow_guests_absent_a_failed_undefine_fails_only_its_guest(
    vga: ModuleType, tmp_path: Path
) -> None:
    stuck = FakeDomain("u-1", active=True, refuse_undefine=True)
    fine = FakeDomain("u-2", active=False)
    guests = [
        {"name": "stuck", "paths": files(tmp_path, "stuck")},
        {"name": "fine", "paths": files(tmp_path, "fine")},
    ]
    failed, removed = vga.run(FakeConn({"stuck": stuck, "fine": fine}), guests, False)
    assert failed["failed"] is True
    assert failed["error"] == "undefine failed: operation failed: cannot undefine"
    assert all(Path(path).exists() for path in guests[0]["paths"])  # its disk stays with its domain
    assert removed == {"name": "fine", "changed": True, "failed": False}
    assert not any(Path(path).exists() for path in guests[1]["paths"])


class MeetingDomain(FakeDomain):
    """Its destroy returns only once every guest of the batch is being destroyed at once."""

    def __init__(self, uuid: str, meeting: threading.Barrier) -> None:
        super().__init__(uuid, active=True)
        self.meeting = meeting

    def destroy(self) -> None:
        self.meeting.wait()  # BrokenBarrierError after its timeout: the destroys did not overlap
        super().destroy()


def test_virtflow_guests_absent_destroys_the_guests_at_once(
    vga: ModuleType, tmp_path: Path
) -> None:
    meeting = threading.Barrier(3, timeout=10)
    doms = {f"g{k}": MeetingDomain(f"u-{k}", meeting) for k in range(3)}
    guests = [{"name": name, "paths": files(tmp_path, name)} for name in doms]

    results = vga.run(FakeConn(dict(doms)), guests, False, parallel=3)

    assert [(r["name"], r["failed"]) for r in results] == [
        ("g0", False),
        ("g1", False),
        ("g2", False),
    ]
    assert all(dom.undefined_with == ALL_FLAGS for dom in doms.values())


def test_virtflow_guests_absent_check_mode_predicts_and_changes_nothing(
    vga: ModuleType, tmp_path: Path
) -> None:
    dom = FakeDomain("u-1", active=True)
    conn = FakeConn({"there": dom})
    guests = [
        {"name": "there", "paths": []},
        {"name": "file-only", "paths": files(tmp_path, "file-only")},
        {"name": "nothing", "paths": [str(tmp_path / "nothing.qcow2")]},
    ]
    results = vga.run(conn, guests, True)
    assert [r["changed"] for r in results] == [True, True, False]
    assert (dom.active, dom.undefined_with) == (True, None)
    assert all(Path(path).exists() for path in guests[1]["paths"])


@pytest.fixture
def three_guests() -> Iterator[list[str]]:
    tag = secrets.token_hex(3)
    names = [f"hand-t-{tag}-{suffix}" for suffix in ("a", "b", "c")]
    try:
        yield names
    finally:
        for name in names:
            remove_guest(name)


@pytest.mark.e2e
@needs_root
def test_vm_delete_removes_three_guests_in_one_module_call(three_guests: list[str]) -> None:
    created = run_playbook(
        "vm_create.yml", "-l", HOST, guests=[{"name": n, **TINY} for n in three_guests]
    )
    assert created.returncode == 0, output(created)
    assert set(three_guests) <= set(domains())
    deleted = run_playbook(
        "vm_delete.yml", "-l", HOST, guests=[{"name": n} for n in three_guests], json_output=True
    )
    assert deleted.returncode == 0, output(deleted)
    result = json.loads(deleted.stdout)
    stats = result["global_custom_stats"]["virtflow_guests"]
    assert stats == {n: {"state": "absent", "host": HOST} for n in three_guests}
    # One task removed them all: the module ran once, with the three guests.
    tasks = result["plays"][0]["tasks"]
    [task] = [t for t in tasks if t["task"]["name"].endswith("Remove the guests in one call")]
    module_result = task["hosts"][HOST]
    assert [g["name"] for g in module_result["guests"]] == three_guests
    for name in three_guests:
        assert name not in domains()
        assert virsh("domstate", name).returncode != 0
        assert not (IMAGE_DIR / f"{name}.qcow2").exists()
        assert not (IMAGE_DIR / f"{name}-seed.iso").exists()
