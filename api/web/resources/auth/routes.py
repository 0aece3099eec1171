"""Login, token refresh, logout, password change and the caller's own profile."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.errors import FreshTokenRequired, InvalidCredentials
from api.services import tokens, users
from api.web.audit import audited, note
from api.web.auth import (
    current_session_id,
    end_session,
    open_session,
    public,
    refresh_session,
    refresh_token_only,
    require_fresh,
    user,
)
from api.web.context import commit, db
from api.web.contract import operation
from api.web.envelope import envelope, ok
from api.web.limiter import throttle_failures
from api.web.resources.auth.schemas import (
    LoginSchema,
    LogoutSchema,
    MeSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    TokenSchema,
)

TOKEN_EXAMPLE = {
    "status": "success",
    "data": {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
        "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.c2ln",
        "token_type": "Bearer",
        "expires_in": 3600,
    },
    "meta": {"request_id": "3f1c0a9e2b7d4c55a1e8f0b6d2c4e7a9"},
}

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")


@blp.route("/login/")
@public
@throttle_failures
class Login(MethodView):
    @operation("auth_login", InvalidCredentials)
    @blp.arguments(LoginSchema, example={"username": "alice", "password": "correct-horse-1"})
    @blp.response(200, envelope(TokenSchema), example=TOKEN_EXAMPLE)
    @audited("auth.login")
    def post(self, args: dict[str, str]) -> dict[str, Any]:
        """Exchange username and password for an access and a refresh token"""
        note("user", None, attempted_username=args["username"])
        account = users.authenticate(db(), args["username"], args["password"])
        note("user", account.id, actor=account)
        issued = open_session(account)
        commit()  # the session's row (and a rehashed password): no token before it is saved
        return ok(issued)


@blp.route("/refresh/")
@refresh_token_only
class Refresh(MethodView):
    @operation("auth_refresh")
    @blp.response(200, envelope(TokenSchema))
    @blp.doc(
        security=[{"bearerAuth": []}],
        description="The bearer token is the refresh token of a login, not an access token.",
    )
    @audited("auth.refresh")
    def post(self) -> dict[str, Any]:
        """Exchange a refresh token for a new (non-fresh) access token"""
        return ok(refresh_session())


@blp.route("/logout/")
class Logout(MethodView):
    @operation("auth_logout")
    @blp.response(200, envelope(LogoutSchema))
    @audited("auth.logout")
    def post(self) -> dict[str, Any]:
        """Revoke this session: its access and refresh tokens stop working everywhere"""
        note("user", user().id, session_id=end_session())
        commit()  # the revocation is saved before the client hears it worked
        return ok({"logged_out": True})


@blp.route("/password/")
@throttle_failures
class Password(MethodView):
    @operation("auth_password_change", FreshTokenRequired, InvalidCredentials)
    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, envelope(PasswordChangedSchema))
    @audited("user.password_change")
    def put(self, args: dict[str, str]) -> dict[str, Any]:
        """Change your own password (fresh token); your other sessions are ended"""
        require_fresh()
        account = user()
        note("user", account.id)
        users.change_password(db(), account, args["current_password"], args["new_password"])
        ended = tokens.end_user_sessions(db(), account.id, keep=current_session_id())
        note(other_sessions_ended=ended)
        commit()
        return ok({"other_sessions_ended": ended})


@blp.route("/me/")
class Me(MethodView):
    @operation("auth_me_get")
    @blp.response(200, envelope(MeSchema))
    def get(self) -> dict[str, Any]:
        """Show the caller: account, platform role, tenants with role and permissions, grants"""
        account = user()
        return ok(
            {
                "user": account,
                "roles": ["admin"] if account.is_admin else [],
                "permissions": users.platform_permissions(account),
                "tenants": users.tenant_access(db(), account),
                "object_grants": users.object_grants(db(), account),
            }
        )
