"""VM requests: validation, placement, object access, deletion and the queue."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, AuditLog, Baremetal, Job, JobStatus, Tenant, TenantStatus, VMStatus
from api.settings import Settings
from tests.api.conftest import counts, create_vm, settle_running, vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error

Headers = dict[str, str]


@pytest.fixture
def tenant_id(client: FlaskClient, admin_headers: Headers) -> uuid.UUID:
    """A tenant created through the API by a platform admin."""
    resp = client.post("/api/v1/tenant/", json={"name": "acme"}, headers=admin_headers)
    assert resp.status_code == 201, resp.get_json()
    return uuid.UUID(resp.get_json()["data"]["id"])


@pytest.fixture
def other_tenant_id(make: Factory) -> uuid.UUID:
    return make.tenant("globex").id


@pytest.fixture
def rq_queue(redis: Redis, settings: Settings) -> Queue:
    """The RQ queue the app enqueues on."""
    return Queue(settings.queue_name, connection=redis)


def member_headers(make: Factory, tenant_id: uuid.UUID, role: str) -> Headers:
    user = make.user()
    make.member(user, make.session.get_one(Tenant, tenant_id), role)
    return make.headers(user)


def job_row(db: Session, job_id: str | uuid.UUID) -> Job:
    db.flush()
    db.expire_all()
    return db.get_one(Job, uuid.UUID(str(job_id)))


def vm_row(db: Session, vm_id: str | uuid.UUID) -> VM:
    db.flush()
    db.expire_all()
    return db.get_one(VM, uuid.UUID(str(vm_id)))


def host_of(db: Session, vm_id: str) -> str:
    host = db.get_one(Baremetal, vm_row(db, vm_id).baremetal_id)
    return host.name


# --- creation and the queue -------------------------------------------------------------------


def test_vm_create_is_pending_with_queued_job(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, rq_queue: Queue, db: Session
) -> None:
    # POST /api/v1/vm/ and the seed document's POST /api/v1/vm/create/ behave the same.
    for path, name in (("/api/v1/vm/", "web-1"), ("/api/v1/vm/create/", "web-2")):
        body = vm_body(tenant_id, name, vcpus=2, ram_mb=1024, disk_gb=20)
        resp = client.post(path, json=body, headers=admin_headers)
        assert resp.status_code == 202, resp.get_json()
        envelope = resp.get_json()
        data = envelope["data"]
        assert envelope["status"] == "success"
        assert (data["status"], data["name"]) == ("pending", name)
        assert (data["vcpus"], data["ram_mb"], data["disk_gb"]) == (2, 1024, 20)
        assert data["domain_name"] == f"vf-{name}-{uuid.UUID(data['id']).hex[:8]}"
        assert data["baremetal"] in {"bm-a", "bm-b"}
        assert data["job_id"]

        rq_job = RQJob.fetch(data["job_id"], connection=rq_queue.connection)
        assert rq_job.func_name == "jobs.vms.provision"
        assert rq_job.kwargs == {"job_id": data["job_id"]}
        assert rq_job.origin == rq_queue.name
        assert rq_job.meta["request_id"] == envelope["meta"]["request_id"]
        assert data["job_id"] in rq_queue.job_ids

        job = job_row(db, data["job_id"])
        assert (job.kind, job.status, job.playbook) == ("vm.create", "queued", "vm_create.yml")
        assert job.limit == data["baremetal"]
        assert str(job.vm_id) == data["id"]
        assert job.extravars == {
            "virtflow_guests": [
                {
                    "name": data["domain_name"],
                    "uuid": data["id"],
                    "vcpus": 2,
                    "ram_mb": 1024,
                    "disk_gb": 20,
                    "mac": data["mac"],
                }
            ]
        }
        assert re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", data["mac"])


def test_vm_create_records_request_id_on_job(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    resp = client.post(
        "/api/v1/vm/", json=vm_body(tenant_id), headers={**admin_headers, "X-Request-ID": "rq-77"}
    )
    assert job_row(db, resp.get_json()["data"]["job_id"]).request_id == "rq-77"


def test_vm_create_smallest_sizes_accepted(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    data = create_vm(client, admin_headers, tenant_id, "tiny", vcpus=1, ram_mb=64, disk_gb=1)
    assert (data["vcpus"], data["ram_mb"], data["disk_gb"]) == (1, 64, 1)


def test_vm_create_longest_name_accepted(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    name = "a" + "b-" * 23 + "c"
    assert len(name) == 48
    assert create_vm(client, admin_headers, tenant_id, name)["name"] == name


@pytest.mark.usefixtures("queue_unreachable")
def test_vm_create_redis_unreachable_answers_202_and_job_stays_queued(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, rq_queue: Queue, db: Session
) -> None:
    """The job row is the outbox: committed `queued`, enqueued later by the sweep."""
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id), headers=admin_headers)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    job = job_row(db, data["job_id"])
    assert (job.status, job.finished_at, job.explanation) == (JobStatus.QUEUED, None, None)
    assert vm_row(db, data["id"]).status == VMStatus.PENDING
    assert data["job_id"] not in rq_queue.job_ids


@pytest.mark.usefixtures("queue_unreachable")
def test_vm_create_redis_unreachable_logs_the_job(
    client: FlaskClient,
    admin_headers: Headers,
    tenant_id: uuid.UUID,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="api.queue"):
        resp = client.post("/api/v1/vm/", json=vm_body(tenant_id), headers=admin_headers)
    job_id = resp.get_json()["data"]["job_id"]
    assert f"Redis did not take job(s) ['{job_id}']; they stay queued for the sweep" in caplog.text


@pytest.mark.usefixtures("queue_unreachable")
def test_vm_create_after_queue_failure_name_still_taken(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    first = client.post("/api/v1/vm/", json=vm_body(tenant_id), headers=admin_headers)
    assert first.status_code == 202, first.get_json()
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id), headers=admin_headers)
    assert_error(resp, 409, "NAME_TAKEN")


# --- validation -------------------------------------------------------------------------------

BAD_NAMES = [
    'web"1',
    "web'1",
    "a<b",
    "web 1",
    "Web",
    "WEB-1",
    "1web",
    "-web",
    "a" * 49,
    "",
    "web;rm -rf /",
    "web$(id)",
    "web`id`",
    "web|x",
    "web&x",
    "web/../x",
    "web_1",
    "web.1",
    "wéb",
    "web\u200b",
    "web\n",
    "web\nx",
    "\nweb",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_vm_create_rejects_bad_name(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session, name: str
) -> None:
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, name), headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == ["name"]
    assert counts(db) == before


@pytest.mark.parametrize(
    "case",
    [
        ("vcpus", 0),
        ("vcpus", 65),
        ("vcpus", -1),
        ("vcpus", 1.5),
        ("vcpus", 2.0),
        ("vcpus", "2"),
        ("vcpus", True),
        ("vcpus", None),
        ("ram_mb", 63),
        ("ram_mb", 1_048_577),
        ("ram_mb", "512"),
        ("disk_gb", 0),
        ("disk_gb", 65_537),
        ("disk_gb", 10**30),
        ("disk_gb", -(10**30)),
        ("tenant_id", "not-a-uuid"),
        ("tenant_id", 7),
        ("name", 12),
        ("name", ["web"]),
    ],
)
def test_vm_create_rejects_bad_value(
    client: FlaskClient,
    admin_headers: Headers,
    tenant_id: uuid.UUID,
    db: Session,
    case: tuple[str, Any],
) -> None:
    field, value = case
    before = counts(db)
    body = {**vm_body(tenant_id), field: value}
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == [field]
    assert counts(db) == before


@pytest.mark.parametrize("extra", ["status", "baremetal_id", "id", "domain_name", "owner"])
def test_vm_create_rejects_unknown_field(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session, extra: str
) -> None:
    before = counts(db)
    body = vm_body(tenant_id, **{extra: "x"})
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == [extra]
    assert counts(db) == before


@pytest.mark.parametrize("missing", ["tenant_id", "name", "vcpus", "ram_mb", "disk_gb"])
def test_vm_create_rejects_missing_field(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session, missing: str
) -> None:
    before = counts(db)
    body = vm_body(tenant_id)
    del body[missing]
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == [missing]
    assert counts(db) == before


@pytest.mark.parametrize("body", [[], "web", 1, None])
def test_vm_create_rejects_non_object_body(
    client: FlaskClient, admin_headers: Headers, db: Session, body: Any
) -> None:
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    assert resp.status_code in (400, 422)
    assert resp.get_json()["status"] == "error"
    assert counts(db) == before


def test_vm_create_rejects_form_body(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    before = counts(db)
    resp = client.post("/api/v1/vm/", data=vm_body(tenant_id), headers=admin_headers)
    assert resp.status_code in (400, 415, 422)
    assert resp.get_json()["status"] == "error"
    assert counts(db) == before


# --- names, tenants, capacity -----------------------------------------------------------------


def test_vm_create_duplicate_name_in_tenant_is_name_taken(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    create_vm(client, admin_headers, tenant_id, "db")
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, "db"), headers=admin_headers)
    body = assert_error(resp, 409, "NAME_TAKEN")
    assert body["error"]["details"] == {"field": "name"}
    assert counts(db) == before


def test_vm_create_same_name_in_other_tenant_is_fine(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, other_tenant_id: uuid.UUID
) -> None:
    first = create_vm(client, admin_headers, tenant_id, "db")
    second = create_vm(client, admin_headers, other_tenant_id, "db")
    assert first["id"] != second["id"]
    assert first["domain_name"] != second["domain_name"]


def test_vm_create_name_free_again_after_delete(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    first = settle_running(db, create_vm(client, admin_headers, tenant_id, "db"))
    assert client.delete(f"/api/v1/vm/{first['id']}/", headers=admin_headers).status_code == 202
    # Still deleting: the name is not free yet.
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, "db"), headers=admin_headers)
    assert_error(resp, 409, "NAME_TAKEN")
    vm_row(db, first["id"]).status = VMStatus.DELETED
    db.flush()
    second = create_vm(client, admin_headers, tenant_id, "db")
    assert second["id"] != first["id"]


def test_vm_create_unknown_tenant_is_404(
    client: FlaskClient, admin_headers: Headers, db: Session
) -> None:
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(uuid.uuid4()), headers=admin_headers)
    assert_error(resp, 404, "NOT_FOUND")
    assert counts(db) == before


def test_vm_create_in_deleting_tenant_is_invalid_state(
    client: FlaskClient, admin_headers: Headers, make: Factory, db: Session
) -> None:
    tenant = make.tenant(status=TenantStatus.DELETING)
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant.id), headers=admin_headers)
    assert_error(resp, 409, "INVALID_STATE")
    assert counts(db) == before


def test_vm_create_without_capacity_is_no_capacity(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, vcpus=64), headers=admin_headers)
    body = assert_error(resp, 409, "NO_CAPACITY")
    assert body["error"]["details"] == {"hosts_considered": 2}
    assert counts(db) == before


def test_vm_placement_picks_most_free_ram(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    # bm-a: 8 vCPU / 4096 MiB / 100 GiB; bm-b: 4 vCPU / 8192 MiB / 50 GiB.
    first = create_vm(client, admin_headers, tenant_id, "one", ram_mb=4096)
    assert first["baremetal"] == "bm-b"  # 8192 free against 4096
    second = create_vm(client, admin_headers, tenant_id, "two", ram_mb=4096)
    assert second["baremetal"] == "bm-a"  # bm-b has 4096 left, bm-a 4096: first wins ties
    third = create_vm(client, admin_headers, tenant_id, "three", ram_mb=4096)
    assert third["baremetal"] == "bm-b"
    before = counts(db)
    resp = client.post(
        "/api/v1/vm/", json=vm_body(tenant_id, "four", ram_mb=64), headers=admin_headers
    )
    assert_error(resp, 409, "NO_CAPACITY")
    assert counts(db) == before


def test_vm_create_anti_affinity_group_takes_a_host_per_vm(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    first = create_vm(client, admin_headers, tenant_id, "web-1", anti_affinity_group="web")
    assert (first["baremetal"], first["anti_affinity_group"]) == ("bm-b", "web")
    # bm-b still has the most free RAM, but it holds a VM of the group already.
    second = create_vm(client, admin_headers, tenant_id, "web-2", anti_affinity_group="web")
    assert second["baremetal"] == "bm-a"
    before = counts(db)
    body = vm_body(tenant_id, "web-3", anti_affinity_group="web")
    assert_error(client.post("/api/v1/vm/", json=body, headers=admin_headers), 409, "NO_CAPACITY")
    assert counts(db) == before
    assert create_vm(client, admin_headers, tenant_id, "loner")["anti_affinity_group"] is None


@pytest.mark.parametrize("group", ["", "Web", "a" * 49, "web;rm", "../x", 12, ["web"]])
def test_vm_create_rejects_bad_anti_affinity_group(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session, group: Any
) -> None:
    before = counts(db)
    body = vm_body(tenant_id, "grouped", anti_affinity_group=group)
    resp = client.post("/api/v1/vm/", json=body, headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["json"]) == ["anti_affinity_group"]
    assert counts(db) == before


def test_vm_placement_respects_vcpus_over_ram(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    # Only bm-a has 5 vCPUs, although bm-b has more free RAM.
    assert create_vm(client, admin_headers, tenant_id, "wide", vcpus=5)["baremetal"] == "bm-a"
    # bm-a has 3 vCPUs left, bm-b 4: a 4-vCPU VM only fits bm-b.
    assert create_vm(client, admin_headers, tenant_id, "next", vcpus=4)["baremetal"] == "bm-b"
    resp = client.post(
        "/api/v1/vm/", json=vm_body(tenant_id, "last", vcpus=4), headers=admin_headers
    )
    assert_error(resp, 409, "NO_CAPACITY")


def test_vm_placement_respects_disk(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    assert create_vm(client, admin_headers, tenant_id, "big", disk_gb=60)["baremetal"] == "bm-a"
    assert create_vm(client, admin_headers, tenant_id, "mid", disk_gb=45)["baremetal"] == "bm-b"
    resp = client.post(
        "/api/v1/vm/", json=vm_body(tenant_id, "more", disk_gb=41), headers=admin_headers
    )
    assert_error(resp, 409, "NO_CAPACITY")


def test_vm_placement_deleted_vm_frees_capacity(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    big = create_vm(client, admin_headers, tenant_id, "big", vcpus=8)
    assert big["baremetal"] == "bm-a"
    resp = client.post(
        "/api/v1/vm/", json=vm_body(tenant_id, "again", vcpus=8), headers=admin_headers
    )
    assert_error(resp, 409, "NO_CAPACITY")
    vm_row(db, big["id"]).status = VMStatus.DELETED
    db.flush()
    assert create_vm(client, admin_headers, tenant_id, "again", vcpus=8)["baremetal"] == "bm-a"


def test_vm_placement_skips_hosts_out_of_inventory(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, make: Factory
) -> None:
    make.baremetal("bm-gone", capacity_ram_mb=10**6, in_inventory=False)
    assert create_vm(client, admin_headers, tenant_id)["baremetal"] == "bm-b"


# --- object access ----------------------------------------------------------------------------


def test_vm_tenant_user_can_create_list_get_delete(
    client: FlaskClient, make: Factory, tenant_id: uuid.UUID, db: Session
) -> None:
    headers = member_headers(make, tenant_id, "tenant_user")
    data = settle_running(db, create_vm(client, headers, tenant_id))
    listed = client.get("/api/v1/vm/", headers=headers).get_json()["data"]
    assert [v["id"] for v in listed] == [data["id"]]
    got = client.get(f"/api/v1/vm/{data['id']}/", headers=headers)
    assert got.status_code == 200 and got.get_json()["data"]["name"] == "web-1"
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=headers)
    assert resp.status_code == 202
    assert vm_row(db, data["id"]).status == VMStatus.DELETING


def test_vm_viewer_can_list_and_get_but_not_create_or_delete(
    client: FlaskClient, make: Factory, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    viewer = member_headers(make, tenant_id, "viewer")
    listed = client.get("/api/v1/vm/", headers=viewer).get_json()["data"]
    assert [v["id"] for v in listed] == [data["id"]]
    assert client.get(f"/api/v1/vm/{data['id']}/", headers=viewer).status_code == 200

    before = counts(db)
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, "mine"), headers=viewer)
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"permission": "vm.create"}
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=viewer)
    body = assert_error(resp, 403, "PERMISSION_DENIED")
    assert body["error"]["details"] == {"permission": "vm.delete"}
    assert counts(db) == before
    assert vm_row(db, data["id"]).status == VMStatus.PENDING


def test_vm_other_tenant_user_sees_404_everywhere(
    client: FlaskClient, make: Factory, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    other_tenant_id = make.tenant("globex").id
    data = create_vm(client, admin_headers, tenant_id)
    outsider = member_headers(make, other_tenant_id, "tenant_user")
    create_vm(client, outsider, other_tenant_id, "theirs")
    before = counts(db)

    assert_error(client.get(f"/api/v1/vm/{data['id']}/", headers=outsider), 404, "NOT_FOUND")
    assert_error(client.delete(f"/api/v1/vm/{data['id']}/", headers=outsider), 404, "NOT_FOUND")
    resp = client.post("/api/v1/vm/", json=vm_body(tenant_id, "sneaky"), headers=outsider)
    assert_error(resp, 404, "NOT_FOUND")
    # The same answers as for objects that do not exist at all.
    missing = client.get(f"/api/v1/vm/{uuid.uuid4()}/", headers=outsider).get_json()["error"]
    mine = client.get(f"/api/v1/vm/{data['id']}/", headers=outsider).get_json()["error"]
    assert missing == mine

    for query in ("", f"?tenant_id={tenant_id}", "?name=web-1", "?status=pending"):
        listed = client.get(f"/api/v1/vm/{query}", headers=outsider).get_json()
        assert data["id"] not in [v["id"] for v in listed["data"]]
        assert all(v["tenant_id"] == str(other_tenant_id) for v in listed["data"])
    listed = client.get(f"/api/v1/vm/?tenant_id={tenant_id}", headers=outsider).get_json()
    assert listed["meta"]["pagination"]["total"] == 0

    assert counts(db) == before
    assert vm_row(db, data["id"]).status == VMStatus.PENDING


def test_vm_user_without_membership_sees_nothing(
    client: FlaskClient, make: Factory, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    nobody = make.headers(make.user())
    assert client.get("/api/v1/vm/", headers=nobody).get_json()["data"] == []
    assert_error(client.get(f"/api/v1/vm/{data['id']}/", headers=nobody), 404, "NOT_FOUND")


def test_vm_admin_sees_every_tenant(
    client: FlaskClient,
    make: Factory,
    admin_headers: Headers,
    tenant_id: uuid.UUID,
    other_tenant_id: uuid.UUID,
) -> None:
    a = create_vm(client, admin_headers, tenant_id, "a")
    b = create_vm(client, member_headers(make, other_tenant_id, "tenant_user"), other_tenant_id)
    listed = client.get("/api/v1/vm/", headers=admin_headers).get_json()["data"]
    assert {v["id"] for v in listed} == {a["id"], b["id"]}


# --- delete -----------------------------------------------------------------------------------


def test_vm_delete_pending_cancels_create_job_and_deletes_at_once(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, rq_queue: Queue, db: Session
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    create_job_id = data["job_id"]
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()["data"]
    assert (out["status"], out["job_id"]) == ("deleted", create_job_id)  # no delete job
    assert out["status_reason"] == "its create job never ran: the VM was deleted first"
    create_job = job_row(db, create_job_id)
    assert (create_job.status, create_job.finished_at is not None) == (JobStatus.CANCELED, True)
    assert "canceled" in (create_job.explanation or "")
    kinds = db.scalars(select(Job.kind).where(Job.vm_id == uuid.UUID(data["id"]))).all()
    assert kinds == ["vm.create"]
    assert rq_queue.job_ids == [create_job_id]  # nothing more for a worker to do
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "vm.delete")).all()
    assert (row.status_code, row.changes["after"]["status"]) == (200, "deleted")


def test_vm_delete_running_vm_queues_destroy(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    job = job_row(db, data["job_id"])
    job.status = JobStatus.SUCCESSFUL
    vm_row(db, data["id"]).status = VMStatus.RUNNING
    db.flush()
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=admin_headers)
    assert resp.status_code == 202
    assert job_row(db, data["job_id"]).status == JobStatus.SUCCESSFUL


def test_vm_delete_while_a_job_runs_is_queued_behind_it(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    job_row(db, data["job_id"]).status = JobStatus.RUNNING
    vm_row(db, data["id"]).status = VMStatus.PROVISIONING
    db.flush()
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=admin_headers)
    assert resp.status_code == 202, resp.get_json()  # never RESOURCE_BUSY
    out = resp.get_json()["data"]
    assert out["status"] == "deleting"
    assert (job_row(db, out["job_id"]).kind, job_row(db, out["job_id"]).status) == (
        "vm.delete",
        JobStatus.QUEUED,
    )
    assert job_row(db, data["job_id"]).status == JobStatus.RUNNING  # left to finish


@pytest.mark.parametrize("status", [VMStatus.DELETED, VMStatus.DELETING])
def test_vm_delete_deleted_vm_is_invalid_state(
    client: FlaskClient,
    admin_headers: Headers,
    tenant_id: uuid.UUID,
    db: Session,
    status: VMStatus,
) -> None:
    data = create_vm(client, admin_headers, tenant_id)
    job_row(db, data["job_id"]).status = JobStatus.SUCCESSFUL
    vm_row(db, data["id"]).status = status
    db.flush()
    before = counts(db)
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=admin_headers)
    body = assert_error(resp, 409, "INVALID_STATE")
    assert body["error"]["details"] == {
        "status": status.value,
        "operation": "vm.delete",
        "in_flight": [],
    }
    assert body["error"]["message"].startswith(f"cannot delete VM web-1 while it is {status}")
    assert counts(db) == before


def test_vm_delete_unknown_is_404(client: FlaskClient, admin_headers: Headers) -> None:
    assert_error(
        client.delete(f"/api/v1/vm/{uuid.uuid4()}/", headers=admin_headers), 404, "NOT_FOUND"
    )


@pytest.mark.usefixtures("queue_unreachable")
def test_vm_delete_redis_unreachable_answers_202_and_job_stays_queued(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, rq_queue: Queue, db: Session
) -> None:
    data = settle_running(db, create_vm(client, admin_headers, tenant_id))
    resp = client.delete(f"/api/v1/vm/{data['id']}/", headers=admin_headers)
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["data"]["job_id"]
    assert job_row(db, job_id).status == JobStatus.QUEUED
    assert job_id not in rq_queue.job_ids
    assert vm_row(db, data["id"]).status == VMStatus.DELETING


# --- listing ----------------------------------------------------------------------------------


def test_vm_list_pagination_meta(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID
) -> None:
    ids = [
        create_vm(client, admin_headers, tenant_id, f"vm-{i}", ram_mb=64)["id"] for i in range(5)
    ]
    first = client.get("/api/v1/vm/?per_page=2", headers=admin_headers).get_json()
    assert first["meta"]["pagination"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    assert len(first["data"]) == 2
    pages = [
        client.get(f"/api/v1/vm/?per_page=2&page={p}", headers=admin_headers).get_json()["data"]
        for p in (1, 2, 3)
    ]
    seen = [v["id"] for page in pages for v in page]
    assert sorted(seen) == sorted(ids)
    assert [len(p) for p in pages] == [2, 2, 1]
    beyond = client.get("/api/v1/vm/?per_page=2&page=4", headers=admin_headers).get_json()
    assert beyond["data"] == []
    assert beyond["meta"]["pagination"]["total"] == 5


def test_vm_list_default_pagination(client: FlaskClient, admin_headers: Headers) -> None:
    body = client.get("/api/v1/vm/", headers=admin_headers).get_json()
    assert body["meta"]["pagination"] == {"page": 1, "per_page": 50, "total": 0, "pages": 0}


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=0", "per_page=x", "page=-1"])
def test_vm_list_bad_pagination_is_422(
    client: FlaskClient, admin_headers: Headers, query: str
) -> None:
    resp = client.get(f"/api/v1/vm/?{query}", headers=admin_headers)
    fields = assert_error(resp, 422, "VALIDATION_ERROR")["error"]["details"]["fields"]
    assert list(fields["query"]) == [query.split("=", maxsplit=1)[0]]


def test_vm_list_per_page_200_is_allowed(client: FlaskClient, admin_headers: Headers) -> None:
    resp = client.get("/api/v1/vm/?per_page=200", headers=admin_headers)
    assert resp.get_json()["meta"]["pagination"]["per_page"] == 200


def test_vm_list_filters_by_status_and_name(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    a = create_vm(client, admin_headers, tenant_id, "alpha")
    b = create_vm(client, admin_headers, tenant_id, "beta")
    vm_row(db, b["id"]).status = VMStatus.RUNNING
    db.flush()

    def ids(query: str) -> list[str]:
        resp = client.get(f"/api/v1/vm/?{query}", headers=admin_headers)
        assert resp.status_code == 200, resp.get_json()
        return [v["id"] for v in resp.get_json()["data"]]

    assert ids("status=running") == [b["id"]]
    assert ids("status=pending") == [a["id"]]
    assert ids("status=deleted") == []
    assert ids("name=alpha") == [a["id"]]
    assert ids("name=alpha&status=running") == []
    assert ids(f"tenant_id={tenant_id}&name=beta") == [b["id"]]
    assert sorted(ids("")) == sorted([a["id"], b["id"]])


def test_vm_list_filters_by_anti_affinity_group_host_and_host_state(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    other = create_vm(client, admin_headers, tenant_id, "other", ram_mb=4096)
    web = create_vm(client, admin_headers, tenant_id, "web", anti_affinity_group="web")
    assert (other["baremetal"], web["baremetal"]) == ("bm-b", "bm-a")
    db.get_one(Baremetal, vm_row(db, web["id"]).baremetal_id).state = "missing"
    db.flush()

    def listed(query: str) -> list[dict[str, Any]]:
        resp = client.get(f"/api/v1/vm/?{query}", headers=admin_headers)
        assert resp.status_code == 200, resp.get_json()
        return list(resp.get_json()["data"])

    assert [v["id"] for v in listed("anti_affinity_group=web")] == [web["id"]]
    flagged = listed("host_state=missing")
    assert [(v["id"], v["host_state"]) for v in flagged] == [(web["id"], "missing")]
    assert [v["id"] for v in listed("host_state=active")] == [other["id"]]
    assert [v["id"] for v in listed("baremetal=bm-b")] == [other["id"]]
    assert listed("baremetal=nowhere") == []
    resp = client.get("/api/v1/vm/?host_state=gone", headers=admin_headers)
    assert_error(resp, 422, "VALIDATION_ERROR")


def test_vm_list_newest_first(
    client: FlaskClient, admin_headers: Headers, tenant_id: uuid.UUID, db: Session
) -> None:
    # created_at is the transaction time, which every row of this test shares: spread them.
    ids = [create_vm(client, admin_headers, tenant_id, name)["id"] for name in ("a", "b", "c")]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for offset, vm_id in zip((2, 0, 1), ids, strict=True):
        vm_row(db, vm_id).created_at = start + dt.timedelta(minutes=offset)
    db.flush()
    listed = client.get("/api/v1/vm/", headers=admin_headers).get_json()["data"]
    assert [v["id"] for v in listed] == [ids[0], ids[2], ids[1]]
