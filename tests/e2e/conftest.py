"""Fixtures for end-to-end tests: one real stack (gunicorn + RQ worker + local KVM) per session.

The machinery lives in tests/helpers/stack.py, shared with the chaos suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.stack import Stack, domain_disks, running_stack, virsh

__all__ = ["Stack", "domain_disks", "running_stack", "virsh"]
UNREACHABLE_HOST = "bm-unreachable"

UNREACHABLE_YAML = (
    "all:\n  children:\n    baremetal:\n      hosts:\n"
    f"        {UNREACHABLE_HOST}:\n"
    "          ansible_host: 127.0.0.1\n"
    "          ansible_port: 1\n"
    "          ansible_user: nobody\n"
    "          virtflow_capacity_vcpus: 64\n"
    "          virtflow_capacity_ram_mb: 1048576\n"
    "          virtflow_capacity_disk_gb: 65536\n"
)


@pytest.fixture
def unreachable_host(stack: Stack) -> Iterator[str]:
    """Ops add a host whose SSH port is closed; removed again afterwards."""
    path = Path(stack.env["VIRTFLOW_INVENTORY"]) / "zz-e2e-unreachable.yml"
    path.write_text(UNREACHABLE_YAML)
    yield UNREACHABLE_HOST
    path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("virsh") is None or virsh("version").returncode != 0:
        pytest.fail("libvirt is not usable: run `make test`, which prepares the local host")
    with running_stack(tmp_path_factory.mktemp("e2e")) as stack:
        yield stack


@pytest.fixture
def admin(stack: Stack) -> Stack:
    stack.login()
    return stack


@pytest.fixture
def cleanup_domains() -> Iterator[list[str]]:
    """Domains a test registers here are destroyed and undefined, with their disks, afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        disks = domain_disks(name)
        virsh("destroy", name)
        virsh("undefine", name)
        for disk in disks:
            Path(disk).unlink(missing_ok=True)
