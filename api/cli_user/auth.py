"""`virtflow login` and `virtflow logout`: the cached token the other user commands use."""

from __future__ import annotations

import os
import sys

import click

from api.cli_user import exits
from api.cli_user.session import (
    CachedLogin,
    Session,
    drop_cache,
    expect,
    load_cache,
    normalize,
    public_client,
    request,
    save_cache,
    target_url,
)
from api.client.api.auth import auth_login, auth_logout
from api.client.models import Login, LogoutEnvelope, TokenEnvelope
from api.client.types import Unset


@click.command()
@click.option(
    "--url",
    help="The API's base URL. Default: VIRTFLOW_URL, else the last login's, else "
    "http://127.0.0.1:8000.",
)
@click.option("--username", "-u", help="Asked for when not given.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin (for scripts); needs --username.",
)
def login(url: str | None, username: str | None, password_stdin: bool) -> None:
    """Log in; the token is cached (mode 0600) for the next commands."""
    target = normalize(url) if url else target_url(load_cache())
    if password_stdin and not username:
        raise click.UsageError("--password-stdin needs --username")
    username = username or click.prompt("Username", err=True)
    password = (
        _stdin_password() if password_stdin else click.prompt("Password", hide_input=True, err=True)
    )
    body = Login(username=username, password=password)
    client = public_client(target)
    answer = expect(
        TokenEnvelope, request(target, lambda: auth_login.sync_detailed(client=client, body=body))
    )
    refresh = answer.data.refresh_token
    path = save_cache(
        CachedLogin(
            url=target,
            username=username,
            access_token=answer.data.access_token,
            refresh_token=None if isinstance(refresh, Unset) else refresh,
        )
    )
    click.echo(f"logged in to {target} as {username}; token cached in {path}")
    if os.environ.get("VIRTFLOW_TOKEN"):
        click.echo("note: VIRTFLOW_TOKEN is set, and wins over this login", err=True)


def _stdin_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--password-stdin: stdin's first line is empty")
    return password


@click.command()
def logout() -> None:
    """End the cached login's session on the server and remove the cached token."""
    cached = load_cache()
    if cached is None:
        click.echo("not logged in")
        return
    session = Session(normalize(cached.url), cached.access_token, cached)
    drop_cache()
    try:
        session.call(LogoutEnvelope, auth_logout.sync_detailed)
    except exits.Failure as exc:
        if exc.exit_code != exits.AUTH:  # unreachable: the session may still be valid there
            raise
    click.echo(f"logged out of {cached.url}")
