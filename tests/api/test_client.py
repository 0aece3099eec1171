"""The client generated from the OpenAPI document (api/client) drives a VM's whole life against
the app: login, tenant, VM create, get, stop, start, delete, and the jobs' events, with the
worker's playbook runs faked. Typed without a single Unset check: `make lint` runs mypy --strict
on this module, so a response field the spec left optional would fail it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from api.client import AuthenticatedClient, Client
from api.client.api.auth import auth_login
from api.client.api.job import job_events_list, job_get
from api.client.api.tenant import tenant_create
from api.client.api.vm import vm_create, vm_delete, vm_get, vm_start, vm_stop
from api.client.models import (
    JobEnvelope,
    JobEventListEnvelope,
    JobStatus,
    Login,
    NotFoundError,
    TenantCreate,
    TenantEnvelope,
    TokenEnvelope,
    VMCreate,
    VMEnvelope,
    VMStatus,
    VMStop,
)
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import fake_worker
from tests.conftest import PASSWORD, Factory
from tests.helpers.runner_fakes import FakeRunner, success_events

BASE = "http://virtflow.test"


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


@pytest.fixture
def transport(app: Flask) -> Iterator[httpx.WSGITransport]:
    yield httpx.WSGITransport(app=app)


@pytest.fixture
def admin_client(make: Factory, transport: httpx.WSGITransport) -> AuthenticatedClient:
    """Logged in with the generated client itself, as a platform admin."""
    admin = make.user(is_admin=True)
    public = Client(base_url=BASE, httpx_args={"transport": transport})
    login = auth_login.sync(client=public, body=Login(username=admin.username, password=PASSWORD))
    assert isinstance(login, TokenEnvelope), login
    token: str = login.data.access_token
    return AuthenticatedClient(base_url=BASE, token=token, httpx_args={"transport": transport})


def vm_of(answer: object) -> VMEnvelope:
    assert isinstance(answer, VMEnvelope), answer
    return answer


def run_job(
    client: AuthenticatedClient, job_id: uuid.UUID, run: Callable[[str], str]
) -> JobEnvelope:
    """What a worker does with the VM's queued job; returns the job as the API shows it."""
    run(str(job_id))
    job = job_get.sync(job_id, client=client)
    assert isinstance(job, JobEnvelope), job
    return job


def job_id_of(vm: VMEnvelope) -> uuid.UUID:
    assert vm.data.job_id is not None
    return vm.data.job_id


def test_client_drives_a_vm_lifecycle(
    admin_client: AuthenticatedClient, worker: FakeRunner
) -> None:
    tenant = tenant_create.sync(client=admin_client, body=TenantCreate(name="client-co"))
    assert isinstance(tenant, TenantEnvelope), tenant
    assert tenant.data.name == "client-co"

    body = VMCreate(tenant_id=tenant.data.id, name="web", vcpus=1, ram_mb=512, disk_gb=10)
    created = vm_of(vm_create.sync(client=admin_client, body=body))
    assert created.data.status == VMStatus.PENDING
    vm_id = created.data.id

    worker.events = success_events(created.data.domain_name)
    job = run_job(admin_client, job_id_of(created), vm_jobs.provision)
    assert job.data.status == JobStatus.SUCCESSFUL

    running = vm_of(vm_get.sync(vm_id, client=admin_client))
    assert running.data.status == VMStatus.RUNNING
    assert running.data.baremetal in ("bm-a", "bm-b")

    stopping = vm_of(vm_stop.sync(vm_id, client=admin_client, body=VMStop(force=False)))
    assert stopping.data.status == VMStatus.STOPPING
    worker.events = success_events(created.data.domain_name, "stopped")
    run_job(admin_client, job_id_of(stopping), vm_jobs.stop)
    assert vm_of(vm_get.sync(vm_id, client=admin_client)).data.status == VMStatus.STOPPED

    starting = vm_of(vm_start.sync(vm_id, client=admin_client))
    assert starting.data.status == VMStatus.STARTING
    worker.events = success_events(created.data.domain_name, "running")
    run_job(admin_client, job_id_of(starting), vm_jobs.start)
    assert vm_of(vm_get.sync(vm_id, client=admin_client)).data.status == VMStatus.RUNNING

    deleting = vm_of(vm_delete.sync(vm_id, client=admin_client))
    assert deleting.data.status == VMStatus.DELETING
    worker.events = success_events(created.data.domain_name, "absent")
    run_job(admin_client, job_id_of(deleting), vm_jobs.destroy)
    deleted = vm_of(vm_get.sync(vm_id, client=admin_client))
    assert deleted.data.status == VMStatus.DELETED
    assert deleted.data.deleted_at is not None

    events = job_events_list.sync(job_id_of(created), client=admin_client, per_page=100)
    assert isinstance(events, JobEventListEnvelope), events
    assert events.meta.pagination.total == len(events.data) == 7
    assert [e.counter for e in events.data] == list(range(1, 8))
    assert events.data[-1].event == "playbook_on_stats"


def test_client_gets_typed_errors(admin_client: AuthenticatedClient) -> None:
    missing = vm_get.sync(uuid.uuid4(), client=admin_client)
    assert isinstance(missing, NotFoundError), missing
    assert missing.error.code.value == "NOT_FOUND"
    assert missing.meta.request_id
