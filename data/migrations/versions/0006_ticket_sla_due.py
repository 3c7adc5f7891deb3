"""The queue sorted by SLA reads open tickets in due order from an index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import itsm_tui.data.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As data/models.py stores SLA_DUE_NEVER on SQLite (text compared as text there).
NEVER = "'9999-12-31 00:00:00.000000'"
# A counting clock: running or breached (still counting towards the escalation levels),
# not stopped. The same rule as itsm_tui.desk.sla.refresh_sla_due, frozen here.
COUNTING = "state IN ('running', 'breached') AND stopped_at IS NULL"


def upgrade() -> None:
    # The sort key was a correlated min(due_at) over each ticket's clocks: sorting all open
    # tickets by it took 333 ms on SQLite and up to 517 ms on PostgreSQL at a million.
    # With a constant default, adding the column rewrites nothing on either database.
    op.add_column(
        "tickets",
        sa.Column(
            "sla_due_at",
            itsm_tui.data.models.UtcDateTime(),
            server_default=sa.text(NEVER),
            nullable=False,
        ),
    )
    # Only tickets with a counting clock differ from the default: one set-based UPDATE of
    # those (found through ix_sla_clocks_due), each min() a probe of the (ticket, kind) key.
    op.execute(
        "UPDATE tickets SET sla_due_at = coalesce("
        "(SELECT min(sla_clocks.due_at) FROM sla_clocks"
        f" WHERE sla_clocks.ticket_id = tickets.id AND {COUNTING}), {NEVER})"
        f" WHERE id IN (SELECT ticket_id FROM sla_clocks WHERE {COUNTING} AND due_at IS NOT NULL)"
    )
    op.create_index("ix_tickets_open_sla", "tickets", ["is_open", "sla_due_at", "id"])
    bind = op.get_bind()
    if (
        bind.dialect.name == "postgresql"
        and bind.execute(sa.text("SELECT 1 FROM tickets LIMIT 1")).first()
    ):
        # The new column has no statistics yet (SQLite: data/migrate.py analyses tickets).
        # Not on an empty store: statistics of no rows would mislead the planner later.
        op.execute("ANALYZE tickets (sla_due_at)")


def downgrade() -> None:
    op.drop_index("ix_tickets_open_sla", table_name="tickets")
    # A plain DROP COLUMN on both (SQLite 3.35+): a batch copy of tickets would lose the
    # full-text triggers of revision 0002.
    op.execute("ALTER TABLE tickets DROP COLUMN sla_due_at")
