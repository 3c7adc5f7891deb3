"""Indexes the KPIs read a period through: stopped and breached clocks, resolved tickets,
tickets by type and priority, reassignments, escalations by time.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# As data/models.py's REASSIGNMENT_EVENT when this revision was written.
REASSIGNMENT_EVENT = (
    "record_type = 'ticket' AND field IN ('team', 'assignee') AND old_value IS NOT NULL"
)

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Response, resolution and SLA compliance read the clocks stopped in a period: the
    # state and the time spent ride in the index, so compliance is an index-only range.
    op.create_index(
        "ix_sla_clocks_stopped",
        "sla_clocks",
        ["kind", "stopped_at", "state", "spent_seconds", "ticket_id"],
    )
    # "Breaches today".
    op.create_index(
        "ix_sla_clocks_breached_at", "sla_clocks", ["breached_at", "kind", "state", "ticket_id"]
    )
    # Per-ticket figures (a type's tickets of a priority, a team, a service) read their
    # ticket ids off this index instead of each ticket's row.
    op.create_index(
        "ix_tickets_type_priority", "tickets", ["type", "priority", "team_id", "service_id"]
    )
    # Reassignments: the few audit events that replaced a ticket's holder.
    op.create_index(
        "ix_audit_reassignments",
        "audit_events",
        ["record_id", "record_version"],
        sqlite_where=sa.text(REASSIGNMENT_EVENT),
        postgresql_where=sa.text(REASSIGNMENT_EVENT),
    )
    # "Escalations today".
    op.create_index("ix_escalations_at", "escalations", ["at"])
    # The tickets resolved in a period with every column the resolved-ticket KPIs read
    # (request cycle, tickets per agent, reopen rate, first-contact resolution).
    op.create_index(
        "ix_tickets_resolved_kpi",
        "tickets",
        [
            "resolved_at",
            "type",
            "team_id",
            "service_id",
            "assignee_id",
            "opened_at",
            "reopen_count",
            "escalation_level",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_audit_reassignments", table_name="audit_events")
    op.drop_index("ix_tickets_type_priority", table_name="tickets")
    op.drop_index("ix_tickets_resolved_kpi", table_name="tickets")
    op.drop_index("ix_escalations_at", table_name="escalations")
    op.drop_index("ix_sla_clocks_breached_at", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_stopped", table_name="sla_clocks")
