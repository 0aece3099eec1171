"""Service test helpers: `World`, committed rows for tests that need several connections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import sessionmaker

from api.db import utcnow
from api.models import (
    VM,
    Baremetal,
    HostState,
    Job,
    JobEvent,
    Membership,
    ObjectPermission,
    Quota,
    Tenant,
    User,
)
from tests.conftest import ROOMY_QUOTA, password_hash


class World:
    """Committed rows for tests that need several connections; `cleanup` removes them all."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.tenant_ids: list[uuid.UUID] = []
        self.user_ids: list[uuid.UUID] = []
        self.host_ids: list[uuid.UUID] = []

    def setup(
        self, quota: dict[str, int] | None = None, vcpus: int = 64
    ) -> tuple[uuid.UUID, uuid.UUID]:
        """A tenant with its quota, a platform admin and a roomy host; returns (tenant, admin)."""
        with self.sessions() as session:
            tenant = Tenant(name=f"w-{uuid.uuid4().hex[:10]}")
            admin = User(
                username=f"w-{uuid.uuid4().hex[:10]}", password_hash=password_hash(), is_admin=True
            )
            host = Baremetal(
                name=f"w-{uuid.uuid4().hex[:10]}",
                libvirt_uri="qemu:///system",
                capacity_vcpus=vcpus,
                capacity_ram_mb=1_000_000,
                capacity_disk_gb=100_000,
                synced_at=utcnow(),
                state=HostState.ACTIVE,
            )
            session.add_all([tenant, admin, host])
            session.flush()
            session.add(Quota(tenant_id=tenant.id, **{**ROOMY_QUOTA, **(quota or {})}))
            session.commit()
            self.tenant_ids.append(tenant.id)
            self.user_ids.append(admin.id)
            self.host_ids.append(host.id)
            return tenant.id, admin.id

    def cleanup(self) -> None:
        with self.sessions() as session:
            tenant_ids, user_ids = self.tenant_ids, self.user_ids
            job_ids = select(Job.id).where(Job.tenant_id.in_(tenant_ids))
            session.execute(delete(JobEvent).where(JobEvent.job_id.in_(job_ids)))
            session.execute(delete(Job).where(Job.tenant_id.in_(tenant_ids)))
            session.execute(
                delete(ObjectPermission).where(ObjectPermission.tenant_id.in_(tenant_ids))
            )
            session.execute(delete(VM).where(VM.tenant_id.in_(tenant_ids)))
            session.execute(delete(Quota).where(Quota.tenant_id.in_(tenant_ids)))
            session.execute(delete(Membership).where(Membership.tenant_id.in_(tenant_ids)))
            session.execute(delete(Tenant).where(Tenant.id.in_(tenant_ids)))
            session.execute(delete(User).where(User.id.in_(user_ids)))
            session.execute(delete(Baremetal).where(Baremetal.id.in_(self.host_ids)))
            session.commit()


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    w = World(engine)
    try:
        yield w
    finally:
        w.cleanup()
