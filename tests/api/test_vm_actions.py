"""GET /api/v1/vm/{id}/action/: a VM's history, through the API with jobs run by a fake worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import cli
from api.cli_user import session as cli_session
from api.models import VM, AuditLog, Baremetal, Job, JobStatus
from api.services import libvirt_state
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import create_vm, fake_worker
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.libvirt_domains import domain, report, started
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner, success_events

Headers = dict[str, str]
# What a successful run of each job reports about the domain, and the job function.
RUNS: dict[str, tuple[str, Callable[[str], str]]] = {
    "vm.create": ("running", vm_jobs.provision),
    "vm.stop": ("stopped", vm_jobs.stop),
    "vm.start": ("running", vm_jobs.start),
}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


def run(db: Session, worker: FakeRunner, job_id: str) -> None:
    """The queued job run by a worker, its playbook succeeding."""
    db.flush()
    job = db.get_one(Job, uuid.UUID(job_id))
    state, function = RUNS[job.kind]
    vm = db.get_one(VM, job.vm_id)
    worker.events = success_events(vm.domain_name, state)
    assert function(job_id) == "successful"
    db.expire_all()


def act(client: FlaskClient, vm_id: str, action: str, headers: Headers) -> str:
    """POST a power action that must be accepted; returns its job id."""
    resp = client.post(f"/api/v1/vm/{vm_id}/{action}/", json={}, headers=headers)
    assert resp.status_code == 202, resp.get_json()
    job_id: str = resp.get_json()["data"]["job_id"]
    return job_id


def out_of_band_stop(db: Session, vm_id: str) -> Job:
    """libvirt reports the VM's domain shut off, and the reconciler follows (a host check)."""
    vm = db.get_one(VM, uuid.UUID(vm_id))
    host = db.get_one(Baremetal, vm.baremetal_id)
    check = started(db, libvirt_state.request_host_check(db, host))
    parsed = libvirt_state.parse_report(report(host.name, [domain(vm, "shutoff")]))
    assert parsed is not None
    assert len(libvirt_state.reconcile(db, check, parsed)) == 1
    db.flush()
    return check


def actions(client: FlaskClient, vm_id: object, headers: Headers, **query: Any) -> Any:
    resp = client.get(f"/api/v1/vm/{vm_id}/action/", headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.fixture
def lived(client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner) -> dict[str, Any]:
    """A VM of tenant A that user_a created, stopped, started (one start canceled, one run);
    then libvirt stopped it behind VirtFlow's back; then the admin force-deleted it."""
    vm = create_vm(client, cast.h("user_a"), cast.a.id, "hist")
    run(db, worker, vm["job_id"])
    stop = act(client, vm["id"], "stop", cast.h("user_a"))
    run(db, worker, stop)
    canceled = act(client, vm["id"], "start", cast.h("user_a"))
    resp = client.post(f"/api/v1/job/{canceled}/cancel/", headers=cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    start = act(client, vm["id"], "start", cast.h("user_a"))
    run(db, worker, start)
    check = out_of_band_stop(db, vm["id"])
    resp = client.delete(
        f"/api/v1/vm/{vm['id']}/", headers=cast.h("admin"), query_string={"force": "true"}
    )
    assert resp.status_code == 200, resp.get_json()
    return {
        "vm": vm,
        "jobs": [vm["job_id"], stop, canceled, start],
        "check": str(check.id),
        "force_request": resp.headers["X-Request-ID"],
    }


def test_vm_actions_list_the_life_of_a_vm_newest_first(
    client: FlaskClient, cast: Personas, lived: dict[str, Any]
) -> None:
    body = actions(client, lived["vm"]["id"], cast.h("user_a"))
    rows = body["data"]
    assert [(r["action"], r["result"]) for r in rows] == [
        ("vm.force_delete", "successful"),
        ("vm.reconcile", "out_of_band"),
        ("vm.start", "successful"),
        ("vm.start", "canceled"),
        ("vm.stop", "successful"),
        ("vm.create", "successful"),
    ]
    assert body["meta"]["pagination"] == {"page": 1, "per_page": 50, "total": 6, "pages": 1}
    force, reconcile = rows[0], rows[1]
    admin = cast.users["admin"]
    assert force["actor"] == {"id": str(admin.id), "username": admin.username}
    assert (force["source"], force["request_id"], force["job_id"]) == (
        "api",
        lived["force_request"],
        None,
    )
    assert (force["status_before"], force["status_after"]) == ("stopped", "deleted")
    assert force["message"].startswith(f"force-deleted by {admin.username}")
    assert (reconcile["actor"], reconcile["source"], reconcile["job_id"]) == (
        None,
        "reconciler",
        lived["check"],
    )
    assert (reconcile["status_before"], reconcile["status_after"]) == ("running", "stopped")
    assert reconcile["message"] == "libvirt reported the domain shutoff"
    requested = [r["requested_at"] for r in rows]
    assert requested == sorted(requested, reverse=True)


def test_vm_actions_carry_each_job_status_times_request_and_actor(
    client: FlaskClient, cast: Personas, db: Session, lived: dict[str, Any]
) -> None:
    rows = actions(client, lived["vm"]["id"], cast.h("user_a"))["data"]
    by_job = {r["job_id"]: r for r in rows if r["audit_id"] is None}
    assert set(by_job) == set(lived["jobs"])
    user_a = cast.users["user_a"]
    for job_id in lived["jobs"]:
        job = db.get_one(Job, uuid.UUID(job_id))
        row = by_job[job_id]
        assert job.finished_at is not None  # every one of them ended
        assert (row["action"], row["result"], row["message"]) == (
            job.kind,
            job.status,
            job.explanation,
        )
        assert row["requested_at"] == job.created_at.isoformat()
        assert row["started_at"] == (job.started_at and job.started_at.isoformat())
        assert row["finished_at"] == job.finished_at.isoformat()
        assert (row["request_id"], row["source"]) == (job.request_id, "api")
        assert row["actor"] == {"id": str(user_a.id), "username": user_a.username}
    canceled = by_job[lived["jobs"][2]]
    assert (canceled["started_at"], canceled["result"]) == (None, JobStatus.CANCELED)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "vm.start"}, [("vm.start", "successful"), ("vm.start", "canceled")]),
        ({"result": "canceled"}, [("vm.start", "canceled")]),
        ({"result": "out_of_band"}, [("vm.reconcile", "out_of_band")]),
        ({"action": "vm.start", "result": "failed"}, []),
    ],
)
def test_vm_actions_filter_by_action_and_result(
    client: FlaskClient,
    cast: Personas,
    lived: dict[str, Any],
    query: dict[str, str],
    expected: list[tuple[str, str]],
) -> None:
    body = actions(client, lived["vm"]["id"], cast.h("user_a"), **query)
    assert [(r["action"], r["result"]) for r in body["data"]] == expected
    assert body["meta"]["pagination"]["total"] == len(expected)


def test_vm_actions_pages_add_up_to_the_whole_history(
    client: FlaskClient, cast: Personas, lived: dict[str, Any]
) -> None:
    whole = actions(client, lived["vm"]["id"], cast.h("user_a"))["data"]
    pages = [
        actions(client, lived["vm"]["id"], cast.h("user_a"), page=page, per_page=4)
        for page in (1, 2)
    ]
    assert [p["meta"]["pagination"] for p in pages] == [
        {"page": page, "per_page": 4, "total": 6, "pages": 2} for page in (1, 2)
    ]
    assert [len(p["data"]) for p in pages] == [4, 2]
    assert pages[0]["data"] + pages[1]["data"] == whole


def test_vm_actions_of_a_result_that_is_no_result_is_422(
    client: FlaskClient, cast: Personas
) -> None:
    resp = client.get(
        f"/api/v1/vm/{cast.vm_a}/action/",
        headers=cast.h("user_a"),
        query_string={"result": "exploded"},
    )
    assert_error(resp, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("user_a", 200), ("viewer_a", 200), ("granted", 200), ("user_b", 404)],
)
def test_vm_actions_need_vm_view(
    client: FlaskClient, cast: Personas, persona: str, status: int
) -> None:
    resp = client.get(f"/api/v1/vm/{cast.vm_a}/action/", headers=cast.h(persona))
    if status == 404:
        assert_error(resp, 404, "NOT_FOUND")
        return
    assert resp.status_code == 200, resp.get_json()
    [create] = resp.get_json()["data"]
    assert (create["action"], create["result"]) == ("vm.create", "queued")


def test_vm_actions_of_another_tenants_vm_or_no_vm_are_404(
    client: FlaskClient, cast: Personas
) -> None:
    for vm_id in (cast.vm_b, uuid.uuid4()):
        resp = client.get(f"/api/v1/vm/{vm_id}/action/", headers=cast.h("user_a"))
        assert_error(resp, 404, "NOT_FOUND")


def test_vm_actions_of_a_deleted_vm_stay_readable_by_its_tenant(
    client: FlaskClient, cast: Personas, db: Session, lived: dict[str, Any]
) -> None:
    vm = db.get_one(VM, uuid.UUID(lived["vm"]["id"]))
    assert vm.status == "deleted"
    # As GET /vm/{id}/ does: the viewer of the tenant still sees the deleted VM, and its past.
    resp = client.get(f"/api/v1/vm/{vm.id}/", headers=cast.h("viewer_a"))
    assert resp.status_code == 200
    assert len(actions(client, vm.id, cast.h("viewer_a"))["data"]) == 6


def test_vm_actions_of_a_vm_deleted_before_its_create_ran_show_the_delete(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = create_vm(client, cast.h("user_a"), cast.a.id, "brief")
    resp = client.delete(f"/api/v1/vm/{vm['id']}/", headers=cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    rows = actions(client, vm["id"], cast.h("user_a"))["data"]
    assert [(r["action"], r["result"], r["job_id"]) for r in rows] == [
        ("vm.delete", "successful", None),
        ("vm.create", "canceled", vm["job_id"]),
    ]
    assert rows[0]["status_after"] == "deleted"
    assert rows[0]["request_id"] == resp.headers["X-Request-ID"]


def test_vm_actions_leave_out_refused_requests(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    resp = client.post(f"/api/v1/vm/{cast.vm_a}/stop/", json={}, headers=cast.h("viewer_a"))
    assert_error(resp, 403, "PERMISSION_DENIED")
    denied = db.scalars(select(AuditLog).where(AuditLog.action == "vm.stop")).one()
    assert (denied.outcome, denied.object_id) == ("denied", str(cast.vm_a))
    # Refused requests are the audit log's business, not the VM's history.
    rows = actions(client, cast.vm_a, cast.h("user_a"))["data"]
    assert [r["action"] for r in rows] == ["vm.create"]


@pytest.fixture
def cli_as_user_a(
    app: Flask, cast: Personas, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Result]:
    """`virtflow ...` as user_a, against the app over WSGI (VIRTFLOW_TOKEN: no login)."""
    token = cast.h("user_a")["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("VIRTFLOW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VIRTFLOW_URL", "http://virtflow.test")
    monkeypatch.setenv("VIRTFLOW_TOKEN", token)
    monkeypatch.setattr(cli_session, "TRANSPORT", httpx.WSGITransport(app=app))
    return lambda *args: CliRunner().invoke(cli.main, list(args))


def test_cli_vm_actions_prints_the_history(
    cli_as_user_a: Callable[..., Result], lived: dict[str, Any]
) -> None:
    vm_id = lived["vm"]["id"]
    result = cli_as_user_a("vm", "actions", vm_id, "--output", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["action"], r["result"]) for r in rows][:2] == [
        ("vm.force_delete", "successful"),
        ("vm.reconcile", "out_of_band"),
    ]
    assert len(rows) == 6
    table = cli_as_user_a("vm", "actions", vm_id, "--result", "canceled")
    assert table.exit_code == 0, table.output
    header, line = table.stdout.splitlines()
    assert header.split() == ["requested_at", "action", "result", "by", "job_id", "message"]
    assert line.split()[1:5] == ["vm.start", "canceled", "user-a", lived["jobs"][2]]
    reconciled = cli_as_user_a("vm", "actions", vm_id, "--action", "vm.reconcile")
    assert reconciled.stdout.splitlines()[1].split()[1:4] == [
        "vm.reconcile",
        "out_of_band",
        "reconciler",
    ]


def test_cli_vm_actions_of_another_tenants_vm_exits_4(
    cli_as_user_a: Callable[..., Result], cast: Personas
) -> None:
    result = cli_as_user_a("vm", "actions", str(cast.vm_b))
    assert result.exit_code == 4, result.output


def test_vm_actions_count_an_idempotent_replay_once(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    """A stop sent again with its Idempotency-Key is answered again, and did nothing: one
    vm.stop, the first request's job (the replay's audit row is not a second action)."""
    run(db, worker, str(db.get_one(VM, cast.vm_a).job_id))
    headers = {**cast.h("user_a"), "Idempotency-Key": f"stop-{uuid.uuid4().hex}"}
    first = client.post(f"/api/v1/vm/{cast.vm_a}/stop/", json={}, headers=headers)
    again = client.post(f"/api/v1/vm/{cast.vm_a}/stop/", json={}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202), again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    replay = db.scalars(
        select(AuditLog).where(AuditLog.request_id == again.headers["X-Request-ID"])
    ).one()
    assert (replay.action, replay.outcome, replay.object_id) == (
        "vm.stop",
        "success",
        str(cast.vm_a),
    )
    rows = actions(client, cast.vm_a, cast.h("user_a"))["data"]
    assert [r["action"] for r in rows] == ["vm.stop", "vm.create"]
    assert (rows[0]["request_id"], rows[0]["job_id"]) == (
        first.headers["X-Request-ID"],
        first.get_json()["data"]["job_id"],
    )
