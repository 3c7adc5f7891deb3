"""When windows happen: occurrences of one-off and recurring (RRULE) windows, their union,
overlap, and whether a planned window lies inside a set of maintenance windows.

Every interval is half-open, [start, end), in aware UTC: a change ending at 02:00 does not
clash with a freeze starting at 02:00.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from itsm_tui.i18n import _

Interval = tuple[datetime, datetime]

# Finer recurrences would make a window that never really closes; a desk that wants that
# writes one long window instead.
_TOO_FINE_FREQ = {6, 5}  # dateutil's codes for SECONDLY, MINUTELY


# The longest planned window a change may have. Change windows are hours, a weekend at
# most; work that runs for weeks is several changes. The bound keeps "which windows meet
# this period" one short index range (planned_start within the period and this much before).
MAX_PLANNED_WINDOW = timedelta(days=14)


def planned_window_problem(start: datetime, end: datetime) -> str | None:
    """Why [start, end) cannot be a change's planned window, in one line; None if it can."""
    if end <= start:
        return _("the planned window must end after it starts")
    if end - start > MAX_PLANNED_WINDOW:
        return _(
            "a planned window lasts at most {days} days; split longer work into several changes"
        ).format(days=MAX_PLANNED_WINDOW.days)
    return None


@dataclass(frozen=True)
class Window:
    """A window as the desk file gives it: its first occurrence, and the rule it recurs by.

    Each occurrence has the first one's length in wall-clock time of `timezone`, so a
    window from Saturday 22:00 to Sunday 02:00 local stays 22:00–02:00 on the night the
    clocks change (an hour longer or shorter in real time).
    """

    name: str
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None = None
    timezone: str = "UTC"


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Two half-open intervals share an instant."""
    return a_start < b_end and b_start < a_end


def recurrence_problem(recurrence: str, starts_at: datetime, timezone: str) -> str | None:
    """What is wrong with a window's RRULE, in one line a person acts on; None if nothing."""
    text = recurrence.strip()
    if not text:
        return _("recurrence is empty; leave it out for a one-off window")
    if "\n" in text or "DTSTART" in text.upper():
        return _(
            "recurrence is one RRULE such as FREQ=WEEKLY;BYDAY=SA "
            "(the window's starts_at is its first occurrence)"
        )
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return _("unknown time zone {zone!r}").format(zone=timezone)
    try:
        rule = _rule(text, starts_at.astimezone(zone))
    except (ValueError, TypeError) as exc:
        detail = str(exc).strip() or type(exc).__name__
        if "freq" in detail and "missing" in detail:
            detail = _("FREQ is missing")
        return _("recurrence {rule!r} is not an RRULE: {detail}").format(rule=text, detail=detail)
    if rule._freq in _TOO_FINE_FREQ:  # dateutil keeps FREQ only there
        return _("recurrence {rule!r} repeats more often than hourly; use a longer window").format(
            rule=text
        )
    return None


def _rule(text: str, dtstart: datetime) -> rrule:
    # Keyed by wall time and zone name: aware datetimes of two zones at one instant are
    # equal, and a rule stepping in the other zone's wall time would be wrong.
    return _zoned_rule(text, dtstart.replace(tzinfo=None), str(dtstart.tzinfo))


@lru_cache(maxsize=256)
def _zoned_rule(text: str, wall_start: datetime, zone: str) -> rrule:
    # dtstart carries the window's zone: dateutil then steps in that zone's wall-clock time
    # (the same local hour on both sides of a DST change). cache=True keeps what it expanded.
    rule = rrulestr(text, dtstart=wall_start.replace(tzinfo=ZoneInfo(zone)), cache=True)
    if not isinstance(rule, rrule):
        raise ValueError(_("only one RRULE is allowed"))
    return rule


def occurrences(window: Window, start: datetime, end: datetime) -> list[Interval]:
    """The window's occurrences that overlap [start, end), in order, in UTC."""
    first = (window.starts_at.astimezone(UTC), window.ends_at.astimezone(UTC))
    if not window.recurrence:
        return [first] if overlaps(*first, start, end) else []
    zone = ZoneInfo(window.timezone)
    local_start = window.starts_at.astimezone(zone)
    wall = window.ends_at.astimezone(zone).replace(tzinfo=None) - local_start.replace(tzinfo=None)
    if wall <= timedelta(0):
        # A window that ends before it starts in wall time (a DST quirk of a tiny window):
        # fall back to its real length.
        wall = first[1] - first[0]
    rule = _rule(window.recurrence.strip(), local_start)
    # An occurrence starting up to its length (plus a day of zone offsets) before `start`
    # may still reach into the range.
    lookback = start - wall - timedelta(days=1)
    found: list[Interval] = [first] if overlaps(*first, start, end) else []
    for occ_start in rule.between(lookback, end, inc=True):
        occ_end = (occ_start.replace(tzinfo=None) + wall).replace(tzinfo=zone)
        interval = (occ_start.astimezone(UTC), occ_end.astimezone(UTC))
        if interval != first and overlaps(*interval, start, end):
            found.append(interval)
    found.sort()
    return found


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same instants (touching ones joined)."""
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def covers(merged: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """[start, end) lies inside one interval of a union (see `union`)."""
    i = bisect_right(merged, (start, datetime.max.replace(tzinfo=UTC))) - 1
    return i >= 0 and merged[i][0] <= start and end <= merged[i][1]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The instants in both of two unions."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The instants of union `a` outside union `b`."""
    out: list[Interval] = []
    j = 0
    for s, e in a:
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        cursor = s
        while k < len(b) and b[k][0] < e:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < e:
            out.append((cursor, e))
    return out


def window_from_json(value: Any, default_zone: str) -> Window:
    """A maintenance window as services.maintenance_windows stores it."""
    return Window(
        name=str(value.get("name", "")),
        starts_at=datetime.fromisoformat(value["starts_at"]),
        ends_at=datetime.fromisoformat(value["ends_at"]),
        recurrence=value.get("recurrence") or None,
        timezone=value.get("timezone") or default_zone,
    )
