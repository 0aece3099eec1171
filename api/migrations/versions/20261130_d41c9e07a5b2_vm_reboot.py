"""vm reboot: the `rebooting` VM status and the `vm.reboot` job kind

Revision ID: d41c9e07a5b2
Revises: 97078dacbf77
Create Date: 2026-11-30 09:20:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d41c9e07a5b2"
down_revision: str | Sequence[str] | None = "97078dacbf77"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "'vm.create', 'vm.delete', 'vm.stop', 'vm.start', 'vm.refresh', 'host.prepare', "
    "'host.domains', 'ops.run'"
)
KINDS_NOW = KINDS_BEFORE + ", 'vm.reboot'"
STATUSES_BEFORE = (
    "'pending', 'provisioning', 'running', 'stopping', 'stopped', 'starting', 'error', "
    "'deleting', 'deleted'"
)
STATUSES_NOW = STATUSES_BEFORE + ", 'rebooting'"


def _replace(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(name, table, condition)


def upgrade() -> None:
    """Upgrade schema."""
    _replace("job", "kind", f"kind IN ({KINDS_NOW})")
    _replace("vm", "status", f"status IN ({STATUSES_NOW})")


def downgrade() -> None:
    """Downgrade schema: a rebooting VM is back to running (its job is lost with the kind)."""
    op.execute("UPDATE vm SET status = 'running' WHERE status = 'rebooting'")
    op.execute("DELETE FROM job WHERE kind = 'vm.reboot'")
    _replace("vm", "status", f"status IN ({STATUSES_BEFORE})")
    _replace("job", "kind", f"kind IN ({KINDS_BEFORE})")
