"""Login and token refresh."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_smorest import Blueprint

from api.services.users import authenticate
from api.web.audit import audited, note
from api.web.auth import public, refresh_token_only, user
from api.web.context import commit, db, settings
from api.web.envelope import envelope, ok
from api.web.resources.auth.schemas import LoginSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Authentication")


def _tokens(user_id: str, *, with_refresh: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": create_access_token(identity=user_id, fresh=with_refresh),
        "token_type": "Bearer",
        "expires_in": settings().jwt_access_minutes * 60,
    }
    if with_refresh:
        body["refresh_token"] = create_refresh_token(identity=user_id)
    return body


@blp.route("/login/")
@public
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, envelope(TokenSchema))
    @audited("auth.login")
    def post(self, args: dict[str, str]) -> dict[str, Any]:
        """Exchange username and password for an access and a refresh token"""
        note("user", None, attempted_username=args["username"])
        account = authenticate(db(), args["username"], args["password"])
        note("user", account.id, actor=account)
        commit()  # a rehashed password is saved
        return ok(_tokens(str(account.id), with_refresh=True))


@blp.route("/refresh/")
@refresh_token_only
class Refresh(MethodView):
    @blp.response(200, envelope(TokenSchema))
    @blp.doc(security=[{"bearerAuth": []}])
    @audited("auth.refresh")
    def post(self) -> dict[str, Any]:
        """Exchange a refresh token for a new (non-fresh) access token"""
        return ok(_tokens(str(user().id), with_refresh=False))
