"""Agents keep a read mark: notices delivered at or before it count as read.

"Mark all read" with one receipt per team notice would insert a row per notice (at a
million tickets a team holds over half a million notices), and the inbox's unread count
would still walk every notice of the team, probing receipts. The mark is one timestamp
per agent; the inbox reads only notices delivered after it (docs/notifications.md).
NULL (every agent after the upgrade) is no mark: nothing is hidden that was not before.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy of `agents` on SQLite would drop a
    # table every other table's foreign keys point at.
    op.add_column(
        "agents",
        sa.Column(
            "notices_read_through", UtcDateTime(), nullable=True, server_default=sa.text("NULL")
        ),
    )


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (as 0010's downgrade).
    op.drop_column("agents", "notices_read_through")
