"""guests: cloud-init data, NIC and addresses on vm; guest network and SSH jump on baremetal

Revision ID: 0a7c3e91b5d2
Revises: f9a0b1c2d3e4
Create Date: 2026-12-01 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0a7c3e91b5d2"
down_revision: str | Sequence[str] | None = "f9a0b1c2d3e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_PORTS = "status <> 'deleted' AND ssh_port IS NOT NULL"


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        "vm",
        sa.Column(
            "ssh_authorized_keys",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
            comment="OpenSSH public keys cloud-init installs for the image's default user",
        ),
    )
    op.add_column(
        "vm",
        sa.Column(
            "user_data",
            sa.Text(),
            nullable=True,
            comment="cloud-config YAML given at create; a secret: write-only, never in job "
            "extravars",
        ),
    )
    op.add_column(
        "vm",
        sa.Column(
            "mac",
            sa.String(length=17),
            nullable=True,
            comment="the NIC's MAC, 52:54:00:xx:xx:xx, random per VM; null: made before",
        ),
    )
    op.add_column(
        "vm",
        sa.Column(
            "ssh_port",
            sa.Integer(),
            nullable=True,
            comment="127.0.0.1 port on the host forwarded to the guest's 22 (user-mode networking)",
        ),
    )
    op.add_column(
        "vm",
        sa.Column(
            "addresses",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
            comment="the running guest's IPv4 addresses: [{mac, ip, prefix, source}], from the "
            "domain check",
        ),
    )
    op.add_column(
        "vm",
        sa.Column(
            "addresses_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when a domain check last read the addresses",
        ),
    )
    # Hand-written: alembic does not compare CHECK constraints.
    op.create_check_constraint("ssh_port_range", "vm", "ssh_port BETWEEN 1024 AND 65535")
    op.create_index(
        "uq_vm_baremetal_id_ssh_port_live",
        "vm",
        ["baremetal_id", "ssh_port"],
        unique=True,
        postgresql_where=sa.text(LIVE_PORTS),
    )
    op.add_column(
        "baremetal",
        sa.Column(
            "guest_network",
            sa.String(length=8),
            server_default="nat",
            nullable=True,
            comment="the inventory's virtflow_guest_network: nat or user; null: an invalid "
            "value there, and the host takes no new VMs",
        ),
    )
    op.add_column(
        "baremetal",
        sa.Column(
            "ssh_jump",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="how SSH reaches the host, from the inventory: {host, port, user}; null: "
            "ansible_connection local (the controller itself)",
        ),
    )
    op.create_check_constraint("guest_network", "baremetal", "guest_network IN ('nat', 'user')")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint(op.f("ck_baremetal_guest_network"), "baremetal", type_="check")
    op.drop_column("baremetal", "ssh_jump")
    op.drop_column("baremetal", "guest_network")
    op.drop_index(
        "uq_vm_baremetal_id_ssh_port_live", table_name="vm", postgresql_where=sa.text(LIVE_PORTS)
    )
    op.drop_constraint(op.f("ck_vm_ssh_port_range"), "vm", type_="check")
    op.drop_column("vm", "addresses_at")
    op.drop_column("vm", "addresses")
    op.drop_column("vm", "ssh_port")
    op.drop_column("vm", "mac")
    op.drop_column("vm", "user_data")
    op.drop_column("vm", "ssh_authorized_keys")
