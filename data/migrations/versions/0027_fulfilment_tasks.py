"""Catalogue items carry their fulfilment plan; a request's steps are fulfilment tasks; a
request keeps the instant its item's delivery standard promised.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.add_column(sa.Column("tasks", sa.JSON(), nullable=True))
    # Added in place (no batch copy): tickets is the big table, and SQLite adds a nullable
    # column without rewriting it.
    op.add_column("tickets", sa.Column("promised_at", UtcDateTime(), nullable=True))
    op.create_table(
        "fulfilment_tasks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("expected_minutes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_fulfilment_tasks_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_fulfilment_tasks_team_id_teams"
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["agents.id"], name="fk_fulfilment_tasks_done_by_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_fulfilment_tasks"),
        sa.UniqueConstraint("ticket_id", "position", name="uq_fulfilment_tasks_step"),
    )
    op.create_index(
        "ix_fulfilment_tasks_team", "fulfilment_tasks", ["team_id", "status", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_fulfilment_tasks_team", table_name="fulfilment_tasks")
    op.drop_table("fulfilment_tasks")
    # In place, as 0022 drops its column: a batch copy of tickets trips on its foreign keys.
    op.drop_column("tickets", "promised_at")
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("tasks")
