"""Nearing breach's index of running clocks also holds `state`, so it covers the read.

0028's partial index (`WHERE state = 'running'`) held every column nearing breach reads but
`state`: SQLite's planner does not count a partial index's WHERE column as held, so the
index did not cover the read and the planner took another one (ix_sla_clocks_due, or
ix_sla_clocks_stopped off its "stopped_at IS NULL" estimate); data/kpi/figures.py then
named the index (INDEXED BY) by patching SQLAlchemy's SQLite compiler. With `state` in the
key the index covers the read and the planner takes it unasked (docs/kpi.md).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As data/models/tickets.py's: a migration keeps its own copy of what it created.
RUNNING_CLOCK = "state = 'running'"
HELD = [
    "due_at",
    "policy_id",
    "spent_seconds",
    "target_minutes",
    "running_since",
    "stopped_at",
    "ticket_id",
]


def _create(columns: list[str]) -> None:
    op.create_index(
        "ix_sla_clocks_running",
        "sla_clocks",
        columns,
        sqlite_where=sa.text(RUNNING_CLOCK),
        postgresql_where=sa.text(RUNNING_CLOCK),
    )


def upgrade() -> None:
    op.drop_index("ix_sla_clocks_running", table_name="sla_clocks")
    _create([*HELD, "state"])


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_running", table_name="sla_clocks")
    _create(HELD)
