"""Complaints: how many fewer than in the same days a year earlier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import Complaint


def _count(session: Session, start: datetime, end: datetime, cut: Cut) -> int:
    query = (
        select(func.count())
        .select_from(Complaint)
        .where(Complaint.received_at >= start, Complaint.received_at < end)
    )
    if not cut.whole_desk:
        # A complaint about the service in general names no ticket: no team's, no service's.
        query = query.where(Complaint.ticket_id.in_(cut.ticket_ids()))
    return int(session.scalar(query) or 0)


def complaints(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Reduction = (a year earlier − now) ÷ a year earlier, in percent (negative: more).

    An unfinished period is compared with the same stretch of days a year earlier. No
    complaints a year earlier: no baseline, no data (a fall from zero means nothing).
    """
    end = period.measured_end(now)
    current = _count(session, period.start, end, cut)
    before = period.year_earlier()
    before_end = min(before.end, before.start + (end - period.start))
    baseline = _count(session, before.start, before_end, cut)
    return [
        Kpi(
            "complaints",
            "Complaints, fall year on year",
            None if baseline == 0 else 100 * (baseline - current) / baseline,
            "percent",
            "at_least",
            "complaints_reduction_percent",
            samples=current,
            detail={"count": current, "year_earlier": baseline},
        )
    ]
