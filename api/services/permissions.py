"""Permission codenames, the roles that bundle them, and the checks every service uses.

Effective permissions on a tenant's objects = platform role (admin holds all) plus the caller's
tenant-membership role. Object-level grants arrive with the tenancy work.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.errors import NotFound, PermissionDenied
from api.models import Membership, TenantRole, User


class Perm(StrEnum):
    TENANT_VIEW = "tenant.view"
    TENANT_ADMIN = "tenant.admin"
    VM_VIEW = "vm.view"
    VM_CREATE = "vm.create"
    VM_CHANGE = "vm.change"
    VM_DELETE = "vm.delete"
    JOB_VIEW = "job.view"
    BAREMETAL_VIEW = "baremetal.view"


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    TenantRole.VIEWER: frozenset({Perm.TENANT_VIEW, Perm.VM_VIEW, Perm.JOB_VIEW}),
    TenantRole.TENANT_USER: frozenset(
        {
            Perm.TENANT_VIEW,
            Perm.VM_VIEW,
            Perm.VM_CREATE,
            Perm.VM_CHANGE,
            Perm.VM_DELETE,
            Perm.JOB_VIEW,
        }
    ),
}


def tenant_role(session: Session, user: User, tenant_id: uuid.UUID) -> str | None:
    """The caller's role in a tenant, or None."""
    return session.scalar(
        select(Membership.role).where(
            Membership.tenant_id == tenant_id, Membership.user_id == user.id
        )
    )


def has_perm(session: Session, user: User, perm: Perm, tenant_id: uuid.UUID) -> bool:
    """Whether user holds perm on objects of tenant_id."""
    if user.is_admin:
        return True
    role = tenant_role(session, user, tenant_id)
    return role is not None and perm in ROLE_PERMS[role]


def require(session: Session, user: User, perm: Perm, tenant_id: uuid.UUID) -> None:
    """404 when the caller cannot even see the tenant's objects, 403 when it only lacks perm."""
    if has_perm(session, user, perm, tenant_id):
        return
    if not has_perm(session, user, Perm.TENANT_VIEW, tenant_id):
        raise NotFound()
    raise PermissionDenied(f"missing permission {perm.value}", {"permission": perm.value})


def visible_tenants_clause(
    user: User, tenant_column: InstrumentedAttribute[uuid.UUID]
) -> ColumnElement[bool]:
    """A SQL filter on tenant_column keeping only the tenants the caller belongs to."""
    if user.is_admin:
        return true()
    member_of = select(Membership.tenant_id).where(Membership.user_id == user.id)
    return tenant_column.in_(member_of)
