"""A cancel of a running job with the real ansible-runner: a playbook stuck in a long task is
stopped within seconds, its job ends canceled, and no process of it survives.

The worker's threads (lease, cancel watch, events) need a database of their own: the test's
savepoint connection cannot serve them in parallel.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import engine_for, session_factory, throwaway_session
from api.models import VM, Job, JobKind, JobStatus, User, VMStatus
from api.services import vms as vm_service
from api.settings import Settings
from jobs import base, reaper
from jobs import vms as vm_jobs
from tests.conftest import Factory, drop_database, migrate, recreate_database
from tests.helpers.stack import wait_for

SLEEP_PLAYBOOK = """\
- name: A long step that a cancel interrupts
  hosts: baremetal
  gather_facts: false
  tasks:
    - name: Sleep
      ansible.builtin.command: sleep 300
      changed_when: false
"""
# The modules run locally with this Python (interpreter discovery may find a broken shim).
ANSIBLE_CFG = f"[defaults]\nretry_files_enabled = False\ninterpreter_python = {sys.executable}\n"


@dataclasses.dataclass(frozen=True)
class World:
    settings: Settings
    sessions: sessionmaker[Session]
    admin_id: uuid.UUID
    vm_id: uuid.UUID


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path, app: Flask, redis: Redis
) -> Iterator[World]:
    """A database of its own with a running VM on bm-a (a local connection), the worker's view
    of it (jobs.base), and an Ansible directory whose one playbook sleeps."""
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "sleep.yml").write_text(SLEEP_PLAYBOOK)
    (tmp_path / "ansible.cfg").write_text(ANSIBLE_CFG)
    name = f"virtflow_cancel_{uuid.uuid4().hex[:8]}"
    owner = recreate_database(name)
    url = ""
    try:
        url = migrate(owner)
        own = dataclasses.replace(
            settings, database_url=url, migrate_database_url=owner, ansible_dir=tmp_path
        )
        monkeypatch.setattr(base, "settings", lambda: own)
        monkeypatch.setattr(base, "sessions", lambda: session_factory(url, own.db_timeouts))
        monkeypatch.setattr(base, "throwaway", lambda: throwaway_session(url, own.db_timeouts))
        yield _populate(own, session_factory(url), app)
    finally:
        if url:
            engine_for(url).dispose()
            engine_for(url, settings.db_timeouts).dispose()
        drop_database(name)


def _populate(settings: Settings, sessions: sessionmaker[Session], app: Flask) -> World:
    with sessions() as session:
        make = Factory(session, app)
        make.baremetal("bm-a")
        admin = make.user("root", is_admin=True)
        request = vm_service.VMRequest(make.tenant().id, "sleepy", 1, 64, 1)
        create = vm_service.create_vm(session, admin, request, None)
        create.status = JobStatus.SUCCESSFUL
        session.get_one(VM, create.vm_id).status = VMStatus.RUNNING
        session.commit()
        return World(settings, sessions, admin.id, create.vm_id)


def _sleeping(world: World, job_id: str) -> bool:
    """The job's `sleep 300` (a child of its ansible-playbook) runs."""
    for tagged in reaper.tagged_processes(world.settings.runs_dir):
        cmdline = (
            Path(f"/proc/{tagged.pid}/cmdline").read_bytes() if tagged.job_id == job_id else b""
        )
        if cmdline.startswith(b"sleep\x00300"):
            return True
    return False


def test_a_running_playbook_is_stopped_within_seconds_of_its_cancel(
    world: World, redis: Redis
) -> None:
    with world.sessions() as session:
        admin = session.get_one(User, world.admin_id)
        stop = vm_service.request_power(session, admin, world.vm_id, JobKind.VM_STOP, "r-1")
        stop.playbook = "sleep.yml"  # as vm_stop.yml waiting out a long shutdown deadline
        session.commit()
        job_id = str(stop.id)
    returned: list[str] = []
    worker = threading.Thread(target=lambda: returned.append(vm_jobs.stop(job_id)))
    worker.start()
    try:
        wait_for("the playbook's sleep task", lambda: _sleeping(world, job_id), 60, every=0.1)
        with world.sessions() as session:
            admin = session.get_one(User, world.admin_id)
            vm_service.cancel_job(session, admin, uuid.UUID(job_id))
            session.commit()
        asked = time.monotonic()
        worker.join(timeout=30)
        took = time.monotonic() - asked
    finally:
        reaper.kill_job(world.settings.runs_dir, job_id)  # a failed test leaves nothing running
        worker.join(timeout=30)
    assert returned == ["canceled"]
    assert took < 5, f"the cancel took {took:.1f}s"  # a watch poll and a callback call: 1-2 s
    # ansible-runner killed the playbook's process group; the reaper found nothing left over.
    assert [t for t in reaper.tagged_processes(world.settings.runs_dir) if t.job_id == job_id] == []
    assert not (world.settings.runs_dir / job_id).exists()
    with world.sessions() as session:
        job = session.get_one(Job, uuid.UUID(job_id))
        assert (job.status, job.explanation) == (
            JobStatus.CANCELED,
            "canceled by root while it ran",
        )
        assert job.rc == 254  # ansible-runner's code for a run it stopped
        vm = session.get_one(VM, world.vm_id)
        assert (vm.status, vm.status_reason) == (
            VMStatus.ERROR,
            "its stop job was canceled while it ran; libvirt's state is being read back",
        )
        refresh = session.scalars(
            select(Job).where(Job.vm_id == vm.id, Job.kind == JobKind.VM_REFRESH)
        ).one()
    assert str(refresh.id) in Queue(world.settings.queue_name, connection=redis).job_ids
