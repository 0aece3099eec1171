"""User accounts: platform admins create, list and disable them; users see themselves."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import Conflict, InvalidState, NameTaken, PermissionDenied
from api.services import tokens, users
from api.web.audit import audited, note
from api.web.auth import user
from api.web.context import commit, db
from api.web.contract import operation
from api.web.envelope import PageArgsSchema, envelope, ok, paginate
from api.web.resources.user.schemas import (
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)

blp = Blueprint("user", __name__, url_prefix="/api/v1/user", description="User accounts")

_SHOWN = ("username", "is_admin", "is_active")


@blp.route("/")
class Users(MethodView):
    @operation("user_list")
    @blp.arguments(UserQuerySchema, location="query")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, envelope(UserSchema, many=True))
    def get(self, filters: dict[str, Any], page: dict[str, int]) -> dict[str, Any]:
        """List accounts (admins: all; others: only their own)"""
        return paginate(db(), users.users_query(user(), **filters), **page)

    @operation("user_create", PermissionDenied, NameTaken, Conflict)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, envelope(UserSchema))
    @audited("user.create")
    def post(self, args: dict[str, str]) -> dict[str, Any]:
        """Create an account (platform admins only)"""
        if not user().is_admin:
            raise PermissionDenied("only platform admins create accounts")
        account = users.register_user(db(), args["username"], args["password"])
        note("user", account.id, after={name: getattr(account, name) for name in _SHOWN})
        commit()
        return ok(account)


@blp.route("/<uuid:user_id>/")
class UserById(MethodView):
    @operation("user_get")
    @blp.response(200, envelope(UserSchema))
    def get(self, user_id: uuid.UUID) -> dict[str, Any]:
        """Show one account (admins: any; others: their own)"""
        return ok(users.get_user(db(), user(), user_id))

    @operation("user_update", PermissionDenied, InvalidState)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, envelope(UserSchema))
    @audited("user.update")
    def patch(self, args: dict[str, Any], user_id: uuid.UUID) -> dict[str, Any]:
        """Enable or disable an account (platform admins only)"""
        account = users.get_user(db(), user(), user_id)
        before = account.is_active
        note("user", account.id, before={"is_active": before})
        users.set_active(db(), user(), user_id, args["is_active"])
        note(after={"is_active": account.is_active})
        if before and not account.is_active:
            # Re-enabling the account later must not bring its old tokens back.
            note(sessions_ended=tokens.end_user_sessions(db(), account.id))
        commit()
        return ok(account)
