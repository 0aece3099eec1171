"""The tenant's commands (`virtflow login|logout|vm|job|quota`, api/cli_user) against the app in
this process, through the generated client over an httpx WSGI transport: output formats, the
token cache, and every exit code. A VM's jobs run when the CLI first reads them, with the
playbook runs faked, so `--wait` and `--follow` run their real loops. The real path (gunicorn,
a worker, KVM) is tests/e2e/test_user_cli.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask_jwt_extended import create_access_token
from sqlalchemy.orm import Session, sessionmaker

from api import cli
from api.cli_user import exits, progress, session
from api.client.models import Job
from api.models import VM, Tenant, User
from api.models import Job as JobRow
from api.services import jobs
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import fake_worker
from tests.conftest import PASSWORD, Factory
from tests.helpers.runner_fakes import FakeRunner, failed_events, success_events

BASE = "http://virtflow.test"
JOB_PATH = re.compile(r"^/api/v1/job/([0-9a-f-]{36})/$")
# What a successful run of each VM job reports about the domain, and the job function.
RUNS: dict[str, tuple[str, Callable[[str], str]]] = {
    "vm.create": ("running", vm_jobs.provision),
    "vm.stop": ("stopped", vm_jobs.stop),
    "vm.start": ("running", vm_jobs.start),
    "vm.reboot": ("running", vm_jobs.reboot),
    "vm.resize": ("stopped", vm_jobs.resize),
    "vm.delete": ("absent", vm_jobs.destroy),
}


class WorkerTransport(httpx.BaseTransport):
    """The app over WSGI; a queued VM job runs (fake playbook) when a client first reads it,
    as if a worker had taken it meanwhile."""

    def __init__(self, app: Flask, db: Session, worker: FakeRunner) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.db = db
        self.worker = worker
        self.fail = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        found = JOB_PATH.match(request.url.path)
        if request.method == "GET" and found:
            self.run(uuid.UUID(found.group(1)))
        return self.inner.handle_request(request)

    def run(self, job_id: uuid.UUID) -> None:
        job = self.db.get(JobRow, job_id)
        if job is None or job.status != "queued" or job.kind not in RUNS:
            return
        state, function = RUNS[job.kind]
        vm = self.db.get(VM, job.vm_id)
        domain = vm.domain_name if vm else ""
        self.worker.events = failed_events() if self.fail else success_events(domain, state)
        self.worker.status, self.worker.rc = ("failed", 2) if self.fail else ("successful", 0)
        function(str(job_id))
        self.db.expire_all()


@pytest.fixture
def transport(
    app: Flask,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> WorkerTransport:
    return WorkerTransport(app, db, fake_worker(monkeypatch, sessions, settings))


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: WorkerTransport) -> Path:
    """The CLI's environment: its own config dir, the app's URL, no token in the environment."""
    monkeypatch.setenv("VIRTFLOW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VIRTFLOW_URL", BASE)
    monkeypatch.delenv("VIRTFLOW_TOKEN", raising=False)
    monkeypatch.setattr(session, "TRANSPORT", transport)
    monkeypatch.setattr(progress, "POLL_SECONDS", 0)
    return tmp_path / "config"


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant("cli-co")


@pytest.fixture
def alice(make: Factory, tenant: Tenant) -> User:
    user = make.user("alice")
    make.member(user, tenant, "tenant_user")
    return user


def virtflow(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), input=stdin)


@pytest.fixture
def logged_in(config_dir: Path, alice: User) -> User:
    result = virtflow("login", "--username", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return alice


def data_of(result: Result) -> Any:
    """The one JSON document a --output json command printed on stdout."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_error_line(result: Result) -> str:
    """The error as printed: one line on stderr, no traceback."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("virtflow: ")
    return lines[0]


def create(name: str = "web", *extra: str) -> Result:
    return virtflow(
        "vm", "create", "--tenant", "cli-co", "--name", name, "--vcpus", "1",
        "--ram-mb", "64", "--disk-gb", "1", *extra,
    )  # fmt: skip


def test_user_cli_login_caches_the_token_readable_by_its_owner_only(
    config_dir: Path, alice: User
) -> None:
    result = virtflow("login", "--username", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    path = config_dir / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cached = json.loads(path.read_text())
    assert (cached["url"], cached["username"]) == (BASE, "alice")
    assert cached["access_token"] and cached["refresh_token"]
    assert data_of(virtflow("vm", "list", "-o", "json")) == []


def test_user_cli_login_prompts_for_username_and_password(config_dir: Path, alice: User) -> None:
    result = virtflow("login", stdin=f"alice\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert (config_dir / "token.json").exists()
    assert PASSWORD not in result.output  # the password prompt does not echo


def test_user_cli_login_with_a_wrong_password_exits_3(config_dir: Path, alice: User) -> None:
    result = virtflow("login", "-u", "alice", "--password-stdin", stdin="wrong-password-123\n")
    assert result.exit_code == exits.AUTH
    assert "INVALID_CREDENTIALS" in one_error_line(result)
    assert not (config_dir / "token.json").exists()


def test_user_cli_without_a_login_exits_3(config_dir: Path) -> None:
    result = virtflow("vm", "list")
    assert result.exit_code == exits.AUTH
    assert "not logged in" in one_error_line(result)


def test_user_cli_bad_token_in_the_environment_exits_3(
    logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTFLOW_TOKEN", "not-a-token")  # the environment wins over the cache
    result = virtflow("vm", "list")
    assert result.exit_code == exits.AUTH
    assert "TOKEN_INVALID" in one_error_line(result)


def test_user_cli_environment_token_wins_over_the_cache(
    config_dir: Path, make: Factory, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.save_cache(session.CachedLogin(BASE, "alice", "stale-token"))
    monkeypatch.setenv("VIRTFLOW_TOKEN", make.headers(alice)["Authorization"].split()[1])
    assert data_of(virtflow("vm", "list", "-o", "json")) == []


def test_user_cli_expired_cached_token_is_refreshed_once(
    logged_in: User, config_dir: Path, app: Flask
) -> None:
    path = config_dir / "token.json"
    cached = json.loads(path.read_text())
    with app.app_context():
        cached["access_token"] = create_access_token(
            identity=str(logged_in.id), expires_delta=dt.timedelta(seconds=-1)
        )
    path.write_text(json.dumps(cached))
    assert data_of(virtflow("vm", "list", "-o", "json")) == []
    renewed = json.loads(path.read_text())
    assert renewed["access_token"] != cached["access_token"]
    assert renewed["refresh_token"] == cached["refresh_token"]


def test_user_cli_logout_revokes_the_session_and_removes_the_cache(
    logged_in: User, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = json.loads((config_dir / "token.json").read_text())["access_token"]
    result = virtflow("logout")
    assert result.exit_code == 0, result.output
    assert not (config_dir / "token.json").exists()
    monkeypatch.setenv("VIRTFLOW_TOKEN", token)
    revoked = virtflow("vm", "list")
    assert revoked.exit_code == exits.AUTH
    assert "TOKEN_REVOKED" in one_error_line(revoked)


def test_user_cli_vm_lifecycle_with_wait(logged_in: User) -> None:
    created = data_of(create("web", "--wait", "-o", "json"))
    assert (created["name"], created["status"]) == ("web", "running")
    assert created["baremetal"] in ("bm-a", "bm-b")
    vm_id = created["id"]

    listed = virtflow("vm", "list", "--tenant", "cli-co", "--status", "running")
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split() == [
        "id",
        "name",
        "status",
        "vcpus",
        "ram_mb",
        "disk_gb",
        "baremetal",
        "tenant_id",
    ]
    assert row.split()[:4] == [vm_id, "web", "running", "1"]
    assert [vm["id"] for vm in data_of(virtflow("vm", "list", "--name", "web", "-o", "json"))] == [
        vm_id
    ]

    shown = virtflow("vm", "show", vm_id)
    assert shown.exit_code == 0, shown.output
    assert re.search(r"^status +running$", shown.stdout, re.MULTILINE), shown.stdout
    assert data_of(virtflow("vm", "show", vm_id, "-o", "json"))["id"] == vm_id

    assert data_of(virtflow("vm", "stop", vm_id, "--wait", "-o", "json"))["status"] == "stopped"
    assert data_of(virtflow("vm", "start", vm_id, "--wait", "-o", "json"))["status"] == "running"
    rebooted = data_of(
        virtflow("vm", "reboot", vm_id, "--hard", "--timeout", "5", "--wait", "-o", "json")
    )
    assert rebooted["status"] == "running"
    job = data_of(virtflow("job", "show", rebooted["job_id"], "-o", "json"))
    assert (job["kind"], job["status"]) == ("vm.reboot", "successful")
    deleted = data_of(virtflow("vm", "delete", vm_id, "--wait", "-o", "json"))
    assert (deleted["status"], deleted["deleted_at"] is not None) == ("deleted", True)


def test_user_cli_vm_resize_with_wait(logged_in: User) -> None:
    vm_id = data_of(create("web", "--wait", "-o", "json"))["id"]
    # Only a stopped VM is resized: 409 is exit 5, naming the status.
    refused = virtflow("vm", "resize", vm_id, "--vcpus", "2")
    assert refused.exit_code == exits.CONFLICT
    assert "cannot resize VM web while it is running" in one_error_line(refused)
    virtflow("vm", "stop", vm_id, "--wait")
    resized = data_of(
        virtflow("vm", "resize", vm_id, "--vcpus", "2", "--disk-gb", "3", "--wait", "-o", "json")
    )
    assert (resized["status"], resized["vcpus"], resized["ram_mb"], resized["disk_gb"]) == (
        "stopped",
        2,
        64,
        3,
    )
    # Nothing to change is a usage error; a smaller disk is refused by the API (422: exit 2).
    assert virtflow("vm", "resize", vm_id).exit_code == exits.USAGE
    shrink = virtflow("vm", "resize", vm_id, "--disk-gb", "1")
    assert shrink.exit_code == exits.USAGE
    assert "A disk only grows" in one_error_line(shrink)


def test_user_cli_vm_create_without_wait_answers_pending(logged_in: User) -> None:
    created = data_of(create("web", "-o", "json"))
    assert created["status"] == "pending" and created["job_id"]


def test_user_cli_delete_wait_of_a_vm_whose_create_never_ran_exits_0(logged_in: User) -> None:
    created = data_of(create("web", "-o", "json"))
    deleted = virtflow("vm", "delete", created["id"], "--wait", "-o", "json")
    assert deleted.exit_code == 0, deleted.output
    assert data_of(deleted)["status"] == "deleted"


def test_user_cli_wait_exits_1_when_the_job_fails(
    logged_in: User, transport: WorkerTransport
) -> None:
    transport.fail = True
    result = create("web", "--wait", "-o", "json")
    assert result.exit_code == exits.FAILED
    assert json.loads(result.stdout)["status"] == "error"  # the VM as the job left it
    line = one_error_line(result)
    assert "vm.create" in line and "ended failed" in line and "is error" in line


def test_user_cli_job_show_and_events(logged_in: User) -> None:
    created = data_of(create("web", "--wait", "-o", "json"))
    job = data_of(virtflow("job", "show", created["job_id"], "-o", "json"))
    assert (job["kind"], job["status"]) == ("vm.create", "successful")
    assert job["progress"]["host_tasks_done"] == 2

    table = virtflow("job", "events", created["job_id"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["counter", "event", "host", "status", "changed", "task"]
    assert "Start the domain" in lines[6]
    events = data_of(virtflow("job", "events", created["job_id"], "-o", "json"))
    assert [e["counter"] for e in events] == list(range(1, 8))


def test_user_cli_job_events_follow_prints_every_event_and_the_job_result(
    logged_in: User, transport: WorkerTransport
) -> None:
    job_id = data_of(create("web", "-o", "json"))["job_id"]  # queued: runs when followed
    followed = virtflow("job", "events", job_id, "--follow", "-o", "json")
    assert [e["counter"] for e in data_of(followed)] == list(range(1, 8))

    transport.fail = True
    failing = data_of(create("db", "-o", "json"))["job_id"]
    result = virtflow("job", "events", failing, "--follow")
    assert result.exit_code == exits.FAILED
    assert len(result.stdout.splitlines()) == 1 + 5  # the header and each event
    assert f"job {failing} ended failed" in one_error_line(result)


def test_user_cli_quota_show(logged_in: User, tenant: Tenant) -> None:
    assert create("web").exit_code == 0
    quota = data_of(virtflow("quota", "show", "cli-co", "-o", "json"))
    assert quota["tenant_id"] == str(tenant.id)
    assert quota["resources"]["vcpus"]["used"] == 1
    table = virtflow("quota", "show", str(tenant.id))
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[1].split() == ["vcpus", "10000", "1", "9999"]


def test_user_cli_unknown_vm_exits_4(logged_in: User) -> None:
    result = virtflow("vm", "show", str(uuid.uuid4()))
    assert result.exit_code == exits.NOT_FOUND
    assert "NOT_FOUND" in one_error_line(result)


def test_user_cli_unknown_tenant_name_exits_4(logged_in: User) -> None:
    result = virtflow("quota", "show", "nobody-co")
    assert result.exit_code == exits.NOT_FOUND
    assert "no tenant named 'nobody-co'" in one_error_line(result)


def test_user_cli_forbidden_exits_4(config_dir: Path, make: Factory, tenant: Tenant) -> None:
    viewer = make.user("victor")
    make.member(viewer, tenant, "viewer")
    virtflow("login", "-u", "victor", "--password-stdin", stdin=PASSWORD + "\n")
    result = create("web")
    assert result.exit_code == exits.NOT_FOUND
    assert "PERMISSION_DENIED" in one_error_line(result)


def test_user_cli_start_of_a_running_vm_exits_5(logged_in: User) -> None:
    vm_id = data_of(create("web", "--wait", "-o", "json"))["id"]
    result = virtflow("vm", "start", vm_id)
    assert result.exit_code == exits.CONFLICT
    assert "INVALID_STATE" in one_error_line(result)


def test_user_cli_over_quota_exits_5_with_the_details(config_dir: Path, make: Factory) -> None:
    small = make.tenant("small-co", quota={"vcpus": 1})
    make.member(make.user("sam"), small, "tenant_user")
    virtflow("login", "-u", "sam", "--password-stdin", stdin=PASSWORD + "\n")
    result = virtflow(
        "vm", "create", "--tenant", "small-co", "--name", "big", "--vcpus", "2",
        "--ram-mb", "64", "--disk-gb", "1",
    )  # fmt: skip
    assert result.exit_code == exits.CONFLICT
    line = one_error_line(result)
    assert "QUOTA_EXCEEDED" in line and '"limit": 1' in line


def test_user_cli_invalid_request_exits_2(logged_in: User) -> None:
    result = create("Not A Slug")
    assert result.exit_code == exits.USAGE
    assert "VALIDATION_ERROR" in one_error_line(result)


def test_user_cli_usage_error_exits_2(logged_in: User) -> None:
    assert virtflow("vm", "create", "--name", "web").exit_code == exits.USAGE
    assert virtflow("vm", "show", "not-a-uuid").exit_code == exits.USAGE


def test_user_cli_unavailable_dependency_exits_6(
    logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {
        "status": "error",
        "error": {
            "code": "DEPENDENCY_UNAVAILABLE",
            "message": "The database is unavailable; retry later.",
            "details": {"dependency": "database"},
        },
        "meta": {"request_id": "req-503"},
    }
    down = httpx.MockTransport(
        lambda request: httpx.Response(503, json=body, headers={"X-Request-ID": "req-503"})
    )
    monkeypatch.setattr(session, "TRANSPORT", down)
    result = virtflow("vm", "list")
    assert result.exit_code == exits.UNAVAILABLE
    line = one_error_line(result)
    assert "DEPENDENCY_UNAVAILABLE" in line and "(request req-503)" in line


def test_user_cli_connection_refused_exits_6(
    logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "TRANSPORT", None)
    monkeypatch.setenv("VIRTFLOW_URL", "http://127.0.0.1:1")  # nothing listens on port 1
    monkeypatch.setenv("VIRTFLOW_TOKEN", "any")
    result = virtflow("vm", "list")
    assert result.exit_code == exits.UNAVAILABLE
    assert "cannot reach http://127.0.0.1:1" in one_error_line(result)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 2),
        (401, 3),
        (403, 4),
        (404, 4),
        (409, 5),
        (413, 2),
        (422, 2),
        (429, 6),
        (500, 6),
        (503, 6),
    ],
)
def test_user_cli_exit_code_of_each_status(status: int, code: int) -> None:
    assert exits.for_status(status) == code


def job_answer(**progress_fields: Any) -> Job:
    return Job.from_dict(
        {
            "id": "1c0f9e2a-0000-4000-8000-000000000000", "kind": "vm.create",
            "status": "running", "tenant_id": None, "vm_id": None, "baremetal_id": None,
            "playbook": "vm_create.yml", "host": "bm-a", "rc": None, "explanation": None,
            "artifacts": {}, "request_id": None, "created_at": "2026-11-30T10:00:00+00:00",
            "started_at": None, "finished_at": None, "cancel_requested_at": None,
            "progress": {"events": 5, "host_tasks_done": 1, "tasks_total": None, **progress_fields},
        }
    )  # fmt: skip


def test_progress_describe_names_the_current_task() -> None:
    line = progress.describe(job_answer(current_task="Start the domain"))
    assert line == 'vm.create 1c0f9e2a: running, task "Start the domain" (1 tasks done)'


def test_progress_describe_counts_against_the_expected_total() -> None:
    line = progress.describe(job_answer(current_task="Start the domain", tasks_total=24))
    assert line == 'vm.create 1c0f9e2a: running, task "Start the domain" (1 of ~24 tasks done)'


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_spinner_draws_on_a_tty_only(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    spinner = progress.Spinner()
    spinner.update("vm.create 1c0f9e2a: running")
    spinner.clear()
    assert tty.getvalue().startswith("\r| vm.create 1c0f9e2a: running")
    assert tty.getvalue().endswith("\r")

    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    quiet = progress.Spinner()
    quiet.update("vm.create 1c0f9e2a: running")
    quiet.clear()
    assert pipe.getvalue() == ""


def test_user_cli_job_events_reads_every_page(
    logged_in: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = data_of(create("web", "--wait", "-o", "json"))["job_id"]
    monkeypatch.setattr(progress, "EVENTS_PER_PAGE", 3)  # 7 events: pages of 3, 3 and 1
    events = data_of(virtflow("job", "events", job_id, "-o", "json"))
    assert [e["counter"] for e in events] == list(range(1, 8))


def test_user_cli_job_cancel_of_a_queued_and_of_a_running_job(logged_in: User, db: Session) -> None:
    pending = data_of(create("never", "-o", "json"))
    canceled = data_of(virtflow("job", "cancel", pending["job_id"], "--wait", "-o", "json"))
    assert (canceled["status"], canceled["explanation"]) == (
        "canceled",
        "canceled by alice before it started",
    )
    assert data_of(virtflow("vm", "show", pending["id"], "-o", "json"))["status"] == "deleted"

    vm_id = data_of(create("web", "--wait", "-o", "json"))["id"]
    stop_job = data_of(virtflow("vm", "stop", vm_id, "-o", "json"))["job_id"]
    assert jobs.claim(db, uuid.UUID(stop_job), "host:1") is not None  # a worker runs it
    db.flush()
    asked = virtflow("job", "cancel", stop_job)
    assert asked.exit_code == 0, asked.output
    assert re.search(r"^status +running$", asked.stdout, re.MULTILINE), asked.stdout
    assert re.search(r"^cancel_requested_at +\S+", asked.stdout, re.MULTILINE), asked.stdout
    again = virtflow("job", "cancel", stop_job)
    assert again.exit_code == exits.CONFLICT
    assert "a cancel of this job was already requested" in one_error_line(again)
