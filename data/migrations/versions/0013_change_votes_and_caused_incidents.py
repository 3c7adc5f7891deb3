"""The change process's write path: a CAB member's pending votes found by index, and whether
an incident a change caused counts against its first-time success.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "What waits for my vote": one index range per agent, however many changes there are.
    op.create_index(
        "ix_change_approvals_approver", "change_approvals", ["approver_id", "decision", "change_id"]
    )
    # Decided when the link is made (the incident began before the change ended or within
    # the type's review days after): the success KPI then counts with one EXISTS.
    op.add_column(
        "change_caused_incidents",
        sa.Column("within_review", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("change_caused_incidents") as batch_op:
        batch_op.drop_column("within_review")
    op.drop_index("ix_change_approvals_approver", table_name="change_approvals")
