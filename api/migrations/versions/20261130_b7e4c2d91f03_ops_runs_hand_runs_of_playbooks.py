"""ops runs: hand runs of the playbooks recorded as jobs

A job of kind `ops.run` is one `ansible-playbook` run by ops, recorded by
playbooks/callback_plugins/virtflow_audit.py; it may target a host VirtFlow does not know,
so such a job needs neither a tenant nor a host.

Revision ID: b7e4c2d91f03
Revises: 661277e8978a
Create Date: 2026-11-30 05:55:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7e4c2d91f03"
down_revision: str | Sequence[str] | None = "661277e8978a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "'vm.create', 'vm.delete', 'vm.stop', 'vm.start', 'vm.refresh', 'host.prepare', 'host.domains'"
)
KINDS_NOW = KINDS_BEFORE + ", 'ops.run'"
OWNER_BEFORE = "tenant_id IS NOT NULL OR baremetal_id IS NOT NULL"
OWNER_NOW = OWNER_BEFORE + " OR kind = 'ops.run'"


def _replace(name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_job_{name}"), "job", type_="check")
    op.create_check_constraint(name, "job", condition)


def upgrade() -> None:
    """Upgrade schema."""
    _replace("kind", f"kind IN ({KINDS_NOW})")
    _replace("owner", OWNER_NOW)


def downgrade() -> None:
    """Downgrade schema (ops runs are removed: the old constraints cannot hold them)."""
    op.execute("DELETE FROM job WHERE kind = 'ops.run'")
    _replace("owner", OWNER_BEFORE)
    _replace("kind", f"kind IN ({KINDS_BEFORE})")
