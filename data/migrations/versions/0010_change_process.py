"""The change process: per-type states, implementers, templates, risk reasons, schedule
overrides, incidents a change caused, service dependencies, maintenance and recurring
freeze windows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from itsm_tui.data.models import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The CAB's step is called authorization now, and an authorized change is scheduled (its
# window was planned before it went to the CAB).
# changes.id and tickets.id: BIGINT on PostgreSQL, SQLite's rowid INTEGER.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

RENAMED = {"awaiting_approval": "authorization", "approved": "scheduled"}


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IMPLEMENTER_FK = "fk_changes_implementer_id_agents"


def upgrade() -> None:
    # Plain ADD COLUMNs: none rewrites a row, and batch mode's copy-and-drop would trip the
    # foreign keys that tickets and other tables hold on changes and services.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # On SQLite the reference goes in the ADD COLUMN itself (as in 0008).
        op.execute(
            f"ALTER TABLE changes ADD COLUMN implementer_id INTEGER "
            f"CONSTRAINT {IMPLEMENTER_FK} REFERENCES agents (id)"
        )
    else:
        op.add_column("changes", sa.Column("implementer_id", sa.Integer(), nullable=True))
        op.create_foreign_key(IMPLEMENTER_FK, "changes", "agents", ["implementer_id"], ["id"])
    op.add_column("changes", sa.Column("template", sa.String(length=80), nullable=True))
    op.add_column("changes", sa.Column("risk_reasons", sa.JSON(), nullable=True))
    op.add_column("changes", sa.Column("schedule_overrides", sa.JSON(), nullable=True))
    op.add_column("changes", sa.Column("submitted_at", UtcDateTime(), nullable=True))
    op.add_column("changes", sa.Column("authorized_at", UtcDateTime(), nullable=True))
    op.add_column("changes", sa.Column("reviewed_at", UtcDateTime(), nullable=True))
    op.create_index("ix_changes_implementer", "changes", ["implementer_id", "planned_start"])
    changes = sa.table("changes", sa.column("status", sa.String))
    for old, new in RENAMED.items():
        op.execute(changes.update().where(changes.c.status == old).values(status=new))

    op.create_table(
        "change_caused_incidents",
        sa.Column("change_id", BIG_ID, nullable=False),
        sa.Column("ticket_id", BIG_ID, nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"], ["changes.id"], name="fk_change_caused_incidents_change_id_changes"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_change_caused_incidents_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["agents.id"], name="fk_change_caused_incidents_linked_by_id_agents"
        ),
        sa.PrimaryKeyConstraint("change_id", "ticket_id", name="pk_change_caused_incidents"),
    )
    op.create_index("ix_change_caused_incidents_ticket", "change_caused_incidents", ["ticket_id"])

    op.create_table(
        "service_dependencies",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("depends_on_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name="fk_service_dependencies_service_id_services"
        ),
        sa.ForeignKeyConstraint(
            ["depends_on_id"],
            ["services.id"],
            name="fk_service_dependencies_depends_on_id_services",
        ),
        sa.PrimaryKeyConstraint("service_id", "depends_on_id", name="pk_service_dependencies"),
    )
    op.create_index("ix_service_dependencies_depends_on", "service_dependencies", ["depends_on_id"])
    op.add_column(
        "services",
        sa.Column("maintenance_windows", sa.JSON(), nullable=False, server_default="[]"),
    )
    op.add_column("freeze_windows", sa.Column("recurrence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("freeze_windows") as batch_op:
        batch_op.drop_column("recurrence")
    op.drop_index("ix_service_dependencies_depends_on", table_name="service_dependencies")
    op.drop_table("service_dependencies")
    # Not in batch mode: a batch copies services, and dropping the original fails the foreign
    # keys of every ticket and catalogue item pointing at it. SQLite drops a column in place
    # since 3.35.
    op.drop_column("services", "maintenance_windows")
    op.drop_index("ix_change_caused_incidents_ticket", table_name="change_caused_incidents")
    op.drop_table("change_caused_incidents")
    # Scheduled existed before too: only authorization goes back.
    changes = sa.table("changes", sa.column("status", sa.String))
    op.execute(
        changes.update()
        .where(changes.c.status == "authorization")
        .values(status="awaiting_approval")
    )
    op.drop_index("ix_changes_implementer", table_name="changes")
    with op.batch_alter_table("changes") as batch_op:
        # On SQLite the batch copy leaves the dropped column's reference behind by itself.
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(IMPLEMENTER_FK, type_="foreignkey")
        for column in (
            "reviewed_at",
            "authorized_at",
            "submitted_at",
            "schedule_overrides",
            "risk_reasons",
            "template",
            "implementer_id",
        ):
            batch_op.drop_column(column)
