"""User accounts: creation, password hashing (argon2id), authentication, who sees whom."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.errors import (
    InvalidCredentials,
    InvalidState,
    NameTaken,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from api.models import Membership, ObjectPermission, Tenant, TenantStatus, User
from api.services.filters import narrow
from api.services.permissions import ALL_PERMS, ObjectType, Target, effective_perms

# Usernames appear in logs, audit rows and Redis keys: a strict slug keeps them unambiguous.
USERNAME_RE = re.compile(r"[a-z][a-z0-9._-]*")
USERNAME_MAX = 64
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
USERNAME_RULE = "a lower-case letter first, then a-z, 0-9, '.', '_' or '-'; at most 64"

_hasher = PasswordHasher()
# Verified against when the user is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("virtflow-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash with the library's current parameters."""
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, *, is_admin: bool = False) -> User:
    """Add a user; the username must be free."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise NameTaken(f"username {username!r} is taken", {"field": "username"})
    user = User(username=username, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; the same error for every kind of mismatch."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials() from exc
    if user is None or not user.is_active:
        raise InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def get_active_user(session: Session, user_id: uuid.UUID) -> User | None:
    """The user behind a token, or None when it is gone or disabled."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def ensure_admin(session: Session, username: str, password: str) -> tuple[User, bool]:
    """Create the initial platform admin unless it exists; returns (user, created)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is not None:
        return user, False
    return create_user(session, username, password, is_admin=True), True


def check_new_user(username: str, password: str) -> None:
    """The rules for a new account (the API schema applies the same constants)."""
    if len(username) > USERNAME_MAX or not USERNAME_RE.fullmatch(username):
        raise ValidationFailed(f"username: {USERNAME_RULE}", {"field": "username"})
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed(
            f"password: {PASSWORD_MIN} to {PASSWORD_MAX} characters", {"field": "password"}
        )


def register_user(
    session: Session, username: str, password: str, *, is_admin: bool = False
) -> User:
    """A new account that follows the username and password rules (API and CLI)."""
    check_new_user(username, password)
    return create_user(session, username, password, is_admin=is_admin)


def users_query(
    caller: User, *, username: str | None = None, is_active: bool | None = None
) -> Select[User]:
    """The accounts caller may see (admins: all; others: only themselves), filtered."""
    query = select(User).order_by(User.username)
    if not caller.is_admin:
        query = query.where(User.id == caller.id)
    query = narrow(query, User, username=username, is_active=is_active)
    return query


def get_user(session: Session, caller: User, user_id: uuid.UUID) -> User:
    """One account; 404 unless caller is an admin or the account itself."""
    found = session.get(User, user_id) if caller.is_admin or caller.id == user_id else None
    if found is None:
        raise NotFound()
    return found


def set_active(session: Session, caller: User, user_id: uuid.UUID, is_active: bool) -> User:
    """Enable or disable an account (platform admins only; never their own)."""
    target = get_user(session, caller, user_id)
    if not caller.is_admin:
        raise PermissionDenied("only platform admins change accounts")
    if target.id == caller.id and not is_active:
        raise InvalidState("you cannot disable your own account")
    target.is_active = is_active
    session.flush()
    return target


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Replace user's password after checking the current one."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials("The current password is wrong.") from exc
    user.password_hash = hash_password(new)
    session.flush()


@dataclass(frozen=True)
class TenantAccess:
    """A tenant the user belongs to or holds grants on, with what they may do there."""

    tenant: Tenant
    role: str | None
    permissions: list[str]


def tenant_access(session: Session, user: User) -> list[TenantAccess]:
    """The user's tenants (membership or tenant grant), their role and effective permissions."""
    roles: dict[uuid.UUID, str] = {
        tenant_id: role
        for tenant_id, role in session.execute(
            select(Membership.tenant_id, Membership.role).where(Membership.user_id == user.id)
        )
    }
    granted = select(ObjectPermission.object_id).where(
        ObjectPermission.user_id == user.id, ObjectPermission.object_type == ObjectType.TENANT
    )
    tenants = session.scalars(
        select(Tenant)
        .where(Tenant.id.in_(list(roles)) | Tenant.id.in_(granted))
        .where(Tenant.status != TenantStatus.DELETED)
        .order_by(Tenant.name)
    )
    return [
        TenantAccess(
            tenant, roles.get(tenant.id), sorted(effective_perms(session, user, Target(tenant.id)))
        )
        for tenant in tenants
    ]


def platform_permissions(user: User) -> list[str]:
    """What the platform role alone gives: everything for an admin, nothing otherwise."""
    return sorted(ALL_PERMS) if user.is_admin else []


def object_grants(session: Session, user: User) -> list[ObjectPermission]:
    """The user's grants on single VMs."""
    return list(
        session.scalars(
            select(ObjectPermission)
            .where(
                ObjectPermission.user_id == user.id,
                ObjectPermission.object_type == ObjectType.VM,
            )
            .order_by(ObjectPermission.object_id, ObjectPermission.permission)
        )
    )
