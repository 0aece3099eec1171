"""Fault injection on real processes: stacks with a private Redis, short leases and a test
playbook that holds a create long enough to kill its worker.

Nothing here stops or pauses the machine's shared PostgreSQL or Redis: each test gets its own
redis-server, and PostgreSQL faults terminate only the stack's own database's backends.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from api.settings import REPO_ROOT
from tests.helpers.redis_server import RedisServer
from tests.helpers.stack import Stack, running_stack, virsh

# The seconds a create of a VM named "...slow..." waits before the real playbook: long enough
# to kill its worker mid-run. Other VMs are created by the real playbook at once.
SLOW_SECONDS = 300
LEASE_SECONDS = 6
SWEEP_SECONDS = 2
CHAOS_ENV = {
    "VIRTFLOW_JOB_LEASE": str(LEASE_SECONDS),
    "VIRTFLOW_SWEEP_INTERVAL": str(SWEEP_SECONDS),
    "VIRTFLOW_QUEUED_GRACE": "3",
    # One health check (host.domains) per host at the start, not one a minute during a test.
    "VIRTFLOW_DOMAIN_CHECK_INTERVAL": "3600",
}

SLOW_CREATE = """---
# Test-only: hold creates of VMs named *slow* so that a test can kill the worker mid-run,
# then run the real playbook. Never used outside tests/chaos.
- name: Hold slow test creates
  hosts: baremetal
  gather_facts: false
  tasks:
    - name: Wait before the real create
      ansible.builtin.pause:
        seconds: "{{{{ {seconds} if __slow else 0 }}}}"
      vars:
        __slow: "{{{{ virtflow_guests | map(attribute='name') | select('search', 'slow') }}}}"

- name: The real create
  ansible.builtin.import_playbook: {repo}/playbooks/vm_create.yml
"""


def ansible_dir(workdir: Path) -> Path:
    """The repo's ansible.cfg, roles and playbooks, with vm_create.yml held for slow VMs."""
    root = workdir / "ansible"
    (root / "playbooks").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "ansible.cfg", root / "ansible.cfg")
    (root / "roles").symlink_to(REPO_ROOT / "roles")
    for playbook in (REPO_ROOT / "playbooks").glob("*.yml"):
        (root / "playbooks" / playbook.name).symlink_to(playbook)
    (root / "playbooks" / "vm_create.yml").unlink()
    text = SLOW_CREATE.format(seconds=SLOW_SECONDS, repo=REPO_ROOT)
    (root / "playbooks" / "vm_create.yml").write_text(text)
    return root


def roomy_localhost(inventory: Path) -> None:
    """Room for a score of 64 MiB test VMs at once (the repo's localhost allows 8 vCPUs)."""
    text = "---\nvirtflow_capacity_vcpus: 64\nvirtflow_capacity_ram_mb: 8192\n"
    (inventory / "host_vars" / "localhost.yml").write_text(text + "virtflow_capacity_disk_gb: 50\n")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


StackFactory = Callable[..., AbstractContextManager[Stack]]


@pytest.fixture
def chaos_stack(tmp_path: Path, redis_server: RedisServer) -> StackFactory:
    """Start a stack on the private Redis: chaos_stack(with_worker=..., edit_inventory=...)."""
    if shutil.which("virsh") is None or virsh("version").returncode != 0:
        pytest.fail("libvirt is not usable: run `make test`, which prepares the local host")

    @contextmanager
    def start(**kw: object) -> Iterator[Stack]:
        env = {
            **CHAOS_ENV,
            "VIRTFLOW_REDIS_URL": redis_server.url,
            "VIRTFLOW_ANSIBLE_DIR": str(ansible_dir(tmp_path)),
        }
        kw.setdefault("edit_inventory", roomy_localhost)
        with running_stack(tmp_path, env=env, **kw) as stack:  # type: ignore[arg-type]
            stack.login()
            yield stack

    return start
