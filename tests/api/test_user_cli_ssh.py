"""The ssh command line of `virtflow vm ssh` (api/cli_user/ssh.py), built from the API's route.

The real path (the API's route, a jump through a fleet host's sshd, a guest booted from the default
image) is tests/fleet/test_fleet_image_vm.py."""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path

from api.cli_user.ssh import Jump, Route, argv


def _options(args: list[str]) -> list[tuple[str, str]]:
    """The (Name, value) of every `-o Name=value` in an ssh argv."""
    pairs = [v.split("=", 1) for o, v in itertools.pairwise(args) if o == "-o"]
    return [(name, value) for name, value in pairs]


def _option(args: list[str], name: str) -> str:
    found = [value for key, value in _options(args) if key == name]
    assert len(found) == 1, (name, args)
    return found[0]


def _names(args: list[str]) -> list[str]:
    return [name for name, _ in _options(args)]


def test_direct_route_connects_to_the_forward_with_the_vms_own_host_key_alias(
    tmp_path: Path,
) -> None:
    route = Route(user="debian", host="127.0.0.1", port=22003, host_key_alias="virtflow-vm-1")
    args = argv(route, config_dir=tmp_path, identity=tmp_path / "key", command=["uname", "-a"])
    assert args[0] == "ssh"
    assert args[args.index("-p") + 1] == "22003"
    assert args[args.index("-i") + 1] == str(tmp_path / "key")
    assert _option(args, "HostKeyAlias") == "virtflow-vm-1"
    assert _option(args, "UserKnownHostsFile") == str(tmp_path / "known_hosts")
    assert "ProxyCommand" not in _names(args)
    # The command follows the destination and a `--`, so ssh never reads it as its own options.
    assert args[-4:] == ["debian@127.0.0.1", "--", "uname", "-a"]


def test_jump_route_dials_the_guest_from_its_host_with_the_jump_identity(tmp_path: Path) -> None:
    jump = Jump(host="10.213.0.6", port=22, user="vf-fleet-1")
    route = Route("debian", "127.0.0.1", 22000, "virtflow-vm-2", jump)
    args = argv(route, config_dir=tmp_path, jump_identity=tmp_path / "fleet key")
    proxy = shlex.split(_option(args, "ProxyCommand"))
    assert proxy[0] == "ssh" and proxy[-3:] == ["-W", "%h:%p", "vf-fleet-1@10.213.0.6"]
    assert proxy[proxy.index("-i") + 1] == str(tmp_path / "fleet key")  # quoted, space and all
    assert proxy[proxy.index("-p") + 1] == "22"
    assert "-i" not in args  # no guest identity given: ssh's own defaults and agent
    assert args[-1] == "debian@127.0.0.1"
