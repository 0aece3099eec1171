"""The tenant CLI's Idempotency-Key: each VM command sends a key of its own (or the one given)
and sends a request whose answer was lost again with it, so a retry never makes a second VM."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import cli
from api.cli_user import exits
from api.cli_user import session as cli_session
from api.models import Job, Tenant
from tests.api.conftest import counts, settle_running
from tests.conftest import Factory

KEY = "Idempotency-Key"


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant()


class LossyTransport(httpx.BaseTransport):
    """The app over WSGI; the answers to the first `lose` POSTs are lost after the app has
    handled them (as by a dropped connection). Records each POST's Idempotency-Key."""

    def __init__(self, app: Flask, lose: int) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.lose = lose
        self.keys: list[str | None] = []
        self.replayed: list[bool] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "POST":
            return response
        self.keys.append(request.headers.get(KEY))
        self.replayed.append(response.headers.get("Idempotent-Replayed") == "true")
        if self.lose > 0:
            self.lose -= 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.fixture
def cli_as_member(
    monkeypatch: pytest.MonkeyPatch, make: Factory, tenant: Tenant, tmp_path: Path
) -> Callable[..., Result]:
    """The CLI as a member of tenant (VIRTFLOW_TOKEN), its lost answers retried at once."""
    member = make.user()
    make.member(member, tenant, "tenant_user")
    token = make.headers(member)["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("VIRTFLOW_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("VIRTFLOW_URL", "http://virtflow.test")
    monkeypatch.setenv("VIRTFLOW_TOKEN", token)
    monkeypatch.setattr(cli_session, "RETRY_PAUSES", (0.0, 0.0))
    return lambda *args: CliRunner().invoke(cli.main, list(args))


def cli_create(run: Callable[..., Result], tenant: Tenant, *extra: str) -> Result:
    return run(
        "vm", "create", "--tenant", str(tenant.id), "--name", "web", "--vcpus", "1",
        "--ram-mb", "64", "--disk-gb", "1", "-o", "json", *extra,
    )  # fmt: skip


def test_idempotency_cli_create_retries_a_lost_answer_with_its_key(
    app: Flask, monkeypatch: pytest.MonkeyPatch, cli_as_member: Callable[..., Result],
    db: Session, tenant: Tenant,
) -> None:  # fmt: skip
    lossy = LossyTransport(app, lose=1)
    monkeypatch.setattr(cli_session, "TRANSPORT", lossy)
    result = cli_create(cli_as_member, tenant)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "web"
    [key, again] = lossy.keys
    assert key is not None and again == key and uuid.UUID(key)
    assert lossy.replayed == [False, True]
    assert counts(db) == (1, 1)


def test_idempotency_cli_gives_up_naming_its_key_and_a_rerun_with_it_is_done_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch, cli_as_member: Callable[..., Result],
    db: Session, tenant: Tenant,
) -> None:  # fmt: skip
    lossy = LossyTransport(app, lose=3)
    monkeypatch.setattr(cli_session, "TRANSPORT", lossy)
    lost = cli_create(cli_as_member, tenant)
    assert lost.exit_code == exits.UNAVAILABLE
    assert len(set(lossy.keys)) == 1 and len(lossy.keys) == 3
    key = lossy.keys[0]
    assert f"--idempotency-key {key}" in lost.stderr
    rerun = cli_create(cli_as_member, tenant, "--idempotency-key", str(key))
    assert rerun.exit_code == 0, rerun.output
    assert lossy.replayed[-1] is True
    assert counts(db) == (1, 1)


def test_idempotency_cli_each_command_has_a_key_of_its_own(
    app: Flask, monkeypatch: pytest.MonkeyPatch, cli_as_member: Callable[..., Result],
    db: Session, tenant: Tenant,
) -> None:  # fmt: skip
    lossy = LossyTransport(app, lose=0)
    monkeypatch.setattr(cli_session, "TRANSPORT", lossy)
    vm_id = json.loads(cli_create(cli_as_member, tenant).stdout)["id"]
    settle_running(db, {"id": vm_id, "job_id": str(db.scalars(select(Job.id)).one())})
    assert cli_as_member("vm", "stop", vm_id, "--force").exit_code == 0
    assert len(set(lossy.keys)) == 2 and None not in lossy.keys
