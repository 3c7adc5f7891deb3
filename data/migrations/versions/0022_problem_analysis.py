"""A problem's root-cause analysis (five whys or free text), and the index of the
recurring-incident scan (a service's unlinked incidents by title and time).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As data/models.py's UNLINKED_INCIDENT when this revision was written.
UNLINKED_INCIDENT = "type = 'incident' AND problem_id IS NULL"


def upgrade() -> None:
    # {"method": "five_whys", "whys": [...]} or {"method": "free_text", "text": "..."};
    # NULL until an analysis is recorded (the root cause itself stays in root_cause).
    # A plain ADD COLUMN on both databases: a million-ticket table is not copied.
    op.add_column("tickets", sa.Column("analysis", sa.JSON(), nullable=True))
    op.create_index(
        "ix_tickets_unlinked_incidents",
        "tickets",
        ["service_id", "title", "opened_at"],
        sqlite_where=sa.text(UNLINKED_INCIDENT),
        postgresql_where=sa.text(UNLINKED_INCIDENT),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_unlinked_incidents", table_name="tickets")
    # In place too (SQLite 3.35+ drops a plain column): a batch copy of tickets would
    # drop the table every other table points at.
    op.drop_column("tickets", "analysis")
