"""The VM lifecycle as a hypothesis state machine: random sequences of requests through the API,
and of jobs run by a fake worker, with the invariants checked after every step.

- The tenant's usage equals the sum over its live VMs, and stays within its quota.
- Every status change of a VM is a legal step of the lifecycle table
  (api.services.lifecycle.OPERATIONS), and every refusal is the one the table calls for.
- Every accepted request has its audit row, and every finished job its action in the VM's
  history (GET /vm/{id}/action/).
"""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from hypothesis.stateful import run_state_machine_as_test as run_machine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import (
    VM,
    AuditLog,
    Job,
    JobKind,
    JobStatus,
    Snapshot,
    SnapshotStatus,
    TenantRole,
    VMStatus,
)
from api.models.job import UNFINISHED_JOB_STATUSES
from api.queue import JOB_FUNCS
from api.services import lifecycle, quotas
from api.settings import Settings
from tests.api.conftest import fake_worker
from tests.conftest import Factory
from tests.helpers.runner_fakes import FakeRunner, failed_events, success_events

LIMITS = quotas.Amounts(vcpus=6, ram_mb=3072, disk_gb=40, vms=3, snapshots=2)
NAMES = ("a", "b", "c", "d")
SNAPSHOT_NAMES = ("s1", "s2")
POWER = {JobKind.VM_STOP: "stop", JobKind.VM_START: "start", JobKind.VM_REBOOT: "reboot"}


def legal_steps() -> set[tuple[str, str]]:
    """(before, after) pairs one step of the machine may show, read from the lifecycle table.

    A step is one request (queues a job, or deletes a VM whose create never ran), one job run
    to its end (claimed, run, finished), or one cancel of a queued job."""
    steps: set[tuple[str, str]] = set()
    for op in lifecycle.OPERATIONS.values():
        for status in op.allowed_from:
            steps.add((status, op.queued))
        for after in (*op.results.values(), VMStatus.ERROR):
            steps.add((op.queued, after))
        undo = lifecycle.POWERED if op.undo == lifecycle.PRIOR else {op.undo}
        steps |= {(op.queued, back) for back in undo if back is not None}
    return steps


LEGAL = legal_steps()


@dataclass
class World:
    """What the machine drives: the API client, the fake worker, the tenant and its member."""

    db: Session
    client: FlaskClient
    runner: FakeRunner
    make: Factory
    headers: dict[str, str] = field(default_factory=dict)
    tenant_id: uuid.UUID | None = None


class LifecycleMachine(RuleBasedStateMachine):
    world: World  # set by the test before hypothesis builds machines

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        tenant = w.make.tenant(quota=LIMITS.as_dict())
        member = w.make.user()
        w.make.member(member, tenant, TenantRole.TENANT_USER)
        w.headers, w.tenant_id = w.make.headers(member), tenant.id
        self.seen: dict[uuid.UUID, str] = {}  # each VM's status after the last step
        self.audited: list[tuple[str, str]] = []  # (request id, action) of accepted requests
        self.in_history: set[uuid.UUID] = set()  # finished jobs already found in their history

    def teardown(self) -> None:
        """The hosts are shared by every example: this one's VMs leave them."""
        for vm in self._vms():
            vm.status = VMStatus.DELETED
        self.world.db.flush()

    # -- helpers -------------------------------------------------------------------------------

    def _vms(self) -> list[VM]:
        db = self.world.db
        db.expire_all()
        return list(db.scalars(select(VM).where(VM.tenant_id == self.world.tenant_id)))

    def _vm(self, name: str) -> VM | None:
        live = [vm for vm in self._vms() if vm.name == name and vm.status != VMStatus.DELETED]
        return live[0] if live else None

    def _unfinished(self, vm: VM) -> list[Job]:
        query = select(Job).where(Job.vm_id == vm.id, Job.status.in_(UNFINISHED_JOB_STATUSES))
        return list(self.world.db.scalars(query.order_by(Job.created_at)))

    def _snapshots(self, vm: VM) -> list[Snapshot]:
        query = select(Snapshot).where(Snapshot.vm_id == vm.id)
        return list(self.world.db.scalars(query.order_by(Snapshot.created_at)))

    def _live_snapshots(self) -> int:
        query = select(Snapshot).where(
            Snapshot.tenant_id == self.world.tenant_id, Snapshot.status != SnapshotStatus.DELETED
        )
        return len(list(self.world.db.scalars(query)))

    def _refusal(self, vm: VM, op: lifecycle.Operation) -> str | None:
        """The refusal the table calls for before the request is sent: from a status op does
        not start from, INVALID_STATE; while a job of the VM is unfinished, RESOURCE_BUSY."""
        if vm.status not in op.allowed_from:
            return "INVALID_STATE"
        if self._unfinished(vm):
            return "RESOURCE_BUSY"
        return None

    def _accepted(self, resp: Any, action: str) -> None:
        self.audited.append((resp.headers["X-Request-ID"], action))

    def _refused(self, resp: Any, code: str) -> None:
        assert resp.status_code == 409, resp.get_json()
        assert resp.get_json()["error"]["code"] == code, resp.get_json()

    # -- rules ---------------------------------------------------------------------------------

    @rule(
        name=st.sampled_from(NAMES),
        vcpus=st.integers(1, 3),
        ram_mb=st.sampled_from([256, 512, 1024]),
        disk_gb=st.integers(1, 20),
    )
    def create(self, name: str, vcpus: int, ram_mb: int, disk_gb: int) -> None:
        w = self.world
        before = quotas.usage(w.db, w.tenant_id) if w.tenant_id else quotas.Amounts()
        taken = self._vm(name) is not None
        body = {"tenant_id": str(w.tenant_id), "name": name, "vcpus": vcpus}
        body |= {"ram_mb": ram_mb, "disk_gb": disk_gb}
        resp = w.client.post("/api/v1/vm/", json=body, headers=w.headers)
        asked = quotas.Amounts(vcpus=vcpus, ram_mb=ram_mb, disk_gb=disk_gb, vms=1)
        over = quotas.exceeded(LIMITS, before, asked)
        if taken:
            self._refused(resp, "NAME_TAKEN")
        elif over:
            self._refused(resp, "QUOTA_EXCEEDED")
        else:
            assert resp.status_code == 202, resp.get_json()
            self._accepted(resp, "vm.create")

    @rule(name=st.sampled_from(NAMES), kind=st.sampled_from(sorted(POWER)))
    def power(self, name: str, kind: JobKind) -> None:
        vm = self._vm(name)
        if vm is None:
            return
        refusal = self._refusal(vm, lifecycle.operation(kind))
        path = f"/api/v1/vm/{vm.id}/{POWER[kind]}/"
        resp = self.world.client.post(path, json={}, headers=self.world.headers)
        if refusal:
            self._refused(resp, refusal)
        else:
            assert resp.status_code == 202, resp.get_json()
            self._accepted(resp, f"vm.{POWER[kind]}")

    @rule(name=st.sampled_from(NAMES), vcpus=st.integers(1, 3))
    def resize(self, name: str, vcpus: int) -> None:
        vm = self._vm(name)
        if vm is None:
            return
        w, op = self.world, lifecycle.operation(JobKind.VM_RESIZE)
        used = quotas.usage(w.db, w.tenant_id) if w.tenant_id else quotas.Amounts()
        kept = [s for s in self._snapshots(vm) if s.status != SnapshotStatus.DELETED]
        old, refusal = vm.vcpus, self._refusal(vm, op)
        resp = w.client.post(
            f"/api/v1/vm/{vm.id}/resize/", json={"vcpus": vcpus}, headers=w.headers
        )
        if refusal:
            self._refused(resp, refusal)
        elif kept:
            self._refused(resp, "INVALID_STATE")
        elif vcpus == old:
            assert resp.status_code == 422, resp.get_json()
        elif quotas.exceeded(LIMITS, used, quotas.Amounts(vcpus=max(vcpus - old, 0))):
            self._refused(resp, "QUOTA_EXCEEDED")
        else:
            assert resp.status_code == 202, resp.get_json()
            self._accepted(resp, "vm.resize")

    @rule(name=st.sampled_from(NAMES), snapshot=st.sampled_from(SNAPSHOT_NAMES))
    def take_snapshot(self, name: str, snapshot: str) -> None:
        vm = self._vm(name)
        if vm is None:
            return
        w, op = self.world, lifecycle.operation(JobKind.VM_SNAPSHOT)
        taken = any(
            s.name == snapshot and s.status != SnapshotStatus.DELETED for s in self._snapshots(vm)
        )
        full = self._live_snapshots() >= LIMITS.snapshots
        refusal = self._refusal(vm, op)
        path = f"/api/v1/vm/{vm.id}/snapshot/"
        resp = w.client.post(path, json={"name": snapshot}, headers=w.headers)
        if refusal:
            self._refused(resp, refusal)
        elif taken:
            self._refused(resp, "NAME_TAKEN")
        elif full:
            self._refused(resp, "QUOTA_EXCEEDED")
        else:
            assert resp.status_code == 202, resp.get_json()
            self._accepted(resp, "vm.snapshot")

    @rule(name=st.sampled_from(NAMES), revert=st.booleans())
    def use_snapshot(self, name: str, revert: bool) -> None:
        """Revert to, or delete, the VM's oldest ready snapshot."""
        vm = self._vm(name)
        ready = [s for s in self._snapshots(vm) if s.status == SnapshotStatus.READY] if vm else []
        if vm is None or not ready:
            return
        w = self.world
        kind = JobKind.VM_REVERT if revert else JobKind.VM_SNAPSHOT_DELETE
        refusal = self._refusal(vm, lifecycle.operation(kind))
        path = f"/api/v1/vm/{vm.id}/snapshot/{ready[0].id}/"
        if revert:
            resp = w.client.post(f"{path}revert/", json={}, headers=w.headers)
        else:
            resp = w.client.delete(path, headers=w.headers)
        action = "vm.revert" if revert else "vm.snapshot_delete"
        if refusal:
            self._refused(resp, refusal)
        else:
            assert resp.status_code == 202, resp.get_json()
            self._accepted(resp, action)

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        vm = self._vm(name)
        if vm is None:
            return
        status = vm.status
        resp = self.world.client.delete(f"/api/v1/vm/{vm.id}/", headers=self.world.headers)
        if status == VMStatus.DELETING:
            self._refused(resp, "INVALID_STATE")
            return
        assert resp.status_code in {200, 202}, resp.get_json()  # never RESOURCE_BUSY
        self._accepted(resp, "vm.delete")

    @rule(name=st.sampled_from(NAMES))
    def cancel(self, name: str) -> None:
        vm = self._vm(name)
        queued = [j for j in self._unfinished(vm) if j.status == JobStatus.QUEUED] if vm else []
        if not queued:
            return
        job = queued[-1]
        resp = self.world.client.post(
            f"/api/v1/job/{job.id}/cancel/", json={}, headers=self.world.headers
        )
        if job.kind == JobKind.VM_DELETE:
            self._refused(resp, "INVALID_STATE")
        else:
            assert resp.status_code == 200, resp.get_json()
            self._accepted(resp, "job.cancel")

    @rule(name=st.sampled_from(NAMES), succeeds=st.booleans())
    def work(self, name: str, succeeds: bool) -> None:
        """The worker runs the VM's oldest queued job; the fake playbook succeeds or fails."""
        vm = self._vm(name)
        queued = [j for j in self._unfinished(vm) if j.status == JobStatus.QUEUED] if vm else []
        if vm is None or not queued:
            return
        job = queued[0]
        op = lifecycle.operation(JobKind(job.kind))
        runner = self.world.runner
        runner.status, runner.rc = ("successful", 0) if succeeds else ("failed", 2)
        runner.events = (
            success_events(vm.domain_name, _reports(self.world.db, op, job)) if succeeds else []
        )
        runner.events = runner.events or failed_events()
        _job_function(job.kind)(str(job.id))

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def usage_is_the_sum_over_live_vms_within_the_quota(self) -> None:
        w = self.world
        if w.tenant_id is None:
            return
        live = [vm for vm in self._vms() if vm.status != VMStatus.DELETED]
        summed = quotas.Amounts(
            vcpus=sum(vm.vcpus for vm in live),
            ram_mb=sum(vm.ram_mb for vm in live),
            disk_gb=sum(vm.disk_gb for vm in live),
            vms=len(live),
        )
        used = quotas.usage(w.db, w.tenant_id)
        assert used == dataclasses.replace(summed, snapshots=self._live_snapshots())
        assert quotas.exceeded(LIMITS, quotas.Amounts(), used) == []

    @invariant()
    def every_status_change_is_a_step_of_the_table(self) -> None:
        for vm in self._vms():
            before = self.seen.get(vm.id)
            if before is None:
                assert vm.status == lifecycle.operation(JobKind.VM_CREATE).queued
            elif before != vm.status:
                assert (before, vm.status) in LEGAL or (
                    (before, vm.status) == (VMStatus.PENDING, VMStatus.DELETED)
                ), (vm.name, before, vm.status)
            self.seen[vm.id] = vm.status

    @invariant()
    def every_accepted_request_has_its_audit_row(self) -> None:
        for request_id, action in self.audited:
            query = select(AuditLog.action).where(AuditLog.request_id == request_id)
            assert action in set(self.world.db.scalars(query)), (request_id, action)

    @invariant()
    def every_finished_job_is_an_action_in_its_vms_history(self) -> None:
        w = self.world
        for vm in self._vms():
            done = {
                job.id: job.status
                for job in w.db.scalars(select(Job).where(Job.vm_id == vm.id))
                if job.finished_at is not None and job.id not in self.in_history
            }
            if not done:
                continue
            resp = w.client.get(f"/api/v1/vm/{vm.id}/action/?per_page=100", headers=w.headers)
            assert resp.status_code == 200, resp.get_json()
            listed = {a["job_id"]: a["result"] for a in resp.get_json()["data"] if a["job_id"]}
            for job_id, status in done.items():
                assert listed.get(str(job_id)) == status, (vm.name, job_id, status)
                self.in_history.add(job_id)


def _reports(db: Session, op: lifecycle.Operation, job: Job) -> str:
    """What a successful playbook of op reports: its one result; for a revert, the state the
    snapshot was taken in; else the power state the VM had when the job was requested."""
    if len(op.results) == 1:
        return next(iter(op.results))
    if job.kind == JobKind.VM_REVERT and job.snapshot_id is not None:
        return str(db.get_one(Snapshot, job.snapshot_id).power_state)
    return str(job.prior_status)


def _job_function(kind: str) -> Callable[[str], str]:
    module, name = JOB_FUNCS[kind].rsplit(".", 1)
    func: Callable[[str], str] = getattr(importlib.import_module(module), name)
    return func


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


def test_lifecycle_machine_keeps_usage_transitions_and_audit_true(
    db: Session, client: FlaskClient, make: Factory, worker: FakeRunner
) -> None:
    LifecycleMachine.world = World(db, client, worker, make)
    run_machine(
        LifecycleMachine,
        settings=hypothesis_settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            # No shrinking: a failure prints its steps and seed at once, within the CI limit.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
