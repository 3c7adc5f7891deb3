"""Customer satisfaction: the surveys submitted in the period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import Survey


def csat(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    query = (
        select(func.sum(Survey.rating), func.count())
        .select_from(Survey)
        .where(Survey.submitted_at >= period.start, Survey.submitted_at < period.measured_end(now))
    )
    if not cut.whole_desk:
        query = query.where(Survey.ticket_id.in_(cut.ticket_ids()))
    total, count = session.execute(query).one()
    count = int(count)
    return [
        Kpi(
            "csat",
            "Customer satisfaction (CSAT)",
            None if count == 0 else int(total) / count,
            "of 5",
            "at_least",
            "csat_min",
            samples=count,
        )
    ]
