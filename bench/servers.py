"""What bench/api.py runs against, started by itself as the test suite does (tests/helpers/stack.py):
a throwaway database migrated by its owner, a throwaway queue name, a generated inventory of fake
hosts synced by `virtflow inventory sync`, the API served by `virtflow serve` (gunicorn, its
default 2 sync workers) and a bare Flask app on the same gunicorn arguments. No RQ worker: the
creates are only queued. Everything is stopped, dropped and removed afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from api.cli import _gunicorn_args
from api.settings import REPO_ROOT
from bench.load import Call, send
from tests.conftest import drop_database, migrate, recreate_database
from tests.helpers.stack import SHARED_REDIS, drop_queue, free_port

VENV_BIN = Path(sys.executable).parent
WORKERS = 2  # `virtflow serve`'s default
# Declared capacity of each fake host: roomy enough for the seeded VMs and every create.
HOST_VARS = {
    "ansible_connection": "local",
    "virtflow_capacity_vcpus": 256,
    "virtflow_capacity_ram_mb": 1_048_576,
    "virtflow_capacity_disk_gb": 20_000,
}


def write_inventory(directory: Path, hosts: int) -> Path:
    """An inventory directory whose baremetal group has `hosts` hosts that are never contacted."""
    directory.mkdir(parents=True)
    lines = ["all:", "  children:", "    baremetal:", "      vars:"]
    lines += [f"        {key}: {value}" for key, value in HOST_VARS.items()]
    lines.append("      hosts:")
    lines += [f"        bench-h{k:04d}:" for k in range(hosts)]
    (directory / "hosts.yml").write_text("\n".join(lines) + "\n")
    return directory


@dataclass
class BenchStack:
    workdir: Path
    db_name: str
    owner_url: str
    env: dict[str, str]
    admin_password: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def owner_dsn(self) -> str:
        """The owner's URL for psycopg (no SQLAlchemy driver suffix)."""
        return self.owner_url.replace("postgresql+psycopg://", "postgresql://")

    def virtflow(self, *args: str) -> None:
        log = (self.workdir / "virtflow.log").open("ab")
        subprocess.run(
            [str(VENV_BIN / "virtflow"), *args],
            env=self.env,
            cwd=REPO_ROOT,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start(self, name: str, argv: list[str], port: int, probe: Call) -> int:
        """Start a server; its pid (the gunicorn master) once probe answers below 500."""
        log = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs[name] = proc
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited {proc.returncode}: see {self.workdir}/{name}.log"
                )
            try:
                if send(port, probe, timeout=5)[0] < 500:
                    return proc.pid
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer within 60 s: see {self.workdir}/{name}.log")

    def serve_api(self, port: int) -> int:
        """`virtflow serve`, exactly as ops run it (it execs gunicorn in the same process)."""
        argv = [str(VENV_BIN / "virtflow"), "serve", "--bind", f"127.0.0.1:{port}"]
        argv += ["--workers", str(WORKERS)]
        return self.start("api", argv, port, Call("GET", "/api/v1/health/"))

    def serve_hello(self, port: int) -> int:
        """bench/hello.py on the very arguments `virtflow serve` gives gunicorn."""
        args = _gunicorn_args(f"127.0.0.1:{port}", WORKERS)
        assert args[-1] == "api.wsgi:app", args
        argv = [sys.executable, *args[:-1], "bench.hello:app"]
        return self.start("hello", argv, port, Call("POST", "/", {"name": "probe"}))

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def bench_stack(hosts: int, keep: bool = False) -> Iterator[BenchStack]:
    """A migrated throwaway database with `hosts` synced fake hosts and an admin; afterwards
    the servers are stopped, the database dropped, the queue's keys and the workdir removed."""
    workdir = Path(tempfile.mkdtemp(prefix="virtflow-bench-api-"))
    db_name = f"virtflow_bench_{uuid.uuid4().hex[:8]}"
    queue = f"virtflow-bench-{uuid.uuid4().hex[:8]}"
    owner_url = recreate_database(db_name)
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "VIRTFLOW_DATABASE_URL": migrate(owner_url),
        "VIRTFLOW_MIGRATE_DATABASE_URL": owner_url,
        "VIRTFLOW_QUEUE": queue,
        "VIRTFLOW_JWT_SECRET": secrets.token_urlsafe(48),
        "VIRTFLOW_ADMIN_USERNAME": "bench-admin",
        "VIRTFLOW_ADMIN_PASSWORD": password,
        "VIRTFLOW_STATE_DIR": str(workdir / "state"),
        "VIRTFLOW_RUN_DIR": str(workdir / "runs"),
        "VIRTFLOW_INVENTORY": str(write_inventory(workdir / "inventory", hosts)),
    }
    env.pop("VIRTFLOW_METRICS_TOKEN", None)  # the default: metrics off
    stack = BenchStack(workdir, db_name, owner_url, env, password)
    try:
        stack.virtflow("admin", "ensure")
        stack.virtflow("inventory", "sync")
        yield stack
    finally:
        for name in list(stack.procs):
            stack.stop(name)
        drop_database(db_name)
        _drop_redis_keys(queue, env.get("VIRTFLOW_REDIS_URL", SHARED_REDIS))
        if keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _drop_redis_keys(queue: str, url: str) -> None:
    """The queue and its jobs, and the login limiter's keys (prefixed with the queue's name)."""
    drop_queue(queue, url)
    conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    for key in conn.scan_iter(f"{queue}:*"):
        conn.delete(key)


__all__ = ["BenchStack", "bench_stack", "free_port"]
