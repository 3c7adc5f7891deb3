"""The service-request handling cycle: from submission to fulfilment, wall-clock time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import sums, total


def request_cycle(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Mean of resolved_at − opened_at over the requests fulfilled in the period.

    Wall-clock time, as the requester waits it (an approval wait included): the source
    document's "handling cycle". A request fulfilled again after a reopening counts once,
    at its last fulfilment.
    """
    found = total(sums(session, "request_cycle", period, cut, now))
    count = found.n
    mean = None if count == 0 else found.total / count / 60
    # Each request against its own item's delivery standard: fulfilled by the instant the
    # desk promised (tickets.promised_at, set when fulfilment could start).
    standard = total(sums(session, "request_standard", period, cut, now))
    promised, kept = standard.n, round(standard.total)
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
                "within_standard_percent": share(kept, promised),
                "with_standard": promised,
                "within_standard": kept,
            },
        )
    ]
