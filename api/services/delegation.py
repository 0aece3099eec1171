"""Delegation: a grant given by a holder of grants lives only as long as its grantor's authority.

A grant records its grantor (`granted_by_id`). The grantor's authority is its membership role,
the platform role, or grants that are themselves *grounded*: they lead back the same way to a
role, the platform role, a grant made by nobody, or the creator grants of a VM. Revoking grants
revokes every grant given by someone who lost authority with them and is no longer grounded,
transitively, as SQL's REVOKE ... CASCADE drops abandoned privileges.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.models import Membership, ObjectPermission, User
from api.services.permissions import (
    CREATOR_PERMS,
    IMPLIED,
    MANAGE,
    ROLE_PERMS,
    ObjectType,
    Perm,
    Target,
    view_perm,
)


@dataclass(frozen=True)
class Standing:
    """Authority in one tenant that is not a grant: membership roles and the platform role."""

    roles: Mapping[uuid.UUID, str]
    admins: frozenset[uuid.UUID]


def _target_of(grant: ObjectPermission) -> Target:
    vm_id = grant.object_id if grant.object_type == ObjectType.VM else None
    return Target(grant.tenant_id, vm_id)


def _on(grant: ObjectPermission, target: Target) -> bool:
    """Whether grant counts on target: it is on target's tenant, or on target's VM."""
    if grant.object_type == ObjectType.TENANT:
        return grant.object_id == target.tenant_id
    return target.vm_id is not None and grant.object_id == target.vm_id


def held_perms(
    user_id: uuid.UUID, target: Target, grants: Iterable[ObjectPermission], standing: Standing
) -> set[Perm]:
    """What user_id holds on target through its role and those of grants that are its own."""
    role = standing.roles.get(user_id)
    perms = set(ROLE_PERMS[role]) if role else set()
    for grant in grants:
        if grant.user_id == user_id and _on(grant, target):
            perm = Perm(grant.permission)
            perms |= {perm} | IMPLIED.get(perm, frozenset())
    return perms


def needed_to_grant(perm: Perm, target: Target) -> set[Perm]:
    """check_can_grant's rule as a set: see target, manage its grants, hold perm."""
    return {view_perm(target), MANAGE[target.object_type], perm}


def could_give(
    grant: ObjectPermission, held: Iterable[ObjectPermission], standing: Standing
) -> bool:
    """Whether grant's grantor could give it with its role and held (grants made by nobody or by
    platform admins, and the creator grants, need nothing)."""
    granter = grant.granted_by_id
    if granter is None or granter in standing.admins or is_creator_grant(grant):
        return True
    target = _target_of(grant)
    return needed_to_grant(Perm(grant.permission), target) <= held_perms(
        granter, target, held, standing
    )


def is_creator_grant(grant: ObjectPermission) -> bool:
    """What VM creation gives the creator on its VM (granted_by_id = the creator). The API
    refuses other grants to oneself, so these come from creation only."""
    return (
        grant.granted_by_id == grant.user_id
        and grant.object_type == ObjectType.VM
        and grant.permission in CREATOR_PERMS
    )


def grounded(grants: Sequence[ObjectPermission], standing: Standing) -> set[uuid.UUID]:
    """Ids of the grants whose grantor's authority leads back, through grounded grants only, to
    a role, the platform role or a grant made by nobody. Grown from nothing, so grants that only
    support each other (a cycle) are not grounded."""
    ok: dict[uuid.UUID, ObjectPermission] = {}
    while True:
        newly = [g for g in grants if g.id not in ok and could_give(g, ok.values(), standing)]
        if not newly:
            return set(ok)
        ok.update((g.id, g) for g in newly)


def abandoned(
    grants: Sequence[ObjectPermission],
    gone: set[uuid.UUID],
    standing: Standing,
    losers: set[uuid.UUID],
) -> list[ObjectPermission]:
    """The grants that go with gone: given by a user who lost authority (losers, then the holders
    of what goes), and no longer grounded without it; transitively."""
    remaining = [g for g in grants if g.id not in gone]
    dropped: list[ObjectPermission] = []
    while True:
        ok = grounded(remaining, standing)
        lost = [g for g in remaining if g.id not in ok and g.granted_by_id in losers]
        if not lost:
            return dropped
        dropped += lost
        losers = losers | {g.user_id for g in lost}
        remaining = [g for g in remaining if g.id not in {x.id for x in lost}]


@dataclass(frozen=True)
class Revocation:
    """Grants of one tenant to delete: those named, and those delegated from them."""

    named: list[ObjectPermission]
    delegated: list[ObjectPermission]
    kept: list[ObjectPermission]
    standing: Standing

    def leaves_able(self, user_id: uuid.UUID, needed: set[Perm], target: Target) -> bool:
        """Whether user_id still holds needed on target once the grants are gone."""
        return needed <= held_perms(user_id, target, self.kept, self.standing)

    def ends_tenant_admins(self) -> bool:
        """Whether it removes tenant.admin grants on the tenant and leaves none."""

        def admin(g: ObjectPermission) -> bool:
            return g.permission == Perm.TENANT_ADMIN and g.object_type == ObjectType.TENANT

        return any(map(admin, self.named + self.delegated)) and not any(map(admin, self.kept))


def plan_revocation(
    session: Session,
    tenant_id: uuid.UUID,
    named: Sequence[ObjectPermission],
    leaving: uuid.UUID | None = None,
) -> Revocation:
    """What revoking named grants of tenant_id takes with it (the caller deletes, see
    delete_grants); leaving: a member whose membership ends too, so its role gives nothing."""
    grants = list(
        session.scalars(select(ObjectPermission).where(ObjectPermission.tenant_id == tenant_id))
    )
    standing = _standing(session, tenant_id, grants, leaving)
    gone = {g.id for g in named}
    losers = {g.user_id for g in named} | ({leaving} if leaving else set())
    delegated = abandoned(grants, gone, standing, losers)
    dropped = gone | {g.id for g in delegated}
    kept = [g for g in grants if g.id not in dropped]
    return Revocation(list(named), delegated, kept, standing)


def _standing(
    session: Session,
    tenant_id: uuid.UUID,
    grants: Sequence[ObjectPermission],
    leaving: uuid.UUID | None,
) -> Standing:
    rows = session.execute(
        select(Membership.user_id, Membership.role).where(Membership.tenant_id == tenant_id)
    )
    roles = {user_id: role for user_id, role in rows if user_id != leaving}
    granters = {g.granted_by_id for g in grants if g.granted_by_id is not None}
    admins = session.scalars(select(User.id).where(User.id.in_(granters), User.is_admin))
    return Standing(roles, frozenset(admins))


def delete_grants(session: Session, grants: Iterable[ObjectPermission]) -> None:
    ids = [g.id for g in grants]
    if ids:
        session.execute(delete(ObjectPermission).where(ObjectPermission.id.in_(ids)))
