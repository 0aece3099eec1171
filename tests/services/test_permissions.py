"""Permission checks: admin holds everything, members their role's perms, outsiders nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from api.errors import NotFound, PermissionDenied
from api.models import VM, Job, ObjectPermission, Tenant, TenantRole
from api.services import delegation, jobs, vms
from api.services.permissions import (
    CREATOR_PERMS,
    PLATFORM_ONLY,
    ROLE_PERMS,
    TENANT_SCOPED,
    Perm,
    Target,
    assign_perm,
    check_can_grant,
    drop_object_grants,
    effective_perms,
    grants_on,
    has_perm,
    objects_clause,
    remove_perm,
    require,
)
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


# --- object grants ----------------------------------------------------------------------------


@pytest.fixture
def two_vms(db: Session, make: Factory, tenants: tuple[Tenant, Tenant]) -> tuple[VM, VM]:
    """Two VMs of tenant a, created by an admin."""
    make.baremetal("bm-1")
    admin = make.user(is_admin=True)
    made = []
    for name in ("one", "two"):
        job = vms.create_vm(db, admin, vms.VMRequest(tenants[0].id, name, 1, 64, 1), None)
        made.append(db.get_one(VM, job.vm_id))
    return made[0], made[1]


def test_assign_perm_is_idempotent_and_checks_grantable(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    target = Target(tenants[0].id)
    first = assign_perm(db, user.id, Perm.AUDIT_VIEW, target, None)
    assert assign_perm(db, user.id, Perm.AUDIT_VIEW, target, None) is first
    with pytest.raises(PermissionDenied):
        assign_perm(db, user.id, Perm.QUOTA_CHANGE, target, None)
    assert remove_perm(db, user.id, Perm.AUDIT_VIEW, target)
    assert not remove_perm(db, user.id, Perm.AUDIT_VIEW, target)


def test_effective_perms_vm_grant_covers_that_vm_only(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant], two_vms: tuple[VM, VM]
) -> None:
    one, two = two_vms
    user = make.user()
    assign_perm(db, user.id, Perm.VM_VIEW, Target(one.tenant_id, one.id), None)
    assert effective_perms(db, user, Target(one.tenant_id, one.id)) == {Perm.VM_VIEW}
    assert effective_perms(db, user, Target(two.tenant_id, two.id)) == set()
    assert effective_perms(db, user, Target(tenants[0].id)) == set()
    require(db, user, Perm.VM_VIEW, Target(one.tenant_id, one.id))
    with pytest.raises(PermissionDenied):
        require(db, user, Perm.VM_DELETE, Target(one.tenant_id, one.id))
    with pytest.raises(NotFound):
        require(db, user, Perm.VM_VIEW, Target(two.tenant_id, two.id))


def test_effective_perms_tenant_admin_grant_implies_tenant_scope(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant]
) -> None:
    user = make.user()
    make.member(user, tenants[0], "viewer")
    assign_perm(db, user.id, Perm.TENANT_ADMIN, Target(tenants[0].id), None)
    assert perms_of(db, user, tenants[0]) == set(TENANT_SCOPED)
    assert not perms_of(db, user, tenants[0]) & PLATFORM_ONLY
    assert perms_of(db, user, tenants[1]) == set()


def test_objects_clause_counts_vm_and_tenant_grants(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant], two_vms: tuple[VM, VM]
) -> None:
    one, _two = two_vms
    user = make.user()

    def visible() -> list[str]:
        clause = objects_clause(user, Perm.VM_VIEW, VM.tenant_id, VM.id)
        return list(db.scalars(select(VM.name).where(clause).order_by(VM.name)))

    assert visible() == []
    assign_perm(db, user.id, Perm.VM_VIEW, Target(one.tenant_id, one.id), None)
    assert visible() == ["one"]
    # A grant of another permission on the VM does not make it visible by itself.
    other = make.user()
    assign_perm(db, other.id, Perm.VM_DELETE, Target(one.tenant_id, one.id), None)
    clause = objects_clause(other, Perm.VM_VIEW, VM.tenant_id, VM.id)
    assert db.scalars(select(VM.name).where(clause)).all() == []
    # tenant.admin on the tenant implies vm.view on all its VMs.
    assign_perm(db, user.id, Perm.TENANT_ADMIN, Target(tenants[0].id), None)
    assert visible() == ["one", "two"]
    assert objects_clause(user, Perm.QUOTA_CHANGE, Tenant.id).compare(false())


def test_check_can_grant_needs_manage_and_the_permission(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant], two_vms: tuple[VM, VM]
) -> None:
    one, _ = two_vms
    target = Target(one.tenant_id, one.id)
    viewer, changer = make.user(), make.user()
    make.member(viewer, tenants[0], "viewer")
    with pytest.raises(PermissionDenied):
        check_can_grant(db, viewer, Perm.VM_VIEW, target)
    assign_perm(db, changer.id, Perm.VM_CHANGE, target, None)
    with pytest.raises(NotFound):  # a lone vm.change grant does not even show the VM
        check_can_grant(db, changer, Perm.VM_CHANGE, target)
    assign_perm(db, changer.id, Perm.VM_VIEW, target, None)
    check_can_grant(db, changer, Perm.VM_CHANGE, target)
    with pytest.raises(PermissionDenied):
        check_can_grant(db, changer, Perm.VM_DELETE, target)
    with pytest.raises(NotFound):
        check_can_grant(db, make.user(), Perm.VM_VIEW, target)


def test_drop_object_grants_of_a_vm_or_a_whole_tenant(
    db: Session, make: Factory, tenants: tuple[Tenant, Tenant], two_vms: tuple[VM, VM]
) -> None:
    one, two = two_vms
    user = make.user()
    for vm in (one, two):
        assign_perm(db, user.id, Perm.VM_VIEW, Target(vm.tenant_id, vm.id), None)
    assign_perm(db, user.id, Perm.AUDIT_VIEW, Target(tenants[1].id), None)
    drop_object_grants(db, Target(one.tenant_id, one.id))
    assert grants_on(db, Target(one.tenant_id, one.id)) == []
    assert user.id in {g.user_id for g in grants_on(db, Target(two.tenant_id, two.id))}
    drop_object_grants(db, Target(tenants[0].id))
    assert grants_on(db, Target(two.tenant_id, two.id)) == []
    assert [g.permission for g in grants_on(db, Target(tenants[1].id))] == ["audit.view"]


@pytest.mark.parametrize("grant_on", ["tenant", "vm"])
def test_job_list_and_job_detail_agree_for_vm_view_grants(
    db: Session,
    make: Factory,
    tenants: tuple[Tenant, Tenant],
    two_vms: tuple[VM, VM],
    grant_on: str,
) -> None:
    one, two = two_vms
    user = make.user()
    target = Target(one.tenant_id) if grant_on == "tenant" else Target(one.tenant_id, one.id)
    assign_perm(db, user.id, Perm.VM_VIEW, target, None)
    listed = set(db.scalars(jobs.jobs_query(user).with_only_columns(Job.id)))
    all_jobs = db.scalars(select(Job).where(Job.vm_id.in_([one.id, two.id]))).all()
    viewable = {job.id for job in all_jobs if jobs.can_view_job(db, user, job)}
    assert listed == viewable
    expected = {one.id, two.id} if grant_on == "tenant" else {one.id}
    assert {job.vm_id for job in all_jobs if job.id in listed} == expected


# --- delegation: revoking takes what was delegated from it ---------------------------------------


def a_grant(
    holder: uuid.UUID, perm: Perm, target: Target, by: uuid.UUID | None
) -> ObjectPermission:
    """A grant row that never reaches the database (the rules are pure)."""
    return ObjectPermission(
        id=uuid.uuid4(),
        user_id=holder,
        permission=perm.value,
        object_type=target.object_type.value,
        object_id=target.object_id,
        tenant_id=target.tenant_id,
        granted_by_id=by,
    )


def test_delegation_grants_that_only_support_each_other_are_not_grounded() -> None:
    """a and b gave each other vm.change on a VM while a was tenant.admin: once a's tenant.admin
    goes, the cycle holds itself up only, and goes too."""
    platform, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tenant = Target(uuid.uuid4())
    vm = Target(tenant.tenant_id, uuid.uuid4())
    root = a_grant(a, Perm.TENANT_ADMIN, tenant, platform)
    cycle = [
        a_grant(b, Perm.VM_VIEW, vm, a),
        a_grant(b, Perm.VM_CHANGE, vm, a),
        a_grant(a, Perm.VM_VIEW, vm, b),
        a_grant(a, Perm.VM_CHANGE, vm, b),
    ]
    standing = delegation.Standing({}, frozenset({platform}))
    assert delegation.grounded([root, *cycle], standing) == {g.id for g in [root, *cycle]}
    assert delegation.grounded(cycle, standing) == set()
    dropped = delegation.abandoned([root, *cycle], {root.id}, standing, {a})
    assert {g.id for g in dropped} == {g.id for g in cycle}


def test_delegation_only_what_lost_its_grantor_goes() -> None:
    """An ungrounded grant whose grantor lost nothing now is not this revocation's business."""
    platform, a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tenant = Target(uuid.uuid4())
    revoked = a_grant(a, Perm.AUDIT_VIEW, tenant, platform)
    unrelated = a_grant(b, Perm.AUDIT_VIEW, tenant, c)  # c holds nothing (e.g. left earlier)
    standing = delegation.Standing({}, frozenset({platform}))
    assert delegation.abandoned([revoked, unrelated], {revoked.id}, standing, {a}) == []


def test_delegation_a_role_is_authority_of_its_own() -> None:
    platform, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tenant = Target(uuid.uuid4())
    vm = Target(tenant.tenant_id, uuid.uuid4())
    admin_grant = a_grant(a, Perm.TENANT_ADMIN, tenant, platform)
    given = a_grant(b, Perm.VM_VIEW, vm, a)
    as_member = delegation.Standing({a: TenantRole.TENANT_USER}, frozenset({platform}))
    assert delegation.abandoned([admin_grant, given], {admin_grant.id}, as_member, {a}) == []
    alone = delegation.Standing({}, frozenset({platform}))
    assert delegation.abandoned([admin_grant, given], {admin_grant.id}, alone, {a}) == [given]


def test_delegation_creator_grants_need_no_authority() -> None:
    creator = uuid.uuid4()
    vm = Target(uuid.uuid4(), uuid.uuid4())
    mine = [a_grant(creator, perm, vm, creator) for perm in CREATOR_PERMS]
    nobody = delegation.Standing({}, frozenset())
    assert delegation.grounded(mine, nobody) == {g.id for g in mine}
    # Any other grant to oneself is judged like any grant.
    snapshot = a_grant(creator, Perm.VM_SNAPSHOT, vm, creator)
    assert delegation.grounded([snapshot], nobody) == set()


def test_delegation_plan_reads_roles_and_platform_admins(db: Session, make: Factory) -> None:
    tenant = make.tenant()
    platform, alice, bob, carol = (make.user(is_admin=True), make.user(), make.user(), make.user())
    make.member(carol, tenant, TenantRole.TENANT_USER)
    t = Target(tenant.id)
    root = assign_perm(db, alice.id, Perm.TENANT_ADMIN, t, platform)
    delegated = assign_perm(db, bob.id, Perm.TENANT_ADMIN, t, alice)
    by_role = assign_perm(db, bob.id, Perm.VM_VIEW, Target(tenant.id, uuid.uuid4()), carol)
    plan = delegation.plan_revocation(db, tenant.id, [root])
    assert [g.id for g in plan.delegated] == [delegated.id]
    assert {g.id for g in plan.kept} == {by_role.id}
    assert plan.ends_tenant_admins()
    # carol leaving takes what her role let her give.
    plan = delegation.plan_revocation(db, tenant.id, [], leaving=carol.id)
    assert [g.id for g in plan.delegated] == [by_role.id]
