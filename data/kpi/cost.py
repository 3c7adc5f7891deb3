"""Incident cost: time booked on incidents, at its cost when booked, against the budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import sums, total
from itsm_tui.data.models import Budget

BUDGET_CATEGORY = "incident"


def budget_for(session: Session, period: Period, end: datetime) -> tuple[float | None, str | None]:
    """The incident budget of [period.start, end): each local day takes its share of the
    shortest budget covering it (a month that breaks its year down wins over the year), a
    part-day its part. None when no budget covers any of it."""
    budgets = session.execute(
        select(Budget.period_start, Budget.period_end, Budget.amount, Budget.currency).where(
            Budget.category == BUDGET_CATEGORY,
            Budget.period_start <= period.last_day,
            Budget.period_end >= period.first_day,
        )
    ).all()
    if not budgets:
        return None, None
    total = 0.0
    covered = False
    day: date = period.first_day
    while day <= period.last_day:
        day_start = Period(day, day, period.zone).start
        day_end = Period(day, day, period.zone).end
        inside = (min(day_end, end) - day_start).total_seconds()
        if inside <= 0:
            break
        covering = [b for b in budgets if b.period_start <= day <= b.period_end]
        if covering:
            b = min(covering, key=lambda b: (b.period_end - b.period_start).days)
            days = (b.period_end - b.period_start).days + 1
            share_of_day = inside / (day_end - day_start).total_seconds()
            total += float(Decimal(b.amount)) / days * share_of_day
            covered = True
        day += timedelta(days=1)
    currencies = sorted({b.currency for b in budgets})
    return (total if covered else None), ", ".join(currencies)


def incident_cost(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Cost of the time entries logged in the period on incidents ÷ the period's incident
    budget, in percent. The budget is the whole desk's: under a team or service cut the
    figure is that part's cost against it, shown but not judged."""
    end = period.measured_end(now)
    found = total(sums(session, "incident_cost", period, cut, now))
    spent, entries = found.total, found.n
    budget, currency = budget_for(session, period, end) if end > period.start else (None, None)
    value = None if not budget else 100 * spent / budget
    return [
        Kpi(
            "incident_cost",
            "Incident cost, share of budget",
            value,
            "percent",
            "at_most",
            "incident_cost_budget_percent" if cut.whole_desk else None,
            samples=int(entries),
            detail={"cost": round(spent, 2), "budget": budget, "currency": currency},
        )
    ]
