"""VM snapshots through the API: take, list, show, delete, revert; a fake worker runs the jobs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.models import VM, AuditLog, Job, JobKind, JobStatus, Quota, Snapshot, VMStatus
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import counts, fake_worker
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner, failed_events, success_events
from tests.helpers.snapshots import ready_snapshot

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
# vm.change: take and revert; vm.view: read; vm.delete: delete. Outsiders get 404.
CHANGE = {
    "admin": 202,
    "user_a": 202,
    "viewer_a": 403,
    "granted": 403,
    "user_b": 404,
    "nobody": 404,
}
VIEW = {"admin": 200, "user_a": 200, "viewer_a": 200, "granted": 200, "user_b": 404, "nobody": 404}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


def settle(db: Session, vm_id: uuid.UUID, status: VMStatus = VMStatus.RUNNING) -> VM:
    """The VM in status, its jobs finished (as after a worker ran them)."""
    vm = db.get_one(VM, vm_id)
    vm.status = status
    db.execute(update(Job).where(Job.vm_id == vm_id).values(status=JobStatus.SUCCESSFUL))
    db.flush()
    return vm


def reload(db: Session, model: type[Any], row_id: object) -> Any:
    db.flush()
    db.expire_all()
    return db.get_one(model, uuid.UUID(str(row_id)))


def url(vm_id: object, snapshot_id: object = None, action: str = "") -> str:
    path = f"/api/v1/vm/{vm_id}/snapshot/"
    if snapshot_id is not None:
        path += f"{snapshot_id}/"
    return path + (f"{action}/" if action else "")


def take(client: FlaskClient, vm_id: object, headers: Headers, **body: Any) -> Any:
    return client.post(url(vm_id), json={"name": "snap-1", **body}, headers=headers)


def test_snapshot_create_queues_a_take_and_the_vm_shows_snapshotting(
    client: FlaskClient, cast: Personas, db: Session, redis: Redis, settings: Settings
) -> None:
    settle(db, cast.vm_a)
    resp = take(client, cast.vm_a, cast.h("user_a"), description="before the upgrade")
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert (data["name"], data["description"], data["status"]) == (
        "snap-1",
        "before the upgrade",
        "creating",
    )
    assert (data["vm_id"], data["tenant_id"], data["power_state"]) == (
        str(cast.vm_a),
        str(cast.a.id),
        None,
    )
    vm = client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("user_a")).get_json()["data"]
    assert (vm["status"], vm["job_id"]) == ("snapshotting", data["job_id"])
    job = reload(db, Job, data["job_id"])
    assert (job.kind, job.status, job.snapshot_id) == (
        "vm.snapshot",
        "queued",
        uuid.UUID(data["id"]),
    )
    rq_job = RQJob.fetch(
        str(job.id), connection=Queue(settings.queue_name, connection=redis).connection
    )
    assert rq_job.func_name == "jobs.vms.snapshot"
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "vm.snapshot")).all()
    assert (row.object_type, row.object_id, row.tenant_id) == ("vm", str(cast.vm_a), cast.a.id)
    assert row.changes["before"] == {"status": "running"}
    assert row.changes["after"] == {"status": "snapshotting", "snapshot_status": "creating"}
    assert row.changes["details"]["snapshot_id"] == data["id"]
    assert row.changes["details"]["job_id"] == data["job_id"]


@pytest.mark.parametrize(("persona", "status"), CHANGE.items())
def test_snapshot_create_needs_vm_change(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    settle(db, cast.vm_a)
    before = counts(db)
    resp = take(client, cast.vm_a, cast.h(persona))
    if status == 202:
        assert resp.status_code == 202, resp.get_json()
        return
    assert_error(resp, status, CODE[status])
    assert counts(db) == before
    assert db.scalars(select(Snapshot)).all() == []
    assert reload(db, VM, cast.vm_a).status == VMStatus.RUNNING


@pytest.mark.parametrize(("persona", "status"), VIEW.items())
def test_snapshot_list_and_show_need_vm_view(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    vm = settle(db, cast.vm_a)
    snap = ready_snapshot(db, vm)
    listed = client.get(url(cast.vm_a), headers=cast.h(persona))
    shown = client.get(url(cast.vm_a, snap.id), headers=cast.h(persona))
    if status == 200:
        assert [s["id"] for s in listed.get_json()["data"]] == [str(snap.id)]
        assert listed.get_json()["meta"]["pagination"]["total"] == 1
        assert shown.get_json()["data"]["power_state"] == "running"
        return
    assert_error(listed, 404, "NOT_FOUND")
    assert_error(shown, 404, "NOT_FOUND")


@pytest.mark.parametrize(("persona", "status"), CHANGE.items())
def test_snapshot_delete_needs_vm_delete_and_revert_vm_change(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    vm = settle(db, cast.vm_a)
    snap = ready_snapshot(db, vm)
    before = counts(db)
    for send in (
        lambda: client.delete(url(cast.vm_a, snap.id), headers=cast.h(persona)),
        lambda: client.post(url(cast.vm_a, snap.id, "revert"), headers=cast.h(persona)),
    ):
        resp = send()
        if status == 202:
            assert resp.status_code == 202, resp.get_json()
            settle(db, cast.vm_a)
            reload(db, Snapshot, snap.id).status = "ready"
            db.flush()
            continue
        assert_error(resp, status, CODE[status])
        assert counts(db) == before


def test_snapshot_of_another_tenants_vm_answers_like_a_missing_one(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm_a, vm_b = settle(db, cast.vm_a), settle(db, cast.vm_b)
    snap_a, snap_b = ready_snapshot(db, vm_a), ready_snapshot(db, vm_b)
    h = cast.h("user_b")
    for real, missing in (
        (url(vm_a.id), url(uuid.uuid4())),
        (url(vm_a.id, snap_a.id), url(vm_a.id, uuid.uuid4())),
    ):
        a, b = client.get(real, headers=h), client.get(missing, headers=h)
        assert a.status_code == b.status_code == 404
        assert a.get_json()["error"] == b.get_json()["error"]
    assert_error(client.post(url(vm_a.id, snap_a.id, "revert"), headers=h), 404, "NOT_FOUND")
    # B's snapshot id under A's VM: the snapshot must be the VM's.
    assert_error(client.get(url(vm_a.id, snap_b.id), headers=cast.h("user_a")), 404, "NOT_FOUND")
    assert_error(client.delete(url(vm_b.id, snap_a.id), headers=cast.h("admin")), 404, "NOT_FOUND")


def test_snapshot_create_over_the_quota_is_refused(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = settle(db, cast.vm_a)
    ready_snapshot(db, vm, "old")
    db.execute(update(Quota).where(Quota.tenant_id == cast.a.id).values(snapshots=1))
    db.flush()
    before = counts(db)
    body = assert_error(take(client, cast.vm_a, cast.h("user_a")), 409, "QUOTA_EXCEEDED")
    assert body["error"]["details"]["exceeded"] == [
        {"resource": "snapshots", "requested": 1, "used": 1, "limit": 1}
    ]
    assert counts(db) == before
    assert reload(db, VM, cast.vm_a).status == VMStatus.RUNNING
    quota = client.get(f"/api/v1/tenant/{cast.a.id}/quota/", headers=cast.h("user_a"))
    assert quota.get_json()["data"]["resources"]["snapshots"] == {
        "limit": 1,
        "used": 1,
        "available": 0,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x'; rm -rf /"},
        {"name": "--force"},
        {"name": "Upper"},
        {"name": "a\n"},
        {"name": "a b"},
        {"name": "snap/../../etc"},
        {"name": "a" * 49},
        {"name": ""},
        {"name": 3},
        {},
        {"name": "ok", "description": "a\x1b[31mred"},
        {"name": "ok", "description": "line\nbreak"},
        {"name": "ok", "description": "x" * 256},
        {"name": "ok", "power_state": "running"},
    ],
    ids=repr,
)
def test_snapshot_create_refuses_what_cannot_reach_libvirt(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, Any]
) -> None:
    settle(db, cast.vm_a)
    before = counts(db)
    resp = client.post(url(cast.vm_a), json=body, headers=cast.h("user_a"))
    assert_error(resp, 422, "VALIDATION_ERROR")
    assert counts(db) == before
    assert db.scalars(select(Snapshot)).all() == []


def test_snapshot_requests_refused_by_the_vms_state(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = settle(db, cast.vm_a, VMStatus.STOPPING)
    snap = ready_snapshot(db, vm, power_state="running")
    for resp in (
        take(client, cast.vm_a, cast.h("user_a")),
        client.post(url(cast.vm_a, snap.id, "revert"), headers=cast.h("user_a")),
        client.delete(url(cast.vm_a, snap.id), headers=cast.h("user_a")),
    ):
        body = assert_error(resp, 409, "INVALID_STATE")
        assert body["error"]["details"]["status"] == "stopping"
        assert "while it is stopping" in body["error"]["message"]


def test_snapshot_requests_while_a_job_of_the_vm_is_queued_are_busy(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a)
    refresh = client.post(f"/api/v1/vm/{cast.vm_a}/refresh/", headers=cast.h("user_a"))
    assert refresh.status_code == 202, refresh.get_json()
    assert_error(take(client, cast.vm_a, cast.h("user_a")), 409, "RESOURCE_BUSY")


def test_snapshot_name_taken_and_a_settling_snapshot_refused(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a)
    first = take(client, cast.vm_a, cast.h("user_a")).get_json()["data"]
    settle(db, cast.vm_a)  # the take job still looks queued to the snapshot: creating
    body = assert_error(take(client, cast.vm_a, cast.h("user_a")), 409, "NAME_TAKEN")
    assert body["error"]["details"] == {"field": "name"}
    resp = client.post(url(cast.vm_a, first["id"], "revert"), headers=cast.h("user_a"))
    body = assert_error(resp, 409, "INVALID_STATE")
    assert body["error"]["message"] == (
        "cannot revert to snapshot snap-1 while it is creating; it must be ready"
    )


def test_snapshot_life_through_the_worker(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    settle(db, cast.vm_a)
    domain = reload(db, VM, cast.vm_a).domain_name
    h = cast.h("user_a")
    snap = take(client, cast.vm_a, h).get_json()["data"]
    worker.events = success_events(domain, "running")
    assert vm_jobs.snapshot(snap["job_id"]) == "successful"
    assert worker.runs[-1].extravars == {
        "virtflow_guests": [{"name": domain, "uuid": str(cast.vm_a), "snapshot": "snap-1"}]
    }
    shown = client.get(url(cast.vm_a, snap["id"]), headers=h).get_json()["data"]
    assert (shown["status"], shown["power_state"]) == ("ready", "running")
    assert reload(db, VM, cast.vm_a).status == VMStatus.RUNNING

    # A revert ends the VM in the state the playbook reports (the role: the snapshot's).
    reverting = client.post(url(cast.vm_a, snap["id"], "revert"), headers=h)
    assert reverting.status_code == 202, reverting.get_json()
    assert reload(db, VM, cast.vm_a).status == VMStatus.REVERTING
    worker.events = success_events(domain, "stopped")
    assert vm_jobs.revert(reverting.get_json()["data"]["job_id"]) == "successful"
    assert reload(db, VM, cast.vm_a).status == VMStatus.STOPPED
    assert reload(db, Snapshot, snap["id"]).status == "ready"

    deleting = client.delete(url(cast.vm_a, snap["id"]), headers=h)
    assert deleting.get_json()["data"]["status"] == "deleting"
    worker.events = success_events(domain, "stopped")
    assert vm_jobs.snapshot_delete(deleting.get_json()["data"]["job_id"]) == "successful"
    gone = client.get(url(cast.vm_a, snap["id"]), headers=h).get_json()["data"]
    assert (gone["status"], gone["deleted_at"] is not None) == ("deleted", True)
    assert client.get(url(cast.vm_a), headers=h).get_json()["data"] == []
    deleted = client.get(url(cast.vm_a), query_string={"status": "deleted"}, headers=h)
    assert [s["id"] for s in deleted.get_json()["data"]] == [snap["id"]]
    assert reload(db, VM, cast.vm_a).status == VMStatus.STOPPED


def test_snapshot_take_that_fails_leaves_the_snapshot_in_error(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    settle(db, cast.vm_a)
    snap = take(client, cast.vm_a, cast.h("user_a")).get_json()["data"]
    worker.events, worker.status, worker.rc = failed_events(), "failed", 2
    assert vm_jobs.snapshot(snap["job_id"]) == "failed"
    shown = client.get(url(cast.vm_a, snap["id"]), headers=cast.h("user_a")).get_json()["data"]
    assert shown["status"] == "error"
    assert "No space left on device" in shown["status_reason"]
    assert reload(db, VM, cast.vm_a).status == VMStatus.ERROR


def test_snapshot_rows_are_deleted_with_their_vm(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    vm = settle(db, cast.vm_a)
    domain = vm.domain_name
    snaps = [ready_snapshot(db, vm, name) for name in ("a", "b")]
    quota_url = f"/api/v1/tenant/{cast.a.id}/quota/"
    used = client.get(quota_url, headers=cast.h("user_a")).get_json()["data"]["resources"]
    assert used["snapshots"]["used"] == 2
    resp = client.delete(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("user_a"))
    assert resp.status_code == 202, resp.get_json()
    worker.events = success_events(domain, "absent")
    assert vm_jobs.destroy(resp.get_json()["data"]["job_id"]) == "successful"
    for snap in snaps:
        row = reload(db, Snapshot, snap.id)
        assert (row.status, row.status_reason) == ("deleted", "deleted with VM vm-a")
    used = client.get(quota_url, headers=cast.h("user_a")).get_json()["data"]["resources"]
    assert used["snapshots"]["used"] == 0


def test_snapshot_job_queued_blocks_the_tenants_deletion(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED)
    settle(db, cast.vm_b, VMStatus.STOPPED)
    snap = take(client, cast.vm_a, cast.h("user_a")).get_json()["data"]
    resp = client.delete(f"/api/v1/tenant/{cast.a.id}/", headers=cast.h("admin"))
    body = assert_error(resp, 409, "TENANT_NOT_EMPTY")
    assert {"id": snap["job_id"], "kind": "vm.snapshot", "status": "queued"} in body["error"][
        "details"
    ]["jobs"]
    assert reload(db, VM, cast.vm_a).status == VMStatus.SNAPSHOTTING
    kinds = {j.kind for j in db.scalars(select(Job).where(Job.vm_id == cast.vm_a))}
    assert JobKind.VM_DELETE not in kinds
