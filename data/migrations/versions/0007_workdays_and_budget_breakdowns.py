"""Calendars list make-up working days; a budget may break a longer one down.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Make-up working days (调休) and the weekday whose hours they work; constant defaults,
    # so existing calendars are rewritten by neither database.
    op.add_column(
        "calendars",
        sa.Column("workdays", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    )
    op.add_column(
        "calendars",
        sa.Column("workdays_as", sa.String(length=3), server_default="mon", nullable=False),
    )
    # January's budget and the year's start on the same day: a budget is its category and
    # its whole period, so a month can break its year down.
    with op.batch_alter_table("budgets") as batch:
        batch.drop_constraint("uq_budgets_period", type_="unique")
        batch.create_unique_constraint(
            "uq_budgets_period", ["category", "period_start", "period_end"]
        )


def downgrade() -> None:
    # The older key holds one budget per category and first day: the longest stays.
    op.execute(
        "DELETE FROM budgets WHERE EXISTS (SELECT 1 FROM budgets AS longer"
        " WHERE longer.category = budgets.category"
        " AND longer.period_start = budgets.period_start"
        " AND longer.period_end > budgets.period_end)"
    )
    with op.batch_alter_table("budgets") as batch:
        batch.drop_constraint("uq_budgets_period", type_="unique")
        batch.create_unique_constraint("uq_budgets_period", ["category", "period_start"])
    # A plain DROP COLUMN on both (SQLite 3.35+): a batch copy of calendars would have to
    # drop a table that SLA policies refer to.
    op.execute("ALTER TABLE calendars DROP COLUMN workdays_as")
    op.execute("ALTER TABLE calendars DROP COLUMN workdays")
