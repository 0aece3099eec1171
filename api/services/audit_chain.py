"""Verifying the audit log's hash chain: a changed, removed or reordered row breaks it.

Each row carries prev_hash (the row_hash of the row before it, in id order) and row_hash =
sha256(prev_hash || its content), both set by the trigger audit_log_chain. The content is
serialised by the same SQL function the trigger uses (virtflow_audit_row_hash), so the walk
cannot drift from what was hashed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import LargeBinary, literal_column, select
from sqlalchemy.orm import Session

from api.models import AuditChain, AuditLog

GENESIS = bytes(32)  # prev_hash of the first row
BATCH = 1000
RECOMPUTED = literal_column("virtflow_audit_row_hash(audit_log.prev_hash, audit_log)", LargeBinary)


@dataclass(frozen=True)
class Verdict:
    """The walk's result: rows checked and, if the chain is broken, the first bad row."""

    rows: int
    last_id: int
    bad_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def verify(session: Session) -> Verdict:
    """Walk the chain in id order in one snapshot (the caller's fresh, read-only session)."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.get(AuditChain, 1)
    query = select(AuditLog.id, AuditLog.prev_hash, AuditLog.row_hash, RECOMPUTED).order_by(
        AuditLog.id
    )
    prev, last_id, rows = GENESIS, 0, 0
    for row_id, prev_hash, row_hash, recomputed in session.execute(
        query.execution_options(yield_per=BATCH)
    ):
        if prev_hash != prev:
            return Verdict(rows, last_id, row_id, "it does not follow the row before it")
        if row_hash != recomputed:
            return Verdict(rows, last_id, row_id, "its content does not match its hash")
        prev, last_id, rows = row_hash, row_id, rows + 1
    return _check_head(head, Verdict(rows, last_id), prev)


def _check_head(head: AuditChain | None, walked: Verdict, prev: bytes) -> Verdict:
    """The head names the newest row: rows removed from the end leave it pointing past them."""
    if head is None:
        return Verdict(walked.rows, walked.last_id, 0, "the chain's head row is missing")
    if (head.last_id, head.last_hash) != (walked.last_id, prev):
        return Verdict(walked.rows, walked.last_id, head.last_id, "the newest rows are missing")
    return walked
