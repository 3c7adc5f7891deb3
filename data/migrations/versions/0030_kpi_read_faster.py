"""KPI reads: the running clocks' index holds `state`; rollups summed over teams and services.

Nearing breach's index of running clocks also holds `state`, so it covers the read.

0028's partial index (`WHERE state = 'running'`) held every column nearing breach reads but
`state`: SQLite's planner does not count a partial index's WHERE column as held, so the
index did not cover the read and the planner took another one (ix_sla_clocks_due, or
ix_sla_clocks_stopped off its "stopped_at IS NULL" estimate); data/kpi/figures.py then
named the index (INDEXED BY) by patching SQLAlchemy's SQLite compiler. With `state` in the
key the index covers the read and the planner takes it unasked (docs/kpi.md).

The KPI rollups get rows summed over teams and services (`{measure}@desk`) and over
services (`{measure}@team`), which the refresh now writes with each day: a whole-desk
read of a year reads a row a day, not a row a day, team and service. The days already
built get theirs here, summed from their rows (no base table is read).

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


# As data/kpi/rollup.py's: the measures keyed by team and service, in 0028.
ROLLED = (
    "response_met",
    "response_missed",
    "resolution_met",
    "resolution_missed",
    "resolution_time",
    "request_cycle",
    "request_standard",
    "resolved",
    "reopened",
    "first_contact",
    "reassignments",
    "handled",
    "survey",
    "incident_cost",
)
OTHER_KEYS = "type, priority, agent_id, bucket"


def _roll_up(suffix: str, kept: str) -> None:
    measures = ", ".join(f"'{m}'" for m in ROLLED)
    op.execute(
        f"INSERT INTO kpi_rollup (day, measure, {OTHER_KEYS}{kept}, n, total, lo, hi) "
        f"SELECT day, measure || '{suffix}', {OTHER_KEYS}{kept}, "
        "sum(n), sum(total), min(lo), max(hi) FROM kpi_rollup "
        f"WHERE measure IN ({measures}) GROUP BY day, measure, {OTHER_KEYS}{kept}"
    )


def upgrade() -> None:
    op.drop_index("ix_sla_clocks_running", table_name="sla_clocks")
    _create([*HELD, "state"])
    _roll_up("@desk", "")
    _roll_up("@team", ", team_id")


def downgrade() -> None:
    op.execute("DELETE FROM kpi_rollup WHERE measure LIKE '%@desk' OR measure LIKE '%@team'")
    op.drop_index("ix_sla_clocks_running", table_name="sla_clocks")
    _create(HELD)
