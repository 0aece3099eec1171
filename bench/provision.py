"""Provisioning at scale (issue 10 §2): N VMs over HTTP against the hypervisor floor and one run per VM.

Starts what it needs by itself, as the e2e tests do (tests/helpers/stack.py): a throwaway database,
the API under gunicorn, --workers RQ workers, and the local host prepared by a real host.prepare job
(with --fleet: the simulated fleet of tests/helpers/fleet.py, its hosts prepared over the API). Then,
in one run and on the same host(s):
- api: N blank KVM VMs POSTed by concurrent clients, the time until every one is running (or
  error), then one DELETE each and the time until every one is deleted; the workers' peak RSS;
- floor: libvirt-python alone, one loop per host: qemu-img create + defineXML + create for N
  domains of the same size, then destroy + undefine + rm (see FLOOR_XML for what a domain has);
- naive: K sequential ansible-runner runs of playbooks/vm_create.yml with one guest each, then K of
  vm_delete.yml, through jobs.runner.run_playbook; per VM = total / K.

Prints figures and asserts nothing about speed. Exits 1 if any VM errored (each one printed).
The last line is machine-readable:
  provision N=50 api_s_per_vm=... floor_s_per_vm=... api/floor=...x naive/api=...x delete/floor=...x
followed by ` errors=<count>` when anything errored (then the figures measure failures).
Every domain it made (names vf-pb<tag>-, vf-floor-<tag>-, vf-naive-<tag>-) and the database are
removed at the end, on failure and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import requests
import yaml

from api.settings import REPO_ROOT, Settings
from bench.load import children, rss_kib, sampling
from jobs.runner import PlaybookRun, run_playbook
from tests.conftest import ROOMY_QUOTA
from tests.helpers import fleet as fleet_helper
from tests.helpers.flows import create_tenant, wait_status
from tests.helpers.stack import LIBVIRT_URI, Stack, running_stack

LOCAL_IMAGE_DIR = "/var/lib/virtflow/images"  # inventory/group_vars/baremetal.yml
SIZE = {"vcpus": 1, "ram_mb": 64, "disk_gb": 1}
FLOOR_WHAT = "1 vCPU, 64 MiB, one 1 GiB qcow2 virtio disk, serial console, no NIC"
# Run by any python3 with libvirt-python: here (the venv) or on a fleet host (Debian's python3).
# argv[1] is JSON: mode (create, delete, clean), uri, image_dir, kind, names or prefixes.
FLOOR_SCRIPT = r'''
import glob, json, os, re, subprocess, sys, time
import libvirt
XML = """<domain type='{kind}'><name>{name}</name>
<memory unit='MiB'>64</memory><currentMemory unit='MiB'>64</currentMemory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/><apic/></features>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{disk}'/>
<target dev='vda' bus='virtio'/></disk><serial type='pty'><target port='0'/></serial>
<console type='pty'><target type='serial' port='0'/></console></devices></domain>"""
a = json.loads(sys.argv[1])
conn = libvirt.open(a["uri"])
disk = lambda name: os.path.join(a["image_dir"], name + ".qcow2")
start = time.monotonic()
if a["mode"] == "create":
    for name in a["names"]:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk(name), "1G"], check=True)
        conn.defineXML(XML.format(kind=a["kind"], name=name, disk=disk(name))).create()
elif a["mode"] == "delete":
    for name in a["names"]:
        dom = conn.lookupByName(name)
        dom.destroy()
        dom.undefine()
        os.remove(disk(name))
else:
    removed = []
    for dom in conn.listAllDomains():
        if dom.name().startswith(tuple(a["prefixes"])):
            disks = re.findall(r"<source file='([^']+)'", dom.XMLDesc())
            if dom.isActive():
                dom.destroy()
            dom.undefine()
            removed.append(dom.name())
            for path in disks:
                if path.startswith(a["image_dir"]) and os.path.exists(path):
                    os.remove(path)
    for prefix in a["prefixes"]:
        for path in glob.glob(os.path.join(a["image_dir"], prefix + "*")):
            os.remove(path)
    print(json.dumps({"removed": removed}))
    sys.exit(0)
print(json.dumps({"seconds": time.monotonic() - start}))
'''


# Where the figures go: the real stdout, while fd 1 and sys.stdout carry the stack's noise to a file.
FIGURES: dict[str, TextIO] = {"out": sys.stdout}


def out(line: str = "") -> None:
    print(line, file=FIGURES["out"], flush=True)


@dataclass(frozen=True)
class Target:
    """A host the VMs land on, as the floor reaches it."""

    name: str
    uri: str
    image_dir: str
    fleet_host: fleet_helper.Host | None = None  # reached over SSH; None: this machine

    def script(self, args: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps({"uri": self.uri, "image_dir": self.image_dir, **args})
        argv = [sys.executable, "-", payload]
        if self.fleet_host is not None:
            argv = fleet_helper.ssh_argv(self.fleet_host, f"python3 - {shlex.quote(payload)}")
        proc = subprocess.run(argv, input=FLOOR_SCRIPT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"floor script on {self.name} failed: {proc.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result


@dataclass
class Figures:
    n: int
    api_create: float = math.nan
    api_delete: float = math.nan
    floor_create: float = math.nan
    floor_delete: float = math.nan
    naive_create_per_vm: float = math.nan
    naive_delete_per_vm: float = math.nan
    errors: list[str] = field(default_factory=list)


# ----- the stack -----


def roomy(n: int, fleet_hosts: int) -> Callable[[Path], None]:
    """Edit the stack's inventory copy so that capacity never refuses one of the N VMs."""
    per_host = math.ceil(n / max(1, fleet_hosts)) + 2
    capacity = {
        "virtflow_capacity_vcpus": max(8, per_host * SIZE["vcpus"]),
        "virtflow_capacity_ram_mb": max(8192, per_host * SIZE["ram_mb"]),
        "virtflow_capacity_disk_gb": max(50, per_host * SIZE["disk_gb"]),
    }

    def edit(inventory: Path) -> None:
        if fleet_hosts:
            path = inventory / fleet_helper.INVENTORY.name
            doc = yaml.safe_load(path.read_text())
            for host_vars in doc["all"]["children"]["baremetal"]["hosts"].values():
                host_vars.update(capacity)
        else:
            path = inventory / "host_vars" / "localhost.yml"
            doc = {**yaml.safe_load(path.read_text()), **capacity}
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    return edit


def prepare_fleet(stack: Stack) -> list[str]:
    """Sync the inventory and prepare every fleet host over the API; their names."""
    assert stack.call("POST", "/api/v1/baremetal/sync/").status_code in (200, 202)
    hosts = stack.call("GET", "/api/v1/baremetal/?per_page=200").json()["data"]
    names = []
    for host in hosts:
        if not host["name"].startswith(fleet_helper.PREFIX):
            continue
        names.append(host["name"])
        if host["state"] != "active":
            r = stack.call("POST", f"/api/v1/baremetal/{host['id']}/prepare/")
            assert r.status_code == 202, r.text
            wait_status(stack, f"/api/v1/job/{r.json()['data']['id']}/", {"successful"}, 300)
    return sorted(names)


def targets(fleet_hosts: int) -> list[Target]:
    """Where the VMs land: this machine's qemu:///system, or each fleet host's session libvirt."""
    if not fleet_hosts:
        return [Target("localhost", LIBVIRT_URI, LOCAL_IMAGE_DIR)]
    hosts = [fleet_helper.Host(i) for i in range(1, fleet_hosts + 1)]
    return [Target(h.name, "qemu:///session", str(h.image_dir), h) for h in hosts]


# ----- the API -----


def count(stack: Stack, tenant: str, status: str) -> int:
    r = stack.call("GET", f"/api/v1/vm/?tenant_id={tenant}&status={status}&per_page=1")
    assert r.status_code == 200, r.text
    return int(r.json()["meta"]["pagination"]["total"])


def wait_all(stack: Stack, tenant: str, n: int, done: str, timeout: float) -> tuple[float, int]:
    """Poll until n VMs are `done` or error; (seconds when that was seen, errors)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        ok, bad = count(stack, tenant, done), count(stack, tenant, "error")
        if ok + bad >= n:
            return time.monotonic(), bad
        time.sleep(0.25)
    raise RuntimeError(f"not all {n} VMs {done} after {timeout:.0f} s: {ok} are, {bad} error")


def parallel(clients: int, call: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """call(item) for every item, from `clients` threads; the results in order."""
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(call, items))


def api_round(stack: Stack, args: argparse.Namespace, tag: str, fig: Figures) -> None:
    tenant = create_tenant(stack)
    r = stack.call("PUT", f"/api/v1/tenant/{tenant}/quota/", json=ROOMY_QUOTA)
    assert r.status_code == 200, r.text
    bodies = [{"name": f"pb{tag}-{k}", "tenant_id": tenant, **SIZE} for k in range(args.vms)]
    rss = WorkerRss(stack)
    with rss.watching():
        start = time.monotonic()
        answers = parallel(args.clients, partial(post_vm, stack), bodies)
        answered = time.monotonic()
        refused = [f"POST {a.status_code}: {a.text[:200]}" for a in answers if a.status_code != 202]
        fig.errors += refused
        ids = [a.json()["data"]["id"] for a in answers if a.status_code == 202]
        end, bad = wait_all(stack, tenant, len(ids), "running", args.timeout)
    fig.api_create = end - start
    out(
        f"api create: {len(ids)} VMs accepted in {answered - start:.1f} s; all final after "
        f"{fig.api_create:.1f} s ({fig.api_create / args.vms:.2f} s/VM), {bad} error"
    )
    fig.errors += vm_errors(stack, tenant)
    out(
        f"worker RSS during the create batch ({args.workers} workers): peak {rss.peak_workers // 1024} MiB "
        f"(RQ workers and work horses), {rss.peak_tree // 1024} MiB with their ansible children"
    )
    start = time.monotonic()
    parallel(args.clients, partial(delete, stack, fig), ids)
    end, bad = wait_all(stack, tenant, len(ids), "deleted", args.timeout)
    fig.api_delete = end - start
    out(
        f"api delete: all {len(ids)} final after {fig.api_delete:.1f} s "
        f"({fig.api_delete / args.vms:.2f} s/VM), {bad} error"
    )
    fig.errors += vm_errors(stack, tenant)


def post_vm(stack: Stack, body: dict[str, Any]) -> requests.Response:
    return stack.call("POST", "/api/v1/vm/", json=body)


def delete(stack: Stack, fig: Figures, vm_id: str) -> None:
    r = stack.call("DELETE", f"/api/v1/vm/{vm_id}/")
    if r.status_code != 202:
        fig.errors.append(f"DELETE {vm_id} {r.status_code}: {r.text[:200]}")


def vm_errors(stack: Stack, tenant: str) -> list[str]:
    r = stack.call("GET", f"/api/v1/vm/?tenant_id={tenant}&status=error&per_page=100")
    return [f"VM {vm['name']} error: {vm['status_reason']}" for vm in r.json()["data"]]


class WorkerRss:
    """Peak summed RSS of the RQ workers with their work horses, and of their whole trees."""

    def __init__(self, stack: Stack) -> None:
        self.roots = [p.pid for name, p in stack.procs.items() if name.startswith("worker")]
        self.peak_workers = self.peak_tree = 0

    def take(self) -> None:
        level = [pid for root in self.roots for pid in [root, *children(root)]]
        workers = sum(rss_kib(pid) for pid in level)
        tree, seen = workers, list(level)
        frontier = [c for pid in level if pid not in self.roots for c in children(pid)]
        while frontier:
            tree += sum(rss_kib(pid) for pid in frontier if pid not in seen)
            seen += frontier
            frontier = [c for pid in frontier for c in children(pid) if c not in seen]
        self.peak_workers, self.peak_tree = (
            max(self.peak_workers, workers),
            max(self.peak_tree, tree),
        )

    def watching(self, every: float = 0.2) -> AbstractContextManager[None]:
        return sampling(self.take, every)


# ----- floor and naive -----


def floor_round(hosts: list[Target], n: int, tag: str, fig: Figures) -> None:
    """N domains spread over the hosts, one loop per host, the hosts in parallel."""
    kind = "kvm" if Path("/dev/kvm").exists() else "qemu"
    names = {
        h.name: [f"vf-floor-{tag}-{k}" for k in range(i, n, len(hosts))]
        for i, h in enumerate(hosts)
    }

    def on_all(mode: str) -> float:
        def one(host: Target) -> float:
            return float(
                host.script({"mode": mode, "kind": kind, "names": names[host.name]})["seconds"]
            )

        return float(max(parallel(len(hosts), one, hosts)))

    fig.floor_create, fig.floor_delete = on_all("create"), on_all("delete")
    out(
        f"floor create ({FLOOR_WHAT}; qemu-img + define + start, {kind}): "
        f"{fig.floor_create:.2f} s ({fig.floor_create / n:.3f} s/VM)"
    )
    out(
        f"floor delete (destroy + undefine + rm): {fig.floor_delete:.2f} s ({fig.floor_delete / n:.3f} s/VM)"
    )


def naive_round(stack: Stack, host: str, k: int, tag: str, fig: Figures) -> None:
    """K one-guest runs of vm_create.yml, then K of vm_delete.yml, one after another."""
    env = {**stack.env, "VIRTFLOW_RUN_DIR": str(stack.workdir / "naive-runs")}  # not the workers'
    settings = Settings.from_env(env)
    guests = [
        {
            "name": f"vf-naive-{tag}-{i}",
            "uuid": str(uuid.uuid4()),
            **SIZE,
            "mac": f"52:54:00:7f:{tag[:2]}:{i:02x}",
        }
        for i in range(k)
    ]

    def runs(playbook: str, spec: Callable[[dict[str, Any]], dict[str, Any]]) -> float:
        start = time.monotonic()
        for guest in guests:
            run = PlaybookRun(str(uuid.uuid4()), playbook, host, {"virtflow_guests": [spec(guest)]})
            outcome = run_playbook(settings, run, lambda _event: True)
            if outcome.status != "successful":
                fig.errors.append(
                    f"naive {playbook} {guest['name']}: {outcome.status} rc={outcome.rc}"
                )
        return (time.monotonic() - start) / k

    fig.naive_create_per_vm = runs("vm_create.yml", lambda g: g)
    fig.naive_delete_per_vm = runs(
        "vm_delete.yml", lambda g: {"name": g["name"], "uuid": g["uuid"]}
    )
    out(
        f"naive create (one vm_create.yml run per VM, K={k} measured): {fig.naive_create_per_vm:.2f} s/VM"
    )
    out(
        f"naive delete (one vm_delete.yml run per VM, K={k} measured): {fig.naive_delete_per_vm:.2f} s/VM"
    )


# ----- the run -----


def ratios(fig: Figures) -> str:
    n = fig.n
    api, api_del = fig.api_create / n, fig.api_delete / n
    floor, floor_del = fig.floor_create / n, fig.floor_delete / n
    out(
        f"api/floor create {api / floor:.1f}x (target 1.5x); naive/api create "
        f"{fig.naive_create_per_vm / api:.1f}x (target 3x)"
    )
    out(
        f"api/floor delete {api_del / floor_del:.1f}x (target 1.5x); naive/api delete "
        f"{fig.naive_delete_per_vm / api_del:.1f}x (target 3x)"
    )
    return (
        f"provision N={n} api_s_per_vm={api:.3f} floor_s_per_vm={floor:.3f} "
        f"api/floor={api / floor:.1f}x naive/api={fig.naive_create_per_vm / api:.1f}x "
        f"delete/floor={api_del / floor_del:.1f}x"
        # A run with errors is no measurement: its line says so, whoever reads only the line.
        + (f" errors={len(fig.errors)}" if fig.errors else "")
    )


def clean(hosts: list[Target], tag: str) -> None:
    prefixes = [f"vf-pb{tag}-", f"vf-floor-{tag}-", f"vf-naive-{tag}-"]
    for host in hosts:
        try:
            removed = host.script({"mode": "clean", "prefixes": prefixes})["removed"]
        except Exception as exc:  # the other hosts are still cleaned
            out(f"cleanup on {host.name} failed: {exc}")
            continue
        if removed:
            out(f"cleanup on {host.name}: removed {len(removed)} leftover domain(s)")


def fleet_up(hosts: int, es: ExitStack) -> int:
    """Bring the fleet up, down again afterwards unless it was up before; how many hosts it has.

    A fleet already up keeps all its hosts (`up` with fewer would remove the others' hosts)."""
    running = len(fleet_helper.existing_hosts())
    hosts = max(hosts, running)
    cli = [sys.executable, "-m", "tests.helpers.fleet"]
    if not running:  # registered first: a failed `up` leaves half a host behind
        es.callback(subprocess.run, [*cli, "down"], cwd=REPO_ROOT, check=False)
    subprocess.run([*cli, "up", "--hosts", str(hosts)], cwd=REPO_ROOT, check=True)
    return hosts


def bench(args: argparse.Namespace, workdir: Path, es: ExitStack) -> Figures:
    tag = uuid.uuid4().hex[:4]
    out(f"run tag: {tag}  (domains vf-pb{tag}-*, vf-floor-{tag}-*, vf-naive-{tag}-*)")
    if args.fleet:
        args.fleet = fleet_up(args.fleet, es)
    hosts = targets(args.fleet)
    es.callback(clean, hosts, tag)  # entered before the stack: runs once its workers are stopped
    env = {"VIRTFLOW_JOB_TIMEOUT": "3600"}
    stack = es.enter_context(
        running_stack(
            workdir,
            with_worker=False,
            edit_inventory=roomy(args.vms, args.fleet),
            env=env,
            prepare=() if args.fleet else ("localhost",),
            with_fleet=bool(args.fleet),
        )
    )
    stack.login()
    for i in range(args.workers):
        stack.start_worker(f"worker-{i + 1}")
    if args.fleet:  # host.prepare jobs, run by the workers
        prepared = prepare_fleet(stack)
        assert prepared == [h.name for h in hosts], prepared
    out(
        f"database {stack.db_name}, {args.workers} RQ workers, hosts: {', '.join(h.name for h in hosts)}"
    )
    fig = Figures(args.vms)
    api_round(stack, args, tag, fig)
    floor_round(hosts, args.vms, tag, fig)
    naive_round(stack, hosts[0].name, args.naive or min(args.vms, 5), tag, fig)
    return fig


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--vms", type=int, default=50, help="N, the VMs created over the API (50)")
    p.add_argument(
        "--naive", type=int, default=0, help="K, the one-per-VM runs measured (min(N, 5))"
    )
    p.add_argument("--workers", type=int, default=2, help="RQ workers (2)")
    p.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (4)")
    p.add_argument(
        "--fleet",
        type=int,
        nargs="?",
        const=3,
        default=0,
        metavar="HOSTS",
        help="on the simulated fleet of HOSTS hosts (3) instead of this machine",
    )
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for all VMs (1800)")
    p.add_argument("--keep", action="store_true", help="keep the logs' directory")
    return p.parse_args()


def main() -> int:
    args = parse()
    workdir = Path(tempfile.mkdtemp(prefix="virtflow-bench-provision-"))
    # What the stack and its set-up print (their logs) goes to a file: stdout carries the figures.
    FIGURES["out"] = os.fdopen(os.dup(1), "w", buffering=1)
    log = (workdir / "output.log").open("w")
    os.dup2(log.fileno(), 1)
    sys.stdout = log
    # Either signal unwinds through the finally blocks, which clean up (SIGINT even when the
    # shell started this in the background with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with ExitStack() as es:
            fig = bench(args, workdir, es)
    except BaseException:
        out(f"output of the stack: {workdir / 'output.log'}")
        raise
    finally:
        log.flush()
    for error in fig.errors:
        out(error)
    if fig.errors or args.keep:
        out(f"output of the stack: {workdir / 'output.log'}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    line = ratios(fig)
    out(f"errors: {len(fig.errors)}")
    out(line)
    return 1 if fig.errors else 0


if __name__ == "__main__":
    sys.exit(main())
