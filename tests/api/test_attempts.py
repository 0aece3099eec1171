"""The login limiter's windows: one atomic reservation across windows, in Redis and in memory."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis

from api.web import attempts
from api.web.attempts import FallbackStore, MemoryStore, RedisStore, Store, Window

WINDOW_MS = 60_000


@pytest.fixture
def prefix(redis: Redis) -> Iterator[str]:
    name = f"virtflow-test-attempts-{uuid.uuid4().hex}"
    yield name
    for key in redis.scan_iter(f"{name}*"):
        redis.delete(key)


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest, redis: Redis) -> Store:
    return RedisStore(redis) if request.param == "redis" else MemoryStore()


def reserve(store: Store, windows: list[Window]) -> int:
    return store.reserve(windows, WINDOW_MS, uuid.uuid4().hex)


def test_attempts_reserve_counts_until_the_limit(store: Store, prefix: str) -> None:
    window = Window(f"{prefix}:a", 3)
    assert [reserve(store, [window]) for _ in range(3)] == [0, 0, 0]
    wait = reserve(store, [window])
    assert 0 < wait <= WINDOW_MS


def test_attempts_a_full_window_counts_the_attempt_nowhere(store: Store, prefix: str) -> None:
    full, roomy = Window(f"{prefix}:full", 1), Window(f"{prefix}:roomy", 2)
    assert reserve(store, [full]) == 0
    for _ in range(5):
        assert reserve(store, [roomy, full]) > 0
    assert reserve(store, [roomy]) == 0  # the refused attempts took none of roomy's room
    assert reserve(store, [roomy]) == 0
    assert reserve(store, [roomy]) > 0


def test_attempts_release_gives_the_attempt_back(store: Store, prefix: str) -> None:
    windows = [Window(f"{prefix}:a", 1), Window(f"{prefix}:b", 1)]
    attempt = uuid.uuid4().hex
    assert store.reserve(windows, WINDOW_MS, attempt) == 0
    assert reserve(store, windows) > 0
    store.release([w.key for w in windows], attempt)
    assert reserve(store, windows) == 0


def test_attempts_age_out_of_the_window(store: Store, prefix: str) -> None:
    window = Window(f"{prefix}:a", 1)
    assert store.reserve([window], 50, "first") == 0
    assert store.reserve([window], 50, "second") > 0
    threading.Event().wait(0.1)
    assert store.reserve([window], 50, "third") == 0


def test_attempts_marks_expire(store: Store, prefix: str) -> None:
    key = f"{prefix}:known"
    assert not store.marked(key)
    store.mark(key, 60_000)
    assert store.marked(key)
    store.mark(key, 1)
    threading.Event().wait(0.05)
    assert not store.marked(key)


def test_attempts_parallel_reservations_never_pass_the_limit(store: Store, prefix: str) -> None:
    """24 threads at once against a limit of 5: exactly 5 get in (check and count are one step)."""
    windows = [Window(f"{prefix}:pair", 5), Window(f"{prefix}:address", 20)]
    start = threading.Barrier(24)

    def attempt(_n: int) -> int:
        start.wait()
        return reserve(store, windows)

    with ThreadPoolExecutor(max_workers=24) as pool:
        waits = list(pool.map(attempt, range(24)))
    assert waits.count(0) == 5


def test_attempts_redis_keys_expire_with_the_window(redis: Redis, prefix: str) -> None:
    RedisStore(redis).reserve([Window(f"{prefix}:a", 5)], WINDOW_MS, "x")
    assert 0 < redis.pttl(f"{prefix}:a") <= WINDOW_MS


class DownRedis(RedisStore):
    """Redis that refuses connections, counting how often it is asked."""

    def __init__(self) -> None:
        super().__init__(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5))
        self.asked = 0

    def reserve(self, windows: Sequence[Window], window_ms: int, attempt: str) -> int:
        self.asked += 1
        return super().reserve(windows, window_ms, attempt)


def test_attempts_fallback_counts_in_memory_while_redis_is_down(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    down = DownRedis()
    fallback = FallbackStore(down)
    window = [Window(f"{prefix}:a", 1)]
    wait, used = fallback.run(lambda s: s.reserve(window, WINDOW_MS, "one"))
    assert (wait, used, down.asked) == (0, fallback.memory, 1)
    wait, used = fallback.run(lambda s: s.reserve(window, WINDOW_MS, "two"))
    assert wait > 0 and used is fallback.memory
    assert down.asked == 1  # not asked again within REDIS_RETRY_SECONDS
    monkeypatch.setattr(attempts, "REDIS_RETRY_SECONDS", 0.0)
    monkeypatch.setattr(fallback, "_redis_down_until", 0.0)
    fallback.run(lambda s: s.reserve(window, WINDOW_MS, "three"))
    assert down.asked == 2


def test_attempts_fallback_uses_redis_while_it_answers(redis: Redis, prefix: str) -> None:
    fallback = FallbackStore(RedisStore(redis))
    wait, used = fallback.run(lambda s: s.reserve([Window(f"{prefix}:a", 1)], WINDOW_MS, "x"))
    assert (wait, used) == (0, fallback.redis)
    assert redis.zcard(f"{prefix}:a") == 1
