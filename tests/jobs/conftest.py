"""Job functions run against the test database and settings, with a fake ansible-runner."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.models import VM, Job, VMStatus
from api.services import jobs
from api.services import vms as vm_service
from api.settings import Settings
from jobs import base, execution
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner


@pytest.fixture(autouse=True)
def job_env(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """jobs.base hands out the test's savepoint sessions and the test settings."""
    monkeypatch.setattr(base, "sessions", lambda: sessions)
    monkeypatch.setattr(base, "throwaway", sessions)
    monkeypatch.setattr(base, "settings", lambda: settings)


@pytest.fixture
def claimed(db: Session, make: Factory) -> tuple[VM, Job]:
    """A VM being provisioned by a create job that a worker ("host:1") has claimed."""
    make.baremetal("bm-a")
    admin = make.user(is_admin=True)
    request = vm_service.VMRequest(make.tenant().id, "web", 1, 64, 1)
    job = vm_service.create_vm(db, admin, request, "r-1")
    jobs.claim(db, job.id, "host:1")
    vm = db.get_one(VM, job.vm_id)
    vm.status = VMStatus.PROVISIONING
    db.flush()
    return vm, job


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    """A stand-in for ansible-runner: feeds the test's events, returns the test's outcome."""
    fake = FakeRunner()
    monkeypatch.setattr(execution, "run_playbook", fake)
    return fake
