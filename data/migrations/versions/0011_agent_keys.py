"""Agents' SSH public keys: `itsm serve` tells who a remote session is by its key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name="fk_agent_keys_agent_id_agents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_keys"),
        # A key signs in as one agent only; a login looks its key up by this.
        sa.UniqueConstraint("fingerprint", name="uq_agent_keys_fingerprint"),
    )
    op.create_index("ix_agent_keys_agent_id", "agent_keys", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_keys_agent_id", table_name="agent_keys")
    op.drop_table("agent_keys")
