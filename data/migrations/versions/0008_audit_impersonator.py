"""Audit events name the administrator who acted as another agent (`itsm --as`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_audit_events_impersonator_id_agents"


def upgrade() -> None:
    # A nullable column without a default rewrites no row. On SQLite the reference goes in
    # the ADD COLUMN itself: Alembic would add it as a constraint by copying the whole table.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE audit_events ADD COLUMN impersonator_id INTEGER "
            f"CONSTRAINT {FK} REFERENCES agents (id)"
        )
        return
    op.add_column("audit_events", sa.Column("impersonator_id", sa.Integer(), nullable=True))
    op.create_foreign_key(FK, "audit_events", "agents", ["impersonator_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(FK, type_="foreignkey")
        batch.drop_column("impersonator_id")
