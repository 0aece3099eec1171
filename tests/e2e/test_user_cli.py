"""The tenant's commands against a real stack: gunicorn, an RQ worker, PostgreSQL, Redis and
ansible-runner on the local KVM host. A tenant member logs in with `virtflow login` and drives
two tiny VMs (1 vCPU, 64 MiB, 1 GiB) through their lives; each exit code a script relies on is
provoked for real.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api import cli
from api.cli_user import exits
from tests.e2e.conftest import Stack, virsh
from tests.helpers.stack import free_port

pytestmark = pytest.mark.e2e

PASSWORD = "cli-e2e-passphrase"


@pytest.fixture(scope="module")
def tenant_name(stack: Stack) -> str:
    """A tenant, and a member `tenant_user` account in it, made by the platform admin."""
    stack.login()
    suffix = uuid.uuid4().hex[:8]
    tenant = stack.call("POST", "/api/v1/tenant/", json={"name": f"cli-{suffix}"})
    assert tenant.status_code == 201, tenant.text
    user = stack.call(
        "POST", "/api/v1/user/", json={"username": f"cli-{suffix}", "password": PASSWORD}
    )
    assert user.status_code == 201, user.text
    member = stack.call(
        "POST",
        f"/api/v1/tenant/{tenant.json()['data']['id']}/member/",
        json={"user_id": user.json()["data"]["id"], "role": "tenant_user"},
    )
    assert member.status_code == 201, member.text
    return f"cli-{suffix}"


@pytest.fixture(scope="module")
def logged_in(
    stack: Stack, tenant_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """`virtflow login` as the tenant member; the CLI's config dir, holding the cached token."""
    config = tmp_path_factory.mktemp("cli-config")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VIRTFLOW_CONFIG_DIR", str(config))
        env.delenv("VIRTFLOW_URL", raising=False)
        env.delenv("VIRTFLOW_TOKEN", raising=False)
        result = virtflow(
            "login", "--url", stack.base_url, "--username", tenant_name,
            "--password-stdin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        yield config


@pytest.fixture
def cli_env(logged_in: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test sees the module's login (monkeypatch undoes what a test changes)."""
    monkeypatch.setenv("VIRTFLOW_CONFIG_DIR", str(logged_in))
    monkeypatch.delenv("VIRTFLOW_URL", raising=False)
    monkeypatch.delenv("VIRTFLOW_TOKEN", raising=False)
    return logged_in


def virtflow(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), input=stdin)


def data_of(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("virtflow: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def create(tenant: str, name: str, *extra: str) -> Result:
    return virtflow(
        "vm", "create", "--tenant", tenant, "--name", name, "--vcpus", "1", "--ram-mb", "64",
        "--disk-gb", "1", "-o", "json", *extra,
    )  # fmt: skip


def test_user_cli_drives_a_vm_life_on_real_kvm(
    stack: Stack, cli_env: Path, tenant_name: str, cleanup_domains: list[str]
) -> None:
    created = create(tenant_name, "web", "--wait")
    vm = data_of(created)
    cleanup_domains.append(vm["domain_name"])
    assert (vm["status"], vm["baremetal"]) == ("running", "localhost"), stack.logs()
    assert virsh("domstate", vm["domain_name"]).stdout.strip() == "running"

    listed = virtflow("vm", "list", "--tenant", tenant_name)
    assert listed.exit_code == 0, listed.output
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0][:3] == ["id", "name", "status"]
    assert rows[1][:3] == [vm["id"], "web", "running"]
    as_json = data_of(virtflow("vm", "list", "--status", "running", "-o", "json"))
    assert [v["id"] for v in as_json] == [vm["id"]]

    shown = virtflow("vm", "show", vm["id"])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"^baremetal +localhost$", shown.stdout, re.MULTILINE), shown.stdout
    assert data_of(virtflow("vm", "show", vm["id"], "-o", "json"))["job_id"] == vm["job_id"]

    job = data_of(virtflow("job", "show", vm["job_id"], "-o", "json"))
    assert (job["kind"], job["status"], job["rc"]) == ("vm.create", "successful", 0)
    events = data_of(virtflow("job", "events", vm["job_id"], "-o", "json"))
    assert events[-1]["event"] == "playbook_on_stats"
    assert [e["counter"] for e in events] == sorted(e["counter"] for e in events)

    quota = data_of(virtflow("quota", "show", tenant_name, "-o", "json"))
    assert (quota["resources"]["vcpus"]["used"], quota["resources"]["vms"]["used"]) == (1, 1)
    table = virtflow("quota", "show", tenant_name)
    assert table.exit_code == 0 and "ram_mb" in table.stdout

    stopped = data_of(virtflow("vm", "stop", vm["id"], "--wait", "-o", "json"))
    assert stopped["status"] == "stopped"
    assert virsh("domstate", vm["domain_name"]).stdout.strip() == "shut off"
    started = data_of(virtflow("vm", "start", vm["id"], "--wait", "-o", "json"))
    assert started["status"] == "running"

    deleted = data_of(virtflow("vm", "delete", vm["id"], "--wait", "-o", "json"))
    assert deleted["status"] == "deleted"
    assert virsh("domstate", vm["domain_name"]).returncode != 0  # the domain is gone


def test_user_cli_follows_a_running_job_to_its_end(
    cli_env: Path, tenant_name: str, cleanup_domains: list[str]
) -> None:
    vm = data_of(create(tenant_name, "follow"))
    cleanup_domains.append(vm["domain_name"])
    assert vm["status"] == "pending"
    followed = virtflow("job", "events", vm["job_id"], "--follow")
    assert followed.exit_code == 0, followed.output
    lines = followed.stdout.splitlines()
    assert lines[0].split()[:2] == ["counter", "event"]
    assert lines[-1].split()[1] == "playbook_on_stats"
    assert data_of(virtflow("vm", "show", vm["id"], "-o", "json"))["status"] == "running"

    again = virtflow("vm", "start", vm["id"])  # a running VM: 409 INVALID_STATE
    assert again.exit_code == exits.CONFLICT
    assert "INVALID_STATE" in error_line(again)

    deleted = virtflow("vm", "delete", vm["id"], "--wait")
    assert deleted.exit_code == 0, deleted.output
    assert re.search(r"^status +deleted$", deleted.stdout, re.MULTILINE), deleted.stdout


def test_user_cli_bad_token_exits_3(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTFLOW_TOKEN", "not.a.token")
    result = virtflow("vm", "list")
    assert result.exit_code == exits.AUTH
    assert "TOKEN_INVALID" in error_line(result)


def test_user_cli_unknown_vm_exits_4(cli_env: Path) -> None:
    result = virtflow("vm", "show", str(uuid.uuid4()))
    assert result.exit_code == exits.NOT_FOUND
    assert "NOT_FOUND" in error_line(result)


def test_user_cli_server_down_exits_6(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTFLOW_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("VIRTFLOW_TOKEN", "any")
    result = virtflow("vm", "list")
    assert result.exit_code == exits.UNAVAILABLE
    assert "cannot reach" in error_line(result)
