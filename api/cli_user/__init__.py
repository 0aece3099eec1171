"""The tenant's commands of `virtflow` (login, logout, vm, job, quota), built on api.client."""

from __future__ import annotations

import click

from api.cli_user.auth import login, logout
from api.cli_user.job import job, quota
from api.cli_user.vm import vm

COMMANDS: tuple[click.Command, ...] = (login, logout, vm, job, quota)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
