"""Batches on real KVM: creates queued together for one host run in one playbook run, and so
do their deletes; each VM still has its own job, events and result."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack, virsh
from tests.helpers.flows import create_tenant, create_vm, wait_status, wait_vm

pytestmark = pytest.mark.e2e


@pytest.fixture
def paused_worker(admin: Stack) -> Iterator[int]:
    """The stack's worker, stopped (SIGSTOP) so requests queue up; the test resumes it."""
    pid = admin.procs["worker"].pid
    os.kill(pid, signal.SIGSTOP)
    yield pid
    os.kill(pid, signal.SIGCONT)  # also when the test failed before resuming it


def jobs_of(stack: Stack, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = stack.sql("SELECT id::text, status, worker FROM job WHERE id::text = ANY(%s)", job_ids)
    return {row[0]: (row[1], row[2]) for row in rows}


def item_labels(stack: Stack, job_id: str) -> set[str]:
    rows = stack.sql(
        "SELECT stdout FROM job_event WHERE job_id = %s AND event LIKE 'runner_item_on_%%'",
        job_id,
    )
    return {row[0] for row in rows}


def test_queued_creates_and_deletes_of_one_host_run_as_one_batch(
    admin: Stack, paused_worker: int, cleanup_domains: list[str]
) -> None:
    tenant_id = create_tenant(admin)
    vms = [create_vm(admin, tenant_id, f"batch-{k}") for k in range(3)]
    cleanup_domains.extend(vm["domain_name"] for vm in vms)
    create_jobs = [vm["job_id"] for vm in vms]
    os.kill(paused_worker, signal.SIGCONT)

    for vm in vms:
        wait_vm(admin, vm["id"], {"running"})
        assert virsh("domstate", vm["domain_name"]).stdout.strip() == "running"
    created = jobs_of(admin, create_jobs)
    assert {status for status, _ in created.values()} == {"successful"}
    assert len({worker for _, worker in created.values()}) == 1  # one work horse ran them all
    for vm in vms:  # its own job shows its own guest's item events, never another's
        others = [o["domain_name"] for o in vms if o["id"] != vm["id"]]
        labels = " ".join(item_labels(admin, vm["job_id"]))
        assert vm["domain_name"] in labels
        assert not any(name in labels for name in others)

    os.kill(paused_worker, signal.SIGSTOP)
    delete_jobs = []
    for vm in vms:
        r = admin.call("DELETE", f"/api/v1/vm/{vm['id']}/")
        assert r.status_code == 202, r.text
        delete_jobs.append(r.json()["data"]["job_id"])
    os.kill(paused_worker, signal.SIGCONT)

    for vm in vms:
        wait_status(admin, f"/api/v1/vm/{vm['id']}/", {"deleted"}, 180)
        assert virsh("domstate", vm["domain_name"]).returncode != 0  # undefined
    deleted = jobs_of(admin, delete_jobs)
    assert {status for status, _ in deleted.values()} == {"successful"}
    assert len({worker for _, worker in deleted.values()}) == 1
