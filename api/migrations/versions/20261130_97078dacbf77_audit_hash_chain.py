"""audit hash chain: each audit_log row carries the hash of its content and of the row before

The rows that exist are chained here, in id order. From now on the trigger audit_log_chain
chains every insert under the lock of the single audit_chain row, so appends from several
processes form one chain and an insert that is rolled back leaves no trace in it.

Revision ID: 97078dacbf77
Revises: c5e1a7f0d2b4
Create Date: 2026-11-30 10:12:41.318204

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "97078dacbf77"
down_revision: str | Sequence[str] | None = "c5e1a7f0d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The content of a row as hashed: a JSON array whose text jsonb renders the same way on every
# server, with the time in UTC whatever the session's TimeZone. Verification calls it too.
ROW_HASH_FUNCTION = """
CREATE FUNCTION virtflow_audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
SELECT sha256(prev || convert_to(jsonb_build_array(
    r.id,
    to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    r.actor_id, r.actor_username, r.tenant_id, r.action, r.object_type, r.object_id,
    r.outcome, r.status_code, r.error_code, r.request_id, r.client_addr, r.changes
)::text, 'UTF8'))
$$;
"""

# SECURITY DEFINER: the application's role inserts audit rows but may not touch audit_chain.
# The head row's lock is held until the inserting transaction ends, so chain order is id order
# (an id taken before a concurrent writer's is moved past it) and a rollback undoes the link.
CHAIN_FUNCTION = """
CREATE FUNCTION virtflow_audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    head audit_chain%ROWTYPE;
BEGIN
    SELECT * INTO STRICT head FROM audit_chain WHERE id = 1 FOR UPDATE;
    NEW.id := GREATEST(NEW.id, head.last_id + 1);
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := virtflow_audit_row_hash(NEW.prev_hash, NEW);
    UPDATE audit_chain SET last_id = NEW.id, last_hash = NEW.row_hash WHERE id = 1;
    RETURN NEW;
END;
$$;
"""

# Chains the rows that exist, oldest first (run with the append-only trigger disabled).
BACKFILL = """
DO $$
DECLARE
    r audit_log;
    prev bytea := decode(repeat('00', 32), 'hex');  -- the first row's prev_hash
    last bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        UPDATE audit_log SET prev_hash = prev, row_hash = virtflow_audit_row_hash(prev, r)
            WHERE id = r.id RETURNING row_hash INTO prev;
        last := r.id;
    END LOOP;
    INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, last, prev);
END;
$$;
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "last_id",
            sa.BigInteger(),
            nullable=False,
            comment="id of the newest chained row; 0: none",
        ),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False, comment="row_hash of that row"),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    for name, comment in (
        ("prev_hash", "row_hash of the row before in the chain (32 zero bytes for the first)"),
        ("row_hash", "sha256(prev_hash || this row's content), set by the trigger audit_log_chain"),
    ):
        op.add_column("audit_log", sa.Column(name, sa.LargeBinary(), comment=comment))
    op.execute(ROW_HASH_FUNCTION)
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    op.alter_column("audit_log", "prev_hash", nullable=False)
    op.alter_column("audit_log", "row_hash", nullable=False)
    op.execute(CHAIN_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION virtflow_audit_log_chain() FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION virtflow_audit_log_chain()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS virtflow_audit_log_chain()")
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
    op.execute("DROP FUNCTION IF EXISTS virtflow_audit_row_hash(bytea, audit_log)")
    op.drop_table("audit_chain")
