"""Changes remember when their `change_starting` notice went out (once per change).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("start_noticed_at", UtcDateTime(), nullable=True))
    # Windows that started before this revision are not announced after the fact: the
    # first sweep after an upgrade would otherwise tell of every change ever scheduled.
    changes = sa.table(
        "changes",
        sa.column("planned_start", UtcDateTime()),
        sa.column("start_noticed_at", UtcDateTime()),
    )
    op.get_bind().execute(
        sa.update(changes)
        .where(changes.c.planned_start <= sa.bindparam("now", type_=UtcDateTime()))
        .values(start_noticed_at=changes.c.planned_start),
        {"now": datetime.now(UTC)},
    )


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("start_noticed_at")
