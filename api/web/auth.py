"""JWT wiring: every endpoint needs a valid access token unless its view is marked public.

Tokens come in sessions (api.services.tokens): a login opens one, a refresh extends it with a
non-fresh access token, a logout revokes all its tokens for every API process. The session rows
live in PostgreSQL and the views that change them commit before they answer.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    current_user,
    get_jwt,
    verify_jwt_in_request,
)

from api.errors import (
    AccountDisabled,
    AuthRequired,
    FreshTokenRequired,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from api.models import User
from api.services import tokens
from api.services.tokens import SESSION_CLAIM, SESSION_END_CLAIM
from api.services.users import get_active_user
from api.settings import Settings
from api.web.context import db, settings
from api.web.errors import respond
from api.web.limiter import init_limiter

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


def _session_claims(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: claims[k] for k in (SESSION_CLAIM, SESSION_END_CLAIM) if k in claims}


def _access_token(identity: str, session: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
    """An access token of session that never outlives it; `expires_in` in seconds."""
    now = int(time.time())
    expires = now + settings().jwt_access_minutes * 60
    if SESSION_END_CLAIM in session:
        expires = min(expires, int(session[SESSION_END_CLAIM]))
    claims = {**session, "exp": expires}
    token = create_access_token(identity=identity, fresh=fresh, additional_claims=claims)
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires - now}


def open_session(account: User) -> dict[str, Any]:
    """Login: a fresh access token and a refresh token of a new session (the caller commits
    the session's row before it hands the tokens out)."""
    row = tokens.open_session(db(), account.id, dt.timedelta(days=settings().jwt_refresh_days))
    ends = int(row.expires_at.timestamp())
    session: dict[str, Any] = {SESSION_CLAIM: row.id, SESSION_END_CLAIM: ends}
    body = _access_token(str(account.id), session, fresh=True)
    body["refresh_token"] = create_refresh_token(
        identity=str(account.id), additional_claims={**session, "exp": ends}
    )
    return body


def refresh_session() -> dict[str, Any]:
    """Refresh: a non-fresh access token in the session of the presented refresh token."""
    claims = get_jwt()
    return _access_token(str(claims["sub"]), _session_claims(claims), fresh=False)


def end_session() -> str | None:
    """Logout: revoke the presented token's session (every token of it), or the token itself
    when it has no session (the caller commits)."""
    claims = get_jwt()
    sid = claims.get(SESSION_CLAIM)
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    tokens.revoke(db(), sid=sid, jti=claims.get("jti"), expires_at=expires)
    return str(sid) if sid else None


def current_session_id() -> str | None:
    sid = get_jwt().get(SESSION_CLAIM)
    return str(sid) if sid else None


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
        JWT_ACCESS_TOKEN_EXPIRES=dt.timedelta(minutes=settings.jwt_access_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=dt.timedelta(days=settings.jwt_refresh_days),
    )
    jwt = JWTManager(app)
    jwt.unauthorized_loader(_error(AuthRequired))
    jwt.invalid_token_loader(_error(TokenInvalid))
    jwt.expired_token_loader(_error(TokenExpired))
    jwt.user_lookup_error_loader(_error(AccountDisabled))
    jwt.needs_fresh_token_loader(_error(FreshTokenRequired))
    jwt.revoked_token_loader(_error(TokenRevoked))

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # A database error propagates: the request fails rather than pass unchecked.
        return tokens.is_revoked(db(), payload.get(SESSION_CLAIM), payload.get("jti"))

    @jwt.user_lookup_loader
    def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> User | None:
        try:
            return get_active_user(db(), uuid.UUID(str(payload["sub"])))
        except (ValueError, KeyError):
            return None

    app.before_request(require_token)
    init_limiter(app, settings)  # after require_token: a throttled view may key on the caller
    return jwt
