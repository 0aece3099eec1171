"""Who belongs to a tenant (membership roles) and who holds what on one object (grants).

Members are managed by platform admins and holders of `tenant.admin` on the tenant; anyone who
can view the tenant can list them. Grants follow `permissions.check_can_grant`: the caller must
hold the object's MANAGE permission and the permission it grants or revokes.

Revoking a grant, or removing a member, also revokes what was delegated from it, transitively
(`delegation.plan_revocation`). Unless the caller is a platform admin, neither may take the
last `tenant.admin` grant of a tenant, nor the caller's own authority for the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.errors import AlreadyExists, InvalidState, NotFound, PermissionDenied, ValidationFailed
from api.models import VM, Membership, ObjectPermission, TenantStatus, User, VMStatus
from api.services.delegation import Revocation, delete_grants, needed_to_grant, plan_revocation
from api.services.permissions import (
    Perm,
    Target,
    assign_perm,
    check_can_grant,
    find_grant,
    require,
)
from api.services.tenants import get_tenant
from api.services.vms import lock_active_tenant

SELF_GRANT = "Cannot be the caller: nobody grants a permission to itself."


def _user(session: Session, user_id: uuid.UUID) -> User:
    """The user a request names in its body: 404 on the field when there is none."""
    found = session.get(User, user_id)
    if found is None:
        raise NotFound("no such user", {"field": "user_id"})
    return found


def members_query(session: Session, caller: User, tenant_id: uuid.UUID) -> Select[Membership]:
    """A tenant's memberships, oldest first, for anyone who can view the tenant."""
    get_tenant(session, caller, tenant_id, Perm.TENANT_VIEW)
    return (
        select(Membership)
        .where(Membership.tenant_id == tenant_id)
        .order_by(Membership.created_at, Membership.id)
    )


def usernames(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Usernames of a page of rows, in one query."""
    rows = session.execute(select(User.id, User.username).where(User.id.in_(list(user_ids))))
    return {user_id: name for user_id, name in rows}


def add_member(
    session: Session, caller: User, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Membership:
    """Give user_id a role in the tenant; one membership per user and tenant (409 otherwise).

    The tenant share lock keeps a member from being added while the tenant is being deleted
    (deletion removes every membership).
    """
    get_tenant(session, caller, tenant_id, Perm.TENANT_ADMIN)
    lock_active_tenant(session, tenant_id)
    _user(session, user_id)
    existing = session.scalar(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    )
    if existing is not None:
        raise AlreadyExists(
            f"the user is already a member ({existing.role})",
            {"field": "user_id", "role": existing.role},
        )
    membership = Membership(tenant_id=tenant_id, user_id=user_id, role=role)
    session.add(membership)
    session.flush()
    return membership


def remove_member(
    session: Session, caller: User, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Membership, Revocation]:
    """End a membership and drop the user's grants inside the tenant (creator grants included),
    with what was delegated from them or from its role.

    Returns the removed membership and the revoked grants: leaving a tenant means losing every
    access to its objects.
    """
    get_tenant(session, caller, tenant_id, Perm.TENANT_ADMIN)
    _lock_grants(session, tenant_id)
    membership = session.scalar(
        select(Membership)
        .where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
        .with_for_update()
    )
    if membership is None:
        raise NotFound("the user is not a member of this tenant", {"user_id": str(user_id)})
    own = session.scalars(
        select(ObjectPermission).where(
            ObjectPermission.tenant_id == tenant_id, ObjectPermission.user_id == user_id
        )
    ).all()
    plan = plan_revocation(session, tenant_id, own, leaving=user_id)
    _check_revocation(caller, plan, {Perm.TENANT_VIEW, Perm.TENANT_ADMIN}, Target(tenant_id))
    session.delete(membership)
    delete_grants(session, plan.named + plan.delegated)
    session.flush()
    return membership, plan


def _lock_grants(session: Session, tenant_id: uuid.UUID) -> None:
    """Revocations of one tenant run one at a time, and not while a grant is being written
    (grant() share-locks the row): each plans on grants that cannot change under it."""
    lock_active_tenant(session, tenant_id, tuple(TenantStatus), exclusive=True)


def _check_revocation(caller: User, plan: Revocation, needed: set[Perm], target: Target) -> None:
    """403 unless a platform admin asks, when the revocation takes the tenant's last
    tenant.admin grant, or the caller's own authority for this change (delegated from it)."""
    if caller.is_admin:
        return
    if any(g.user_id == caller.id for g in plan.delegated) and not plan.leaves_able(
        caller.id, needed, target
    ):
        raise PermissionDenied(
            "this would revoke your own access to this object: it was delegated from it",
            {"rule": "own_access"},
        )
    if plan.ends_tenant_admins():
        raise PermissionDenied(
            "only a platform admin can remove the last tenant.admin of a tenant",
            {"rule": "last_tenant_admin"},
        )


def grant_target(
    session: Session,
    caller: User,
    *,
    vm_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Target:
    """The object a grant request names (a VM, else a tenant), if the caller may see it."""
    if vm_id is not None:
        vm = session.get(VM, vm_id)
        if vm is None:
            raise NotFound()
        target = Target(vm.tenant_id, vm.id)
        require(session, caller, Perm.VM_VIEW, target)
        return target
    if tenant_id is None:
        raise NotFound()
    return Target(get_tenant(session, caller, tenant_id, Perm.TENANT_VIEW).id)


def grants_query(target: Target) -> Select[ObjectPermission]:
    """Every grant on exactly this object, oldest first (grant_target checked visibility)."""
    return (
        select(ObjectPermission)
        .where(
            ObjectPermission.object_type == target.object_type,
            ObjectPermission.object_id == target.object_id,
        )
        .order_by(ObjectPermission.created_at, ObjectPermission.id)
    )


def grant(
    session: Session, caller: User, target: Target, user_id: uuid.UUID, perm: Perm
) -> ObjectPermission:
    """Grant perm on target to user_id; an identical grant that exists is a 409.

    The object's row is share-locked and must still exist: a grant cannot slip in after the
    deletion that drops the object's grants (that takes the row FOR UPDATE).
    """
    check_can_grant(session, caller, perm, target)
    if user_id == caller.id:
        # What a caller holds it holds already; a grant to itself would only outlive the
        # authority it came from (see delegation.is_creator_grant).
        raise ValidationFailed(details={"fields": {"json": {"user_id": [SELF_GRANT]}}})
    _lock_live(session, target)
    _user(session, user_id)
    if _find(session, target, user_id, perm) is not None:
        raise AlreadyExists("the user already holds this grant", {"permission": perm.value})
    return assign_perm(session, user_id, perm, target, granted_by=caller)


def _lock_live(session: Session, target: Target) -> None:
    lock_active_tenant(session, target.tenant_id)
    if target.vm_id is None:
        return
    status = session.scalar(
        select(VM.status).where(VM.id == target.vm_id).with_for_update(read=True)
    )
    if status in (VMStatus.DELETING, VMStatus.DELETED):
        raise InvalidState(f"VM is {status}", {"status": status})


def revoke(
    session: Session, caller: User, target: Target, user_id: uuid.UUID, perm: Perm
) -> tuple[ObjectPermission, Revocation]:
    """Revoke one grant and what was delegated from it; 404 when the user does not hold it on
    this object. Returns the grant and the revocation (with the delegated grants it took)."""
    check_can_grant(session, caller, perm, target)
    _lock_grants(session, target.tenant_id)
    found = _find(session, target, user_id, perm)
    if found is None:
        raise NotFound(
            "no such grant on this object", {"user_id": str(user_id), "permission": perm.value}
        )
    plan = plan_revocation(session, target.tenant_id, [found])
    _check_revocation(caller, plan, needed_to_grant(perm, target), target)
    delete_grants(session, plan.named + plan.delegated)
    session.flush()
    return found, plan


def _find(
    session: Session, target: Target, user_id: uuid.UUID, perm: Perm
) -> ObjectPermission | None:
    return find_grant(session, user_id, perm, target)
