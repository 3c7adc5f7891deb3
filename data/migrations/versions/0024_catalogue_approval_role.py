"""Catalogue items name the role that approves their requests.

Revision ID: 0024
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.add_column(sa.Column("approval_role", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("approval_role")
