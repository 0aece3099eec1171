"""Failed-credential throttling: attempts counted atomically before any password is checked.

Views marked @throttle_failures (login, password change) reserve an attempt in three moving
windows before the view runs (api.web.attempts: one Redis script checks and counts at once):

- per account and client address (5 per 300 s): one address guessing one account's password;
- per client address (20 per 300 s): one address trying many accounts;
- per account, over all addresses (100 per 300 s): a guess spread over many addresses. It does
  not apply from an address the account logged in from (successfully) in the last 30 days, so a
  stranger cannot lock the owner out of the addresses it uses.

A full window refuses the attempt with 429 RATE_LIMITED and Retry-After, a correct password
included. Only answers of INVALID_CREDENTIALS keep their attempt: any other answer gives it back
after the request, so successes and validation errors never use up an allowance. Views that are
not throttled never reach the store (nor Redis). With Redis down, counting goes on in memory.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import get_current_user
from redis import Redis

from api.errors import InvalidCredentials, RateLimited
from api.queue import redis_options
from api.settings import Settings
from api.web.attempts import FallbackStore, RedisStore, Store, Window
from api.web.body import body_or_none
from api.web.errors import respond

log = logging.getLogger(__name__)
T = TypeVar("T")
EXTENSION = "virtflow_limiter"
# How long a successful login exempts its address from the account's all-addresses window.
KNOWN_ADDRESS_MS = 30 * 24 * 3600 * 1000


def throttle_failures(view: T) -> T:
    """Mark a MethodView class whose credential failures count against the login limits."""
    view.virtflow_throttle_failures = True  # type: ignore[attr-defined]
    return view


def _not_throttled() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(getattr(view, "view_class", view), "virtflow_throttle_failures", False)


def _digest(value: str) -> str:
    """Names and addresses go into Redis keys hashed: fixed length, no separators, no plain
    names (surrogatepass: a body's lone surrogate is refused later, with 422, not here)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def account_key() -> str | None:
    """The account an attempt is about: the authenticated caller, else the username sent."""
    try:
        caller = get_current_user()
    except RuntimeError:  # no verified token: a login
        caller = None
    if caller is not None:
        return _digest(caller.username)
    body = body_or_none()
    username = body.get("username") if isinstance(body, dict) else None
    # No usable username: the request fails validation (422); only its address is counted.
    return _digest(username) if isinstance(username, str) and username else None


def address_key() -> str:
    return _digest(request.remote_addr or "unknown")


def is_credential_failure(response: Response) -> bool:
    """Only a refused password keeps its attempt, not validation errors or successes."""
    if response.status_code != InvalidCredentials.status:
        return False
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") == InvalidCredentials.code


class Throttled(Exception):
    """A window is full: answered 429 RATE_LIMITED with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """A reserved attempt: its windows, the store that holds it, and its known-address mark."""

    id: str
    keys: tuple[str, ...]
    store: Store
    known_key: str | None


class LoginLimiter:
    """The three windows of settings, in Redis under the configured key prefix."""

    def __init__(self, settings: Settings, store: FallbackStore) -> None:
        self.settings = settings
        self.store = store
        self.prefix = settings.rate_limit_prefix or f"{settings.queue_name}:login-limit"

    @property
    def window_ms(self) -> int:
        return self.settings.login_fail_window_seconds * 1000

    def windows(self, account: str | None, address: str) -> tuple[list[Window], str | None]:
        """The windows an attempt goes into, and its known-address key (None without account)."""
        s, p = self.settings, self.prefix
        windows = [Window(f"{p}:address:{address}", s.login_fails_per_address)]
        if account is None:
            return windows, None
        known = f"{p}:known:{account}:{address}"
        windows.insert(0, Window(f"{p}:pair:{account}:{address}", s.login_fails_per_pair))
        if not self.store.run(lambda store: store.marked(known))[0]:
            windows.append(Window(f"{p}:account:{account}", s.login_fails_per_account))
        return windows, known

    def reserve(self, account: str | None, address: str) -> Attempt:
        """Count one attempt in every window, or raise Throttled when one is full."""
        windows, known = self.windows(account, address)
        attempt = uuid.uuid4().hex
        wait_ms, store = self.store.run(lambda s: s.reserve(windows, self.window_ms, attempt))
        if wait_ms > 0:
            raise Throttled(max(1, math.ceil(wait_ms / 1000)))
        return Attempt(attempt, tuple(w.key for w in windows), store, known)

    def settle(self, attempt: Attempt, response: Response) -> None:
        """After the answer: a wrong password keeps its attempt, anything else gives it back;
        a success marks the address as known to the account."""
        if is_credential_failure(response):
            return
        attempt.store.release(attempt.keys, attempt.id)
        if response.status_code < 300 and attempt.known_key is not None:
            known = attempt.known_key
            self.store.run(lambda store: store.mark(known, KNOWN_ADDRESS_MS))


def reserve_attempt() -> None:
    """before_request (after the token check): reserve the attempt of a throttled view."""
    if _not_throttled():
        return
    limiter: LoginLimiter = current_app.extensions[EXTENSION]
    g.login_attempt = limiter.reserve(account_key(), address_key())


def settle_attempt(response: Response) -> Response:
    """after_request: never changes the answer; a failure here leaves the attempt counted."""
    attempt: Attempt | None = g.pop("login_attempt", None)
    if attempt is None:
        return response
    try:
        current_app.extensions[EXTENSION].settle(attempt, response)
    except Exception:
        log.warning(
            "could not give back a login attempt; it counts until it ages out", exc_info=True
        )
    return response


def _rate_limited(exc: Throttled) -> tuple[Response, int]:
    response, status = respond(RateLimited, {"retry_after": exc.retry_after})
    response.headers["Retry-After"] = str(exc.retry_after)
    return response, status


def init_limiter(app: Flask, settings: Settings) -> LoginLimiter:
    """One limiter per app; nothing connects to Redis before a throttled request."""
    # A hung Redis costs one client timeout, then the store counts in memory for a while.
    redis = Redis.from_url(settings.redis_url, **redis_options(settings))
    limiter = LoginLimiter(settings, FallbackStore(RedisStore(redis)))
    app.extensions[EXTENSION] = limiter
    app.before_request(reserve_attempt)
    app.after_request(settle_attempt)
    app.register_error_handler(Throttled, _rate_limited)
    return limiter
