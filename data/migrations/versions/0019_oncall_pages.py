"""On-call pages: who was paged for which ticket, the chain, and its acknowledgement.

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0019"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("chain_id", _ID, nullable=True),
        sa.Column("paged_at", UtcDateTime(), nullable=False),
        sa.Column("answer_due_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_via", sa.String(length=8), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_pages_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_pages_team_id_teams"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_pages_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["agents.id"], name="fk_pages_acknowledged_by_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pages"),
        sa.UniqueConstraint("token_hash", name="uq_pages_token_hash"),
    )
    op.create_index("ix_pages_answer_due", "pages", ["answer_due_at"])
    op.create_index("ix_pages_ticket", "pages", ["ticket_id", "paged_at"])
    op.create_index("ix_pages_chain", "pages", ["chain_id"])
    op.create_index("ix_pages_agent", "pages", ["agent_id", "paged_at"])


def downgrade() -> None:
    for name in ("ix_pages_agent", "ix_pages_chain", "ix_pages_ticket", "ix_pages_answer_due"):
        op.drop_index(name, table_name="pages")
    op.drop_table("pages")
