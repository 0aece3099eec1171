"""Jobs (one playbook run each) and their ansible-runner events: the audit trail of the hosts."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, utcnow, uuid_pk
from api.models._types import enum_check, newest_first


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESSFUL = "successful"  # the playbook ran and succeeded
    FAILED = "failed"  # the playbook ran and failed
    ERROR = "error"  # the playbook could not run (or the job crashed)
    CANCELED = "canceled"


UNFINISHED_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobKind(StrEnum):
    VM_CREATE = "vm.create"
    VM_DELETE = "vm.delete"
    VM_STOP = "vm.stop"
    VM_START = "vm.start"
    VM_REBOOT = "vm.reboot"
    VM_RESIZE = "vm.resize"
    VM_SNAPSHOT = "vm.snapshot"  # take a snapshot of the VM
    VM_SNAPSHOT_DELETE = "vm.snapshot_delete"
    VM_REVERT = "vm.revert"  # to a snapshot
    VM_REFRESH = "vm.refresh"  # read one VM's domain state back from libvirt (read-only)
    HOST_PREPARE = "host.prepare"
    HOST_DOMAINS = "host.domains"  # list the host's domains and reconcile (read-only)
    OPS_RUN = "ops.run"  # a hand run of a playbook by ops, recorded by its callback plugin


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        enum_check("status", JobStatus, "status"),
        enum_check("kind", JobKind, "kind"),
        # A job belongs to a tenant (VM jobs) or to a host (host jobs, visible to admins only);
        # a hand run by ops may target a host VirtFlow does not know.
        CheckConstraint(
            "tenant_id IS NOT NULL OR baremetal_id IS NOT NULL OR kind = 'ops.run'", name="owner"
        ),
        # The job list, newest first: everyone's, a tenant's, a VM's; and the latest job of a
        # VM (VM.job_id) or of a snapshot (Snapshot.job_id).
        newest_first("job"),
        newest_first("job", "tenant_id"),
        newest_first("job", "vm_id"),
        newest_first("job", "snapshot_id"),
    )

    id: Mapped[uuid_pk] = mapped_column(comment="also the RQ job id")
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenant.id"), comment="null for host jobs"
    )
    baremetal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("baremetal.id"), index=True, comment="the host of a host job"
    )
    vm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vm.id"))
    snapshot_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("snapshot.id"), comment="the snapshot a snapshot job acts on"
    )
    prior_status: Mapped[str | None] = mapped_column(
        String(16), comment="the VM's status when the job was requested: where a cancel returns it"
    )
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="a cancel of the running job was asked: the worker stops its playbook",
    )
    playbook: Mapped[str] = mapped_column(String(255))
    limit: Mapped[str] = mapped_column(String(255), comment="inventory host the playbook targets")
    extravars: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment="never secrets: per-run data only"
    )
    rc: Mapped[int | None]
    explanation: Mapped[str | None] = mapped_column(
        Text, comment="readable reason for failed/error/canceled"
    )
    stdout: Mapped[str] = mapped_column(Text, default="", comment="playbook output, bounded")
    artifacts: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment="set_stats data the playbook reported"
    )
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, comment="set in Python: orders jobs of one txn"
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="lease of a running job, renewed by its worker; stale means the worker died",
    )
    worker: Mapped[str | None] = mapped_column(
        String(255), comment="host:pid of the process running the job"
    )


class JobEvent(Base):
    __tablename__ = "job_event"
    __table_args__ = (UniqueConstraint("job_id", "counter"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    counter: Mapped[int] = mapped_column(comment="ansible-runner's event order within the job")
    event: Mapped[str] = mapped_column(String(64))
    play: Mapped[str | None] = mapped_column(String(1024))
    task: Mapped[str | None] = mapped_column(String(1024))
    host: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(
        String(16), comment="ok, changed, failed, skipped, unreachable for host events"
    )
    changed: Mapped[bool] = mapped_column(default=False)
    stdout: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, comment="bounded subset of the event's result"
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
