"""Customer satisfaction: the surveys submitted in the period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import sums, total


def csat(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    found = total(sums(session, "survey", period, cut, now))
    count = found.n
    return [
        Kpi(
            "csat",
            "Customer satisfaction (CSAT)",
            None if count == 0 else found.total / count,
            "of 5",
            "at_least",
            "csat_min",
            samples=count,
        )
    ]
