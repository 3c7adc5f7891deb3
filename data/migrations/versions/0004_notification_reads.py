"""Team notices are read by each agent for themselves: one receipt per agent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import itsm_tui.data.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The primary key (notification_id, agent_id) serves the inbox's NOT EXISTS probe.
    # Team notices already read (read_at set: the first reader closed them for the whole
    # team) stay read for everyone, so the upgrade moves no rows and resurfaces nothing.
    op.create_table(
        "notification_reads",
        sa.Column(
            "notification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("read_at", itsm_tui.data.models.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_notification_reads_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_reads_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("notification_id", "agent_id", name=op.f("pk_notification_reads")),
    )
    # A team notice's read_at now stays NULL: with agent_id and read_at in the index, the
    # team branch of the inbox pins three equalities and reads deliver_at in order.
    # (On SQLite, agent_id IS NULL AND read_at IS NULL also fit ix_notifications_inbox,
    # which holds every team's notices; the old (team_id, deliver_at) lost to it.)
    op.drop_index("ix_notifications_team", table_name="notifications")
    op.create_index(
        "ix_notifications_team",
        "notifications",
        ["team_id", "agent_id", "read_at", "deliver_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_team", table_name="notifications")
    op.create_index("ix_notifications_team", "notifications", ["team_id", "deliver_at"])
    op.drop_table("notification_reads")
