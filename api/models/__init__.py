"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from sqlalchemy import select
from sqlalchemy.orm import column_property

from api.models.audit import AuditChain, AuditLog, AuditOutcome
from api.models.auth_session import AuthSession, RevokedToken
from api.models.baremetal import (
    Baremetal,
    CapacitySource,
    GuestNetwork,
    HostState,
    InventorySync,
)
from api.models.idempotency import IdempotencyKey
from api.models.image import Image, ImageFormat, ImageStatus, ImageVisibility
from api.models.job import Job, JobEvent, JobKind, JobStatus
from api.models.permission import ObjectPermission
from api.models.quota import DEFAULT_LIMITS, QUOTA_RESOURCES, Quota
from api.models.snapshot import Snapshot, SnapshotStatus
from api.models.tenant import Membership, Tenant, TenantRole, TenantStatus
from api.models.user import User
from api.models.vm import VM, VMStatus

# The VM's most recent job, so clients can poll it (declared here: it needs both models).
VM.job_id = column_property(
    select(Job.id)
    .where(Job.vm_id == VM.id)
    .order_by(Job.created_at.desc())
    .limit(1)
    .correlate_except(Job)
    .scalar_subquery()
)
# Whether the VM was given user_data, without loading that secret (it is deferred).
VM.user_data_present = column_property(VM.user_data.is_not(None))
# The snapshot's most recent job (its take, delete or a revert to it), likewise.
Snapshot.job_id = column_property(
    select(Job.id)
    .where(Job.snapshot_id == Snapshot.id)
    .order_by(Job.created_at.desc())
    .limit(1)
    .correlate_except(Job)
    .scalar_subquery()
)

__all__ = [
    "DEFAULT_LIMITS",
    "QUOTA_RESOURCES",
    "VM",
    "AuditChain",
    "AuditLog",
    "AuditOutcome",
    "AuthSession",
    "Baremetal",
    "CapacitySource",
    "GuestNetwork",
    "HostState",
    "IdempotencyKey",
    "Image",
    "ImageFormat",
    "ImageStatus",
    "ImageVisibility",
    "InventorySync",
    "Job",
    "JobEvent",
    "JobKind",
    "JobStatus",
    "Membership",
    "ObjectPermission",
    "Quota",
    "RevokedToken",
    "Snapshot",
    "SnapshotStatus",
    "Tenant",
    "TenantRole",
    "TenantStatus",
    "User",
    "VMStatus",
]
