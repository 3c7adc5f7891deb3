"""The service-request handling cycle: from submission to fulfilment, wall-clock time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, seconds_between
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import Ticket


def request_cycle(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Mean of resolved_at − opened_at over the requests fulfilled in the period.

    Wall-clock time, as the requester waits it (an approval wait included): the source
    document's "handling cycle". A request fulfilled again after a reopening counts once,
    at its last fulfilment.
    """
    waited = seconds_between(session, Ticket.opened_at, Ticket.resolved_at)
    total, count = session.execute(
        select(func.sum(waited), func.count()).where(
            Ticket.resolved_at >= period.start,
            Ticket.resolved_at < period.measured_end(now),
            Ticket.type == "request",
            cut.tickets(),
        )
    ).one()
    count = int(count)
    mean = None if count == 0 else float(total) / count / 60
    return [
        Kpi(
            "request_cycle",
            "Service-request handling cycle, mean",
            mean,
            "minutes",
            "at_most",
            "request_handling_minutes",
            samples=count,
        )
    ]
