"""The desk's records as SQLAlchemy 2.x typed declarative models (SPEC §2).

Times are stored as naive UTC on both databases and come back as aware UTC
(`UtcDateTime`), so nothing above this module ever compares naive and aware
instants. Status and kind columns are plain strings; the state machines in
`itsm_tui.domain` are the one definition of what values are allowed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must carry a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a bulk-loaded row
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


# A ticket's SLA sort key when no clock of it counts: after every clock that does. Stored,
# not NULL, so that NULL ordering never differs between SQLite and PostgreSQL. The text is
# how SQLAlchemy writes the instant on SQLite (compared as text there): the server default.
SLA_DUE_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
SLA_DUE_NEVER_TEXT = "9999-12-31 00:00:00.000000"

# An audit event that replaced a ticket's holder (a team or an agent over a set one): the
# KPIs' reassignments. Literal SQL, so that both databases match it to the partial index
# (SQLite cannot match bound parameters against an index's WHERE).
REASSIGNMENT_EVENT = (
    "record_type = 'ticket' AND field IN ('team', 'assignee') AND old_value IS NOT NULL"
)

# An incident no problem holds yet. Literal SQL, so that both databases match it to the
# partial index of the recurring scan.
UNLINKED_INCIDENT = "type = 'incident' AND problem_id IS NULL"

# Named constraints so Alembic migrations are stable and PostgreSQL/SQLite agree.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


# ---------------------------------------------------------------------------
# People and organisation


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int] = mapped_column(Integer, default=1)
    email: Mapped[str | None] = mapped_column(String(200))
    # Where tickets go when they breach (the next tier).
    escalation_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", use_alter=True, name="fk_teams_escalation_team_id_teams")
    )
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", use_alter=True, name="fk_teams_supervisor_id_agents")
    )

    escalation_team: Mapped[Team | None] = relationship(remote_side=[id])
    supervisor: Mapped[Agent | None] = relationship(foreign_keys=[supervisor_id])


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    # Space-separated role names; `itsm_tui.domain.roles` defines them.
    roles: Mapped[str] = mapped_column(String(200), default="agent")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    hourly_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    # The SSH public keys that sign this agent in to `itsm serve`, oldest first.
    ssh_keys: Mapped[list[AgentKey]] = relationship(
        back_populates="agent",
        cascade="all, delete-orphan",
        order_by="AgentKey.id",
    )

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


class AgentKey(Base):
    """One SSH public key of one agent: who a remote session is comes from its key."""

    __tablename__ = "agent_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    # OpenSSH's SHA256 fingerprint ("SHA256:…"): what a login is looked up by, and so unique:
    # a key signs in as one agent only.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    # The key as an authorized_keys line writes it: "ssh-ed25519 AAAA… comment".
    public_key: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime]

    agent: Mapped[Agent] = relationship(back_populates="ssh_keys")


class Requester(Base):
    __tablename__ = "requesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # 1 = business critical … 4 = low.
    criticality: Mapped[int] = mapped_column(Integer, default=3)
    availability_target: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("99.9"))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # When changes may run: [{"name", "starts_at" (first occurrence, aware ISO),
    # "ends_at", "recurrence" (RRULE or null)}] as the desk file gives them.
    # A server default only, neither loaded with the service nor fetched after an insert:
    # an insert that never names it (on an older revision's store too) gets [] from the
    # database.
    maintenance_windows: Mapped[list[Any]] = mapped_column(
        JSON, server_default=text("'[]'"), deferred=True
    )

    owner_team: Mapped[Team | None] = relationship()

    __mapper_args__ = {"eager_defaults": False}
    # The services this one rides on (rows of service_dependencies).
    depends_on: Mapped[list[Service]] = relationship(
        secondary="service_dependencies",
        primaryjoin="Service.id == ServiceDependency.service_id",
        secondaryjoin="Service.id == ServiceDependency.depends_on_id",
        order_by="Service.name",
    )


class ServiceDependency(Base):
    """Service `service_id` rides on `depends_on_id`: a change or an outage of the second
    reaches the first."""

    __tablename__ = "service_dependencies"
    __table_args__ = (Index("ix_service_dependencies_depends_on", "depends_on_id"),)

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)


class CatalogueItem(Base):
    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who approves a request: agents holding this role; None: the approve_request permission.
    # Like Service.maintenance_windows: an insert that never names it (on a store from
    # before revision 0024 too) gets NULL from the database.
    approval_role: Mapped[str | None] = mapped_column(
        String(40), server_default=text("NULL"), deferred=True
    )
    # Target fulfilment time in business minutes.
    fulfilment_minutes: Mapped[int] = mapped_column(Integer, default=480)
    # Form fields a requester fills in: [{"name", "label", "required", "kind"}].
    form: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[Team | None] = relationship()
    service: Mapped[Service | None] = relationship()

    __mapper_args__ = {"eager_defaults": False}


# ---------------------------------------------------------------------------
# Desk configuration that is not an entity of its own


class BusinessCalendar(Base):
    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], …}
    hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # ["2026-10-01", …] local dates
    holidays: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Make-up working days (调休), local dates worked on the hours of `workdays_as`.
    workdays: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    workdays_as: Mapped[str] = mapped_column(String(3), default="mon", server_default="mon")


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # Lower rank wins when several policies match a ticket.
    rank: Mapped[int] = mapped_column(Integer, default=100)
    # {"types": [...], "priorities": [...], "services": [...], "catalogue_items": [...]}
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendars.id"))
    warn_at_percent: Mapped[list[Any]] = mapped_column(JSON, default=lambda: [50, 75])
    pause_statuses: Mapped[list[Any]] = mapped_column(JSON, default=lambda: ["pending"])

    calendar: Mapped[BusinessCalendar] = relationship()


class EscalationRule(Base):
    __tablename__ = "escalation_rules"
    __table_args__ = (UniqueConstraint("name", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    # Percent of the target elapsed when this level fires (100 = at breach).
    at_percent: Mapped[int] = mapped_column(Integer, default=100)
    # Which clocks: {"kinds": ["resolution"], "priorities": [1, 2], "types": [...]}
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # ["notify_supervisor", "reassign_escalation_team", "raise_priority", "page_on_call", …]
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DeskSetting(Base):
    """Settings with no table of their own: priority matrix, KPI targets, risk questionnaire…"""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class FreezeWindow(Base):
    __tablename__ = "freeze_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    # Empty: the freeze covers every service.
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # An iCalendar RRULE ("FREQ=MONTHLY;BYMONTHDAY=-1"): the window recurs, each occurrence
    # as long as the first (starts_at … ends_at). None: a one-off window.
    recurrence: Mapped[str | None] = mapped_column(Text)
    # The IANA zone the recurrence steps in (its local hours hold across DST changes);
    # None: the desk's time zone.
    timezone: Mapped[str | None] = mapped_column(String(64))


class NumberSequence(Base):
    """The next human number per prefix (INC, REQ, PRB, CHG, KB); one row each."""

    __tablename__ = "number_sequences"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


# ---------------------------------------------------------------------------
# Tickets


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


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "agent_id", "read_at", "deliver_at"),
        # The inbox's team branch: team_id, agent_id IS NULL and read_at IS NULL pinned
        # (a team notice's read_at stays NULL since revision 0004), then the page order
        # (deliver_at, id) straight off the index, on PostgreSQL without a heap visit.
        Index("ix_notifications_team", "team_id", "agent_id", "read_at", "deliver_at", "id"),
        Index("ix_notifications_outbox", "sent_at", "deliver_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"))
    kind: Mapped[str] = mapped_column(String(24))  # warning | escalation | assignment | approval
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Outside working hours a non-24x7 notification waits for the next working minute.
    deliver_at: Mapped[datetime]
    # When the one addressee read it. A team notice is read by each agent for themselves
    # (NotificationRead); its read_at stays NULL (one set before revision 0004, when the
    # first reader closed it for the whole team, still counts as read by everyone).
    read_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Page(Base):
    """One person paged for a ticket by the on-call rota: the first of a chain is whoever
    was on call; when nobody acknowledges within the rota's timeout the next is paged."""

    __tablename__ = "pages"
    __table_args__ = (
        # The sweep's claim: pages whose answer is overdue (few at any time).
        Index("ix_pages_answer_due", "answer_due_at"),
        Index("ix_pages_ticket", "ticket_id", "paged_at"),
        Index("ix_pages_chain", "chain_id"),
        Index("ix_pages_agent", "agent_id", "paged_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    # 1: whoever was on call; 2, 3…: the next in the rota, then the team's supervisor.
    level: Mapped[int] = mapped_column(Integer)
    # The chain's first page (NULL on the first page itself).
    chain_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    paged_at: Mapped[datetime]
    # When the next is paged if nobody acknowledges; NULL once answered or passed on.
    answer_due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # app | cli | link
    acknowledged_via: Mapped[str | None] = mapped_column(String(8))
    # SHA-256 of the link's token: the store never holds a token that acknowledges.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    agent: Mapped[Agent] = relationship(foreign_keys=[agent_id])
    acknowledged_by: Mapped[Agent | None] = relationship(foreign_keys=[acknowledged_by_id])


class NotificationRead(Base):
    """An agent's receipt for a team notice: read by this agent, at this time.

    The primary key (notification_id, agent_id) is the index the inbox probes with
    NOT EXISTS for each team notice.
    """

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("notifications.id"),
        primary_key=True,
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    read_at: Mapped[datetime]


class OutboxMessage(Base):
    """One notification on its way to one recipient's channel (e-mail, Slack, …).

    Written in the same transaction as its notification (itsm_tui/notify/outbox.py);
    sent, retried and given up on by the deliverer (itsm_tui/notify/deliverer.py).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The deliverer's claim: due rows of a state, oldest due first.
        Index("ix_outbox_due", "state", "due_at", "id"),
        Index("ix_outbox_notification", "notification_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("notifications.id")
    )
    # Whose address this is: an agent's username, or None for a team's own channel.
    recipient: Mapped[str | None] = mapped_column(String(80))
    team: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(16))  # email | slack | dingtalk | …
    # As the desk file gives it: a literal address or "env:NAME" (read when sending).
    address: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    # Whether the recipient's quiet hours hold it back (a page's never do).
    quiet: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sending|sent|dead
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A claim: who is sending it and until when the claim holds.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxAttempt(Base):
    """One try at sending an outbox message, and the answer it got."""

    __tablename__ = "outbox_attempts"
    __table_args__ = (Index("ix_outbox_attempts_message", "outbox_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("outbox.id")
    )
    at: Mapped[datetime]
    deliverer: Mapped[str] = mapped_column(String(80))
    ok: Mapped[bool] = mapped_column(Boolean)
    answer: Mapped[str] = mapped_column(Text, default="")


# ---------------------------------------------------------------------------
# Changes


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

    approvals: Mapped[list[ChangeApproval]] = relationship(back_populates="change")

    # The desk sets the next version itself, once per write (see itsm_tui.desk.records).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        Index("ix_changes_board", "is_open", "status", "planned_start"),
        Index("ix_changes_planned", "planned_start", "planned_end"),
        Index("ix_changes_closed_at", "closed_at"),
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


# ---------------------------------------------------------------------------
# What the KPIs measure


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (Index("ix_outages_service", "service_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    service: Mapped[Service] = relationship()


# ---------------------------------------------------------------------------
# Alerts from monitoring (itsm intake)


class AlertDelivery(Base):
    """One webhook request as received: stored before the sender is answered, so a 2xx
    means "kept", and worked through the desk later (itsm_tui.desk.intake)."""

    __tablename__ = "alert_deliveries"
    # The worker reads the waiting ones in arrival order off this index.
    __table_args__ = (Index("ix_alert_deliveries_waiting", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime]
    # "alertmanager" or "generic": the shape the payload arrived in.
    source: Mapped[str] = mapped_column(String(20))
    # The alerts, already checked and put in one shape (itsm_tui.domain.alerts), as JSON.
    payload: Mapped[str] = mapped_column(Text)
    alert_count: Mapped[int] = mapped_column(Integer)
    processed_at: Mapped[datetime | None]
    # What became of it: tickets opened and updated, or why an alert was refused.
    outcome: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    """One alert (a fingerprint) and the incident it feeds."""

    __tablename__ = "alerts"
    __table_args__ = (
        # An alert's latest row by fingerprint (repeats, resolves).
        Index("ix_alerts_fingerprint", "fingerprint", "id"),
        Index("ix_alerts_ticket", "ticket_id"),
        Index("ix_alerts_group", "group_hash", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    # The fingerprint while this alert is the one its incident is fed by, else NULL: the
    # unique constraint lets one fingerprint map to one open incident only (NULLs differ).
    open_fingerprint: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10))  # firing | resolved
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    # sha256 of the sender's group key (Alertmanager's are long); NULL without one.
    group_hash: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outages.id"))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class AlertGroup(Base):
    """A sender's group of alerts gathered under one major incident."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(Text)
    # sha256 of group_key while its major incident is open, else NULL (as open_fingerprint).
    open_group_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    opened_at: Mapped[datetime]


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_submitted", "submitted_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime]


class SurveyInvitation(Base):
    """A one-use link sent to a ticket's requester for its survey; only the token's hash is kept."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # One invitation per ticket, as there is one survey per ticket.
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    sent_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Complaint(Base):
    """A requester's formal complaint about the service (KPI: down 20% year on year)."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_received", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("requesters.id"))
    received_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text, default="")


class TimeEntry(Base):
    __tablename__ = "time_entries"
    __table_args__ = (
        Index("ix_time_entries_ticket", "ticket_id"),
        Index("ix_time_entries_logged", "logged_at"),
        # A period's cost read off the index alone (data/kpi/cost.py).
        Index("ix_time_entries_cost", "logged_at", "ticket_id", "cost"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    # Cost at the agent's hourly rate when logged: later rate changes don't rewrite history.
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    logged_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class Budget(Base):
    __tablename__ = "budgets"
    # A month may break its year down: the whole period is the budget's identity.
    __table_args__ = (
        UniqueConstraint("category", "period_start", "period_end", name="uq_budgets_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40), default="incident")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")


class KnowledgeArticle(Base):
    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|published|retired
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    views: Mapped[int] = mapped_column(Integer, default=0)
    helpful_yes: Mapped[int] = mapped_column(Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(Integer, default=0)
    # The day an owner should check the article still holds (migration 0023).
    review_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    # The desk sets the next version itself, once per write (see itsm_tui.desk.records).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


# Tables whose rows the desk file owns (`itsm config apply` writes them).
CONFIG_TABLES = (
    BusinessCalendar,
    SlaPolicy,
    EscalationRule,
    DeskSetting,
    Team,
    Agent,
    AgentKey,
    Service,
    ServiceDependency,
    CatalogueItem,
    FreezeWindow,
    Budget,
)
