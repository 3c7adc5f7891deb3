"""Alerts from monitoring: deliveries kept as received, alerts and their incidents,
groups gathered under a major incident.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
    )
    op.create_index("ix_alert_deliveries_waiting", "alert_deliveries", ["processed_at", "id"])
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("open_group_hash", sa.String(length=64), nullable=True),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_alert_groups_ticket_id_tickets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_groups"),
        sa.UniqueConstraint("open_group_hash", name="uq_alert_groups_open_group_hash"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("open_fingerprint", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.Column("group_hash", sa.String(length=64), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_alerts_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], name="fk_alerts_outage_id_outages"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("open_fingerprint", name="uq_alerts_open_fingerprint"),
    )
    op.create_index("ix_alerts_fingerprint", "alerts", ["fingerprint", "id"])
    op.create_index("ix_alerts_ticket", "alerts", ["ticket_id"])
    op.create_index("ix_alerts_group", "alerts", ["group_hash", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_group", table_name="alerts")
    op.drop_index("ix_alerts_ticket", table_name="alerts")
    op.drop_index("ix_alerts_fingerprint", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_groups")
    op.drop_index("ix_alert_deliveries_waiting", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
