"""Idempotency keys: claim a user's key for a request, keep its response, replay it, expire it.

A key is claimed in the request's own transaction and its response stored in that transaction
before it commits, so a key is never committed without the change it answered, nor the change
without its key. The unique (user_id, key) decides between concurrent requests with one key:
the second waits for the first's transaction to end, then replays its answer (or, when the
first committed nothing, claims the key itself). A wait longer than the database's lock
timeout is 409 CONFLICT.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import Conflict, IdempotencyKeyReused
from api.models import IdempotencyKey

TTL = dt.timedelta(hours=24)
# Printable ASCII (space to tilde), as Stripe's keys; the column holds 255.
KEY_RE = re.compile(r"[ -~]{1,255}")
# lock_not_available (lock_timeout) and query_canceled (statement_timeout): waited too long.
WAITED_TOO_LONG = frozenset({"55P03", "57014"})
STILL_PROCESSING = "A request with this Idempotency-Key is still being processed; retry it shortly."


@dataclass(frozen=True)
class Replay:
    """The first response to a key: what every later request with it gets."""

    status_code: int
    response: dict[str, Any]


def valid_key(key: str) -> bool:
    return KEY_RE.fullmatch(key) is not None


def fingerprint(method: str, path: str, query: Iterable[tuple[str, str]], body: object) -> str:
    """sha256 of the request: method, path, query (in any order) and the JSON body, canonical
    (keys sorted, no spaces), so the same request spelled differently is the same request."""
    canonical = json.dumps(
        [method.upper(), path, sorted(query), body],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session, user_id: uuid.UUID, key: str, print_: str, now: dt.datetime
) -> IdempotencyKey | Replay:
    """The key claimed for this request (its row, not yet answered), or the first answer to
    replay. Refuses another request's key (422) and a wait past the lock timeout (409)."""
    with _bounded_wait():
        row, inserted = _insert_or_lock(session, user_id, key, print_, now)
    if inserted:
        return row
    if row.created_at <= now - TTL:  # expired: the key is free for a new request
        row.fingerprint, row.status_code, row.response, row.created_at = print_, None, None, now
        session.flush()
        return row
    if row.fingerprint != print_:
        raise IdempotencyKeyReused()
    if row.status_code is None:  # only if a first request committed without its answer
        raise Conflict(STILL_PROCESSING)
    return Replay(row.status_code, row.response or {})


def _insert_or_lock(
    session: Session, user_id: uuid.UUID, key: str, print_: str, now: dt.datetime
) -> tuple[IdempotencyKey, bool]:
    """(the key's row, locked; whether this call inserted it). The insert waits for a request
    that inserted the key and has not ended; a row the purge deleted meanwhile is inserted."""
    while True:
        inserted = session.scalar(
            insert(IdempotencyKey)
            .values(id=uuid.uuid4(), user_id=user_id, key=key, fingerprint=print_, created_at=now)
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.user_id, IdempotencyKey.key])
            .returning(IdempotencyKey.id)
        )
        row = session.scalars(
            select(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if row is not None:
            return row, inserted is not None


@contextmanager
def _bounded_wait() -> Iterator[None]:
    """A wait for the key past the lock (or statement) timeout is 409, not an outage (503)."""
    try:
        yield
    except sa_exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) in WAITED_TOO_LONG:
            raise Conflict(STILL_PROCESSING) from exc
        raise


def store(session: Session, row: IdempotencyKey, status_code: int, body: dict[str, Any]) -> None:
    """Keep the answer to the claimed key, in the transaction of the change it answers."""
    row.status_code, row.response = status_code, body
    session.flush()


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Delete the keys older than TTL at now; returns how many went."""
    gone = session.scalars(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at <= now - TTL)
        .returning(IdempotencyKey.id)
    ).all()
    return len(gone)
