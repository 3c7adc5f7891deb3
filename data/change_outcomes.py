"""Whether a change succeeded first time, in SQL for counting and in Python for one change:
successful (so neither failed nor backed out) and no incident it caused inside its review
period. The change success KPI counts with `first_time_success_clause()`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select

from itsm_tui.data.models import Change, ChangeCausedIncident
from itsm_tui.domain import change_process


def first_time_success_clause() -> ColumnElement[bool]:
    """SQL boolean over `changes`: the change succeeded first time.

    Whether a caused incident falls inside the review period is decided when it is linked
    (change_caused_incidents.within_review, by domain.change_process.within_review), so
    the count is one EXISTS probe per change on the link table's primary key.
    """
    spoiled = (
        select(ChangeCausedIncident.ticket_id)
        .where(
            ChangeCausedIncident.change_id == Change.id,
            ChangeCausedIncident.within_review.is_(True),
        )
        .exists()
    )
    return and_(Change.outcome == "successful", ~spoiled)


def succeeded_first_time(
    change: Change, caused_incident_times: Iterable[datetime], *, review_days: int
) -> bool:
    """The same rule for one change: `caused_incident_times` are the opening times of the
    incidents linked to it as caused by it; `review_days` its type's (desk file)."""
    return change_process.succeeded_first_time(
        change.outcome, change.actual_end, caused_incident_times, review_days
    )
