"""JWT wiring: every endpoint needs a valid access token unless its view is marked public."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_jwt_extended import JWTManager, current_user, verify_jwt_in_request

from api.errors import (
    AccountDisabled,
    AuthRequired,
    FreshTokenRequired,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from api.models import User
from api.services.users import get_active_user
from api.settings import Settings
from api.web.context import db
from api.web.errors import respond

T = TypeVar("T")


def public(view: T) -> T:
    """Mark a MethodView class (or view function) as reachable without a token."""
    view.virtflow_public = True  # type: ignore[attr-defined]
    return view


def refresh_token_only(view: T) -> T:
    """Mark a view as taking a refresh token instead of an access token."""
    view.virtflow_refresh = True  # type: ignore[attr-defined]
    return view


def _view_flag(endpoint: str, flag: str) -> bool:
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(getattr(view, "view_class", view), flag, False))


def require_token() -> None:
    """before_request: verify the bearer token for every endpoint not marked public."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: routing answers 404/405
        return
    if endpoint.startswith("api-docs.") or _view_flag(endpoint, "virtflow_public"):
        return
    verify_jwt_in_request(refresh=_view_flag(endpoint, "virtflow_refresh"))


def require_fresh() -> None:
    """Sensitive operations (password, grants, quotas, tenant deletion) need a fresh token:
    one issued by a password login, not by a refresh. Call it first in such a view."""
    verify_jwt_in_request(fresh=True)


def user() -> User:
    """The authenticated caller (loaded and checked active by the user lookup)."""
    u: User = current_user
    return u


def _error(err: type[Any]) -> Callable[..., tuple[Response, int]]:
    def handler(*_args: Any) -> tuple[Response, int]:
        return respond(err)

    return handler


def init_jwt(app: Flask, settings: Settings) -> JWTManager:
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_days),
    )
    jwt = JWTManager(app)
    jwt.unauthorized_loader(_error(AuthRequired))
    jwt.invalid_token_loader(_error(TokenInvalid))
    jwt.expired_token_loader(_error(TokenExpired))
    jwt.user_lookup_error_loader(_error(AccountDisabled))
    jwt.needs_fresh_token_loader(_error(FreshTokenRequired))
    jwt.revoked_token_loader(_error(TokenRevoked))

    @jwt.user_lookup_loader
    def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        try:
            return get_active_user(db(), uuid.UUID(str(payload["sub"])))
        except (ValueError, KeyError):
            return None

    app.before_request(require_token)
    return jwt
