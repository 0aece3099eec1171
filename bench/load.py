"""HTTP load for bench/api.py: timed single requests, concurrent bursts, and RSS from /proc.

Plain http.client over loopback, a new connection per request (gunicorn's sync workers close
each one anyway), so the client adds as little of its own time as a Python client can. A burst
runs in forked client processes, not threads, so one GIL does not cap the rate it can offer.
"""

from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None  # sent as JSON when not None
    token: str = ""


def send(port: int, call: Call, timeout: float = 120) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    headers = {"Accept": "application/json"}
    payload = None
    if call.body is not None:
        payload = json.dumps(call.body).encode()
        headers["Content-Type"] = "application/json"
    if call.token:
        headers["Authorization"] = f"Bearer {call.token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(call.method, call.path, payload, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def data(port: int, call: Call) -> Any:
    """The envelope's data of a request that must succeed."""
    status, body = send(port, call)
    if status >= 300:
        raise RuntimeError(f"{call.method} {call.path}: {status} {body[:300]!r}")
    return json.loads(body)["data"]


def sample(port: int, make: Callable[[int], Call], samples: int, warmup: int) -> list[float]:
    """Seconds per request of `samples` sequential requests after `warmup` unmeasured ones;
    make(k) gives the k-th request. Any answer but 2xx stops the run."""
    times = []
    for k in range(warmup + samples):
        call = make(k)
        t0 = time.perf_counter()
        status, body = send(port, call)
        elapsed = time.perf_counter() - t0
        if status >= 300:
            raise RuntimeError(f"{call.method} {call.path}: {status} {body[:300]!r}")
        if k >= warmup:
            times.append(elapsed)
    return times


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values in seconds, in milliseconds."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1] * 1000


@dataclass
class Burst:
    """What a burst of requests from concurrent clients did."""

    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return sum(self.statuses.values()) / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status < 300)


def _client(port: int, calls: list[Call], barrier: Any, out: Any) -> None:
    barrier.wait()
    start = time.monotonic()  # CLOCK_MONOTONIC: comparable across processes
    statuses, latencies = [], []
    for call in calls:
        t0 = time.monotonic()
        try:
            status, _ = send(port, call)
        except OSError:
            status = 599  # refused or reset: counted, not raised
        latencies.append(time.monotonic() - t0)
        statuses.append(status)
    out.put((start, time.monotonic(), statuses, latencies))


def burst(port: int, calls: list[Call], clients: int) -> Burst:
    """Every call, spread over `clients` forked processes that start together."""
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(clients), ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(port, calls[k::clients], barrier, out))
        for k in range(clients)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    first, last = min(r[0] for r in results), max(r[1] for r in results)
    done = Burst(last - first)
    for _, _, statuses, latencies in results:
        done.statuses.update(statuses)
        done.latencies += latencies
    return done


def children(pid: int) -> list[int]:
    """Direct children of pid (a gunicorn master's workers)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of pid in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Rss:
    """The largest sum of the workers' RSS seen, with each worker's RSS at that moment."""

    peak_kib: int = 0
    per_worker_kib: list[int] = field(default_factory=list)

    def take(self, master: int) -> None:
        sizes = [rss_kib(pid) for pid in children(master)]
        if sum(sizes) > self.peak_kib:
            self.peak_kib, self.per_worker_kib = sum(sizes), sizes


@contextmanager
def sampling(take: Callable[[], None], every: float) -> Iterator[None]:
    """Call take every `every` seconds from a thread while the block runs, and once after."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            take()
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        take()


def watching_rss(master: int, rss: Rss, every: float = 0.1) -> AbstractContextManager[None]:
    """Sample the workers' RSS into rss while the block runs (load from this process)."""
    return sampling(lambda: rss.take(master), every)
