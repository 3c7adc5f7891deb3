"""Tickets and what hangs off each: comments, the audit trail, SLA clocks, escalations."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    REASSIGNMENT_EVENT,
    SLA_DUE_NEVER_TEXT,
    UNLINKED_INCIDENT,
    Base,
)

if TYPE_CHECKING:
    from .changes import Change
    from .configuration import SlaPolicy
    from .knowledge import KnowledgeArticle
    from .organisation import Agent, CatalogueItem, Requester, Service, Team


class Ticket(Base):
    """An incident, a service request or a problem."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str] = mapped_column(String(16))  # incident | request | problem
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24))
    # Derived from status by the write path; leads the queue's indexes so that the
    # open-ticket views are one index range on both databases (see PERF-NOTES).
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    impact: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    priority_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(80), default="")
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("requesters.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    catalogue_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_items.id"))
    # Request form answers.
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    approved_at: Mapped[datetime | None]
    # Links.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    change_id: Mapped[int | None] = mapped_column(
        ForeignKey("changes.id", use_alter=True, name="fk_tickets_change_id_changes")
    )
    kb_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("knowledge_articles.id", use_alter=True, name="fk_tickets_kb_article_id_kb")
    )
    is_major: Mapped[bool] = mapped_column(Boolean, default=False)
    # Problems.
    root_cause: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    known_error: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the root cause was found: {"method": "five_whys", "whys": [...]} or
    # {"method": "free_text", "text": ...} (itsm_tui.desk.problems).
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Lifecycle.
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The queue's SLA sort key: the nearest due_at of the ticket's counting clocks (running
    # or breached, not stopped), SLA_DUE_NEVER when none counts. Derived, never exported:
    # kept by itsm_tui.desk.sla.refresh_sla_due on every clock change, and by the seed.
    # A server default only, neither loaded with the ticket nor fetched after an insert
    # (eager_defaults below): the ORM never names it, so an insert gets SLA_DUE_NEVER from
    # the database and the desk's writes work on a store of an older revision too.
    sla_due_at: Mapped[datetime] = mapped_column(
        server_default=text(f"'{SLA_DUE_NEVER_TEXT}'"), deferred=True
    )
    # A catalogue request's delivery standard as an instant: the item's fulfilment time
    # in business time from when fulfilment could start (submission, or the approval).
    # Set by the write path; like sla_due_at, never named by the ORM unless set.
    promised_at: Mapped[datetime | None] = mapped_column(server_default=text("NULL"), deferred=True)

    service: Mapped[Service | None] = relationship()
    requester: Mapped[Requester | None] = relationship()
    team: Mapped[Team | None] = relationship()
    assignee: Mapped[Agent | None] = relationship(foreign_keys=[assignee_id])
    catalogue_item: Mapped[CatalogueItem | None] = relationship()
    parent: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    problem: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[problem_id])
    change: Mapped[Change | None] = relationship(foreign_keys=[change_id])
    kb_article: Mapped[KnowledgeArticle | None] = relationship(foreign_keys=[kb_article_id])

    # SQLAlchemy checks the version in every UPDATE's WHERE: a concurrent writer that
    # slipped in between our read and our write makes the flush fail, never overwrite.
    # The desk sets the next version itself, once per write (see itsm_tui.desk.records).
    __mapper_args__ = {
        "version_id_col": version,
        "version_id_generator": False,
        "eager_defaults": False,
    }

    __table_args__ = (
        # The queue: open tickets by priority then age, overall / per team / per assignee.
        Index("ix_tickets_queue", "is_open", "priority", "opened_at", "id"),
        Index("ix_tickets_team_queue", "team_id", "is_open", "priority", "opened_at", "id"),
        Index("ix_tickets_assignee_queue", "assignee_id", "is_open", "priority", "opened_at", "id"),
        # "Unassigned" in queue order: PostgreSQL does not take `assignee_id IS NULL` as
        # fixing the column, so the assignee index cannot give it the order (it sorted them).
        Index(
            "ix_tickets_unassigned_queue",
            "is_open",
            "priority",
            "opened_at",
            "id",
            sqlite_where=text("assignee_id IS NULL"),
            postgresql_where=text("assignee_id IS NULL"),
        ),
        # The queue sorted by age: open tickets in opened order without sorting them all.
        Index("ix_tickets_open_age", "is_open", "opened_at", "id"),
        # The queue sorted by SLA ("what breaches next"): open tickets by their stored key.
        Index("ix_tickets_open_sla", "is_open", "sla_due_at", "id"),
        Index("ix_tickets_status", "status", "priority", "opened_at"),
        Index("ix_tickets_type_opened", "type", "opened_at"),
        # The KPIs' id sets: a type's tickets of a priority, a team, a service (data/kpi).
        Index("ix_tickets_type_priority", "type", "priority", "team_id", "service_id"),
        Index("ix_tickets_opened_at", "opened_at"),
        # KPIs over periods.
        Index("ix_tickets_resolved_at", "resolved_at"),
        # The resolved-ticket KPIs of a period read the index alone (data/kpi).
        Index(
            "ix_tickets_resolved_kpi",
            "resolved_at",
            "type",
            "team_id",
            "service_id",
            "assignee_id",
            "opened_at",
            "reopen_count",
            "escalation_level",
        ),
        Index("ix_tickets_closed_at", "closed_at"),
        Index("ix_tickets_service", "service_id", "opened_at"),
        Index("ix_tickets_requester", "requester_id"),
        Index("ix_tickets_parent", "parent_id"),
        Index("ix_tickets_problem", "problem_id"),
        # The recurring-incident scan (data/recurring.py): a service's unlinked incidents
        # in opened order with their titles, read from the index alone.
        Index(
            "ix_tickets_unlinked_incidents",
            "service_id",
            "title",
            "opened_at",
            sqlite_where=text(UNLINKED_INCIDENT),
            postgresql_where=text(UNLINKED_INCIDENT),
        ),
    )


class FulfilmentTask(Base):
    """One step of a catalogue request's fulfilment plan, created when its turn comes.

    The plan is the item's `tasks`; a step's row exists from the moment it is handed to its
    team (`open`) until it is `done` (or `cancelled` with its request). The request itself
    is held by the team of its open step, so the step shows in that team's queue.
    """

    __tablename__ = "fulfilment_tasks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "position", name="uq_fulfilment_tasks_step"),
        # A team's open steps, oldest first.
        Index("ix_fulfilment_tasks_team", "team_id", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # 1, 2, … in the item's order; `steps`: how many the plan had when the request began.
    position: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # The expected duration in business minutes, when the item names one.
    expected_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open | done | cancelled
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    team: Mapped[Team | None] = relationship()
    done_by: Mapped[Agent | None] = relationship()


class Comment(Base):
    """A public reply to the requester or an internal work note."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # For imported history whose author is not an agent of this desk.
    author_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # reply | work_note
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    author: Mapped[Agent | None] = relationship()

    __table_args__ = (
        Index("ix_comments_ticket", "ticket_id", "created_at"),
        Index("ix_comments_change", "change_id", "created_at"),
    )


class AuditEvent(Base):
    """Append-only: who changed which field of which record, from what to what."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    record_type: Mapped[str] = mapped_column(String(24))
    record_id: Mapped[int] = mapped_column(BigInteger)
    record_number: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    # The record version this event produced: a stale writer is told what happened since.
    record_version: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    # The administrator who acted as `actor` (`itsm --as`): both are named in the audit.
    # Like tickets.sla_due_at, never named by the ORM unless set (a server default, not
    # loaded, not fetched back): the desk's writes work on a store of an older revision.
    impersonator_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id"), server_default=text("NULL"), deferred=True
    )

    actor: Mapped[Agent | None] = relationship(foreign_keys=[actor_id])
    impersonator: Mapped[Agent | None] = relationship(foreign_keys=[impersonator_id])

    __mapper_args__ = {"eager_defaults": False}

    __table_args__ = (
        # A record's history newest first by time, a page at a time (data/history.py).
        Index("ix_audit_record", "record_type", "record_id", "at", "id"),
        Index("ix_audit_at", "at"),
        Index(
            "ix_audit_reassignments",
            "record_id",
            "record_version",
            sqlite_where=text(REASSIGNMENT_EVENT),
            postgresql_where=text(REASSIGNMENT_EVENT),
        ),
    )


# The running clocks nearing breach reads (data/kpi/operations.py).
RUNNING_CLOCK = "state = 'running'"


class SlaClock(Base):
    """One SLA timer of a ticket: response or resolution."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_sla_clocks_ticket_kind"),
        # The sweep: running clocks by due time and by next warning time.
        Index("ix_sla_clocks_due", "state", "due_at"),
        # Set only while a clock counts and has an event left: the sweep's one range scan.
        Index("ix_sla_clocks_next_event", "next_event_at"),
        # "Breached": a ticket's clock still counting past its target, probed per ticket.
        # Most breached clocks are history (stopped); this holds only the live ones.
        Index(
            "ix_sla_clocks_breached_open",
            "ticket_id",
            sqlite_where=text("state = 'breached' AND stopped_at IS NULL"),
            postgresql_where=text("state = 'breached' AND stopped_at IS NULL"),
        ),
        # The KPIs: clocks stopped in a period (state and time spent read off the index),
        # and breaches of a day.
        Index("ix_sla_clocks_stopped", "kind", "stopped_at", "state", "spent_seconds", "ticket_id"),
        Index("ix_sla_clocks_breached_at", "breached_at", "kind", "state", "ticket_id"),
        # The exact 90th percentile: the clocks of one histogram bucket (data/kpi/rollup.py).
        Index("ix_sla_clocks_spent", "kind", "spent_seconds", "stopped_at", "state", "ticket_id"),
        # Nearing breach: the running clocks with all the KPI reads of them, so the read
        # never visits a clock's row (20,000 row visits were 0.3 s at a million tickets).
        # `state` too: SQLite counts an index as covering only when it holds every column
        # the read names, its partial WHERE's included (migration 0030).
        Index(
            "ix_sla_clocks_running",
            "due_at",
            "policy_id",
            "spent_seconds",
            "target_minutes",
            "running_since",
            "stopped_at",
            "ticket_id",
            "state",
            sqlite_where=text(RUNNING_CLOCK),
            postgresql_where=text(RUNNING_CLOCK),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # response | resolution
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    target_minutes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="running")
    # Start of the current running stretch (None while paused or stopped).
    running_since: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    # Business time spent paused, and counted in earlier running stretches (kept across
    # pauses, reopenings and re-targeting).
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    spent_seconds: Mapped[int] = mapped_column(Integer, default=0)
    stopped_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    # The highest percent of the target whose events (warnings, breach, escalation
    # levels) have fired; it only grows, so nothing fires twice.
    fired_percent: Mapped[int] = mapped_column(Integer, default=0)
    warnings_fired: Mapped[int] = mapped_column(Integer, default=0)
    next_event_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)

    ticket: Mapped[Ticket] = relationship()
    policy: Mapped[SlaPolicy | None] = relationship()


class Escalation(Base):
    __tablename__ = "escalations"
    # One row per clock, kind and level: the database itself refuses a second firing.
    __table_args__ = (
        UniqueConstraint("clock_id", "kind", "level", name="uq_escalations_once"),
        Index("ix_escalations_ticket", "ticket_id", "at"),
        Index("ix_escalations_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("sla_clocks.id"))
    kind: Mapped[str] = mapped_column(String(16))  # warning | breach
    level: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    rule: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
