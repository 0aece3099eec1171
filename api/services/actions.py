"""A VM's action history (Nova's instance actions), derived from the rows that already hold it.

One query, a UNION ALL of three sources, newest first:

- the VM's jobs: every operation requested through the API (create, stop, start, reboot,
  refresh, delete, ...), with the request id, the user, the times and the job's status;
- hand runs of the playbooks (`ops.run` jobs, recorded by the callback plugin) on the VM's host
  whose `virtflow_guests` name the VM, by its UUID or its domain name;
- the VM's audit rows that no job carries: changes the reconciler followed (`vm.reconcile`,
  outcome `out_of_band`), and successful `vm.*` requests that made no job of the VM (a force
  delete, a delete of a VM whose create never ran).

Nothing is stored twice: no table of its own, and the rows' own retention is the history's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.engine import Row
from sqlalchemy.orm import Bundle, Session
from sqlalchemy.sql.elements import KeyedColumnElement

from api.models import VM, AuditLog, AuditOutcome, Job, JobKind, JobStatus, User
from api.services import vms
from api.services.permissions import Perm

OUT_OF_BAND = AuditOutcome.OUT_OF_BAND.value
# An action's result: its job's status, or `out_of_band` for a change the reconciler followed;
# a jobless request (a force delete) that changed the VM is `successful`.
RESULTS = (*(status.value for status in JobStatus), OUT_OF_BAND)
# One branch of the union: a select of the columns Action has, in its order.
Branch = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]
SOURCE_API = "api"  # a request through the API, by `actor`
SOURCE_RECONCILER = "reconciler"  # libvirt changed without VirtFlow; the reconciler followed
OPS_PREFIX = "ops:"  # a hand run of a playbook, by this OS user (ops:<user>)


@dataclass(frozen=True)
class Action:
    """One operation on a VM, whatever row recorded it."""

    action: str
    request_id: str | None
    actor_id: uuid.UUID | None
    actor_username: str | None
    source: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: str
    message: str | None
    status_before: str | None
    status_after: str | None
    job_id: uuid.UUID | None
    audit_id: int | None

    @property
    def actor(self) -> dict[str, Any] | None:
        """The user who asked ({id, username}); None for the reconciler and for hand runs."""
        if self.actor_id is None:
            return None
        return {"id": self.actor_id, "username": self.actor_username}


class _Actions(Bundle[Action]):
    """Each row as an Action, so the standard paging reads Actions as one column."""

    def create_row_processor(
        self,
        query: Branch,
        procs: Sequence[Callable[[AnyRow], Any]],
        labels: Sequence[str],
    ) -> Callable[[AnyRow], Any]:
        def proc(row: AnyRow) -> Action:
            return Action(**dict(zip(labels, (each(row) for each in procs), strict=True)))

        return proc


def _none(type_: Any) -> ColumnElement[Any]:
    return cast(null(), type_)


def _jobs(vm: VM) -> Branch:
    """The VM's own jobs, with the user who requested each."""
    return (
        select(
            Job.kind.label("action"),
            Job.request_id,
            Job.created_by_id.label("actor_id"),
            User.username.label("actor_username"),
            literal(SOURCE_API).label("source"),
            Job.created_at.label("requested_at"),
            Job.started_at,
            Job.finished_at,
            Job.status.label("result"),
            Job.explanation.label("message"),
            _none(Job.status.type).label("status_before"),
            _none(Job.status.type).label("status_after"),
            Job.id.label("job_id"),
            _none(BigInteger).label("audit_id"),
        )
        .outerjoin(User, User.id == Job.created_by_id)
        .where(Job.vm_id == vm.id)
    )


def _names_vm(vm: VM) -> ColumnElement[bool]:
    """An ops.run's extra vars name the VM: a guest with its UUID or its domain name."""
    guests = Job.extravars
    by_uuid = {"virtflow_guests": [{"uuid": str(vm.id)}]}
    by_name = {"virtflow_guests": [{"name": vm.domain_name}]}
    return or_(guests.contains(by_uuid), guests.contains(by_name))


def _hand_runs(vm: VM) -> Branch:
    """ops.run jobs on the VM's host that named it, with the OS user from their audit row.

    Driven by the ops.run audit rows (few, by their action index); each holds its job's id."""
    os_user = AuditLog.changes[("details", "os_user")].astext
    return (
        select(
            Job.kind.label("action"),
            Job.request_id,
            _none(PG_UUID(as_uuid=True)).label("actor_id"),
            _none(User.username.type).label("actor_username"),
            (literal(OPS_PREFIX) + os_user).label("source"),
            Job.created_at.label("requested_at"),
            Job.started_at,
            Job.finished_at,
            Job.status.label("result"),
            Job.explanation.label("message"),
            _none(Job.status.type).label("status_before"),
            _none(Job.status.type).label("status_after"),
            Job.id.label("job_id"),
            AuditLog.id.label("audit_id"),
        )
        .select_from(AuditLog)
        .join(Job, Job.id == cast(AuditLog.object_id, PG_UUID(as_uuid=True)))
        .where(
            AuditLog.action == JobKind.OPS_RUN,
            AuditLog.object_type == "job",
            Job.kind == JobKind.OPS_RUN,
            Job.baremetal_id == vm.baremetal_id,
            _names_vm(vm),
        )
    )


def _audit_message() -> ColumnElement[Any]:
    """What a jobless change says: the domain state libvirt reported, else the VM's reason."""
    state = AuditLog.changes[("details", "domain", "state")].astext
    reason = AuditLog.changes[("after", "status_reason")].astext
    reported = literal("libvirt reported the domain ") + state
    return case((state.is_not(None), reported), else_=reason)


def _jobless(vm: VM) -> Branch:
    """The VM's audit rows no job of the VM carries: out-of-band changes, and successful vm.*
    requests that made no job (force delete; a delete of a VM whose create never ran), but not
    the replays of an Idempotency-Key (the first request's job is the action)."""
    out_of_band = AuditLog.outcome == OUT_OF_BAND
    made_no_job = ~exists().where(Job.vm_id == vm.id, Job.request_id == AuditLog.request_id)
    replayed = AuditLog.changes.contains({"details": {"idempotent_replay": True}})
    observed_by = cast(AuditLog.changes[("details", "job_id")].astext, PG_UUID(as_uuid=True))
    return select(
        AuditLog.action,
        AuditLog.request_id,
        AuditLog.actor_id,
        AuditLog.actor_username,
        case((out_of_band, literal(SOURCE_RECONCILER)), else_=literal(SOURCE_API)).label("source"),
        AuditLog.created_at.label("requested_at"),
        AuditLog.created_at.label("started_at"),
        AuditLog.created_at.label("finished_at"),
        case((out_of_band, literal(OUT_OF_BAND)), else_=literal(JobStatus.SUCCESSFUL.value)).label(
            "result"
        ),
        _audit_message().label("message"),
        AuditLog.changes[("before", "status")].astext.label("status_before"),
        AuditLog.changes[("after", "status")].astext.label("status_after"),
        case((out_of_band, observed_by), else_=_none(PG_UUID(as_uuid=True))).label("job_id"),
        AuditLog.id.label("audit_id"),
    ).where(
        AuditLog.object_type == "vm",
        AuditLog.object_id == str(vm.id),
        or_(
            out_of_band,
            and_(
                AuditLog.outcome == AuditOutcome.SUCCESS,
                AuditLog.action.startswith("vm."),
                made_no_job,
                ~replayed,  # an Idempotency-Key replay answered again, and did nothing
            ),
        ),
    )


def history(vm: VM, *, action: str | None = None, result: str | None = None) -> Select[Action]:
    """The VM's actions as one query of Actions, newest first (filters by action, result)."""
    sources = [_jobs(vm), _jobless(vm)]
    if vm.baremetal_id is not None:  # hand runs act on a host: a VM never placed had none
        sources.append(_hand_runs(vm))
    union = union_all(*sources).subquery("vm_action")
    columns: list[KeyedColumnElement[Any]] = list(union.c)
    query = select(_Actions("action", *columns))
    if action is not None:
        query = query.where(union.c.action == action)
    if result is not None:
        query = query.where(union.c.result == result)
    # Ties (jobs of one transaction share no time; audit rows might): a stable, total order.
    return query.order_by(
        union.c.requested_at.desc(), union.c.audit_id.desc(), union.c.job_id.desc()
    )


def vm_history(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    *,
    action: str | None = None,
    result: str | None = None,
) -> Select[Action]:
    """The actions of a VM the caller may view (404 otherwise; a deleted VM keeps them)."""
    vm = vms.get_vm(session, user, vm_id, Perm.VM_VIEW)
    return history(vm, action=action, result=result)
