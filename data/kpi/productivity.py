"""Tickets handled per agent per working day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import sums
from itsm_tui.data.models import BusinessCalendar
from itsm_tui.domain.calendar import business_time_between


def working_days(session: Session, first: date, last: date, period: Period) -> int:
    """Local dates from first to last on which the desk's main calendar (`[desk]
    default_calendar`) has working time; Monday to Friday when the desk names none."""
    from itsm_tui.desk.records import desk_setting
    from itsm_tui.desk.sla import calendar_of

    desk = desk_setting(session, "desk") or {}
    name = desk.get("default_calendar") if isinstance(desk, dict) else None
    row = (
        session.scalars(select(BusinessCalendar).where(BusinessCalendar.name == name)).first()
        if name
        else None
    )
    cal = calendar_of(row) if row is not None else None
    days = 0
    day = first
    while day <= last:
        if cal is None:
            days += day.weekday() < 5
        else:
            one_day = Period(day, day, cal.zone)
            days += business_time_between(cal, one_day.start, one_day.end) > timedelta(0)
        day += timedelta(days=1)
    return days


def tickets_per_agent_day(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Tickets resolved in the period ÷ (agents who resolved any × working days so far).

    "Handled" is resolved (fulfilled, for a request) by its assignee: the agent holding a
    ticket when it was resolved handled it. Agents who resolved nothing in the period are
    not counted (they were away, or work elsewhere)."""
    end = period.measured_end(now)
    by_agent = sums(session, "handled", period, cut, now, ("agent_id",))
    handled = sum(one.n for one in by_agent.values())
    agents = sum(1 for one in by_agent.values() if one.n)
    last = min(period.last_day, (end - timedelta(microseconds=1)).astimezone(period.zone).date())
    days = working_days(session, period.first_day, last, period) if end > period.start else 0
    value = None if agents == 0 or days == 0 else handled / (agents * days)
    return [
        Kpi(
            "tickets_per_agent_day",
            "Tickets handled per agent per working day",
            value,
            "tickets",
            "at_least",
            "tickets_per_agent_per_day",
            samples=handled,
            detail={"handled": handled, "agents": agents, "working_days": days},
        )
    ]
