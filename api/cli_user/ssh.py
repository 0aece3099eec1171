"""`virtflow vm ssh`: the ssh command line that reaches a guest by the route the API gives.

The route (GET /vm/{id}/ssh/) names the guest's login, the address and port to connect to as seen
from its baremetal host, and the host to jump through: the same SSH that Ansible uses to reach the
host (its ansible_host, ansible_port and ansible_user), or none when the host is this machine. The
jump is a ProxyCommand (`ssh -W`), so the guest's address is only ever dialled by the host, inside
the host's own network.

The guest's host key is remembered under the VM's own alias in the CLI's known_hosts, so a VM
that reuses a port forward of a deleted one is not mistaken for it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

KNOWN_HOSTS = "known_hosts"
CONNECT_TIMEOUT = 10  # seconds, for the jump and for the guest


@dataclass(frozen=True)
class Jump:
    host: str
    port: int
    user: str | None


@dataclass(frozen=True)
class Route:
    """Where a guest's sshd is, as the API's vm_ssh_route answers it."""

    user: str
    host: str
    port: int
    host_key_alias: str
    jump: Jump | None = None


def _common(known_hosts: Path) -> list[str]:
    return [
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
    ]  # fmt: skip


def _proxy_command(jump: Jump, identity: Path | None, known_hosts: Path) -> str:
    argv = ["ssh", *_common(known_hosts), "-o", "BatchMode=yes", "-p", str(jump.port)]
    if identity is not None:
        argv += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    target = f"{jump.user}@{jump.host}" if jump.user else jump.host
    # %h and %p: ssh puts the guest's address and port (as the host sees them) in their place.
    return shlex.join([*argv, "-W", "%h:%p", target])


def argv(
    route: Route,
    *,
    config_dir: Path,
    identity: Path | None = None,
    jump_identity: Path | None = None,
    command: Sequence[str] = (),
) -> list[str]:
    """The ssh argv for the route: identity for the guest, jump_identity for the host."""
    known_hosts = config_dir / KNOWN_HOSTS
    args = ["ssh", *_common(known_hosts), "-o", f"HostKeyAlias={route.host_key_alias}"]
    args += ["-p", str(route.port)]
    if identity is not None:
        args += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
    if route.jump is not None:
        proxy = _proxy_command(route.jump, jump_identity, known_hosts)
        args += ["-o", f"ProxyCommand={proxy}"]
    args.append(f"{route.user}@{route.host}")
    if command:
        args += ["--", *command]
    return args
