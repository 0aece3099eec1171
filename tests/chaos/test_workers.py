"""Workers killed and stopped mid-job: every job ends, no playbook outlives its job, and the
next jobs run on a clean worker."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from tests.chaos.conftest import LEASE_SECONDS, SWEEP_SECONDS, StackFactory
from tests.helpers.flows import create_tenant, create_vm, delete_vm, get, wait_status
from tests.helpers.leftovers import assert_none_left, job_processes
from tests.helpers.stack import Stack, wait_for

pytestmark = pytest.mark.chaos
# A dead worker's job ends within one lease and one sweep (plus a margin for a slow machine).
DEAD_JOB_BOUND = LEASE_SECONDS + SWEEP_SECONDS + 20


def _slow_create(stack: Stack) -> dict[str, Any]:
    """A create held in its test pause; returns the VM once its playbook process runs."""
    vm = create_vm(stack, create_tenant(stack), "slow")
    wait_status(stack, f"/api/v1/job/{vm['job_id']}/", {"running"}, 60)
    wait_for("its playbook running", lambda: job_processes(stack.runs_dir, vm["job_id"]), 60)
    return vm


def _ended_in_error(stack: Stack, vm: dict[str, Any], timeout: float) -> dict[str, Any]:
    job = wait_status(stack, f"/api/v1/job/{vm['job_id']}/", {"error"}, timeout)
    after = get(stack, f"/api/v1/vm/{vm['id']}/")
    assert after["status"] == "error"
    assert after["status_reason"] == job["explanation"]
    return job


def _user_can_delete(stack: Stack, vm: dict[str, Any]) -> None:
    assert delete_vm(stack, vm["id"])["status"] == "deleted"
    assert_none_left(stack.runs_dir)


@pytest.mark.parametrize("restart_after", [3, 90])
def test_worker_killed_mid_create_job_ends_error_after_restart(
    chaos_stack: StackFactory, restart_after: int
) -> None:
    with chaos_stack() as stack:
        vm = _slow_create(stack)
        stack.kill_worker()
        killed_at = time.monotonic()
        time.sleep(restart_after)  # the scenario: how long until a worker is back
        stack.start_worker("worker-2")
        job = _ended_in_error(stack, vm, DEAD_JOB_BOUND)
        # Whichever sees it first: our lease sweep, or RQ's clean-up of the dead worker.
        assert job["explanation"].startswith("the worker running this job stopped ("), job
        assert time.monotonic() - killed_at < restart_after + DEAD_JOB_BOUND
        assert_none_left(stack.runs_dir)
        _user_can_delete(stack, vm)


def test_work_horse_killed_job_ends_error_at_once(chaos_stack: StackFactory) -> None:
    with chaos_stack() as stack:
        vm = _slow_create(stack)
        os.kill(stack.horse(), signal.SIGKILL)
        job = _ended_in_error(stack, vm, 15)
        assert job["explanation"] == (
            "the process running this job died (signal 9) before it finished"
        )
        assert_none_left(stack.runs_dir)
        assert stack.procs["worker"].poll() is None  # the worker itself carries on
        _user_can_delete(stack, vm)


def test_sigterm_finishes_the_current_job_then_stops(chaos_stack: StackFactory) -> None:
    with chaos_stack() as stack:
        vm = create_vm(stack, create_tenant(stack), "warm")
        # Its own playbook: the worker may first run the sweep's health check of the host.
        wait_for("its playbook running", lambda: job_processes(stack.runs_dir, vm["job_id"]), 60)
        stack.procs["worker"].send_signal(signal.SIGTERM)
        assert wait_status(stack, f"/api/v1/vm/{vm['id']}/", {"running"}, 120)
        assert stack.procs["worker"].wait(timeout=30) == 0
        assert get(stack, f"/api/v1/job/{vm['job_id']}/")["status"] == "successful"
        assert_none_left(stack.runs_dir)
        stack.start_worker("worker-2")
        _user_can_delete(stack, vm)


def test_double_sigterm_stops_at_once_and_buries_the_job(chaos_stack: StackFactory) -> None:
    with chaos_stack() as stack:
        vm = _slow_create(stack)
        worker = stack.procs["worker"]
        worker.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # RQ ignores a second signal within 1 s as the same one
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        job = _ended_in_error(stack, vm, 10)
        assert "cold shutdown" in job["explanation"], job
        assert_none_left(stack.runs_dir, timeout=5)
        stack.start_worker("worker-2")
        _user_can_delete(stack, vm)


def test_recovery_then_twenty_jobs_all_succeed(chaos_stack: StackFactory) -> None:
    """A recovered dead job must not leave the next worker's forks sharing one connection."""
    with chaos_stack() as stack:
        vm = _slow_create(stack)
        stack.kill_worker()
        stack.start_worker("worker-2")  # RQ's cleanup of the dead worker runs in its parent
        _ended_in_error(stack, vm, DEAD_JOB_BOUND)
        tenant = create_tenant(stack)
        vms = [create_vm(stack, tenant, f"after-{i}") for i in range(10)]
        for made in vms:
            assert wait_status(stack, f"/api/v1/vm/{made['id']}/", {"running"}, 180)
        for made in vms:
            assert stack.call("DELETE", f"/api/v1/vm/{made['id']}/").status_code == 202
        for made in vms:
            assert wait_status(stack, f"/api/v1/vm/{made['id']}/", {"deleted"}, 180)
        jobs = get(stack, f"/api/v1/job/?tenant_id={tenant}&per_page=50")
        assert sorted(j["status"] for j in jobs) == ["successful"] * 20
        assert "DuplicatePreparedStatement" not in stack.logs()
        _user_can_delete(stack, vm)
