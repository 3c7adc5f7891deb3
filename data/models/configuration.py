"""Desk configuration that is not an entity of its own: calendars, SLA policies,
escalation rules, settings, freezes and number sequences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
)


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
