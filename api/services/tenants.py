"""Tenants: creation and visibility."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.errors import NameTaken, NotFound
from api.models import Tenant, User
from api.services.permissions import Perm, require, visible_tenants_clause


def create_tenant(session: Session, name: str) -> Tenant:
    """Add a tenant; names stay reserved even after deletion so history stays unambiguous."""
    if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
        raise NameTaken(f"tenant name {name!r} is taken", {"field": "name"})
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, user: User, tenant_id: uuid.UUID, perm: Perm) -> Tenant:
    """The tenant if the caller may see it and holds perm; 404 otherwise (no existence leak)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound()
    require(session, user, perm, tenant.id)
    return tenant


def tenants_query(user: User, name: str | None = None) -> Select[Tenant]:
    """The tenants the caller may see, newest first."""
    query = select(Tenant).where(visible_tenants_clause(user, Tenant.id))
    if name:
        query = query.where(Tenant.name == name)
    return query.order_by(Tenant.created_at.desc(), Tenant.id)


def list_tenants(session: Session, user: User) -> Sequence[Tenant]:
    """Every tenant the caller may see."""
    return list(session.scalars(tenants_query(user)))
