"""host.prepare below RQ, with a fake run_playbook: the host ends active, or new with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.models import Baremetal, CapacitySource, HostState, Job, JobStatus
from api.services import hosts, libvirt_state
from api.services import vms as vm_service
from jobs import base
from jobs import hosts as host_jobs
from jobs.runner import PlaybookRun
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, event, host_report


@pytest.fixture
def preparing(db: Session, make: Factory) -> tuple[Baremetal, Job]:
    host = make.baremetal("bm-new", state=HostState.NEW, prepared_at=None)
    job = hosts.request_prepare(db, host, "r-1")
    db.flush()
    return host, job


def reload(db: Session, *objs: Any) -> None:
    db.expire_all()
    for obj in objs:
        db.refresh(obj)


def test_host_prepare_success_makes_the_host_active(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    runner.events = [event(1, "playbook_on_start"), event(2, "playbook_on_stats")]
    assert host_jobs.prepare(str(job.id)) == "successful"
    reload(db, host, job)
    assert (job.status, job.worker) == (JobStatus.SUCCESSFUL, base.worker_identity())
    assert (host.state, host.state_reason) == (HostState.ACTIVE, None)
    assert host.prepared_at is not None
    assert runner.runs == [PlaybookRun(str(job.id), "host_prepare.yml", "bm-new", {})]


def test_host_prepare_failure_leaves_the_host_new_with_the_reason(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    gone = {"msg": "Failed to connect to the host via ssh", "unreachable": True}
    runner.events = [event(1, "runner_on_unreachable", task="Ping", host="bm-new", res=gone)]
    runner.status, runner.rc = "failed", 4
    assert host_jobs.prepare(str(job.id)) == "failed"
    reload(db, host, job)
    assert (
        job.explanation
        == "task 'Ping' unreachable on bm-new: Failed to connect to the host via ssh"
    )
    assert (host.state, host.state_reason, host.prepared_at) == (
        HostState.NEW,
        job.explanation,
        None,
    )


def test_host_prepare_crash_leaves_the_host_new(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    runner.raises = RuntimeError("pexpect died")
    with pytest.raises(RuntimeError):
        host_jobs.prepare(str(job.id))
    reload(db, host, job)
    assert job.status == JobStatus.ERROR
    assert (host.state, host.state_reason) == (HostState.NEW, job.explanation)


def test_host_prepare_skips_a_job_no_longer_queued(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    _host, job = preparing
    job.status = JobStatus.CANCELED
    db.flush()
    assert host_jobs.prepare(str(job.id)) == "skipped"
    assert runner.runs == []


def test_host_prepare_canceled_before_it_ran_gives_the_host_back(
    db: Session, make: Factory, preparing: tuple[Baremetal, Job]
) -> None:
    host, job = preparing
    admin = make.user(is_admin=True)
    canceled, change = vm_service.cancel_job(db, admin, job.id)
    reload(db, host)
    assert (canceled.status, change) == (JobStatus.CANCELED, None)
    assert host.state == HostState.NEW  # never prepared before


def test_host_domains_jobs_failing_in_a_row_take_the_host_offline(
    db: Session, make: Factory, runner: FakeRunner
) -> None:
    host = make.baremetal("bm-far")
    gone = {"msg": "Failed to connect to the host via ssh: No route to host", "unreachable": True}
    runner.events = [event(1, "runner_on_unreachable", task="List", host="bm-far", res=gone)]
    runner.status, runner.rc = "failed", 4
    for expected in (HostState.ACTIVE, HostState.OFFLINE):
        job = libvirt_state.request_host_check(db, host)
        db.flush()
        assert host_jobs.domains(str(job.id)) == "failed"
        reload(db, host)
        assert host.state == expected
    assert "failed 2 health checks in a row" in (host.state_reason or "")
    assert "No route to host" in (host.state_reason or "")


DISCOVERY = {
    "host": "bm-new",
    "cpus": 4,
    "memory_mb": "16384",
    "image_dir_free_gb": 200,
    "libvirt_version": "9.0.0",
    "qemu_version": "7.2.22",
    "virt_type": "kvm",
}


def test_host_prepare_stores_what_it_discovered_and_the_capacity_from_it(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    host.declared_vcpus = host.declared_ram_mb = host.declared_disk_gb = None
    host.overrides = {"reserved_disk_gb": 0}
    db.flush()
    runner.events = [event(1, "playbook_on_start"), host_report(2, DISCOVERY)]
    assert host_jobs.prepare(str(job.id)) == "successful"
    reload(db, host)
    assert host.discovered == {
        **{k: v for k, v in DISCOVERY.items() if k != "host"},
        "memory_mb": 16384,
    }
    assert host.discovered_at is not None and host.state == HostState.ACTIVE
    # settings defaults: 4 x 4 vCPUs, 16384 - 512 MiB; the host's override: 200 - 0 GiB
    assert (host.capacity_vcpus, host.capacity_ram_mb, host.capacity_disk_gb) == (16, 15872, 200)
    assert host.capacity_source == CapacitySource.DISCOVERED


def test_host_prepare_keeps_explicit_capacity_and_the_last_discovery_on_failure(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    host.declared_vcpus, host.capacity_vcpus = 2, 2
    host.discovered = {"cpus": 1}
    db.flush()
    runner.events = [host_report(1, {**DISCOVERY, "cpus": 64})]
    runner.status, runner.rc = "failed", 2
    assert host_jobs.prepare(str(job.id)) == "failed"
    reload(db, host)
    assert (host.discovered, host.discovered_at) == ({"cpus": 1}, None)
    job2 = hosts.request_prepare(db, host, None)
    db.commit()
    runner.status, runner.rc = "successful", 0
    assert host_jobs.prepare(str(job2.id)) == "successful"
    reload(db, host)
    assert host.discovered is not None and host.discovered["cpus"] == 64
    assert host.capacity_vcpus == 2  # the inventory's virtflow_capacity_vcpus still wins


def test_host_prepare_ignores_a_report_about_another_host(
    db: Session, preparing: tuple[Baremetal, Job], runner: FakeRunner
) -> None:
    host, job = preparing
    runner.events = [host_report(1, {**DISCOVERY, "host": "bm-other"})]
    assert host_jobs.prepare(str(job.id)) == "successful"
    reload(db, host)
    assert (host.state, host.discovered) == (HostState.ACTIVE, None)
