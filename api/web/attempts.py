"""Moving windows of attempts, counted atomically: in Redis, or in this process's memory while
Redis is unreachable.

`reserve` adds one attempt to several windows at once, or to none when one of them is full: the
check and the count are one step, so N parallel attempts never get past a limit of L < N. An
attempt that turns out not to count is given back with `release`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")

# KEYS: one sorted set per window (member: attempt id, score: its time in ms).
# ARGV: the window in ms, the attempt id, then the limit of each key.
# Returns 0 when the attempt went into every window, else the ms until the fullest admits one.
RESERVE_LUA = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[i + 2])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(nth[2]) + window - now)
  end
end
if wait > 0 then
  return wait
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return 0
"""
# Seconds to count in memory after Redis failed, before Redis is tried again: a paused Redis
# costs one client timeout per interval, not one per request.
REDIS_RETRY_SECONDS = 5.0
# Keys kept in memory before expired ones are swept (only while Redis is unreachable).
MEMORY_SWEEP_KEYS = 10_000


@dataclass(frozen=True)
class Window:
    key: str
    limit: int


class Store(Protocol):
    def reserve(self, windows: Sequence[Window], window_ms: int, attempt: str) -> int: ...
    def release(self, keys: Sequence[str], attempt: str) -> None: ...
    def mark(self, key: str, ttl_ms: int) -> None: ...
    def marked(self, key: str) -> bool: ...


class RedisStore:
    """The windows of every API process: one Lua script per reservation."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._reserve = redis.register_script(RESERVE_LUA)  # sent on first use, not now

    def reserve(self, windows: Sequence[Window], window_ms: int, attempt: str) -> int:
        keys = [w.key for w in windows]
        limits = [w.limit for w in windows]
        return int(self._reserve(keys=keys, args=[window_ms, attempt, *limits]))

    def release(self, keys: Sequence[str], attempt: str) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zrem(key, attempt)
        pipe.execute()

    def mark(self, key: str, ttl_ms: int) -> None:
        self.redis.set(key, 1, px=ttl_ms)

    def marked(self, key: str) -> bool:
        return bool(self.redis.exists(key))


class MemoryStore:
    """The same windows in this process only, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, dict[str, float]] = {}  # key -> attempt -> time in ms
        self._marks: dict[str, float] = {}  # key -> expiry in ms

    def reserve(self, windows: Sequence[Window], window_ms: int, attempt: str) -> int:
        now = _now_ms()
        with self._lock:
            if len(self._windows) > MEMORY_SWEEP_KEYS:
                self._sweep(now - window_ms)
            wait = max((self._wait(w, now - window_ms, now) for w in windows), default=0)
            if wait > 0:
                return int(wait)
            for w in windows:
                self._windows.setdefault(w.key, {})[attempt] = now
            return 0

    def _wait(self, window: Window, since: float, now: float) -> float:
        """ms until window admits one more attempt (0: it does now); drops what aged out."""
        kept = {a: t for a, t in self._windows.get(window.key, {}).items() if t > since}
        self._windows[window.key] = kept
        if len(kept) < window.limit:
            return 0
        nth = sorted(kept.values())[len(kept) - window.limit]
        return max(1.0, nth - since)

    def _sweep(self, since: float) -> None:
        self._windows = {
            key: attempts
            for key, attempts in self._windows.items()
            if any(t > since for t in attempts.values())
        }
        now = _now_ms()
        self._marks = {key: until for key, until in self._marks.items() if until > now}

    def release(self, keys: Sequence[str], attempt: str) -> None:
        with self._lock:
            for key in keys:
                self._windows.get(key, {}).pop(attempt, None)

    def mark(self, key: str, ttl_ms: int) -> None:
        with self._lock:
            self._marks[key] = _now_ms() + ttl_ms

    def marked(self, key: str) -> bool:
        with self._lock:
            return self._marks.get(key, 0) > _now_ms()


def _now_ms() -> float:
    return time.time() * 1000


class FallbackStore:
    """Redis while it answers; this process's memory for REDIS_RETRY_SECONDS after it fails,
    so that a Redis outage neither stops the counting nor fails the request."""

    def __init__(self, redis: RedisStore, memory: MemoryStore | None = None) -> None:
        self.redis = redis
        self.memory = memory or MemoryStore()
        self._redis_down_until = 0.0

    def run(self, operation: Callable[[Store], T]) -> tuple[T, Store]:
        """operation on Redis, or on memory while Redis is down; and the store that ran it."""
        if time.monotonic() >= self._redis_down_until:
            try:
                return operation(self.redis), self.redis
            except RedisError as exc:
                log.warning("Redis unreachable for the login limits, counting in memory: %s", exc)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return operation(self.memory), self.memory
