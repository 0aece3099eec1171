"""Tenants and what hangs off them: members, grants on the tenant, quota, guarded deletion."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import (
    AlreadyExists,
    Conflict,
    FreshTokenRequired,
    InvalidState,
    NameTaken,
    PermissionDenied,
    TenantNotEmpty,
)
from api.models import Membership, ObjectPermission, Tenant, TenantStatus
from api.services import memberships, quotas, tenants
from api.services.permissions import Perm, Target
from api.web.audit import audited, note
from api.web.auth import require_fresh, user
from api.web.context import commit, db, job_queue, settings
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate, request_id
from api.web.resources.tenant.schemas import (
    QUOTA_EXAMPLE,
    TENANT_EXAMPLE,
    GrantSchema,
    MemberCreateSchema,
    MemberRemovedSchema,
    MemberSchema,
    QuotaCheckResultSchema,
    QuotaCheckSchema,
    QuotaLimitsSchema,
    QuotaSchema,
    TenantCreateSchema,
    TenantGrantArgsSchema,
    TenantQuerySchema,
    TenantSchema,
    TenantUpdateSchema,
)

blp = Blueprint("tenant", __name__, url_prefix="/api/v1/tenant", description="Tenants")


def _reloaded(tenant_id: uuid.UUID) -> Tenant:
    session = db()
    session.expire_all()
    return session.get_one(Tenant, tenant_id)


def defaults() -> quotas.Amounts:
    return quotas.Amounts(**settings().quota_defaults)


@blp.route("/")
class Tenants(MethodView):
    @operation("tenant_list")
    @blp.arguments(TenantQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(TenantSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List the tenants the caller may see"""
        return paginate(db(), tenants.tenants_query(user(), **filters), **page)

    @operation("tenant_create", PermissionDenied, NameTaken, Conflict)
    @blp.arguments(TenantCreateSchema, example={"name": "acme"})
    @blp.response(201, envelope(TenantSchema), example=TENANT_EXAMPLE)
    @audited("tenant.create")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """Create a tenant (platform admins only)"""
        if not user().is_admin:
            raise PermissionDenied("only platform admins create tenants")
        tenant = tenants.create_tenant(db(), args["name"])
        note("tenant", tenant.id, tenant.id, after={"name": tenant.name, "status": tenant.status})
        commit()
        return ok(tenant)


@blp.route("/<uuid:tenant_id>/")
class TenantById(MethodView):
    @operation("tenant_get")
    @blp.response(200, envelope(TenantSchema), example=TENANT_EXAMPLE)
    def get(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        """Show one tenant"""
        return ok(tenants.get_tenant(db(), user(), tenant_id, Perm.TENANT_VIEW))

    @operation("tenant_update", PermissionDenied, InvalidState, NameTaken, Conflict)
    @blp.arguments(TenantUpdateSchema)
    @blp.response(200, envelope(TenantSchema))
    @audited("tenant.rename")
    def patch(self, args: dict[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Rename an active tenant (platform admins only); status is read-only"""
        note("tenant", tenant_id, tenant_id)
        tenant = tenants.get_tenant(db(), user(), tenant_id, Perm.TENANT_VIEW)
        if not user().is_admin:
            raise PermissionDenied("only platform admins rename tenants")
        if tenant.status != TenantStatus.ACTIVE:
            raise InvalidState(f"tenant is {tenant.status}", {"tenant_status": tenant.status})
        before = tenant.name
        tenants.rename_tenant(db(), tenant, args["name"])
        note(before={"name": before}, after={"name": tenant.name})
        commit()
        return ok(tenant)

    @operation("tenant_delete", FreshTokenRequired, PermissionDenied, InvalidState, TenantNotEmpty)
    @blp.response(202, envelope(TenantSchema))
    @audited("tenant.delete")
    def delete(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        """Delete a tenant (tenant.admin or platform admin; fresh token)

        Always 202 with the tenant: `deleting` while queued jobs delete its stopped VMs (it
        ends `deleted` with the last one), or `deleted` at once when no VM was left. Refused
        with 409 TENANT_NOT_EMPTY, listing them, while a VM is not stopped or deleted or a
        job is queued or running. The record stays, readable to platform admins.
        """
        require_fresh()
        session = db()
        note("tenant", tenant_id, tenant_id)
        delete_jobs = tenants.request_delete(session, user(), tenant_id, request_id())
        for job in delete_jobs:
            job_queue().after_commit(session, job)
        tenant = session.get_one(Tenant, tenant_id)
        note(
            before={"status": TenantStatus.ACTIVE},
            after={"status": tenant.status},
            vm_ids=[str(j.vm_id) for j in delete_jobs],
            job_ids=[str(j.id) for j in delete_jobs],
        )
        commit()
        return ok(_reloaded(tenant_id))


class _Member:
    """A membership with its user's name, for MemberSchema."""

    def __init__(self, membership: Membership, username: str | None) -> None:
        self.user_id, self.tenant_id = membership.user_id, membership.tenant_id
        self.role, self.created_at = membership.role, membership.created_at
        self.username = username


@blp.route("/<uuid:tenant_id>/member/")
class Members(MethodView):
    @operation("tenant_member_list")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(MemberSchema, many=True))
    def get(self, page: dict[str, int], tenant_id: uuid.UUID) -> dict[str, Any]:
        """List a tenant's members and their roles (anyone who can view the tenant)"""
        session = db()
        body = paginate(session, memberships.members_query(session, user(), tenant_id), **page)
        names = memberships.usernames(session, (m.user_id for m in body["data"]))
        body["data"] = [_Member(m, names.get(m.user_id)) for m in body["data"]]
        return body

    @operation("tenant_member_add", PermissionDenied, AlreadyExists, InvalidState, Conflict)
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, envelope(MemberSchema))
    @audited("member.add")
    def post(self, args: dict[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Give a user a role in the tenant (platform admin or tenant.admin); 409 if a member"""
        session = db()
        note("member", args["user_id"], tenant_id)
        membership = memberships.add_member(
            session, user(), tenant_id, args["user_id"], args["role"]
        )
        note(after={"user_id": membership.user_id, "role": membership.role})
        commit()
        names = memberships.usernames(session, [membership.user_id])
        return ok(_Member(membership, names.get(membership.user_id)))


@blp.route("/<uuid:tenant_id>/member/<uuid:user_id>/")
class MemberById(MethodView):
    @operation("tenant_member_remove", PermissionDenied)
    @blp.response(200, envelope(MemberRemovedSchema))
    @audited("member.remove")
    def delete(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
        """Remove a member (platform admin or tenant.admin); their grants in the tenant go too

        So do the grants delegated from them (or from the member's role), transitively. 403
        unless a platform admin asks, when that would take the tenant's last tenant.admin grant
        or the caller's own tenant.admin.
        """
        note("member", user_id, tenant_id)
        membership, plan = memberships.remove_member(db(), user(), tenant_id, user_id)
        dropped = len(plan.named)
        note(before={"user_id": user_id, "role": membership.role}, grants_dropped=dropped)
        note(delegated_grants_revoked=_grant_rows(plan.delegated))
        commit()
        return ok(
            {
                "user_id": user_id,
                "tenant_id": tenant_id,
                "role": membership.role,
                "grants_dropped": dropped,
                "delegated_grants_revoked": len(plan.delegated),
            }
        )


@blp.route("/<uuid:tenant_id>/permission/")
class TenantGrants(MethodView):
    @operation("tenant_permission_list")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(GrantSchema, many=True))
    def get(self, page: dict[str, int], tenant_id: uuid.UUID) -> dict[str, Any]:
        """List the grants on the tenant itself (anyone who can view the tenant)"""
        session = db()
        target = memberships.grant_target(session, user(), tenant_id=tenant_id)
        return paginate(session, memberships.grants_query(target), **page)

    @operation(
        "tenant_permission_grant",
        FreshTokenRequired,
        PermissionDenied,
        AlreadyExists,
        InvalidState,
        Conflict,
    )
    @blp.arguments(TenantGrantArgsSchema)
    @blp.response(201, envelope(GrantSchema))
    @audited("permission.grant")
    def post(self, args: dict[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Grant a permission on the tenant (fresh token; needs tenant.admin, which holds all)"""
        return grant_view(args, tenant_id=tenant_id)

    @operation("tenant_permission_revoke", FreshTokenRequired, PermissionDenied)
    @blp.arguments(TenantGrantArgsSchema, location="query")
    @blp.response(200, envelope(GrantSchema))
    @audited("permission.revoke")
    def delete(self, args: dict[str, Any], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Revoke a grant on the tenant, named by the query ?user_id=&permission= (fresh token)

        The grants delegated from it go too, transitively (the audit row lists them). 403 unless
        a platform admin asks, when that would take the tenant's last tenant.admin grant or the
        caller's own authority for this change.
        """
        return revoke_view(args, tenant_id=tenant_id)


def grant_view(args: dict[str, Any], **where: uuid.UUID) -> dict[str, Any]:
    """POST .../permission/ on a VM or a tenant."""
    require_fresh()
    session = db()
    target = memberships.grant_target(session, user(), **where)
    _note_grant(target, args)
    granted = memberships.grant(session, user(), target, args["user_id"], Perm(args["permission"]))
    note(after={"grant": _grant_fields(args)})
    commit()
    return ok(granted)


def revoke_view(args: dict[str, Any], **where: uuid.UUID) -> dict[str, Any]:
    """DELETE .../permission/?user_id=&permission= on a VM or a tenant."""
    require_fresh()
    session = db()
    target = memberships.grant_target(session, user(), **where)
    _note_grant(target, args)
    revoked, plan = memberships.revoke(
        session, user(), target, args["user_id"], Perm(args["permission"])
    )
    note(before={"grant": _grant_fields(args)})
    note(delegated_grants_revoked=_grant_rows(plan.delegated))
    commit()
    return ok(revoked)


def _grant_rows(grants: list[ObjectPermission]) -> list[dict[str, str]]:
    """Grants for an audit row: who held what on which object, and who had given it."""
    return [
        {
            "user_id": str(g.user_id),
            "permission": g.permission,
            "object_type": g.object_type,
            "object_id": str(g.object_id),
            "granted_by_id": str(g.granted_by_id),
        }
        for g in grants
    ]


def _note_grant(target: Target, args: dict[str, Any]) -> None:
    fields = _grant_fields(args)
    note(target.object_type.value, target.object_id, target.tenant_id, grantee=fields["user_id"])
    note(permission=fields["permission"])


def _grant_fields(args: dict[str, Any]) -> dict[str, str]:
    return {"user_id": str(args["user_id"]), "permission": args["permission"]}


@blp.route("/<uuid:tenant_id>/quota/")
class TenantQuota(MethodView):
    @operation("tenant_quota_get", PermissionDenied)
    @blp.response(200, envelope(QuotaSchema), example=QUOTA_EXAMPLE)
    def get(self, tenant_id: uuid.UUID) -> dict[str, Any]:
        """Show limit, used and available of each resource (quota.view)"""
        session = db()
        require_tenant(tenant_id, Perm.QUOTA_VIEW)
        limit = quotas.as_amounts(quotas.limits(session, tenant_id, defaults()))
        return ok(_quota(tenant_id, limit, quotas.usage(session, tenant_id)))

    @operation("tenant_quota_update", FreshTokenRequired, PermissionDenied)
    @blp.arguments(QuotaLimitsSchema, example={"vcpus": 32, "ram_mb": 65536})
    @blp.response(200, envelope(QuotaSchema), example=QUOTA_EXAMPLE)
    @audited("quota.change")
    def put(self, args: dict[str, int], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Set some limits (platform admins only; fresh token)

        Resources left out keep their limit. A limit below current usage keeps what exists
        and refuses new requests (409 QUOTA_EXCEEDED).
        """
        require_fresh()
        session = db()
        note("quota", tenant_id, tenant_id)
        require_tenant(tenant_id, Perm.QUOTA_CHANGE)
        before = quotas.as_amounts(quotas.limits(session, tenant_id, defaults(), lock=True))
        after = quotas.as_amounts(quotas.set_limits(session, tenant_id, args, defaults()))
        note(before={k: getattr(before, k) for k in args}, after=args)
        commit()
        return ok(_quota(tenant_id, after, quotas.usage(session, tenant_id)))


@blp.route("/<uuid:tenant_id>/quota/check/")
class TenantQuotaCheck(MethodView):
    @operation("tenant_quota_check", PermissionDenied)
    @blp.arguments(QuotaCheckSchema, example={"vcpus": 2, "ram_mb": 2048, "disk_gb": 20})
    @blp.response(200, envelope(QuotaCheckResultSchema))
    @audited("quota.check")
    def post(self, args: dict[str, int], tenant_id: uuid.UUID) -> dict[str, Any]:
        """Check whether a request would fit the quota now (quota.view)

        Creates and reserves nothing: a later create is checked again. `vms` defaults to 1.
        """
        session = db()
        require_tenant(tenant_id, Perm.QUOTA_VIEW)
        note("quota", tenant_id, tenant_id, request=args)
        limit = quotas.as_amounts(quotas.limits(session, tenant_id, defaults()))
        over = quotas.exceeded(limit, quotas.usage(session, tenant_id), quotas.Amounts(**args))
        return ok({"fits": not over, "exceeded": over})


def require_tenant(tenant_id: uuid.UUID, perm: Perm) -> Tenant:
    """The tenant, if the caller holds perm on it (404 when it cannot see it, else 403)."""
    return tenants.get_tenant(db(), user(), tenant_id, perm)


def _quota(tenant_id: uuid.UUID, limit: quotas.Amounts, used: quotas.Amounts) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "resources": quotas.report(limit, used)}
