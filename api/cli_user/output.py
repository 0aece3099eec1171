"""What the user CLI prints: `--output table` for people, `--output json` for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json")


def output_option(fn: F) -> F:
    option = click.option(
        "--output",
        "-o",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table for people; json prints the envelope's data as one JSON document.",
    )
    return option(fn)


def show(data: Any, output: str, as_table: Callable[[Any], str]) -> None:
    """data is the envelope's data, as JSON-ready dicts and lists (the models' to_dict())."""
    click.echo(dumps(data) if output == "json" else as_table(data))


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last one is not padded."""
    texts = [list(headers), *([cell(v) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in texts) for i in range(len(headers))]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line[:-1], widths, strict=False)), line[-1]])
        for line in texts
    )


def fields(data: dict[str, Any], keys: Sequence[str]) -> str:
    """One `key: value` line per field, in the given order, then any other field."""
    order = [k for k in keys if k in data] + sorted(k for k in data if k not in keys)
    width = max(len(k) for k in order)
    return "\n".join(f"{k.ljust(width)}  {cell(data[k])}" for k in order)
