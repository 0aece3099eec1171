"""Token sessions in Redis: logout and password changes revoke tokens in every API process.

A login opens a session: its access and refresh tokens (and every access token later made
from that refresh token) carry the same session id claim, `sid`, and the session's end, `sexp`
(the refresh token's expiry; no token of the session outlives it). Revoking a session writes
`<prefix>:revoked:sid:<sid>` with a TTL of the session's remaining life, so the key vanishes
exactly when every token it blocks would have expired anyway. Single tokens (those without a
session) are revoked by their `jti` in the same way. Each user's open sessions are indexed in
a sorted set scored by their end, so a password change or a disabled account can end them all.

Redis errors fail closed: DependencyUnavailable (503), never "not revoked".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from redis import Redis
from redis.exceptions import RedisError

from api.errors import DependencyUnavailable

SESSION_CLAIM = "sid"
SESSION_END_CLAIM = "sexp"
# Token expiries are whole seconds; one more second covers the rounding.
TTL_MARGIN_SECONDS = 1


@contextmanager
def _redis_errors() -> Iterator[None]:
    try:
        yield
    except RedisError as exc:
        raise DependencyUnavailable(
            "the token blocklist in Redis is unreachable", {"dependency": "redis"}
        ) from exc


@dataclass(frozen=True)
class TokenStore:
    """The Redis side of token sessions: the blocklist and each user's open sessions."""

    redis: Redis
    prefix: str

    def _sid_key(self, sid: str) -> str:
        return f"{self.prefix}:revoked:sid:{sid}"

    def _jti_key(self, jti: str) -> str:
        return f"{self.prefix}:revoked:jti:{jti}"

    def _sessions_key(self, user_id: uuid.UUID) -> str:
        return f"{self.prefix}:sessions:{user_id}"

    def open_session(self, user_id: uuid.UUID, sid: str, ends_at: int) -> None:
        """Index a new session of user_id, so it can be ended with the others later."""
        key = self._sessions_key(user_id)
        with _redis_errors():
            pipe = self.redis.pipeline()
            pipe.zadd(key, {sid: ends_at})
            pipe.zremrangebyscore(key, "-inf", time.time())
            # The index lives as long as its longest session (GT: never shorten it).
            pipe.expireat(key, ends_at + TTL_MARGIN_SECONDS, gt=True)
            pipe.expireat(key, ends_at + TTL_MARGIN_SECONDS, nx=True)
            pipe.execute()

    def revoke(self, *, sid: str | None, jti: str | None, ends_at: int) -> None:
        """Block the session sid (all its tokens) and the single token jti until ends_at."""
        ttl = ends_at - int(time.time()) + TTL_MARGIN_SECONDS
        if ttl <= 0:  # everything it would block has expired already
            return
        with _redis_errors():
            pipe = self.redis.pipeline()
            if sid:
                pipe.set(self._sid_key(sid), 1, ex=ttl)
            if jti:
                pipe.set(self._jti_key(jti), 1, ex=ttl)
            pipe.execute()

    def is_revoked(self, sid: str | None, jti: str | None) -> bool:
        """Whether the token's session or the token itself was revoked (one round trip)."""
        keys = [self._sid_key(sid)] if sid else []
        keys += [self._jti_key(jti)] if jti else []
        if not keys:
            return False
        with _redis_errors():
            return bool(self.redis.exists(*keys))

    def end_user_sessions(self, user_id: uuid.UUID, keep: str | None = None) -> int:
        """Revoke every open session of user_id except keep; returns how many were ended."""
        key = self._sessions_key(user_id)
        now = time.time()
        with _redis_errors():
            open_sessions = cast(
                list[tuple[bytes | str, float]],
                self.redis.zrangebyscore(key, now, "+inf", withscores=True),
            )
            pipe = self.redis.pipeline()
            ended = 0
            for raw_sid, ends_at in open_sessions:
                sid = raw_sid.decode() if isinstance(raw_sid, bytes) else str(raw_sid)
                if sid == keep:
                    continue
                ttl = int(ends_at - now) + TTL_MARGIN_SECONDS
                pipe.set(self._sid_key(sid), 1, ex=max(ttl, 1))
                pipe.zrem(key, sid)
                ended += 1
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.execute()
        return ended
