"""The service-request handling cycle: from submission to fulfilment, wall-clock time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, seconds_between, share
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
    # Each request against its own item's delivery standard: fulfilled by the instant the
    # desk promised (tickets.promised_at, set when fulfilment could start). A separate
    # query: the one above reads the resolved-ticket index alone, this one visits rows.
    promised, kept = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((Ticket.resolved_at <= Ticket.promised_at, 1), else_=0)), 0
            ),
        ).where(
            Ticket.resolved_at >= period.start,
            Ticket.resolved_at < period.measured_end(now),
            Ticket.type == "request",
            Ticket.promised_at.is_not(None),
            cut.tickets(),
        )
    ).one()
    return [
        Kpi(
            "request_cycle",
            "Service-request handling cycle, mean",
            mean,
            "minutes",
            "at_most",
            "request_handling_minutes",
            samples=count,
            detail={
                # Of the requests with a delivery standard (a catalogue item's), how many
                # were fulfilled within it: the cycle compared with each one's own promise.
                "within_standard_percent": share(int(kept), int(promised)),
                "with_standard": int(promised),
                "within_standard": int(kept),
            },
        )
    ]
