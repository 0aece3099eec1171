"""Real processes for end-to-end and chaos tests: gunicorn serving the API and RQ workers.

A stack runs against its own freshly migrated database and its own queue, with the repo's
playbooks (or a test copy of them) and a copy of the repo's inventory, so it drives the real
local libvirt. A stack started without a worker only records work: its VMs stay pending and
libvirt is not touched until a test starts one.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
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

import psycopg
import requests
from redis import Redis

from api.cli import GUNICORN_LIMITS
from api.settings import REPO_ROOT
from tests.conftest import ADMIN_URL, drop_database, migrate, recreate_database

VENV_BIN = Path(sys.executable).parent
LIBVIRT_URI = "qemu:///system"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
FLEET_INVENTORY = "fleet.yml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def virsh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["virsh", "-c", LIBVIRT_URI, *args], capture_output=True, text=True, check=False
    )


def dominfo(name: str) -> dict[str, str]:
    """virsh dominfo of a domain of the local libvirt, as a dict."""
    out = virsh("dominfo", name)
    assert out.returncode == 0, out.stderr
    pairs = (line.partition(":") for line in out.stdout.splitlines())
    return {key.strip(): value.strip() for key, _, value in pairs if value}


def domain_disks(name: str) -> list[str]:
    """Source paths of a domain's disks, from `virsh domblklist`."""
    rows = virsh("domblklist", name).stdout.splitlines()[2:]
    return [row.split()[-1] for row in rows if row.strip()]


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.3) -> Any:
    """Poll check until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not {what} after {timeout}s")


def children(pid: int) -> list[int]:
    """Direct children of pid (the work horse of a worker)."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = []
        for task in tasks:
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return found


@dataclass
class Stack:
    base_url: str
    admin_username: str
    admin_password: str
    workdir: Path
    env: dict[str, str]
    db_name: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    @property
    def runs_dir(self) -> Path:
        return Path(self.env["VIRTFLOW_RUN_DIR"])

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        timeout = kw.pop("timeout", 30)
        return requests.request(
            method, self.base_url + path, headers=headers, timeout=timeout, **kw
        )

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

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        return self.procs[name]

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        """`virtflow worker` (it execs the RQ worker in the same process)."""
        return self.start(name, [str(VENV_BIN / "virtflow"), "worker"])

    def horse(self, name: str = "worker", timeout: float = 60) -> int:
        """The pid of the worker's work horse, once it has forked one."""
        parent = self.procs[name].pid
        return int(wait_for(f"a work horse under {name}", lambda: children(parent)[:1], timeout)[0])

    def kill_worker(self, name: str = "worker") -> None:
        """kill -9 the whole worker, as the OOM killer or a lost machine would: parent and horse."""
        proc = self.procs[name]
        horses = children(proc.pid)
        proc.kill()
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query on the stack's own database."""
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{self.db_name}"
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []


def wait_healthy(stack: Stack, timeout: float = 60) -> None:
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


def copy_inventory(workdir: Path, *, with_fleet: bool = False) -> Path:
    """A copy of the repo's inventory that tests may edit by hand, as ops would.

    A simulated fleet that happens to be up (`make fleet-up` writes inventory/fleet.yml) is
    left out unless the stack asks for it, so a stack's placement never depends on it.
    """
    inventory = workdir / "inventory"
    ignore = None if with_fleet else shutil.ignore_patterns(FLEET_INVENTORY)
    shutil.copytree(REPO_ROOT / "inventory", inventory, ignore=ignore)
    return inventory


def gunicorn_argv(port: int, workers: int) -> list[str]:
    return [
        str(VENV_BIN / "python"),
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--no-control-socket",  # stacks must not share /root/.gunicorn/gunicorn.ctl
        *GUNICORN_LIMITS,  # as `virtflow serve` runs it
        "api.wsgi:app",
    ]


@contextmanager
def running_stack(
    workdir: Path,
    *,
    with_worker: bool = True,
    gunicorn_workers: int = 2,
    edit_inventory: Callable[[Path], None] | None = None,
    env: dict[str, str] | None = None,
    prepare: tuple[str, ...] = ("localhost",),
    with_fleet: bool = False,
) -> Iterator[Stack]:
    """gunicorn (and one RQ worker unless with_worker=False) on a fresh database and queue.

    edit_inventory may change the stack's copy of the inventory before anything reads it; env
    overrides VIRTFLOW_* settings; the hosts in prepare get a real host.prepare job first;
    with_fleet keeps a simulated fleet's hosts (inventory/fleet.yml) in the stack's inventory.
    Afterwards every process is stopped, the database dropped and the queue's keys removed.
    """
    db_name = f"virtflow_e2e_{uuid.uuid4().hex[:8]}"
    owner_url = recreate_database(db_name)
    db_url = migrate(owner_url)  # the app's role, which owns nothing
    inventory = copy_inventory(workdir, with_fleet=with_fleet)
    if edit_inventory is not None:
        edit_inventory(inventory)
    stack_env = {
        **os.environ,
        "VIRTFLOW_DATABASE_URL": db_url,
        "VIRTFLOW_MIGRATE_DATABASE_URL": owner_url,
        "VIRTFLOW_QUEUE": f"virtflow-e2e-{uuid.uuid4().hex[:8]}",
        "VIRTFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "VIRTFLOW_ADMIN_USERNAME": "e2e-admin",
        "VIRTFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "VIRTFLOW_STATE_DIR": str(workdir / "state"),
        "VIRTFLOW_RUN_DIR": str(workdir / "runs"),
        "VIRTFLOW_INVENTORY": str(inventory),
        "VIRTFLOW_JOB_TIMEOUT": "600",
        **(env or {}),
    }
    port = free_port()
    stack = Stack(
        f"http://127.0.0.1:{port}",
        stack_env["VIRTFLOW_ADMIN_USERNAME"],
        stack_env["VIRTFLOW_ADMIN_PASSWORD"],
        workdir,
        stack_env,
        db_name,
    )
    try:
        virtflow = str(VENV_BIN / "virtflow")
        for command in (["admin", "ensure"], ["inventory", "sync"]):
            subprocess.run([virtflow, *command], env=stack_env, check=True, cwd=REPO_ROOT)
        for host in prepare:  # as `make setup` does: a host is placeable once prepared
            subprocess.run(
                [virtflow, "host", "prepare", host], env=stack_env, check=True, cwd=REPO_ROOT
            )
        stack.start("gunicorn", gunicorn_argv(port, gunicorn_workers))
        if with_worker:
            stack.start_worker()
        wait_healthy(stack)
        yield stack
    finally:
        stop(stack)
        print(stack.logs())
        drop_database(db_name)
        drop_queue(stack_env["VIRTFLOW_QUEUE"], stack_env.get("VIRTFLOW_REDIS_URL", SHARED_REDIS))


def stop(stack: Stack) -> None:
    for proc in stack.procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in stack.procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def drop_queue(name: str, url: str = SHARED_REDIS) -> None:
    """Remove the queue, its registries and the jobs they still hold (never run, or failed)."""
    try:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        keys = list(conn.scan_iter(f"rq:*{name}*"))
    except Exception:  # a private Redis that a test stopped: nothing left to clean
        return
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
