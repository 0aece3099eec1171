"""The user CLI's exit codes, and the one place an HTTP status or a failure becomes one."""

from __future__ import annotations

from typing import IO, Any

import click

OK = 0
FAILED = 1  # the job ran and did not succeed: failed, error, canceled, or the VM ended `error`
USAGE = 2  # click's own usage errors, and requests the server refused as malformed (400, 422, ...)
AUTH = 3  # not logged in, token invalid, expired or revoked, wrong credentials (401)
NOT_FOUND = 4  # no such object, or not yours to see (404) or to change (403)
CONFLICT = 5  # the object's state forbids it: INVALID_STATE, QUOTA_EXCEEDED, NO_CAPACITY... (409)
UNAVAILABLE = 6  # the server cannot answer now: 503, 429, other 5xx, connection refused, timeout

BY_STATUS = {401: AUTH, 403: NOT_FOUND, 404: NOT_FOUND, 409: CONFLICT, 429: UNAVAILABLE}


def for_status(status: int) -> int:
    """The exit code of an error answer's HTTP status."""
    if status in BY_STATUS:
        return BY_STATUS[status]
    return UNAVAILABLE if status >= 500 else USAGE


class Failure(click.ClickException):
    """An error shown as one line on stderr, exiting with its code (never a stack trace)."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.code = exit_code

    @property
    def exit_code(self) -> int:  # type: ignore[override]  # click's is a class attribute
        return self.code

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"virtflow: {self.format_message()}", err=True)
