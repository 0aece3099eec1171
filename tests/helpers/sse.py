"""Reading a server-sent events stream as a client does: messages from lines, as they come."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

COMMENT = ":"


@dataclass(frozen=True)
class Message:
    event: str  # the `event:` field; COMMENT for a comment line (a keep-alive)
    data: Any  # the `data:` field as JSON; a comment's text
    id: int | None = None


def lines_of(chunks: Iterable[bytes | str]) -> Iterator[str]:
    """Lines of a stream given in chunks (a WSGI body); a chunk never splits a line here."""
    for chunk in chunks:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        yield from text.split("\n")


def messages(lines: Iterable[str]) -> Iterator[Message]:
    """Each message as soon as its closing blank line is read; `retry:` alone is no message."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(COMMENT):
            yield Message(COMMENT, line[1:].strip())
        elif line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        elif "event" in fields:
            event_id = int(fields["id"]) if "id" in fields else None
            yield Message(fields["event"], json.loads(fields["data"]), event_id)
            fields = {}
        else:
            fields = {}
