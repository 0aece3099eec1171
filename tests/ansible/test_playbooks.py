"""Run the real playbooks with ansible-playbook against the local libvirt (qemu:///system)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs import reaper
from tests.helpers.playbooks import (
    HOST,
    IMAGE_DIR,
    REPO,
    domains,
    global_stats,
    output,
    recap,
    remove_guest,
    run_playbook,
    virsh,
)
from tests.helpers.stack import wait_for

PLAYBOOKS = sorted(p.name for p in (REPO / "playbooks").glob("*.yml"))
TINY = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="libvirt system tests run as root")


def images() -> set[str]:
    return {p.name for p in IMAGE_DIR.iterdir()} if IMAGE_DIR.is_dir() else set()


def dominfo(name: str) -> dict[str, str]:
    proc = virsh("dominfo", name)
    assert proc.returncode == 0, proc.stderr
    pairs = (line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def domstate(name: str) -> str:
    return virsh("domstate", name).stdout.strip()


def inactive_xml(name: str) -> str:
    proc = virsh("dumpxml", "--inactive", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def changed_nothing(proc: subprocess.CompletedProcess[str]) -> bool:
    return re.search(rf"^{HOST}\s*:.*\bchanged=0\b", proc.stdout, re.MULTILINE) is not None


def task_output(proc: subprocess.CompletedProcess[str], task: str) -> str:
    """What the default callback printed for one libvirt_guest task (stripped)."""
    header = f"TASK [libvirt_guest : {task}] "
    assert header in proc.stdout, output(proc)
    section = proc.stdout.split(header, 1)[1].split("\n", 1)[1]
    return re.split(r"^(?:TASK \[|PLAY RECAP)", section, maxsplit=1, flags=re.MULTILINE)[0].strip()


def derived_mac(name: str) -> str:
    """The MAC the role gives a guest whose spec has none: 52:54:00 + md5(name)[:3 bytes]."""
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
    return f"52:54:00:{digest[0:2]}:{digest[2:4]}:{digest[4:6]}"


def disk_path(name: str) -> Path:
    return IMAGE_DIR / f"{name}.qcow2"


def guest_uuid(name: str) -> str:
    """A UUID derived from the guest name: vf-* guests are stopped, started and deleted by UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"virtflow-test:{name}"))


@pytest.fixture
def guest_name() -> Iterator[str]:
    name = f"vf-t-{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        remove_guest(name)


@pytest.fixture(scope="module")
def running_guest() -> Iterator[str]:
    """One running guest shared by the refusal tests (which must leave it running)."""
    name = f"vf-t-{secrets.token_hex(4)}"
    try:
        spec = {"name": name, "uuid": guest_uuid(name), **TINY}
        proc = run_playbook("vm_create.yml", "-l", HOST, guests=[spec])
        assert proc.returncode == 0, output(proc)
        yield name
    finally:
        remove_guest(name)


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_syntax_check_passes(playbook: str) -> None:
    proc = run_playbook(playbook, "--syntax-check", timeout=120)
    assert proc.returncode == 0, output(proc)


def test_playbooks_are_the_seven_operations() -> None:
    assert PLAYBOOKS == [
        "host_domains.yml",
        "host_prepare.yml",
        "vm_create.yml",
        "vm_delete.yml",
        "vm_reboot.yml",
        "vm_resize.yml",
        "vm_revert.yml",
        "vm_snapshot.yml",
        "vm_snapshot_delete.yml",
        "vm_start.yml",
        "vm_stop.yml",
    ]


@pytest.mark.e2e
@needs_root
def test_host_prepare_is_idempotent() -> None:
    first = run_playbook("host_prepare.yml", "-l", HOST, timeout=1800)
    assert first.returncode == 0, output(first)
    second = run_playbook("host_prepare.yml", "-l", HOST, json_output=True)
    found = global_stats(second)["virtflow_host"]
    counters = json.loads(second.stdout)["stats"][HOST]
    assert (counters["failures"], counters["changed"]) == (0, 0), output(second)
    # What the host.prepare job stores as the host's discovered resources.
    assert found["host"] == HOST
    node = dict(line.split(":", 1) for line in virsh("nodeinfo").stdout.splitlines() if ":" in line)
    assert found["cpus"] == int(node["CPU(s)"]) > 0
    assert found["memory_mb"] == int(node["Memory size"].split()[0]) // 1024 > 0
    assert isinstance(found["image_dir_free_gb"], int) and found["image_dir_free_gb"] > 0
    assert re.fullmatch(r"\d+\.\d+\.\d+", found["libvirt_version"]), found
    assert re.fullmatch(r"\d+\.\d+\.\d+", found["qemu_version"]), found
    assert found["virt_type"] == ("kvm" if Path("/dev/kvm").exists() else "tcg")


def root_daemon_pid(name: str) -> int | None:
    proc = subprocess.run(
        ["pgrep", "--exact", "--euid", "root", name], capture_output=True, text=True, check=False
    )
    pids = proc.stdout.split()
    return int(pids[0]) if pids else None


@pytest.mark.e2e
@needs_root
def test_host_prepare_starts_libvirtd_for_good_not_as_a_leftover_of_its_job(
    tmp_path: Path,
) -> None:
    # Every process of a job is killed when the job ends (jobs/reaper.py). The libvirtd that
    # host.prepare starts must not count as one, or the host is "prepared" with no libvirt.
    # Running guests are QEMU processes of their own and outlive a libvirtd restart.
    running = root_daemon_pid("libvirtd")
    if running is not None:
        os.kill(running, signal.SIGTERM)
        wait_for("stopped", lambda: root_daemon_pid("libvirtd") is None, timeout=30)
    job = str(uuid.uuid4())
    tags = reaper.tags(tmp_path, job, None)
    proc = run_playbook("host_prepare.yml", "-l", HOST, env=tags, timeout=1800)
    assert proc.returncode == 0, output(proc)
    assert reaper.kill_job(tmp_path, job) == 0  # the run left nothing of its own behind
    started = root_daemon_pid("libvirtd")
    assert started is not None and started != running
    environ = Path(f"/proc/{started}/environ").read_bytes().split(b"\0")
    assert not [item for item in environ if item.startswith(b"VIRTFLOW_")], environ
    assert virsh("version").returncode == 0


@pytest.mark.e2e
@needs_root
def test_vm_create_is_idempotent_and_vm_delete_removes_everything(guest_name: str) -> None:
    guests = [{"name": guest_name, **TINY}]

    created = run_playbook("vm_create.yml", "-l", HOST, guests=guests, json_output=True)
    reported = global_stats(created)["virtflow_guests"][guest_name]
    assert virsh("domstate", guest_name).stdout.strip() == "running"
    info = dominfo(guest_name)
    assert info["CPU(s)"] == "1"
    assert info["Max memory"] == "65536 KiB"
    # What the domain really got, read back from libvirt and qemu-img, not the request echoed.
    assert reported == {
        "state": "running",
        "uuid": info["UUID"],
        "host": HOST,
        "vcpus": 1,
        "ram_mb": 64,
        "disk_gb": 1,
        # Its NIC: this machine's guests are on QEMU user-mode networking (host_vars), the MAC
        # derived from the name, no SSH forward without ssh_port.
        "mac": derived_mac(guest_name),
        "ssh_port": None,
        "network": "user",
    }
    disk = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--force-share", "--output=json", str(disk_path(guest_name))],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    assert (disk["format"], disk["virtual-size"]) == ("qcow2", 1024**3)

    again = run_playbook("vm_create.yml", "-l", HOST, guests=guests)
    assert again.returncode == 0, output(again)
    assert re.search(rf"^{HOST}\s*:.*\bchanged=0\b", again.stdout, re.MULTILINE), output(again)
    # An existing disk is never resized: asked for 2 GiB, the report says the 1 GiB it has.
    bigger = [{"name": guest_name, "uuid": reported["uuid"], **TINY, "disk_gb": 2}]
    grown = run_playbook("vm_create.yml", "-l", HOST, guests=bigger, json_output=True)
    assert global_stats(grown)["virtflow_guests"][guest_name]["disk_gb"] == 1

    deleted = run_playbook(
        "vm_delete.yml",
        "-l",
        HOST,
        guests=[{"name": guest_name, "uuid": reported["uuid"]}],
        json_output=True,
    )
    assert global_stats(deleted) == {
        "virtflow_guests": {guest_name: {"state": "absent", "host": HOST}}
    }
    assert guest_name not in domains()
    assert virsh("domstate", guest_name).returncode != 0
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
def test_vm_create_uses_the_given_uuid_and_delete_checks_it(guest_name: str) -> None:
    vm_id = str(uuid.uuid4())
    guests = [{"name": guest_name, "uuid": vm_id, "vcpus": 2, "ram_mb": 96, "disk_gb": 2}]

    created = run_playbook("vm_create.yml", "-l", HOST, guests=guests, json_output=True)
    assert global_stats(created)["virtflow_guests"][guest_name]["uuid"] == vm_id
    info = dominfo(guest_name)
    assert (info["UUID"], info["CPU(s)"], info["Max memory"]) == (vm_id, "2", f"{96 * 1024} KiB")

    wrong = run_playbook(
        "vm_delete.yml", "-l", HOST, guests=[{"name": guest_name, "uuid": str(uuid.uuid4())}]
    )
    assert wrong.returncode != 0, output(wrong)
    assert "not removing it" in wrong.stdout + wrong.stderr
    assert virsh("domstate", guest_name).stdout.strip() == "running"

    right = run_playbook("vm_delete.yml", "-l", HOST, guests=[{"name": guest_name, "uuid": vm_id}])
    assert right.returncode == 0, output(right)
    assert guest_name not in domains()
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x'; rm -rf /"},
        {"name": "a<b>"},
        {"name": "Upper-case"},
        {"name": "-leading-dash"},
        {"name": "trailing-newline\n"},
        {"name": "a" * 64},
        {"vcpus": 0},
        {"vcpus": 65},
        {"vcpus": "1"},
        {"ram_mb": 63},
        {"disk_gb": 0},
        {"uuid": "not-a-uuid"},
        {"unexpected": "key"},
    ],
    ids=json.dumps,
)
def test_vm_create_refuses_an_invalid_spec_before_any_change(
    guest_name: str, bad: dict[str, Any]
) -> None:
    good = {"name": guest_name, **TINY}
    invalid = {"name": f"{guest_name}-bad", **TINY, **bad}
    before_domains, before_images = domains(), images()
    try:
        # The valid spec comes first: it must not be created either.
        proc = run_playbook("vm_create.yml", "-l", HOST, guests=[good, invalid])
        assert proc.returncode != 0, output(proc)
        text = proc.stdout + proc.stderr
        refused = ("Invalid guest spec", "Validation of arguments failed")
        assert any(reason in text for reason in refused), output(proc)
        assert domains() == before_domains
        assert images() == before_images
    finally:
        remove_guest(str(invalid["name"]))


@pytest.mark.e2e
@needs_root
def test_vm_create_requires_a_limit(guest_name: str) -> None:
    proc = run_playbook("vm_create.yml", guests=[{"name": guest_name, **TINY}])
    assert proc.returncode != 0, output(proc)
    assert "--limit" in proc.stdout + proc.stderr
    assert guest_name not in domains()


@pytest.mark.e2e
@needs_root
def test_vm_delete_of_a_missing_guest_changes_nothing(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    proc = run_playbook("vm_delete.yml", "-l", HOST, guests=[spec])
    assert proc.returncode == 0, output(proc)
    assert re.search(rf"^{HOST}\s*:.*\bchanged=0\b", proc.stdout, re.MULTILINE), output(proc)


@pytest.mark.e2e
@needs_root
def test_vm_stop_and_vm_start_keep_the_guest(guest_name: str) -> None:
    created = run_playbook(
        "vm_create.yml", "-l", HOST, guests=[{"name": guest_name, **TINY}], json_output=True
    )
    vm_uuid = global_stats(created)["virtflow_guests"][guest_name]["uuid"]
    definition = inactive_xml(guest_name)

    wrong = run_playbook(
        "vm_stop.yml", "-l", HOST, guests=[{"name": guest_name, "uuid": str(uuid.uuid4())}]
    )
    assert wrong.returncode != 0, output(wrong)
    assert "not stopping it" in wrong.stdout + wrong.stderr
    assert domstate(guest_name) == "running"

    # The UUID guard compares case-insensitively, as vm_delete's does.
    spec = {"name": guest_name, "uuid": vm_uuid.upper(), "force": True}
    stopped = run_playbook("vm_stop.yml", "-l", HOST, guests=[spec], json_output=True)
    assert global_stats(stopped) == {
        "virtflow_guests": {guest_name: {"state": "stopped", "host": HOST}}
    }
    assert domstate(guest_name) == "shut off"
    assert dominfo(guest_name)["Autostart"] == "disable"  # stays off across host restarts

    again = run_playbook("vm_stop.yml", "-l", HOST, guests=[spec])
    assert again.returncode == 0, output(again)
    assert changed_nothing(again), output(again)
    assert domstate(guest_name) == "shut off"

    by_uuid = {"name": guest_name, "uuid": vm_uuid}
    started = run_playbook("vm_start.yml", "-l", HOST, guests=[by_uuid], json_output=True)
    assert global_stats(started) == {
        "virtflow_guests": {guest_name: {"state": "running", "uuid": vm_uuid, "host": HOST}}
    }
    assert domstate(guest_name) == "running"
    assert dominfo(guest_name)["Autostart"] == "enable"
    assert dominfo(guest_name)["UUID"] == vm_uuid
    assert inactive_xml(guest_name) == definition

    running = run_playbook("vm_start.yml", "-l", HOST, guests=[by_uuid])
    assert running.returncode == 0, output(running)
    assert changed_nothing(running), output(running)

    deleted = run_playbook("vm_delete.yml", "-l", HOST, guests=[by_uuid])
    assert deleted.returncode == 0, output(deleted)
    assert guest_name not in domains()
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
def test_vm_stop_falls_back_to_force_when_the_guest_ignores_acpi(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
    assert created.returncode == 0, output(created)

    # The blank test disk boots no OS, so nothing answers the ACPI request.
    proc = run_playbook(
        "vm_stop.yml", "-l", HOST, "-e", "libvirt_guest_stop_timeout=2", guests=[spec]
    )
    assert proc.returncode == 0, output(proc)
    asked = task_output(proc, "Ask the guests to shut down (ACPI)")
    waited = task_output(proc, "Wait for the guests to shut down")
    forced = task_output(proc, "Force off the guests still running")
    assert asked.startswith("changed:"), output(proc)
    assert "RETRYING" in waited, output(proc)
    assert forced.startswith("changed:"), output(proc)
    assert domstate(guest_name) == "shut off"


def domid(name: str) -> str:
    """libvirt's id of a running domain: a new one each time the domain is started."""
    proc = virsh("domid", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def task_seconds(proc: subprocess.CompletedProcess[str], task: str) -> float:
    """How long one task ran, from the ansible.posix.json callback's durations."""
    for play in json.loads(proc.stdout)["plays"]:
        for each in play["tasks"]:
            if each["task"]["name"].split(" : ")[-1] == task:
                took = each["task"]["duration"]
                start, end = (
                    dt.datetime.fromisoformat(took[k].rstrip("Z")) for k in ("start", "end")
                )
                return (end - start).total_seconds()
    raise AssertionError(f"no task {task!r} in the run")


@pytest.mark.e2e
@needs_root
def test_vm_reboot_power_cycles_the_guest_and_keeps_it(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
    assert created.returncode == 0, output(created)
    definition, first = inactive_xml(guest_name), domid(guest_name)

    hard = run_playbook(
        "vm_reboot.yml", "-l", HOST, guests=[{**spec, "hard": True}], json_output=True
    )
    assert global_stats(hard) == {
        "virtflow_guests": {guest_name: {"state": "running", "uuid": spec["uuid"], "host": HOST}}
    }
    second = domid(guest_name)
    assert domstate(guest_name) == "running" and second != first  # it really went off and on
    assert dominfo(guest_name)["Autostart"] == "enable"
    assert inactive_xml(guest_name) == definition

    # Soft: the blank disk boots no OS, so nothing answers ACPI; powered off at the deadline.
    soft = run_playbook("vm_reboot.yml", "-l", HOST, guests=[{**spec, "timeout": 2}])
    assert soft.returncode == 0, output(soft)
    assert task_output(soft, "Ask the guests to shut down (ACPI)").startswith("changed:")
    assert task_output(soft, "Force off the guests still running").startswith("changed:")
    assert domstate(guest_name) == "running" and domid(guest_name) != second

    # A guest already shut off is started.
    run_playbook("vm_stop.yml", "-l", HOST, guests=[{**spec, "force": True}])
    assert domstate(guest_name) == "shut off"
    off = run_playbook("vm_reboot.yml", "-l", HOST, guests=[spec])
    assert off.returncode == 0, output(off)
    assert domstate(guest_name) == "running"


@pytest.mark.e2e
@needs_root
def test_vm_stop_waits_its_timeout_in_seconds_not_in_polls(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
    assert created.returncode == 0, output(created)
    # The guest ignores ACPI: the wait lasts the spec's timeout, then it is forced off. Each
    # poll over the connection takes time of its own, so counting polls waited longer.
    proc = run_playbook(
        "vm_stop.yml", "-l", HOST, guests=[{**spec, "timeout": 6}], json_output=True
    )
    assert proc.returncode == 0, output(proc)
    waited = task_seconds(proc, "Wait for the guests to shut down")
    assert 5.5 <= waited < 6 + 15, waited  # at most one poll and its delay past the deadline
    assert domstate(guest_name) == "shut off"


@pytest.mark.e2e
@needs_root
@pytest.mark.parametrize("playbook", ["vm_stop.yml", "vm_start.yml", "vm_reboot.yml"])
def test_power_operations_on_a_missing_guest_fail_clearly(guest_name: str, playbook: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    proc = run_playbook(playbook, "-l", HOST, guests=[spec])
    assert proc.returncode != 0, output(proc)
    verb = playbook.removeprefix("vm_").removesuffix(".yml")
    message = f"Domain {guest_name} is not defined on {HOST}: cannot {verb} it."
    assert message in proc.stdout, output(proc)
    assert guest_name not in domains()
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
@pytest.mark.parametrize(
    ("playbook", "bad"),
    [
        ("vm_stop.yml", {"name": "x'; rm -rf /"}),
        ("vm_stop.yml", {"name": "Upper-case"}),
        ("vm_stop.yml", {"force": "yes"}),
        ("vm_stop.yml", {"uuid": "not-a-uuid"}),
        ("vm_stop.yml", {"vcpus": 1}),
        ("vm_stop.yml", {"timeout": "5"}),
        ("vm_stop.yml", {"timeout": -1}),
        ("vm_stop.yml", {"hard": True}),
        ("vm_start.yml", {"name": "a<b>"}),
        ("vm_start.yml", {"force": True}),
        ("vm_start.yml", {"timeout": 5}),
        ("vm_reboot.yml", {"force": True}),
        ("vm_reboot.yml", {"hard": "yes"}),
        ("vm_reboot.yml", {"timeout": 3601}),
        ("vm_reboot.yml", {"timeout": True}),
        ("vm_create.yml", {"force": True, **TINY}),
    ],
    ids=lambda value: value if isinstance(value, str) else json.dumps(value),
)
def test_power_operations_refuse_an_invalid_spec_before_any_change(
    running_guest: str, playbook: str, bad: dict[str, Any]
) -> None:
    # The valid spec comes first: vm_stop would force it off if it were not refused.
    by_uuid = {"name": running_guest, "uuid": guest_uuid(running_guest)}
    good = {
        "vm_stop.yml": {**by_uuid, "force": True},
        "vm_start.yml": by_uuid,
        "vm_reboot.yml": {**by_uuid, "hard": True},
        "vm_create.yml": {**by_uuid, **TINY},
    }[playbook]
    invalid = {"name": f"{running_guest}-bad", **bad}
    before_domains, before_images = domains(), images()
    try:
        proc = run_playbook(playbook, "-l", HOST, guests=[good, invalid])
        assert proc.returncode != 0, output(proc)
        text = proc.stdout + proc.stderr
        refused = ("Invalid guest spec", "Validation of arguments failed")
        assert any(reason in text for reason in refused), output(proc)
        assert domstate(running_guest) == "running"
        assert domains() == before_domains
        assert images() == before_images
    finally:
        remove_guest(str(invalid["name"]))


@pytest.mark.parametrize("playbook", [p for p in PLAYBOOKS if p.startswith("vm_")])
@pytest.mark.parametrize("limit", ["baremetal", "all"])
def test_vm_playbooks_refuse_a_limit_matching_several_hosts(
    tmp_path: Path, playbook: str, limit: str
) -> None:
    # A second host in baremetal that is never contacted: the refusal comes first.
    extra = tmp_path / "other.yml"
    extra.write_text(
        "all:\n  children:\n    baremetal:\n      hosts:\n"
        "        other-host:\n          ansible_host: 192.0.2.1\n"
    )
    name = f"vf-t-{secrets.token_hex(4)}"
    spec = {"name": name, **TINY} if playbook == "vm_create.yml" else {"name": name}
    proc = run_playbook(
        playbook, "-i", "inventory", "-i", str(extra), "-l", limit, guests=[spec], timeout=120
    )
    assert proc.returncode != 0, output(proc)
    assert "Run on exactly one host" in proc.stdout, output(proc)
    assert "TASK [libvirt_guest" not in proc.stdout, output(proc)
    assert recap(proc, "other-host")["unreachable"] == 0, output(proc)


@pytest.mark.e2e
@needs_root
def test_vm_create_keeps_its_operation_under_a_state_override(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name), **TINY}
    proc = run_playbook(
        "vm_create.yml", "-l", HOST, "-e", "libvirt_guest_state=absent", guests=[spec]
    )
    assert proc.returncode == 0, output(proc)
    assert domstate(guest_name) == "running"
    assert disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
def test_vm_delete_keeps_its_operation_under_a_state_override(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
    assert created.returncode == 0, output(created)
    proc = run_playbook(
        "vm_delete.yml", "-l", HOST, "-e", "libvirt_guest_state=running", guests=[spec]
    )
    assert proc.returncode == 0, output(proc)
    assert guest_name not in domains()
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
@pytest.mark.parametrize(
    ("playbook", "verb", "extra"),
    [
        ("vm_stop.yml", "stop", {"force": True}),
        ("vm_start.yml", "start", {}),
        ("vm_reboot.yml", "reboot", {"hard": True}),
        ("vm_delete.yml", "delete", {}),
    ],
    ids=["vm_stop.yml", "vm_start.yml", "vm_reboot.yml", "vm_delete.yml"],
)
def test_vm_operations_refuse_a_vf_guest_without_its_uuid(
    running_guest: str, playbook: str, verb: str, extra: dict[str, Any]
) -> None:
    before_domains, before_images = domains(), images()
    proc = run_playbook(playbook, "-l", HOST, guests=[{"name": running_guest, **extra}])
    assert proc.returncode != 0, output(proc)
    message = f'Guest {running_guest} is a VirtFlow guest (vf-*): {verb} it only with its "uuid"'
    assert message in " ".join(proc.stdout.split()), output(proc)
    assert domstate(running_guest) == "running"
    assert (domains(), images()) == (before_domains, before_images)


@pytest.mark.e2e
@needs_root
def test_vm_operations_accept_a_hand_guest_without_uuid() -> None:
    # Not vf-*: a guest made by hand, outside the API, is still reachable by name alone.
    name = f"hand-t-{secrets.token_hex(4)}"
    spec = {"name": name}
    try:
        created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
        assert created.returncode == 0, output(created)
        stopped = run_playbook("vm_stop.yml", "-l", HOST, guests=[{**spec, "force": True}])
        assert stopped.returncode == 0, output(stopped)
        assert domstate(name) == "shut off"
        started = run_playbook("vm_start.yml", "-l", HOST, guests=[spec])
        assert started.returncode == 0, output(started)
        assert domstate(name) == "running"
        deleted = run_playbook("vm_delete.yml", "-l", HOST, guests=[spec])
        assert deleted.returncode == 0, output(deleted)
        assert name not in domains()
        assert not disk_path(name).exists()
    finally:
        remove_guest(name)


@pytest.mark.e2e
@needs_root
def test_vm_create_check_mode_predicts_a_create_and_creates_nothing(guest_name: str) -> None:
    before_domains, before_images = domains(), images()
    proc = run_playbook(
        "vm_create.yml", "--check", "-l", HOST, guests=[{"name": guest_name, **TINY}]
    )
    assert proc.returncode == 0, output(proc)
    assert recap(proc)["changed"] == 1, output(proc)
    assert (domains(), images()) == (before_domains, before_images)
    assert not disk_path(guest_name).exists()


@pytest.mark.e2e
@needs_root
def test_vm_create_check_mode_predicts_no_change_for_a_running_guest(running_guest: str) -> None:
    spec = {"name": running_guest, "uuid": guest_uuid(running_guest), **TINY}
    proc = run_playbook("vm_create.yml", "--check", "-l", HOST, guests=[spec])
    assert proc.returncode == 0, output(proc)
    assert recap(proc)["changed"] == 0, output(proc)
    assert domstate(running_guest) == "running"


@pytest.mark.e2e
@needs_root
def test_vm_create_refuses_disks_larger_than_the_free_space(guest_name: str) -> None:
    huge = 65536  # GiB, the largest size validation accepts
    if shutil.disk_usage(IMAGE_DIR).free >= huge * 1024**3:
        pytest.skip(f"{IMAGE_DIR} has {huge} GiB free")
    before_domains, before_images = domains(), images()
    proc = run_playbook(
        "vm_create.yml", "-l", HOST, guests=[{"name": guest_name, **TINY, "disk_gb": huge}]
    )
    assert proc.returncode != 0, output(proc)
    text = " ".join(proc.stdout.split())
    assert f"Not enough space in {IMAGE_DIR} on {HOST}: the new disks ({guest_name}) need" in text
    assert f"({huge} GiB, their full virtual size)" in text, output(proc)
    assert (domains(), images()) == (before_domains, before_images)


@pytest.mark.e2e
@needs_root
def test_vm_create_fails_only_the_guest_libvirt_refuses(guest_name: str) -> None:
    # The second new guest reuses the UUID of an existing domain: libvirt refuses to define it
    # after its disk was created; the first new guest of the same batch is created and runs.
    existing = {"name": guest_name, "uuid": guest_uuid(guest_name), **TINY}
    made = run_playbook("vm_create.yml", "-l", HOST, guests=[existing])
    assert made.returncode == 0, output(made)
    first = {"name": f"{guest_name}-a", **TINY}
    second = {"name": f"{guest_name}-b", "uuid": existing["uuid"], **TINY}
    try:
        proc = run_playbook("vm_create.yml", "-l", HOST, guests=[first, second])
        assert proc.returncode != 0, output(proc)
        # The host failed on the last task, after the report; the batch was not rescued.
        assert recap(proc)["failed"] == 1, output(proc)
        assert re.search(rf"^{HOST}\s*:.*\brescued=0\b", proc.stdout, re.MULTILINE), output(proc)
        text = " ".join(proc.stdout.split())
        assert f"{second['name']}: define failed:" in text, output(proc)
        # libvirt's own reason, e.g. "domain '<existing>' is already defined with uuid <uuid>".
        assert f"already defined with uuid {existing['uuid']}" in text, output(proc)
        assert f"for them: domains none, disks {second['name']}, seeds none;" in text, output(proc)
        assert second["name"] not in domains()
        assert not disk_path(str(second["name"])).exists()
        # The batch's other new guest is not rolled back.
        assert domstate(str(first["name"])) == "running"
        # The guest that was there before is untouched.
        assert domstate(guest_name) == "running"
        assert dominfo(guest_name)["UUID"] == existing["uuid"]
        assert disk_path(guest_name).exists()
    finally:
        remove_guest(str(first["name"]))
        remove_guest(str(second["name"]))


@pytest.mark.e2e
@needs_root
def test_host_domains_lists_each_domain_with_its_state_and_sizes(running_guest: str) -> None:
    proc = run_playbook("host_domains.yml", "-l", HOST, json_output=True)
    report = global_stats(proc)["virtflow_domains"]
    assert report["host"] == HOST
    listed = {d["name"]: d for d in report["domains"]}
    assert listed[running_guest] == {
        "name": running_guest,
        "uuid": guest_uuid(running_guest),
        "state": "running",
        "vcpus": TINY["vcpus"],
        "ram_mb": TINY["ram_mb"],
        "addresses": [],  # a blank guest: no OS, no guest agent, no lease on user networking
    }
    assert set(listed) == domains()  # every domain libvirt knows, in one listing


def qemu_io(disk: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["qemu-io", "-c", command, str(disk)], capture_output=True, text=True, check=False
    )


def snapshot_names(name: str) -> list[str]:
    proc = virsh("snapshot-list", "--domain", name, "--name")
    assert proc.returncode == 0, proc.stderr
    return sorted(line.strip() for line in proc.stdout.splitlines() if line.strip())


@pytest.mark.e2e
@needs_root
def test_snapshot_playbooks_by_hand_take_revert_and_delete(guest_name: str) -> None:
    spec = {"name": guest_name, "uuid": guest_uuid(guest_name)}
    created = run_playbook("vm_create.yml", "-l", HOST, guests=[{**spec, **TINY}])
    assert created.returncode == 0, output(created)
    taken = run_playbook(
        "vm_snapshot.yml", "-l", HOST, guests=[{**spec, "snapshot": "live"}], json_output=True
    )
    assert global_stats(taken)["virtflow_guests"][guest_name] == {
        "state": "running",
        "uuid": spec["uuid"],
        "host": HOST,
        "snapshot": "live",
        "snapshot_state": "running",
    }
    # The same snapshot again is there already: nothing changes.
    again = run_playbook("vm_snapshot.yml", "-l", HOST, guests=[{**spec, "snapshot": "live"}])
    assert again.returncode == 0 and changed_nothing(again), output(again)
    stopped = run_playbook("vm_stop.yml", "-l", HOST, guests=[{**spec, "force": True}])
    assert stopped.returncode == 0, output(stopped)
    cold = run_playbook(
        "vm_snapshot.yml", "-l", HOST, guests=[{**spec, "snapshot": "cold"}], json_output=True
    )
    assert global_stats(cold)["virtflow_guests"][guest_name]["snapshot_state"] == "stopped"
    assert snapshot_names(guest_name) == ["cold", "live"]

    assert qemu_io(disk_path(guest_name), "write -P 0xab 0 1M").returncode == 0
    reverted = run_playbook(
        "vm_revert.yml", "-l", HOST, guests=[{**spec, "snapshot": "cold"}], json_output=True
    )
    assert global_stats(reverted)["virtflow_guests"][guest_name]["state"] == "stopped"
    assert qemu_io(disk_path(guest_name), "read -P 0 0 1M").returncode == 0
    assert (
        "Pattern verification failed" not in qemu_io(disk_path(guest_name), "read -P 0 0 1M").stdout
    )
    # To the snapshot taken running: the guest runs again, and autostarts as a started one does.
    running = run_playbook("vm_revert.yml", "-l", HOST, guests=[{**spec, "snapshot": "live"}])
    assert running.returncode == 0, output(running)
    assert domstate(guest_name) == "running"
    assert dominfo(guest_name)["Autostart"] == "enable"

    deleted = run_playbook(
        "vm_snapshot_delete.yml", "-l", HOST, guests=[{**spec, "snapshot": "cold"}]
    )
    assert deleted.returncode == 0 and not changed_nothing(deleted), output(deleted)
    gone = run_playbook("vm_snapshot_delete.yml", "-l", HOST, guests=[{**spec, "snapshot": "cold"}])
    assert gone.returncode == 0 and changed_nothing(gone), output(gone)
    assert snapshot_names(guest_name) == ["live"]
    assert domstate(guest_name) == "running"


@pytest.mark.e2e
@needs_root
@pytest.mark.parametrize(
    ("playbook", "extra", "message"),
    [
        ("vm_snapshot.yml", {"snapshot": "x; rm -rf /"}, "Invalid guest spec"),
        ("vm_snapshot.yml", {"snapshot": "--force"}, "Invalid guest spec"),
        ("vm_snapshot.yml", {}, "Validation of arguments failed"),
        ("vm_revert.yml", {"snapshot": "Upper"}, "Invalid guest spec"),
        ("vm_snapshot_delete.yml", {"snapshot": "a" * 49}, "Invalid guest spec"),
        ("vm_snapshot.yml", {"snapshot": "ok", "force": True}, "Validation of arguments failed"),
        ("vm_revert.yml", {"snapshot": "never-taken"}, "has no snapshot never-taken"),
    ],
    ids=lambda value: value if isinstance(value, str) else json.dumps(value),
)
def test_snapshot_playbooks_refuse_before_any_change(
    running_guest: str, playbook: str, extra: dict[str, Any], message: str
) -> None:
    spec = {"name": running_guest, "uuid": guest_uuid(running_guest), **extra}
    before = snapshot_names(running_guest)
    proc = run_playbook(playbook, "-l", HOST, guests=[spec])
    assert proc.returncode != 0, output(proc)
    assert message in " ".join((proc.stdout + proc.stderr).split()), output(proc)
    assert snapshot_names(running_guest) == before
    assert domstate(running_guest) == "running"
