"""Two saved views of the queue read short index ranges at a million tickets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNASSIGNED = "assignee_id IS NULL"
BREACHED_OPEN = "state = 'breached' AND stopped_at IS NULL"


def upgrade() -> None:
    # "Unassigned" in queue order: on PostgreSQL the assignee index could not deliver the
    # order (IS NULL does not fix the column there), so every unassigned ticket was sorted.
    op.create_index(
        "ix_tickets_unassigned_queue",
        "tickets",
        ["is_open", "priority", "opened_at", "id"],
        sqlite_where=sa.text(UNASSIGNED),
        postgresql_where=sa.text(UNASSIGNED),
    )
    # "Breached": counting it probed every breached clock ever (240k at a million tickets,
    # ~300 ms); the live ones are a small partial index.
    op.create_index(
        "ix_sla_clocks_breached_open",
        "sla_clocks",
        ["ticket_id"],
        sqlite_where=sa.text(BREACHED_OPEN),
        postgresql_where=sa.text(BREACHED_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_breached_open", table_name="sla_clocks")
    op.drop_index("ix_tickets_unassigned_queue", table_name="tickets")
