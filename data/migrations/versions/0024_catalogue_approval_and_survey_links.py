"""Catalogue items name the role that approves their requests; survey invitations (one-use
link tokens, one per ticket).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.add_column(sa.Column("approval_role", sa.String(length=40), nullable=True))
    op.create_table(
        "survey_invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_survey_invitations_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["agents.id"], name="fk_survey_invitations_sent_by_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_survey_invitations"),
        sa.UniqueConstraint("ticket_id", name="uq_survey_invitations_ticket_id"),
        sa.UniqueConstraint("token_hash", name="uq_survey_invitations_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("survey_invitations")
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("approval_role")
