"""Simulated baremetal hosts on this machine: per host a network namespace, an sshd and a user.

`python -m tests.helpers.fleet up --hosts N | down | status`; `make fleet-up` / `make fleet-down`.
Why it is built this way: docs/adr/0008-simulated-fleet.md.
"""

from __future__ import annotations

import argparse
import fcntl
import grp
import ipaddress
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# The controller's side: the fleet key, known_hosts, and each host's sshd config, key and pid.
STATE_DIR = REPO_ROOT / ".virtflow" / "fleet"
KEY = STATE_DIR / "id_ed25519"
KNOWN_HOSTS = STATE_DIR / "known_hosts"
INVENTORY = REPO_ROOT / "inventory" / "fleet.yml"
# The hosts' own disks (home, libvirt session state, guest images), outside the checkout so that
# their unprivileged users can reach them wherever the repository lives.
HOMES = Path("/var/lib/virtflow-fleet")
# Namespaces, users and addresses belong to the machine, so the lock does too.
LOCK = Path("/run/virtflow-fleet.lock")
PREFIX = "vf-fleet-"
VETH_PREFIX = "vfleet"
NETWORK = ipaddress.ip_network("10.213.0.0/24")
MAX_HOSTS = 62  # host i owns 10.213.0.4i/30; 4 * 62 + 3 = 251 is the last that fits
KVM_GROUP = "kvm"
KVM_DEVICE = Path("/dev/kvm")
SSHD = "/usr/sbin/sshd"
# Small on purpose: the test guests have 64 MiB and the machine has 2 cores.
CAPACITY = {
    "virtflow_capacity_vcpus": 2,
    "virtflow_capacity_ram_mb": 1024,
    "virtflow_capacity_disk_gb": 10,
}
SSHD_CONFIG = """\
# Written by tests/helpers/fleet.py: the sshd of the simulated baremetal host {name}.
ListenAddress {address}:22
HostKey {host_key}
PidFile {pid_file}
AllowUsers {name}
AuthorizedKeysFile .ssh/authorized_keys
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
# No PAM and no logind on this machine: sshd sets the runtime directory that pam_systemd would,
# so `virsh -c qemu:///session` starts and finds the user's own libvirtd in /run/user/{uid}.
UsePAM no
SetEnv XDG_RUNTIME_DIR=/run/user/{uid}
Subsystem sftp internal-sftp
"""


class FleetError(RuntimeError):
    """The fleet could not be brought up, down or inspected."""


@dataclass(frozen=True)
class Host:
    """Host i: namespace, unix user and inventory name vf-fleet-i, at 10.213.0.(4i+2)."""

    index: int

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.index}"

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{self.index}"

    @property
    def gateway(self) -> str:
        return str(NETWORK[4 * self.index + 1])

    @property
    def address(self) -> str:
        return str(NETWORK[4 * self.index + 2])

    @property
    def home(self) -> Path:
        return HOMES / self.name

    @property
    def image_dir(self) -> Path:
        return self.home / "images"

    @property
    def state(self) -> Path:
        return STATE_DIR / "hosts" / self.name

    @property
    def sshd_config(self) -> Path:
        return self.state / "sshd_config"

    @property
    def host_key(self) -> Path:
        return self.state / "ssh_host_ed25519_key"

    @property
    def pid_file(self) -> Path:
        return self.state / "sshd.pid"


def run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    if proc.returncode != 0:
        raise FleetError(f"{shlex.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def ssh_options() -> list[str]:
    """What Ansible (and a test) adds to reach a fleet host: only the fleet's known_hosts."""
    options = [f"UserKnownHostsFile={KNOWN_HOSTS}", "GlobalKnownHostsFile=/dev/null"]
    return [arg for option in [*options, "IdentitiesOnly=yes"] for arg in ("-o", option)]


def ssh_argv(host: Host, command: str) -> list[str]:
    """ssh to a fleet host as its user, refusing any host key but the one the fleet made."""
    strict = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    return ["ssh", "-i", str(KEY), *ssh_options(), *strict, f"{host.name}@{host.address}", command]


# ----- what exists now -----


def _index(name: str, prefix: str) -> int | None:
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", name)
    return int(match.group(1)) if match else None


def namespaces() -> list[str]:
    return [line.split()[0] for line in run("ip", "netns", "list").splitlines() if line.strip()]


def veths() -> list[str]:
    lines = run("ip", "-o", "link", "show", "type", "veth").splitlines()
    return [line.split(":")[1].strip().split("@")[0] for line in lines]


def existing_hosts() -> list[Host]:
    """Every host any trace of which is left: namespace, veth, user, home or state directory."""
    names = [*namespaces(), *(entry.pw_name for entry in pwd.getpwall())]
    for parent in (HOMES, STATE_DIR / "hosts"):
        names += [child.name for child in parent.iterdir()] if parent.is_dir() else []
    found = {_index(name, PREFIX) for name in names}
    found |= {_index(name, VETH_PREFIX) for name in veths()}
    return [Host(i) for i in sorted(i for i in found if i is not None)]


def uid_of(host: Host) -> int | None:
    try:
        return pwd.getpwnam(host.name).pw_uid
    except KeyError:
        return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def sshd_listener(host: Host) -> int | None:
    """The pid of the sshd started with the host's config, wherever it runs."""
    try:
        pid = int(host.pid_file.read_text().strip())
        # sshd rewrites its title: "sshd: /usr/sbin/sshd -f <config> ... [listener] ..."
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if alive(pid) and f" {host.sshd_config} ".encode() in cmdline else None


def sshd_pid(host: Host) -> int | None:
    """The pid of the host's sshd, if it runs in the host's namespace."""
    pid = sshd_listener(host)
    try:
        inside = os.stat(f"/proc/{pid}/ns/net") == os.stat(f"/run/netns/{host.name}")
    except OSError:
        return None
    return pid if inside else None


def host_pids(host: Host) -> list[int]:
    """Every process in the host's namespace or owned by its user (sshd, libvirtd, QEMU, ...)."""
    listener = sshd_listener(host)  # even if `ip netns del` left it in a nameless namespace
    pids = set() if listener is None else {listener}
    if host.name in namespaces():
        pids |= {int(p) for p in run("ip", "netns", "pids", host.name).split()}
    uid = uid_of(host)
    if uid is not None:
        pids |= {pid for pid in all_pids() if real_uid(pid) == uid}
    return sorted(pid for pid in pids if alive(pid))


def all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def real_uid(pid: int) -> int | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return next((int(line.split()[1]) for line in lines if line.startswith("Uid:")), None)


# ----- up -----


@contextmanager
def locked() -> Iterator[None]:
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def check_network_free() -> None:
    """Refuse to take addresses in 10.213.0.0/24 that something else on the machine uses."""
    for line in run("ip", "-o", "-4", "addr", "show").splitlines():
        fields = line.split()
        address = ipaddress.ip_interface(fields[3]).ip
        if address in NETWORK and _index(fields[1], VETH_PREFIX) is None:
            raise FleetError(f"{fields[1]} already uses {address} in {NETWORK}")


def ensure_keypair(path: Path, comment: str) -> None:
    if not (path.exists() and path.with_suffix(".pub").exists()):
        path.unlink(missing_ok=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path))


def ensure_kvm_access() -> None:
    """The kvm group exists and may use /dev/kvm, as roles/libvirt_host makes it."""
    try:
        gid = grp.getgrnam(KVM_GROUP).gr_gid
    except KeyError:
        run("groupadd", "--system", KVM_GROUP)
        gid = grp.getgrnam(KVM_GROUP).gr_gid
    if not KVM_DEVICE.exists():
        return  # the guests fall back to TCG, as libvirt_guest's domain type `auto` does
    info = KVM_DEVICE.stat()
    if info.st_gid != gid or info.st_mode & 0o060 != 0o060:
        os.chown(KVM_DEVICE, 0, gid)
        KVM_DEVICE.chmod(0o660)


def prepare_machine() -> None:
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_keypair(KEY, "virtflow-fleet")
    ensure_kvm_access()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    HOMES.mkdir(mode=0o755, parents=True, exist_ok=True)


def ensure_network(host: Host) -> None:
    """A veth pair: the root side is the host's gateway, the host's side is its eth0."""
    if host.name not in namespaces():
        run("ip", "netns", "add", host.name)
    if host.veth not in veths():
        peer = ("peer", "name", "eth0", "netns", host.name)
        run("ip", "link", "add", host.veth, "type", "veth", *peer)
    run("ip", "addr", "replace", f"{host.gateway}/30", "dev", host.veth)
    run("ip", "link", "set", host.veth, "up")
    inside = ("ip", "-n", host.name)
    run(*inside, "addr", "replace", f"{host.address}/30", "dev", "eth0")
    run(*inside, "link", "set", "eth0", "up")
    run(*inside, "link", "set", "lo", "up")


def own_dir(path: Path, entry: pwd.struct_passwd) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def ensure_user(host: Host) -> pwd.struct_passwd:
    """The host's unix user, in the kvm group, with its home, image dir and runtime dir."""
    if uid_of(host) is None:
        # '*', not the locked '!': sshd without PAM refuses locked accounts, even with a key.
        options = ["--system", "--user-group", "--groups", KVM_GROUP, "--password", "*"]
        home = ["--home-dir", str(host.home), "--no-create-home", "--shell", "/bin/sh"]
        run("useradd", *options, *home, host.name)
    if host.name not in grp.getgrnam(KVM_GROUP).gr_mem:
        run("usermod", "--append", "--groups", KVM_GROUP, host.name)
    entry = pwd.getpwnam(host.name)
    for path in (host.home, host.home / ".ssh", host.image_dir, Path(f"/run/user/{entry.pw_uid}")):
        own_dir(path, entry)
    keys = host.home / ".ssh" / "authorized_keys"
    keys.write_text(KEY.with_suffix(".pub").read_text())
    os.chown(keys, entry.pw_uid, entry.pw_gid)
    keys.chmod(0o600)
    return entry


def ensure_sshd(host: Host, uid: int) -> None:
    """The host's sshd runs in its namespace with its current config (restarted if it changed)."""
    host.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_keypair(host.host_key, host.name)
    paths = {"host_key": host.host_key, "pid_file": host.pid_file}
    config = SSHD_CONFIG.format(name=host.name, address=host.address, uid=uid, **paths)
    changed = not host.sshd_config.exists() or host.sshd_config.read_text() != config
    host.sshd_config.write_text(config)
    pid = sshd_pid(host)
    if pid is not None and not changed:
        return
    if pid is not None:
        terminate([pid])
    log = host.state / "sshd.log"
    run("ip", "netns", "exec", host.name, SSHD, "-f", str(host.sshd_config), "-E", str(log))


def wait_for_sshd(host: Host, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection((host.address, 22), timeout=1) as conn:
            if conn.recv(4).startswith(b"SSH-"):
                return
        time.sleep(0.05)
    raise FleetError(f"{host.name}: sshd not answering on {host.address}:22 after {timeout}s")


def write_atomically(path: Path, text: str) -> None:
    """Readers (the API's inventory watcher) see the old file or the new one, never half of it."""
    tmp = STATE_DIR / f".{path.name}.tmp"  # not in inventory/, where the watcher would see it
    tmp.write_text(text)
    tmp.replace(path)


def host_vars(host: Host) -> dict[str, Any]:
    return {
        "ansible_host": host.address,
        "ansible_user": host.name,
        "ansible_ssh_private_key_file": str(KEY),
        "ansible_ssh_common_args": shlex.join(ssh_options()),
        "ansible_python_interpreter": "/usr/bin/python3",
        "libvirt_uri": "qemu:///session",
        "virtflow_image_dir": str(host.image_dir),
        # A session libvirt cannot make a NAT network's bridge: QEMU user-mode networking, whose
        # SSH forward listens on 127.0.0.1 inside the host's own namespace (traffic rule).
        "virtflow_guest_network": "user",
        # This machine's nested KVM cannot boot a Linux guest: image guests run under TCG.
        "libvirt_guest_image_domain_type": "qemu",
        **CAPACITY,
    }


def write_inventory(hosts: list[Host]) -> None:
    data = {"all": {"children": {"baremetal": {"hosts": {h.name: host_vars(h) for h in hosts}}}}}
    header = (
        "# Written by `make fleet-up` (tests/helpers/fleet.py), removed by `make fleet-down`.\n"
        "# Not in git. See docs/adr/0008-simulated-fleet.md.\n"
    )
    write_atomically(INVENTORY, header + yaml.safe_dump(data, sort_keys=False))


def write_known_hosts(hosts: list[Host]) -> None:
    lines = []
    for host in hosts:
        key_type, key = host.host_key.with_suffix(".pub").read_text().split()[:2]
        lines.append(f"{host.address} {key_type} {key}\n")
    write_atomically(KNOWN_HOSTS, "".join(lines))


def up(count: int) -> list[Host]:
    """Bring exactly `count` hosts up, repairing what is missing and keeping what runs."""
    if not 1 <= count <= MAX_HOSTS:
        raise FleetError(f"--hosts must be between 1 and {MAX_HOSTS}")
    hosts = [Host(i) for i in range(1, count + 1)]
    with locked():
        for extra in existing_hosts():
            if extra.index > count:
                remove(extra)
        check_network_free()
        prepare_machine()
        for host in hosts:
            if host.name not in namespaces():
                remove(host)  # what a lost namespace leaves is rebuilt, like a reinstalled machine
            ensure_network(host)
            entry = ensure_user(host)
            ensure_sshd(host, entry.pw_uid)
        write_known_hosts(hosts)
        for host in hosts:
            wait_for_sshd(host)
        write_inventory(hosts)
    return hosts


# ----- down -----


def terminate(pids: list[int], grace: float = 5) -> None:
    """SIGTERM, then SIGKILL whatever still lives after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [pid for pid in pids if alive(pid)]
    if pids:
        raise FleetError(f"processes {pids} survived SIGKILL")


def remove_veth(name: str, grace: float) -> None:
    """The host's end of the veth pair gone.

    The kernel tears a deleted namespace down in the background, so the pair may outlive
    `ip netns del` by a moment: wait up to `grace` seconds for it, then delete what is left.
    """
    deadline = time.monotonic() + grace
    while name in veths() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        if name in veths():
            run("ip", "link", "del", name)
    except FleetError:
        if name in veths():  # not the pair vanishing between the check and the delete
            raise


def remove(host: Host) -> None:
    """Everything of one host: its processes (sshd, libvirtd, QEMU), network, user and disks."""
    uid = uid_of(host)
    terminate(host_pids(host))
    grace = 0.0
    if host.name in namespaces():
        run("ip", "netns", "del", host.name)  # takes the veth pair with it, a moment later
        grace = 10.0
    remove_veth(host.veth, grace)
    if uid is not None:
        run("userdel", host.name)
        shutil.rmtree(f"/run/user/{uid}", ignore_errors=True)
    shutil.rmtree(host.home, ignore_errors=True)
    shutil.rmtree(host.state, ignore_errors=True)


def down() -> None:
    """Remove every host, the inventory first, as ops take a host out before retiring it."""
    with locked():
        INVENTORY.unlink(missing_ok=True)
        for host in existing_hosts():
            remove(host)
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        with suppress(OSError):
            HOMES.rmdir()


# ----- status and command line -----


def status() -> bool:
    """Print one line per host; True when every host is up and in the inventory."""
    hosts = existing_hosts()
    healthy = bool(hosts) and INVENTORY.exists()
    for host in hosts:
        in_ns = host.name in namespaces()
        pid = sshd_pid(host)
        uid = uid_of(host)
        healthy = healthy and in_ns and pid is not None and uid is not None
        print(
            f"{host.name:12} {host.address:15} netns={'yes' if in_ns else 'MISSING'}"
            f" sshd={pid or 'DOWN'} uid={uid if uid is not None else 'MISSING'}"
        )
    print(f"inventory: {INVENTORY if INVENTORY.exists() else 'none'}")
    if not hosts:
        print("no fleet hosts")
    return healthy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.fleet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="bring N hosts up (idempotent)").add_argument(
        "--hosts", type=int, default=3, help="number of hosts (default 3)"
    )
    commands.add_parser("down", help="remove every host and what it created (idempotent)")
    commands.add_parser("status", help="show the hosts; exit 1 unless all are up")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("must run as root: it creates namespaces, users and sshd processes")
    started = time.monotonic()
    try:
        if args.command == "up":
            hosts = up(args.hosts)
            took = time.monotonic() - started
            print(f"fleet up: {len(hosts)} host(s) in {took:.2f}s, inventory {INVENTORY}")
        elif args.command == "down":
            down()
            print(f"fleet down in {time.monotonic() - started:.2f}s")
        else:
            return 0 if status() else 1
    except FleetError as exc:
        print(f"fleet {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
