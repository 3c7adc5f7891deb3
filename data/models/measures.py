"""What the KPIs measure beyond tickets: outages, surveys, complaints, time entries, budgets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
)

if TYPE_CHECKING:
    from .organisation import Service


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


class KpiRollup(Base):
    """One measure of one local day (in the desk's zone) for one set of keys: the sums the
    KPIs add up instead of reading a period's tickets (data/kpi/rollup.py, docs/kpi.md).

    Keys a measure does not use are NULL; so is a ticket's missing team or service.
    `bucket`, `lo` and `hi` belong to the clock-time histograms: the bucket's lower bound
    in seconds and the smallest and largest time in it."""

    __tablename__ = "kpi_rollup"
    __table_args__ = (
        Index("ix_kpi_rollup_measure_day", "measure", "day"),
        # The exact 90th percentile: one histogram bucket's seconds over a period's days
        # (the `*_exact` measures), read off the index alone.
        Index("ix_kpi_rollup_bucket", "measure", "bucket", "day", "priority", "n"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(24))
    type: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    bucket: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[float | None] = mapped_column(Float)
    lo: Mapped[int | None] = mapped_column(BigInteger)
    hi: Mapped[int | None] = mapped_column(BigInteger)


class KpiDay(Base):
    """A local day whose rollups are built, and the zone they were built in (a day of
    another zone is not this desk's day any more: it counts as not built)."""

    __tablename__ = "kpi_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    # The rollups cover [the day's start, built_until): the day's end once it is over;
    # for today, the last refresh (a refresh adds the stretch since).
    built_until: Mapped[datetime]


class KpiDirty(Base):
    """An instant whose figures changed (an event's instant before or after a write).
    Its day is dirty when the rollups already cover that instant.

    Written by database triggers (data/kpi/rollup_triggers.py), so every write path marks
    it; plain inserts, never an upsert, so that a refresh deletes exactly the marks it saw
    and a concurrent writer's mark survives it."""

    __tablename__ = "kpi_dirty"
    __table_args__ = (Index("ix_kpi_dirty_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
