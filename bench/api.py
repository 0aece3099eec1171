"""The API at scale (issue 10 §3): latency of the reads and throughput of the create.

Starts what it needs by itself (bench/servers.py): a throwaway database seeded with set-based SQL
(bench/seed.py: by default 10,000 VMs on 1,000 hosts in 100 tenants, 1,000,000 audit rows and
5,000,000 job events), the API as `virtflow serve` runs it (gunicorn, 2 sync workers), no RQ
worker (creates are only queued, on a throwaway queue). Then, over loopback with a real HTTP
client (bench/load.py), p50/p95/p99 of sequential requests after a warm-up, a burst of creates
from concurrent clients, and a bare Flask app on the same gunicorn arguments for comparison.

Prints figures and asserts nothing about speed. The last line is machine-readable:
  api vms=N p95_vm_list_ms=... p95_vm_list_tenant_ms=... p95_events_ms=... p95_audit_ms=...
  create_vs_flask=...%
p95_events_ms is the worse of a job's first page and a deep page of a long job (read by cursor,
`?after=`, when the API offers one, else by `?page=`); p95_audit_ms the worst of the audit log's
first page unfiltered, filtered by request id and filtered by object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import psycopg

from api.services.users import hash_password
from api.settings import REPO_ROOT
from bench.load import Burst, Call, Rss, burst, data, pct, sample, send, watching_rss
from bench.seed import Sizes, seed
from bench.servers import BenchStack, bench_stack, free_port

PASSWORD = "bench-user-password"  # noqa: S105 - every seeded tenant_user's, in a throwaway db
PER_PAGE = 50
SPREAD = 7919  # a prime: request k reads object k * SPREAD mod n, all over the table


def md5_uuid(text: str) -> str:
    """PostgreSQL's md5(text)::uuid, as bench/seed.py derives its ids."""
    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))  # noqa: S324 - ids, not security


def out(line: str) -> None:
    print(line, flush=True)


@dataclass
class World:
    """Who calls and what the seed made, as the calls need them."""

    sizes: Sizes
    admin: str
    tenant_user: str

    def vm(self, k: int) -> str:
        return md5_uuid(f"vm{k * SPREAD % self.sizes.vms}")

    def create_job(self, k: int) -> str:
        return md5_uuid(f"job-c{k * SPREAD % self.sizes.vms}")

    def tenant(self, k: int) -> str:
        return md5_uuid(f"t{k % self.sizes.tenants}")


@dataclass
class Figures:
    """Latencies (seconds) by label, in the order measured."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # the labels p95_events_ms stands for

    def p95(self, *labels: str) -> float:
        return max(pct(self.seconds[label], 95) for label in labels if label in self.seconds)


def login(port: int, username: str, password: str) -> str:
    body = {"username": username, "password": password}
    token: str = data(port, Call("POST", "/api/v1/auth/login/", body))["access_token"]
    return token


def measure(
    figures: Figures, label: str, port: int, make: Callable[[int], Call], args: argparse.Namespace
) -> None:
    times = sample(port, make, args.samples, args.warmup)
    figures.seconds[label] = times
    out(
        f"{label:<50} p50 {pct(times, 50):8.1f} ms  p95 {pct(times, 95):8.1f} ms  "
        f"p99 {pct(times, 99):8.1f} ms  (n={len(times)})"
    )


def cursor_works(port: int, call: Call, first: Callable[[list[dict[str, object]]], bool]) -> bool:
    """Whether the API honours `?after=`: 200, a meta.pagination.next, and the page it gives
    starts where the cursor says (an API without cursors answers 422 or ignores it)."""
    status, body = send(port, call)
    if status != 200:
        return False
    doc = json.loads(body)
    return "next" in doc["meta"].get("pagination", {}) and first(doc["data"])


def vm_reads(figures: Figures, port: int, w: World, args: argparse.Namespace) -> None:
    admin, user = w.admin, w.tenant_user
    deep = min(150, max(1, w.sizes.vms // PER_PAGE))
    lists = f"/api/v1/vm/?per_page={PER_PAGE}"
    measure(
        figures, "vm list, first page, admin", port, lambda k: Call("GET", lists, token=admin), args
    )
    measure(
        figures,
        f"vm list, page {deep}, admin",
        port,
        lambda k: Call("GET", f"{lists}&page={deep}", token=admin),
        args,
    )
    measure(
        figures,
        "vm list, first page, tenant_user",
        port,
        lambda k: Call("GET", lists, token=user),
        args,
    )
    measure(
        figures,
        "vm get, admin",
        port,
        lambda k: Call("GET", f"/api/v1/vm/{w.vm(k)}/", token=admin),
        args,
    )


def event_reads(figures: Figures, port: int, w: World, args: argparse.Namespace) -> None:
    """A create job's first page, then a page 90% deep into the long job, by cursor when the
    API offers one (what p95_events_ms stands for: the first page and the best deep page)."""
    admin, s = w.admin, w.sizes
    first = f"job events, first page ({s.events_per_create}-event job)"
    measure(
        figures,
        first,
        port,
        lambda k: Call(
            "GET", f"/api/v1/job/{w.create_job(k)}/events/?per_page={PER_PAGE}", token=admin
        ),
        args,
    )
    big = f"/api/v1/job/{md5_uuid('job-big')}/events/?per_page={PER_PAGE}"
    depth = s.big_job_events * 9 // 10
    offset_label = f"job events, deep page by ?page= (offset {depth})"
    measure(
        figures,
        offset_label,
        port,
        lambda k: Call("GET", f"{big}&page={depth // PER_PAGE + 1}", token=admin),
        args,
    )
    cursor = Call("GET", f"{big}&after={depth}", token=admin)
    if not cursor_works(
        port, cursor, lambda items: bool(items) and items[0]["counter"] == depth + 1
    ):
        figures.notes.append("job events: no ?after= cursor in this API; deep page read by ?page=")
        figures.events = [first, offset_label]
        return
    label = f"job events, deep page by ?after= (counter {depth})"
    measure(figures, label, port, lambda k: cursor, args)
    figures.events = [first, label]


def audit_reads(figures: Figures, port: int, w: World, args: argparse.Namespace) -> None:
    admin, n = w.admin, w.sizes.audit
    base = f"/api/v1/audit/?per_page={PER_PAGE}"
    measure(
        figures,
        "audit, first page, unfiltered",
        port,
        lambda k: Call("GET", base, token=admin),
        args,
    )
    measure(
        figures,
        "audit, by request_id",
        port,
        lambda k: Call("GET", f"{base}&request_id=bench-req-{1 + k * SPREAD % n}", token=admin),
        args,
    )
    measure(
        figures,
        "audit, by object (vm)",
        port,
        lambda k: Call("GET", f"{base}&object_type=vm&object_id={w.vm(k)}", token=admin),
        args,
    )
    depth = n // 2
    measure(
        figures,
        f"audit, deep page by ?page= (offset {depth})",
        port,
        lambda k: Call("GET", f"{base}&page={depth // PER_PAGE + 1}", token=admin),
        args,
    )
    after = n - depth + 1  # the seeded ids are 1..n: the rows below it are `depth` deep
    cursor = Call("GET", f"{base}&after={after}", token=admin)
    if cursor_works(port, cursor, lambda items: bool(items) and items[0]["id"] == after - 1):
        measure(figures, f"audit, deep page by ?after= (id {after})", port, lambda k: cursor, args)
    else:
        figures.notes.append("audit: no ?after= cursor in this API; deep page read by ?page=")


def quota_checks(figures: Figures, port: int, w: World, args: argparse.Namespace) -> None:
    body = {"vcpus": 1, "ram_mb": 512, "disk_gb": 10}
    measure(
        figures,
        "quota check, admin",
        port,
        lambda k: Call("POST", f"/api/v1/tenant/{w.tenant(k)}/quota/check/", body, w.admin),
        args,
    )


def creates(figures: Figures, port: int, w: World, args: argparse.Namespace) -> Burst:
    """Creates spread over every tenant, each placed over every host: the latency of one client's
    (as the reads), then args.creates from args.clients concurrent clients."""

    def create(k: int) -> Call:
        body = {
            "tenant_id": w.tenant(k),
            "name": f"bench-new-{k}",
            "vcpus": 1,
            "ram_mb": 512,
            "disk_gb": 10,
        }
        return Call("POST", "/api/v1/vm/", body, w.admin)

    label = f"vm create, one client, placement over {w.sizes.hosts} hosts"
    measure(figures, label, port, create, args)
    done = args.warmup + args.samples
    return burst(port, [create(done + k) for k in range(args.creates)], args.clients)


def report_burst(label: str, b: Burst, clients: int) -> None:
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(b.statuses.items()))
    out(
        f"{label:<50} {b.rate:8.1f} req/s  ({sum(b.statuses.values())} in {b.seconds:.2f} s from "
        f"{clients} clients; statuses {statuses}; latency p50 {pct(b.latencies, 50):.1f} ms, "
        f"p95 {pct(b.latencies, 95):.1f} ms, p99 {pct(b.latencies, 99):.1f} ms)"
    )


def machine(stack: BenchStack) -> str:
    mem = next(
        line
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with psycopg.connect(stack.owner_dsn) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
    head = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"machine: nproc {os.cpu_count()}, {mem.split(':')[1].strip()} RAM, Linux {platform.release()}, "
        f"PostgreSQL {pg[0] if pg else '?'}, Python {platform.python_version()}, commit {head or '?'}"
    )


def run(args: argparse.Namespace) -> None:
    sizes = Sizes(args.vms, args.hosts, args.tenants, args.audit, args.events, args.grants)
    out(
        f"api bench: {sizes.vms} VMs on {sizes.hosts} hosts in {sizes.tenants} tenants, {sizes.audit} audit rows, "
        f"{sizes.events} job events ({sizes.events_per_create} per create job, {sizes.big_job_events} in one long job); "
        f"{args.samples} samples after {args.warmup} warm-up per read; {args.creates} creates and {args.hello} "
        f"bare Flask POSTs from {args.clients} clients"
    )
    with bench_stack(sizes.hosts, keep=args.keep) as stack:
        out(machine(stack))
        out(f"database: {stack.db_name} (dropped afterwards); queue: {stack.env['VIRTFLOW_QUEUE']}")
        seed(stack.owner_dsn, sizes, hash_password(PASSWORD), out)
        out(
            "seed: audit rows carry a real hash chain (virtflow_audit_row_hash in id order); the bench does not verify it"
        )
        figures, rss, create, hello = measure_all(stack, sizes, args)
    out(
        f"api RSS under load (sum of the {len(rss.per_worker_kib)} gunicorn workers, /proc VmRSS, peak): "
        f"{rss.peak_kib / 1024:.0f} MiB ({' + '.join(f'{k / 1024:.0f}' for k in rss.per_worker_kib)} MiB)"
    )
    for note in figures.notes:
        out(f"note: {note}")
    ratio = 100 * create.rate / hello.rate if hello.rate else 0.0
    out(
        f"create throughput vs bare Flask: {ratio:.1f}% (target: at least 25%); 50-item pages p95 target: under 30 ms"
    )
    out(
        f"api vms={sizes.vms} p95_vm_list_ms={figures.p95('vm list, first page, admin'):.1f} "
        f"p95_vm_list_tenant_ms={figures.p95('vm list, first page, tenant_user'):.1f} "
        f"p95_events_ms={figures.p95(*figures.events):.1f} "
        f"p95_audit_ms={figures.p95('audit, first page, unfiltered', 'audit, by request_id', 'audit, by object (vm)'):.1f} "
        f"create_vs_flask={ratio:.1f}%"
    )


def measure_all(
    stack: BenchStack, sizes: Sizes, args: argparse.Namespace
) -> tuple[Figures, Rss, Burst, Burst]:
    port = free_port()
    master = stack.serve_api(port)
    w = World(
        sizes,
        login(port, "bench-admin", stack.admin_password),
        login(port, "bench-user-000", PASSWORD),
    )
    figures, rss = Figures(), Rss()
    with watching_rss(master, rss):
        vm_reads(figures, port, w, args)
        event_reads(figures, port, w, args)
        audit_reads(figures, port, w, args)
        quota_checks(figures, port, w, args)
        create = creates(figures, port, w, args)
    report_burst(f"vm create, placement over {sizes.hosts} hosts", create, args.clients)
    stack.stop("api")
    hello_port = free_port()
    stack.serve_hello(hello_port)
    hello = burst(
        hello_port, [Call("POST", "/", {"name": f"n{k}"}) for k in range(args.hello)], args.clients
    )
    report_burst("bare Flask POST, same gunicorn arguments", hello, args.clients)
    stack.stop("hello")
    return figures, rss, create, hello


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    full = Sizes()
    p.add_argument("--vms", type=int, default=full.vms)
    p.add_argument("--hosts", type=int, default=full.hosts)
    p.add_argument("--tenants", type=int, default=full.tenants)
    p.add_argument("--audit", type=int, default=full.audit, help="audit rows")
    p.add_argument("--events", type=int, default=full.events, help="job events")
    p.add_argument(
        "--grants", type=int, default=full.grants, help="the tenant_user's vm.view grants elsewhere"
    )
    p.add_argument("--samples", type=int, default=200, help="measured requests per read")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests before them")
    p.add_argument("--creates", type=int, default=500, help="creates in the throughput burst")
    p.add_argument("--hello", type=int, default=5000, help="bare Flask POSTs in its burst")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients of both bursts")
    p.add_argument("--keep", action="store_true", help="keep the server logs (the workdir)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    run(parse(argv))


if __name__ == "__main__":
    main()
