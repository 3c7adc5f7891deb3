"""Change first-time success: the changes closed in the period that succeeded first time,
by the change process's own definition (itsm_tui.data.change_outcomes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.change_outcomes import first_time_success_clause
from itsm_tui.data.kpi.figures import Kpi, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import Change


def change_success(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Of the changes closed in the period with an outcome (a cancelled change has none),
    the share that succeeded first time. A service cut keeps the changes that name the
    service among their affected services."""
    in_period = [
        Change.closed_at >= period.start,
        Change.closed_at < period.measured_end(now),
        Change.outcome.is_not(None),
    ]
    if cut.team_id is not None:
        in_period.append(Change.team_id == cut.team_id)
    success = first_time_success_clause()
    if cut.service is None:
        total, good = session.execute(
            select(func.count(), func.count().filter(success)).select_from(Change).where(*in_period)
        ).one()
    else:
        # Affected services are a JSON list of names; a period holds few changes.
        wanted = cut.service.casefold()
        total = good = 0
        for services, ok in session.execute(select(Change.services, success).where(*in_period)):
            if any(str(name).casefold() == wanted for name in services or ()):
                total += 1
                good += int(bool(ok))
    total, good = int(total), int(good)
    return [
        Kpi(
            "change_success",
            "Change first-time success",
            share(good, total),
            "percent",
            "share",
            "change_success_percent",
            samples=total,
            detail={"first_time": good, "not_first_time": total - good},
        )
    ]
