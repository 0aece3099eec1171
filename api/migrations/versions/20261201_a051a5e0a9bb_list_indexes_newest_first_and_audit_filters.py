"""list indexes: newest first (vm, job, tenant, snapshot), audit by object, request, tenant

Revision ID: a051a5e0a9bb
Revises: 0a7c3e91b5d2
Create Date: 2026-12-01 12:00:00.000000

Every list of the API reads its page from an index (tests/services/test_query_plans.py proves
it with EXPLAIN). An index led by a column replaces the one on that column alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a051a5e0a9bb"
down_revision: str | Sequence[str] | None = "0a7c3e91b5d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, leading equality columns, the single-column index they replace, or None)
NEWEST_FIRST = [
    ("vm", (), None),
    ("vm", ("tenant_id",), "ix_vm_tenant_id"),
    ("job", (), None),
    ("job", ("tenant_id",), "ix_job_tenant_id"),
    ("job", ("vm_id",), "ix_job_vm_id"),
    ("job", ("snapshot_id",), "ix_job_snapshot_id"),
    ("tenant", (), None),
    ("snapshot", ("vm_id",), "ix_snapshot_vm_id"),
]
# audit_log: (column, the index it replaces): that column, then id (the list's order)
AUDIT = [
    ("object_id", ("ix_audit_log_object", ("object_type", "object_id"))),
    ("request_id", ("ix_audit_log_request_id", ("request_id",))),
    ("tenant_id", ("ix_audit_log_tenant_id", ("tenant_id",))),
]


def _newest_first_name(table: str, leading: tuple[str, ...]) -> str:
    return "_".join(["ix", table, *leading, "created_at_id"])


def upgrade() -> None:
    """Upgrade schema."""
    for table, leading, replaced in NEWEST_FIRST:
        columns = [*leading, sa.text("created_at DESC"), "id"]
        op.create_index(_newest_first_name(table, leading), table, columns)
        if replaced is not None:
            op.drop_index(replaced, table_name=table)
    for column, (replaced, _old_columns) in AUDIT:
        op.create_index(f"ix_audit_log_{column}_id", "audit_log", [column, "id"])
        op.drop_index(replaced, table_name="audit_log")
    op.create_index("ix_vm_name", "vm", ["name"])  # the VM list's name filter


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_vm_name", table_name="vm")
    for column, (replaced, old_columns) in AUDIT:
        op.create_index(replaced, "audit_log", list(old_columns))
        op.drop_index(f"ix_audit_log_{column}_id", table_name="audit_log")
    for table, leading, replaced in NEWEST_FIRST:
        if replaced is not None:
            op.create_index(replaced, table, list(leading))
        op.drop_index(_newest_first_name(table, leading), table_name=table)
