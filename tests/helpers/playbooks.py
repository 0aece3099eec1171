"""Run the real playbooks with ansible-playbook from the repo root, as ops do, and read results."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
URI = "qemu:///system"
IMAGE_DIR = Path("/var/lib/virtflow/images")
CACHE_DIR = IMAGE_DIR / "cache"
HOST = "localhost"
RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def _ansible_playbook() -> str:
    """The ansible-playbook next to the running interpreter, else the repo's venv."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside if beside.exists() else REPO / ".venv" / "bin" / "ansible-playbook")


def run_playbook(
    playbook: str,
    *args: str,
    guests: list[dict[str, Any]] | None = None,
    json_output: bool = False,
    timeout: int = 600,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run playbooks/<playbook> from the repo root the way ops do (env: extra variables)."""
    cmd = [_ansible_playbook(), f"playbooks/{playbook}", *args]
    if guests is not None:
        cmd += ["-e", json.dumps({"virtflow_guests": guests})]
    full = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    full.pop("ANSIBLE_FORCE_COLOR", None)
    full.update(env or {})
    if json_output:
        full["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    return subprocess.run(
        cmd, cwd=REPO, env=full, capture_output=True, text=True, timeout=timeout, check=False
    )


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def recap(proc: subprocess.CompletedProcess[str], host: str = HOST) -> dict[str, int]:
    """Counters of the PLAY RECAP line of one host (default callback)."""
    for match in RECAP.finditer(proc.stdout):
        if match["host"] == host:
            return {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    raise AssertionError(f"no PLAY RECAP line for {host}\n{output(proc)}")


def global_stats(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The set_stats data (per_host: false) from the ansible.posix.json callback."""
    assert proc.returncode == 0, output(proc)
    stats: dict[str, Any] = json.loads(proc.stdout)["global_custom_stats"]
    return stats


def virsh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["virsh", "--connect", URI, *args], capture_output=True, text=True, timeout=60, check=False
    )


def domains() -> set[str]:
    proc = virsh("list", "--all", "--name")
    assert proc.returncode == 0, proc.stderr
    return {line.strip() for line in proc.stdout.splitlines() if line.strip()}


def remove_guest(name: str) -> None:
    """Best-effort cleanup that does not rely on the playbooks under test (the cache stays)."""
    virsh("destroy", name)
    virsh("undefine", name, "--managed-save", "--snapshots-metadata", "--nvram")
    (IMAGE_DIR / f"{name}.qcow2").unlink(missing_ok=True)
    (IMAGE_DIR / f"{name}-seed.iso").unlink(missing_ok=True)
