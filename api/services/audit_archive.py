"""Archives of the audit log: a stretch of its hash chain as JSON lines that verify offline.

The first line is a header (the range, the row count, the prev_hash of the first row and the
row_hash of the last); then one line per row, in id order, with its columns, its prev_hash and
row_hash, and `hashed`: the exact text the database hashed (virtflow_audit_row_hash, migration
97078dacbf77). So a verifier needs sha256 and a JSON parser, not PostgreSQL's jsonb rendering:
sha256(prev_hash || hashed as UTF-8) must be row_hash, each prev_hash the row_hash before it,
and `hashed`, parsed, must hold the line's columns. Rows are exported, never deleted: the
database refuses DELETE on audit_log, and its chain starts at the first row (GENESIS).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import ColumnClause, Text, func, literal_column, select
from sqlalchemy.orm import Session

from api.models import AuditLog
from api.services.audit_chain import BATCH, GENESIS

FORMAT = "virtflow-audit-archive"
VERSION = 1
# The columns a row's hash covers, in the order of virtflow_audit_row_hash's array.
COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_username",
    "tenant_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "status_code",
    "error_code",
    "request_id",
    "client_addr",
    "changes",
)
# The text virtflow_audit_row_hash hashes (its jsonb_build_array, as text): kept in step with
# the function by the export itself, which checks every row's hash against it.
HASHED: ColumnClause[str] = literal_column(
    """jsonb_build_array(
    audit_log.id,
    to_char(audit_log.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    audit_log.actor_id, audit_log.actor_username, audit_log.tenant_id, audit_log.action,
    audit_log.object_type, audit_log.object_id, audit_log.outcome, audit_log.status_code,
    audit_log.error_code, audit_log.request_id, audit_log.client_addr, audit_log.changes
)::text""",
    Text,
)


class ChainBroken(Exception):
    """The rows read do not form an unbroken chain: row_id is the first that breaks it."""

    def __init__(self, row_id: int, reason: str) -> None:
        super().__init__(f"row {row_id} breaks the chain: {reason}")
        self.row_id = row_id


@dataclass(frozen=True)
class Span:
    """The rows an archive holds: after_id < id < stop_id, in id order."""

    before: dt.datetime
    after_id: int
    count: int
    first_id: int | None
    last_id: int | None
    first_prev_hash: bytes | None
    last_row_hash: bytes | None

    def header(self, exported_at: dt.datetime) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "before": self.before.isoformat(),
            "after_id": self.after_id,
            "count": self.count,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "first_prev_hash": _hex(self.first_prev_hash),
            "last_row_hash": _hex(self.last_row_hash),
            "exported_at": exported_at.isoformat(),
            "row_hash": "sha256(prev_hash || hashed as UTF-8)",
        }


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def span(session: Session, before: dt.datetime, after_id: int = 0) -> Span:
    """The chain's rows after row after_id up to the first written at or after before: a whole
    stretch of the chain, so it verifies on its own (a row written a few milliseconds before
    one already exported by a concurrent transaction waits for the next archive)."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    stop = session.scalar(
        select(func.min(AuditLog.id)).where(AuditLog.created_at >= before, AuditLog.id > after_id)
    )
    rows = _within(
        select(func.count(), func.min(AuditLog.id), func.max(AuditLog.id)), after_id, stop
    )
    count, first_id, last_id = session.execute(rows).one()
    first = session.scalar(select(AuditLog.prev_hash).where(AuditLog.id == first_id))
    last = session.scalar(select(AuditLog.row_hash).where(AuditLog.id == last_id))
    return Span(before, after_id, int(count), first_id, last_id, first, last)


def _within(query: Any, after_id: int, stop: int | None) -> Any:
    query = query.where(AuditLog.id > after_id)
    return query if stop is None else query.where(AuditLog.id < stop)


def lines(session: Session, part: Span, exported_at: dt.datetime) -> Iterator[str]:
    """The archive of part, line by line, read in the snapshot span() took; ChainBroken when a
    row does not follow the one before it or its hash does not match its content."""
    yield _dump(part.header(exported_at))
    if not part.count:
        return
    query = _within(
        select(AuditLog.id, AuditLog.prev_hash, AuditLog.row_hash, HASHED), part.after_id, None
    ).where(AuditLog.id <= part.last_id)
    expected = part.first_prev_hash
    for row_id, prev_hash, row_hash, hashed in session.execute(
        query.order_by(AuditLog.id).execution_options(yield_per=BATCH)
    ):
        if prev_hash != expected:
            raise ChainBroken(row_id, "it does not follow the row before it")
        if hashlib.sha256(prev_hash + hashed.encode()).digest() != row_hash:
            raise ChainBroken(row_id, "its content does not match its hash")
        expected = row_hash
        yield _dump(row_line(hashed, prev_hash, row_hash))


def row_line(hashed: str, prev_hash: bytes, row_hash: bytes) -> dict[str, Any]:
    """A row of the archive: its columns as hashed, the two hashes, and the hashed text."""
    columns = dict(zip(COLUMNS, json.loads(hashed), strict=True))
    return {**columns, "prev_hash": prev_hash.hex(), "row_hash": row_hash.hex(), "hashed": hashed}


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class ArchiveVerdict:
    """What verify_archive found: rows checked, and the first bad line (1: the header)."""

    rows: int
    header: dict[str, Any]
    bad_line: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_line is None


def verify_archive(text_lines: Iterable[str]) -> ArchiveVerdict:
    """Check an archive offline: its header, each row's hash and link, and its end."""
    numbered = enumerate(text_lines, start=1)
    try:
        header = json.loads(next(numbered)[1])
    except (StopIteration, ValueError):
        return ArchiveVerdict(0, {}, 1, "the first line is not an archive header")
    if not isinstance(header, dict) or (header.get("format"), header.get("version")) != (
        FORMAT,
        VERSION,
    ):
        return ArchiveVerdict(0, {}, 1, f"the first line is not a {FORMAT} {VERSION} header")
    walk = _Walk(header)
    for number, text in numbered:
        reason = walk.step(text)
        if reason:
            return ArchiveVerdict(walk.rows, header, number, reason)
    reason = walk.end()
    return ArchiveVerdict(walk.rows, header, None if not reason else walk.rows + 2, reason)


class _Walk:
    """The chain as verify_archive reads it, one row line at a time."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.header = header
        self.rows = 0
        self.last_id: int | None = None
        self.prev = _unhex(header.get("first_prev_hash")) or GENESIS

    def step(self, text: str) -> str:
        """What is wrong with this row line ('' when nothing)."""
        try:
            row = json.loads(text)
            hashed, prev, own = row["hashed"], _unhex(row["prev_hash"]), _unhex(row["row_hash"])
            content = json.loads(hashed)
        except (ValueError, KeyError, TypeError):
            return "not a row of the archive"
        if content != [row.get(name) for name in COLUMNS]:
            return "its columns are not the content its hash covers"
        if not self.rows and row["id"] != self.header.get("first_id"):
            return "its first row is not the one its header names"
        if prev != self.prev:
            return f"row {row['id']} does not follow the row before it"
        if own is None or hashlib.sha256(prev + hashed.encode()).digest() != own:
            return f"row {row['id']}'s content does not match its hash"
        self.prev, self.last_id, self.rows = own, row["id"], self.rows + 1
        return ""

    def end(self) -> str:
        """What is wrong with the archive as a whole, once every line was read."""
        if self.rows != self.header.get("count"):
            return f"it holds {self.rows} rows; its header says {self.header.get('count')}"
        if self.rows and (self.last_id, self.prev.hex()) != (
            self.header.get("last_id"),
            self.header.get("last_row_hash"),
        ):
            return "its last row is not the one its header names"
        return ""


def _unhex(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _open(path: Path, writing: bool, gz: bool) -> IO[str]:
    """path as text, gzip-compressed when gz."""
    if gz:
        return gzip.open(path, "wt" if writing else "rt", encoding="utf-8")
    return path.open("w" if writing else "r", encoding="utf-8")


def write(path: Path, text_lines: Iterable[str]) -> None:
    """Write an archive next to path, then rename it into place: path is whole or absent.
    Readable by its owner only: audit rows name users, addresses and what they changed."""
    partial = path.with_name(f".{path.name}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        with _open(partial, writing=True, gz=path.suffix == ".gz") as out:
            out.writelines(text_lines)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def verify_file(path: Path) -> ArchiveVerdict:
    """verify_archive of the archive in path (gzip-compressed when its name ends in .gz)."""
    with _open(path, writing=False, gz=path.suffix == ".gz") as archive:
        return verify_archive(archive)
