"""Failed-credential throttling with flask-limiter on Redis.

Views marked @throttle_failures (login, password change) share two moving-window limits: one
per account (the username given, or the caller's) and one per client address. Only answers
of INVALID_CREDENTIALS count (deduct_when), so successful logins never use up an address's
allowance. Once a limit is reached every attempt on that account, or from that address, is
refused with 429 RATE_LIMITED and Retry-After before any password is checked. With Redis
down, the limits are kept in each process's memory until Redis answers again.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_jwt_extended import get_current_user
from flask_limiter import Limit, Limiter, RateLimitExceeded

from api.errors import InvalidCredentials, RateLimited
from api.queue import redis_options
from api.settings import Settings
from api.web.errors import respond

T = TypeVar("T")
EXTENSION = "virtflow_limiter"


def throttle_failures(view: T) -> T:
    """Mark a MethodView class whose credential failures count against the login limits."""
    view.virtflow_throttle_failures = True  # type: ignore[attr-defined]
    return view


def _not_throttled() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(getattr(view, "view_class", view), "virtflow_throttle_failures", False)


def _digest(value: str) -> str:
    """Usernames go into Redis keys hashed: fixed length, no separators, no plain names."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_key() -> str:
    """The account an attempt is about: the authenticated caller, else the username sent."""
    try:
        caller = get_current_user()
    except RuntimeError:  # no verified token: a login
        caller = None
    if caller is not None:
        return _digest(caller.username)
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    # An empty key makes flask-limiter skip the limit; such a request fails validation (422).
    return _digest(username) if isinstance(username, str) and username else ""


def address_key() -> str:
    return request.remote_addr or "unknown"


def is_credential_failure(response: Response) -> bool:
    """deduct_when: only a refused password counts, not validation errors or successes."""
    if response.status_code != InvalidCredentials.status:
        return False
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") == InvalidCredentials.code


def _limits(settings: Settings) -> list[Limit]:
    window = settings.login_fail_window_seconds
    common: dict[str, Any] = {
        "shared": True,
        "exempt_when": _not_throttled,
        "deduct_when": is_credential_failure,
    }
    return [
        Limit(
            f"{settings.login_fails_per_account} per {window} second",
            key_function=account_key,
            scope="fail-account",
            **common,
        ),
        Limit(
            f"{settings.login_fails_per_address} per {window} second",
            key_function=address_key,
            scope="fail-address",
            **common,
        ),
    ]


def retry_after_seconds() -> int:
    """Seconds until the breached limit admits another attempt (at least 1)."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    current = limiter.current_limit
    if current is None:
        return 1
    reset_at = current.window.reset_time  # a float; RequestLimit.reset_at adds a second
    return max(1, math.ceil(reset_at - time.time()))


def _rate_limited(_exc: RateLimitExceeded) -> tuple[Response, int]:
    seconds = retry_after_seconds()
    response, status = respond(RateLimited, {"retry_after": seconds})
    response.headers["Retry-After"] = str(seconds)
    return response, status


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    """One limiter per app, counting in Redis under the configured key prefix."""
    limiter = Limiter(
        address_key,
        default_limits=_limits(settings),  # type: ignore[arg-type]
        storage_uri=settings.redis_url,
        # limits passes these to redis.from_url: a hung Redis costs one timeout, then the
        # limiter falls back to memory (rather than hold the login until gunicorn kills it).
        storage_options=redis_options(settings),
        strategy="moving-window",
        key_prefix=settings.rate_limit_prefix or f"{settings.queue_name}:login-limit",
        # Redis down: keep limiting, per process, in memory rather than fail open.
        in_memory_fallback_enabled=True,
        # Redis failing between a request's check and its count (after the view): that one
        # failure goes uncounted, logged, rather than the answer becoming a 500.
        swallow_errors=True,
    )
    # Requests to any other view never reach the limiter's storage: with Redis paused, a GET
    # must not wait out a Redis timeout for a limit that does not apply to it.
    limiter.request_filter(_not_throttled)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    return limiter
