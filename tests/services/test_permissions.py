"""Permission checks: admin holds everything, members their role's perms, outsiders nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound, PermissionDenied
from api.models import Tenant
from api.services.permissions import ROLE_PERMS, Perm, Target, has_perm, objects_clause, require
from tests.conftest import Factory

TENANT_USER_PERMS = {
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
VIEWER_PERMS = {Perm.TENANT_VIEW, Perm.VM_VIEW, Perm.JOB_VIEW, Perm.QUOTA_VIEW}


@pytest.fixture
def tenants(make: Factory) -> tuple[Tenant, Tenant]:
    return make.tenant("a"), make.tenant("b")


def perms_of(db: Session, user: object, tenant: Tenant) -> set[Perm]:
    return {p for p in Perm if has_perm(db, user, p, Target(tenant.id))}  # type: ignore[arg-type]


def test_has_perm_admin_holds_every_perm_without_membership(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    admin = make.user(is_admin=True)
    assert perms_of(db, admin, tenants[0]) == set(Perm)
    assert perms_of(db, admin, tenants[1]) == set(Perm)


def test_has_perm_tenant_user_only_in_own_tenant(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[0], "tenant_user")
    assert perms_of(db, user, tenants[0]) == TENANT_USER_PERMS
    assert perms_of(db, user, tenants[1]) == set()


def test_has_perm_viewer_reads_only(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[0], "viewer")
    assert perms_of(db, user, tenants[0]) == VIEWER_PERMS
    assert perms_of(db, user, tenants[1]) == set()


def test_has_perm_outsider_has_nothing(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    assert perms_of(db, make.user(), tenants[0]) == set()


def test_role_perms_never_grant_platform_perms() -> None:
    for perms in ROLE_PERMS.values():
        assert Perm.BAREMETAL_VIEW not in perms
        assert Perm.TENANT_ADMIN not in perms
    assert ROLE_PERMS["viewer"] < ROLE_PERMS["tenant_user"]


def test_require_admin_passes(db: Session, make: Factory, tenants: tuple[Tenant, Tenant]) -> None:
    require(db, make.user(is_admin=True), Perm.TENANT_ADMIN, Target(tenants[0].id))


def test_require_outsider_gets_not_found(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[1], "tenant_user")
    for perm in (Perm.VM_VIEW, Perm.VM_CREATE, Perm.VM_DELETE):
        with pytest.raises(NotFound):
            require(db, user, perm, Target(tenants[0].id))


def test_require_viewer_gets_permission_denied_for_writes(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[0], "viewer")
    require(db, user, Perm.VM_VIEW, Target(tenants[0].id))
    with pytest.raises(PermissionDenied) as exc:
        require(db, user, Perm.VM_DELETE, Target(tenants[0].id))
    assert exc.value.details == {"permission": "vm.delete"}


def test_require_tenant_user_denied_tenant_admin(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[0], "tenant_user")
    require(db, user, Perm.VM_CREATE, Target(tenants[0].id))
    with pytest.raises(PermissionDenied):
        require(db, user, Perm.TENANT_ADMIN, Target(tenants[0].id))


def test_visible_tenants_clause_filters_by_membership(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[1], "viewer")
    query = select(Tenant.name).order_by(Tenant.name)
    assert db.scalars(query.where(objects_clause(user, Perm.TENANT_VIEW, Tenant.id))).all() == ["b"]
    assert (
        db.scalars(query.where(objects_clause(make.user(), Perm.TENANT_VIEW, Tenant.id))).all()
        == []
    )
    admin = make.user(is_admin=True)
    assert db.scalars(query.where(objects_clause(admin, Perm.TENANT_VIEW, Tenant.id))).all() == [
        "a",
        "b",
    ]
