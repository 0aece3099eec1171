"""Real processes for end-to-end tests: gunicorn serving the API and an RQ worker.

Both run against their own freshly migrated database and their own queue, with the repo's
playbooks and a copy of the repo's inventory, so they drive the real local libvirt. A stack
started without the worker only records work: its VMs stay pending and libvirt is not touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from api.settings import REPO_ROOT
from tests.conftest import drop_database, migrate, recreate_database

VENV_BIN = Path(sys.executable).parent
LIBVIRT_URI = "qemu:///system"
UNREACHABLE_HOST = "bm-unreachable"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def virsh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["virsh", "-c", LIBVIRT_URI, *args], capture_output=True, text=True, check=False
    )


def domain_disks(name: str) -> list[str]:
    """Source paths of a domain's disks, from `virsh domblklist`."""
    rows = virsh("domblklist", name).stdout.splitlines()[2:]
    return [row.split()[-1] for row in rows if row.strip()]


@dataclass
class Stack:
    base_url: str
    admin_username: str
    admin_password: str
    workdir: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, self.base_url + path, headers=headers, timeout=30, **kw)

    def login(self) -> None:
        """Log in as the platform admin; later calls carry the (fresh) access token."""
        r = self.call(
            "POST",
            "/api/v1/auth/login/",
            json={"username": self.admin_username, "password": self.admin_password},
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["data"]["access_token"]

    def logs(self) -> str:
        parts = []
        for name in self.procs:
            path = self.workdir / f"{name}.log"
            if path.exists():
                parts.append(f"----- {name}.log -----\n{path.read_text(errors='replace')[-20000:]}")
        return "\n".join(parts)


def _start(stack: Stack, name: str, argv: list[str]) -> None:
    log = (stack.workdir / f"{name}.log").open("wb")
    stack.procs[name] = subprocess.Popen(
        argv, cwd=REPO_ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT
    )


def _wait_healthy(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited {proc.returncode}\n{stack.logs()}")
        try:
            if stack.call("GET", "/api/v1/health/").status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"API not healthy after {timeout}s\n{stack.logs()}")


def _inventory(workdir: Path) -> Path:
    """A copy of the repo's inventory that tests may edit by hand, as ops would."""
    inventory = workdir / "inventory"
    shutil.copytree(REPO_ROOT / "inventory", inventory)
    return inventory


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


@contextmanager
def running_stack(
    workdir: Path,
    *,
    with_worker: bool = True,
    gunicorn_workers: int = 2,
    edit_inventory: Callable[[Path], None] | None = None,
) -> Iterator[Stack]:
    """gunicorn (and the RQ worker unless with_worker=False) on a fresh database and queue.

    edit_inventory may change the stack's copy of the inventory before anything reads it.
    Afterwards the processes are stopped, the database dropped and the queue's keys removed.
    """
    db_name = f"virtflow_e2e_{uuid.uuid4().hex[:8]}"
    db_url = recreate_database(db_name)
    migrate(db_url)
    inventory = _inventory(workdir)
    if edit_inventory is not None:
        edit_inventory(inventory)
    env = {
        **os.environ,
        "VIRTFLOW_DATABASE_URL": db_url,
        "VIRTFLOW_QUEUE": f"virtflow-e2e-{uuid.uuid4().hex[:8]}",
        "VIRTFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "VIRTFLOW_ADMIN_USERNAME": "e2e-admin",
        "VIRTFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "VIRTFLOW_STATE_DIR": str(workdir / "state"),
        "VIRTFLOW_INVENTORY": str(inventory),
        "VIRTFLOW_JOB_TIMEOUT": "600",
    }
    port = free_port()
    stack = Stack(
        f"http://127.0.0.1:{port}",
        env["VIRTFLOW_ADMIN_USERNAME"],
        env["VIRTFLOW_ADMIN_PASSWORD"],
        workdir,
        env,
    )
    virtflow = str(VENV_BIN / "virtflow")
    try:
        subprocess.run([virtflow, "admin", "ensure"], env=env, check=True, cwd=REPO_ROOT)
        _start(
            stack,
            "gunicorn",
            [
                str(VENV_BIN / "python"),
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(gunicorn_workers),
                "--no-control-socket",  # stacks must not share /root/.gunicorn/gunicorn.ctl
                "api.wsgi:app",
            ],
        )
        if with_worker:
            _start(stack, "worker", [virtflow, "worker"])
        _wait_healthy(stack)
        yield stack
    finally:
        for proc in stack.procs.values():
            proc.terminate()
        for proc in stack.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        print(stack.logs())
        drop_database(db_name)
        _drop_queue(env["VIRTFLOW_QUEUE"])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if shutil.which("virsh") is None or virsh("version").returncode != 0:
        pytest.fail("libvirt is not usable: run `make test`, which prepares the local host")
    with running_stack(tmp_path_factory.mktemp("e2e")) as stack:
        yield stack


def _drop_queue(name: str) -> None:
    """Remove the queue, its registries and the jobs they still hold (never run, or failed)."""
    from redis import Redis

    conn = Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(conn.scan_iter(f"rq:*{name}*"))
    job_ids: set[str] = set()
    for key in keys:
        kind = conn.type(key)
        if kind == b"list":
            job_ids.update(v.decode() for v in conn.lrange(key, 0, -1))
        elif kind == b"zset":
            job_ids.update(v.decode() for v in conn.zrange(key, 0, -1))
    for job_id in job_ids:
        conn.delete(f"rq:job:{job_id}", f"rq:job:{job_id}:dependents", f"rq:results:{job_id}")
    for key in keys:
        conn.delete(key)
    conn.srem("rq:queues", f"rq:queue:{name}")


def _drop_database(name: str) -> None:
    import psycopg

    from tests.conftest import ADMIN_URL

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
