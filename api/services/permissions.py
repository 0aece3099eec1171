"""Permissions: codenames, the roles that bundle them, object-level grants, and the checks.

Effective permissions of a user on an object = platform role (`admin` holds everything)
+ the user's tenant-membership role (`tenant_user` or `viewer`) in the object's tenant
+ object grants on the object itself and on its tenant (django-guardian style, table
object_permission). A `tenant.admin` grant on a tenant implies every tenant-scoped permission.

Every list endpoint filters with `objects_clause` (get_objects_for_user): one SQL predicate,
no per-row checks. Objects the caller may not view answer 404, never 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.errors import NotFound, PermissionDenied
from api.models import Membership, ObjectPermission, TenantRole, User


class Perm(StrEnum):
    TENANT_VIEW = "tenant.view"
    TENANT_ADMIN = "tenant.admin"
    VM_VIEW = "vm.view"
    VM_CREATE = "vm.create"
    VM_CHANGE = "vm.change"
    VM_DELETE = "vm.delete"
    VM_SNAPSHOT = "vm.snapshot"
    JOB_VIEW = "job.view"
    JOB_CANCEL = "job.cancel"
    QUOTA_VIEW = "quota.view"
    QUOTA_CHANGE = "quota.change"
    BAREMETAL_VIEW = "baremetal.view"
    BAREMETAL_CHANGE = "baremetal.change"
    AUDIT_VIEW = "audit.view"


class ObjectType(StrEnum):
    TENANT = "tenant"
    VM = "vm"


ALL_PERMS = frozenset(Perm)
# Platform-wide powers: only the platform `admin` role holds them.
PLATFORM_ONLY = frozenset({Perm.QUOTA_CHANGE, Perm.BAREMETAL_VIEW, Perm.BAREMETAL_CHANGE})
TENANT_SCOPED = ALL_PERMS - PLATFORM_ONLY

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    TenantRole.VIEWER: frozenset({Perm.TENANT_VIEW, Perm.VM_VIEW, Perm.JOB_VIEW, Perm.QUOTA_VIEW}),
    TenantRole.TENANT_USER: frozenset(
        {
            Perm.TENANT_VIEW,
            Perm.VM_VIEW,
            Perm.VM_CREATE,
            Perm.VM_CHANGE,
            Perm.VM_DELETE,
            Perm.VM_SNAPSHOT,
            Perm.JOB_VIEW,
            Perm.JOB_CANCEL,
            Perm.QUOTA_VIEW,
        }
    ),
}
# What a grant of the key permission on a tenant also gives on that tenant.
IMPLIED: dict[Perm, frozenset[Perm]] = {Perm.TENANT_ADMIN: TENANT_SCOPED}
# Which permissions may be granted on which kind of object.
GRANTABLE: dict[ObjectType, frozenset[Perm]] = {
    ObjectType.TENANT: TENANT_SCOPED,
    ObjectType.VM: frozenset({Perm.VM_VIEW, Perm.VM_CHANGE, Perm.VM_DELETE, Perm.VM_SNAPSHOT}),
}
# The permission that lets a caller manage grants on an object (besides holding what it grants).
MANAGE: dict[ObjectType, Perm] = {
    ObjectType.TENANT: Perm.TENANT_ADMIN,
    ObjectType.VM: Perm.VM_CHANGE,
}
# What the creator of a VM is granted on it.
CREATOR_PERMS = (Perm.VM_VIEW, Perm.VM_CHANGE, Perm.VM_DELETE)


@dataclass(frozen=True)
class Target:
    """The object a permission is checked on: a tenant, or a VM inside its tenant."""

    tenant_id: uuid.UUID
    vm_id: uuid.UUID | None = None

    @property
    def object_type(self) -> ObjectType:
        return ObjectType.VM if self.vm_id else ObjectType.TENANT

    @property
    def object_id(self) -> uuid.UUID:
        return self.vm_id or self.tenant_id


def _expand(perms: Iterable[str]) -> set[Perm]:
    out: set[Perm] = set()
    for name in perms:
        perm = Perm(name)
        out |= {perm} | IMPLIED.get(perm, frozenset())
    return out


def effective_perms(session: Session, user: User, target: Target) -> frozenset[Perm]:
    """Everything user may do on target: platform role + membership role + object grants."""
    if user.is_admin:
        return ALL_PERMS
    role = session.scalar(
        select(Membership.role).where(
            Membership.tenant_id == target.tenant_id, Membership.user_id == user.id
        )
    )
    perms = set(ROLE_PERMS[role]) if role else set()
    objects = [(ObjectType.TENANT, target.tenant_id)]
    if target.vm_id:
        objects.append((ObjectType.VM, target.vm_id))
    granted = session.scalars(
        select(ObjectPermission.permission).where(
            ObjectPermission.user_id == user.id,
            or_(
                *(
                    (ObjectPermission.object_type == kind) & (ObjectPermission.object_id == oid)
                    for kind, oid in objects
                )
            ),
        )
    )
    return frozenset(perms | _expand(granted))


def view_perm(target: Target) -> Perm:
    """The permission that makes target visible at all."""
    return Perm.VM_VIEW if target.vm_id else Perm.TENANT_VIEW


def require(session: Session, user: User, perm: Perm, target: Target) -> frozenset[Perm]:
    """404 when the caller cannot see target, 403 when it sees it but lacks perm.

    Seeing comes first: a permission held without the view permission (say a lone vm.change
    grant) never acts on, or reveals, an object the caller may not see.
    """
    perms = effective_perms(session, user, target)
    if view_perm(target) not in perms:
        raise NotFound()
    if perm not in perms:
        raise PermissionDenied(f"missing permission {perm.value}", {"permission": perm.value})
    return perms


def has_perm(session: Session, user: User, perm: Perm, target: Target) -> bool:
    return perm in effective_perms(session, user, target)


def _roles_with(perm: Perm) -> list[str]:
    return [role for role, perms in ROLE_PERMS.items() if perm in perms]


def _granting(perm: Perm) -> list[str]:
    """Grant codenames that give perm: perm itself and any permission implying it."""
    return [perm.value, *(p.value for p, implied in IMPLIED.items() if perm in implied)]


def objects_clause(
    user: User,
    perm: Perm,
    tenant_column: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None],
    vm_column: InstrumentedAttribute[uuid.UUID]
    | InstrumentedAttribute[uuid.UUID | None]
    | None = None,
) -> ColumnElement[bool]:
    """get_objects_for_user: a SQL predicate keeping the rows on which user holds perm.

    tenant_column is the row's tenant. vm_column, when given, is the VM the row is (or belongs
    to): a VM-level grant of perm on it counts as well.
    """
    if user.is_admin:
        return true()
    if perm in PLATFORM_ONLY:
        return false()
    by_role = select(Membership.tenant_id).where(
        Membership.user_id == user.id, Membership.role.in_(_roles_with(perm))
    )
    by_tenant_grant = select(ObjectPermission.object_id).where(
        ObjectPermission.user_id == user.id,
        ObjectPermission.object_type == ObjectType.TENANT,
        ObjectPermission.permission.in_(_granting(perm)),
    )
    clauses = [tenant_column.in_(by_role), tenant_column.in_(by_tenant_grant)]
    if vm_column is not None:
        by_vm_grant = select(ObjectPermission.object_id).where(
            ObjectPermission.user_id == user.id,
            ObjectPermission.object_type == ObjectType.VM,
            ObjectPermission.permission == perm,
        )
        clauses.append(vm_column.in_(by_vm_grant))
    return or_(*clauses)


def _grant_is(user_id: uuid.UUID, perm: Perm, target: Target) -> ColumnElement[bool]:
    """The one grant row of user_id holding perm on target."""
    return and_(
        ObjectPermission.user_id == user_id,
        ObjectPermission.permission == perm,
        ObjectPermission.object_type == target.object_type,
        ObjectPermission.object_id == target.object_id,
    )


def find_grant(
    session: Session, user_id: uuid.UUID, perm: Perm, target: Target
) -> ObjectPermission | None:
    """user_id's grant of perm on target, if there is one."""
    return session.scalar(select(ObjectPermission).where(_grant_is(user_id, perm, target)))


def assign_perm(
    session: Session, user_id: uuid.UUID, perm: Perm, target: Target, granted_by: User | None
) -> ObjectPermission:
    """Grant perm on target (idempotent: an existing grant is returned as it is)."""
    if perm not in GRANTABLE[target.object_type]:
        raise PermissionDenied(
            f"{perm.value} cannot be granted on a {target.object_type.value}",
            {"permission": perm.value, "grantable": sorted(GRANTABLE[target.object_type])},
        )
    existing = find_grant(session, user_id, perm, target)
    if existing is not None:
        return existing
    grant = ObjectPermission(
        user_id=user_id,
        permission=perm,
        object_type=target.object_type,
        object_id=target.object_id,
        tenant_id=target.tenant_id,
        granted_by_id=granted_by.id if granted_by else None,
    )
    session.add(grant)
    session.flush()
    return grant


def remove_perm(session: Session, user_id: uuid.UUID, perm: Perm, target: Target) -> bool:
    """Revoke one grant; False when there was none."""
    result = session.execute(delete(ObjectPermission).where(_grant_is(user_id, perm, target)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def grants_on(session: Session, target: Target) -> list[ObjectPermission]:
    """Every grant on exactly this object."""
    return list(
        session.scalars(
            select(ObjectPermission)
            .where(
                ObjectPermission.object_type == target.object_type,
                ObjectPermission.object_id == target.object_id,
            )
            .order_by(ObjectPermission.created_at, ObjectPermission.id)
        )
    )


def check_can_grant(session: Session, granter: User, perm: Perm, target: Target) -> None:
    """A caller may grant or revoke only what it holds, and only where it may manage grants."""
    held = require(session, granter, MANAGE[target.object_type], target)
    if perm not in held:
        raise PermissionDenied(
            f"you cannot grant {perm.value}: you do not hold it on this object",
            {"permission": perm.value},
        )


def drop_object_grants(session: Session, target: Target) -> None:
    """Grants vanish with their object."""
    if target.vm_id:
        session.execute(
            delete(ObjectPermission).where(
                ObjectPermission.object_type == ObjectType.VM,
                ObjectPermission.object_id == target.vm_id,
            )
        )
    else:
        session.execute(
            delete(ObjectPermission).where(ObjectPermission.tenant_id == target.tenant_id)
        )
