"""The outbox: notifications on their way out of the app, and each attempt to send one.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("notification_id", _ID, nullable=False),
        sa.Column("recipient", sa.String(80)),
        sa.Column("team", sa.String(80)),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text()),
        sa.Column("quiet", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        _when("due_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(80)),
        _when("lease_until"),
        _when("created_at", nullable=False),
        _when("sent_at"),
        sa.Column("last_error", sa.Text()),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_outbox_notification_id_notifications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "due_at", "id"])
    op.create_index("ix_outbox_notification", "outbox", ["notification_id"])
    op.create_table(
        "outbox_attempts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("outbox_id", _ID, nullable=False),
        _when("at", nullable=False),
        sa.Column("deliverer", sa.String(80), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_outbox_attempts_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_attempts"),
    )
    op.create_index("ix_outbox_attempts_message", "outbox_attempts", ["outbox_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_attempts_message", table_name="outbox_attempts")
    op.drop_table("outbox_attempts")
    op.drop_index("ix_outbox_notification", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
