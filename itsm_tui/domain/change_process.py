"""The change process's rules that need no store: quorum, review (PIR) required, success.

One definition each; the desk's write path, the seed and the KPIs all ask here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from itsm_tui.domain.workflow import EMERGENCY_CHANGE, NORMAL_CHANGE

_SHARE = re.compile(r"^(\d{1,3})%$")

# Where the CAB votes on a change. An emergency change may start before every approval is
# in: its emergency CAB keeps voting while it is scheduled or implemented, until authorized.
VOTING_STATUSES = {
    NORMAL_CHANGE: ("authorization",),
    EMERGENCY_CHANGE: ("authorization", "scheduled", "implementing"),
}


def takes_votes(change_type: str, status: str, authorized: bool) -> bool:
    if status not in VOTING_STATUSES.get(change_type, ()):
        return False
    return status == "authorization" or not authorized


def parse_approvals(value: int | str) -> tuple[str, int]:
    """("count", n) or ("share", percent) from a desk-file value: 2 or "50%".

    Raises ValueError for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        if not 1 <= value <= 50:
            raise ValueError(value)
        return "count", value
    match = _SHARE.match(value.strip()) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(1)) <= 100:
        raise ValueError(value)
    return "share", int(match.group(1))


def approvals_needed(rule: int | str, cab_size: int) -> int:
    """How many approvals a change needs: a count as given, a share of the CAB rounded up.

    A share of a CAB of 0 is 1: a change is never authorized by nobody.
    """
    kind, n = parse_approvals(rule)
    if kind == "count":
        return n
    return max(1, math.ceil(n * cab_size / 100))


def quorum_reached(approved: int, needed: int) -> bool:
    return needed > 0 and approved >= needed


def review_required(change_type: str, outcome: str | None, *, type_requires: bool) -> bool:
    """A post-implementation review is needed before closing: an emergency change, a change
    that failed or was backed out, or any change of a type the desk file says needs one."""
    return type_requires or change_type == EMERGENCY_CHANGE or outcome in ("failed", "backed_out")


def within_review(actual_end: datetime | None, incident_opened: datetime, review_days: int) -> bool:
    """An incident a change caused counts against it if it began before the change ended
    (or the change has not ended) or within `review_days` after its end."""
    return actual_end is None or incident_opened <= actual_end + timedelta(days=review_days)


def succeeded_first_time(
    outcome: str | None,
    actual_end: datetime | None,
    caused_incident_times: Iterable[datetime],
    review_days: int,
) -> bool:
    """Successful (so not failed nor backed out) and no caused incident inside the review period."""
    if outcome != "successful":
        return False
    return not any(within_review(actual_end, t, review_days) for t in caused_incident_times)
