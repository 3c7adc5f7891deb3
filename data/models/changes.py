"""Changes, their approvals and the incidents they caused."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
)

if TYPE_CHECKING:
    from .organisation import Agent


class Change(Base):
    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    change_type: Mapped[str] = mapped_column(String(16))  # standard | normal | emergency
    category: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(24))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    risk: Mapped[str | None] = mapped_column(String(16))  # low | medium | high | very_high
    risk_score: Mapped[int | None] = mapped_column(Integer)
    risk_answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What set the level: [{"source": "questionnaire" | "rule", "rule"/"question", "level",
    # "text"}], highest first.
    risk_reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    impact: Mapped[int] = mapped_column(Integer, default=3)
    # Names of affected services.
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # Who carries it out: an agent in two changes at once is a schedule conflict.
    implementer_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The standard-change template it came from (desk file `change_templates`).
    template: Mapped[str | None] = mapped_column(String(80))
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    implementation_plan: Mapped[str] = mapped_column(Text, default="")
    backout_plan: Mapped[str] = mapped_column(Text, default="")
    test_plan: Mapped[str] = mapped_column(Text, default="")
    quorum: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str | None] = mapped_column(String(16))  # successful | failed | backed_out
    review_notes: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    # Schedule conflicts a change manager accepted: [{"conflict", "reason", "by", "at"}].
    schedule_overrides: Mapped[list[Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None]
    authorized_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # When the `change_starting` notice went out (the escalation sweep claims it once, when
    # the planned window starts). Deferred and never named by an insert, like
    # Service.maintenance_windows: a store before revision 0025 takes the same inserts.
    start_noticed_at: Mapped[datetime | None] = mapped_column(deferred=True)

    approvals: Mapped[list[ChangeApproval]] = relationship(back_populates="change")

    # The desk sets the next version itself, once per write (see itsm_tui.desk.records).
    __mapper_args__ = {
        "version_id_col": version,
        "version_id_generator": False,
        "eager_defaults": False,
    }
    __table_args__ = (
        Index("ix_changes_board", "is_open", "status", "planned_start"),
        Index("ix_changes_planned", "planned_start", "planned_end"),
        Index("ix_changes_closed_at", "closed_at"),
        # Change first-time success (data/kpi/changes.py): a period's closed changes read
        # off the index alone, not each change's row (0.45 s to 0.07 s for 18,500).
        Index("ix_changes_closed_outcome", "closed_at", "outcome", "team_id"),
        Index("ix_changes_implementer", "implementer_id", "planned_start"),
    )


class ChangeCausedIncident(Base):
    """An incident a change caused: a change with one is not a first-time success."""

    __tablename__ = "change_caused_incidents"
    __table_args__ = (Index("ix_change_caused_incidents_ticket", "ticket_id"),)

    change_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("changes.id"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("tickets.id"), primary_key=True
    )
    linked_at: Mapped[datetime]
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The incident began before the change ended or within its type's review days after:
    # it counts against the change's first-time success (itsm_tui.data.change_outcomes).
    within_review: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)


class ChangeApproval(Base):
    __tablename__ = "change_approvals"
    __table_args__ = (
        UniqueConstraint("change_id", "approver_id", name="uq_change_approver"),
        # A CAB member's pending votes (itsm_tui.data.change_lists.awaiting_approval_by).
        Index("ix_change_approvals_approver", "approver_id", "decision", "change_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    approver_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    change: Mapped[Change] = relationship(back_populates="approvals")
    approver: Mapped[Agent] = relationship()
