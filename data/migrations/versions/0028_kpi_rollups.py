"""KPI rollups: daily sums per measure (kpi_rollup), the days built (kpi_days), the dates
instants marked by triggers (kpi_dirty), and the clocks' index of time spent for the exact
90th percentile. Every day starts unbuilt: the first refresh builds them.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.kpi.rollup_triggers import create_statements, drop_statements
from itsm_tui.data.models import UtcDateTime

# As data/models/tickets.py's: a migration keeps its own copy of what it created.
RUNNING_CLOCK = "state = 'running'"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_rollup",
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("bucket", sa.Integer(), nullable=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("lo", sa.BigInteger(), nullable=True),
        sa.Column("hi", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_rollup"),
    )
    op.create_index("ix_kpi_rollup_measure_day", "kpi_rollup", ["measure", "day"])
    op.create_index(
        "ix_kpi_rollup_bucket", "kpi_rollup", ["measure", "bucket", "day", "priority", "n"]
    )
    op.create_table(
        "kpi_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("built_until", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_kpi_days"),
    )
    op.create_table(
        "kpi_dirty",
        sa.Column("id", _ID, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_dirty"),
    )
    op.create_index("ix_kpi_dirty_at", "kpi_dirty", ["at"])
    op.create_index(
        "ix_sla_clocks_spent",
        "sla_clocks",
        ["kind", "spent_seconds", "stopped_at", "state", "ticket_id"],
    )
    op.create_index(
        "ix_sla_clocks_running",
        "sla_clocks",
        [
            "due_at",
            "policy_id",
            "spent_seconds",
            "target_minutes",
            "running_since",
            "stopped_at",
            "ticket_id",
        ],
        sqlite_where=sa.text(RUNNING_CLOCK),
        postgresql_where=sa.text(RUNNING_CLOCK),
    )
    op.create_index("ix_changes_closed_outcome", "changes", ["closed_at", "outcome", "team_id"])
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_changes_closed_outcome", table_name="changes")
    op.drop_index("ix_sla_clocks_running", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_spent", table_name="sla_clocks")
    op.drop_table("kpi_dirty")
    op.drop_table("kpi_days")
    op.drop_index("ix_kpi_rollup_bucket", table_name="kpi_rollup")
    op.drop_index("ix_kpi_rollup_measure_day", table_name="kpi_rollup")
    op.drop_table("kpi_rollup")
