"""Parsing a desk file's calendars: working hours, holidays and make-up working days."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

from itsm_tui.config.checker import _MISSING, Table, _minutes
from itsm_tui.config.model import CalendarConfig
from itsm_tui.config.vocabulary import _NAME_MAX, _TIME
from itsm_tui.domain.calendar import WEEKDAYS
from itsm_tui.i18n import _


def _parse_calendar(t: Table) -> CalendarConfig | None:
    t.check_keys(
        ("name", "timezone", "always_open", "hours", "holidays", "workdays", "workdays_as")
    )
    name = t.text("name", required=True, max_len=_NAME_MAX)
    always_open = t.boolean("always_open", default=False)
    zone = t.timezone("timezone", required=not always_open, default="UTC")
    hours: dict[str, tuple[tuple[str, str], ...]] = {}
    table = t.table("hours")
    if table is not None:
        if always_open:
            t.error("hours", _("an always_open calendar has no working hours; remove hours"))
        table.check_keys(WEEKDAYS)
        for day in WEEKDAYS:
            intervals = _parse_intervals(table, day)
            if intervals:
                hours[day] = intervals
    elif not always_open and "hours" not in t.raw:
        t.error(None, _("no working hours: add a [calendars.hours] table or always_open = true"))
    holidays = _parse_dates(t, "holidays")
    if always_open and holidays:
        t.error("holidays", _("an always_open calendar has no holidays; remove holidays"))
    workdays = _parse_workdays(t, hours, holidays, always_open)
    workdays_as = t.text("workdays_as", default="mon")
    if workdays_as not in WEEKDAYS:
        t.error(
            "workdays_as",
            _("workdays_as '{value}' is not a weekday: {days}").format(
                value=workdays_as, days=", ".join(WEEKDAYS)
            ),
        )
        workdays_as = "mon"
    elif workdays and not always_open and not hours.get(workdays_as):
        t.error(
            "workdays_as" if "workdays_as" in t.raw else "workdays",
            _(
                "make-up working days work {day}'s hours and {day} has none; "
                'name a working weekday: workdays_as = "tue"'
            ).format(day=workdays_as),
        )
    if name is None:
        return None
    return CalendarConfig(
        name=name,
        timezone=zone,
        always_open=always_open,
        hours=hours,
        holidays=holidays,
        workdays=workdays,
        workdays_as=workdays_as,
        path=t.path,
    )


def _parse_intervals(t: Table, day: str) -> tuple[tuple[str, str], ...]:
    raw = t.raw.get(day, _MISSING)
    if raw is _MISSING:
        return ()
    if not isinstance(raw, list):
        t.error(day, _('{day} must be an array of "HH:MM-HH:MM" intervals').format(day=day))
        return ()
    parsed: list[tuple[str, str, int]] = []
    for i, element in enumerate(raw):
        if isinstance(element, str) and element.count("-") == 1:
            start, end = (part.strip() for part in element.split("-"))
        elif (
            isinstance(element, list)
            and len(element) == 2
            and all(isinstance(x, str) for x in element)
        ):
            start, end = element
        else:
            t.error(
                (day, i),
                _('{day}: {value!r} is not an interval "HH:MM-HH:MM"').format(
                    day=day, value=element
                ),
            )
            continue
        bad = [x for x in (start, end) if not _TIME.match(x)]
        if bad or start == "24:00":
            t.error(
                (day, i),
                _("{day}: '{value}' is not a time HH:MM (00:00–23:59, or 24:00 as an end)").format(
                    day=day, value=bad[0] if bad else start
                ),
            )
            continue
        if _minutes(start) >= _minutes(end):
            t.error(
                (day, i),
                _("{day}: interval {start}-{end} must start before it ends").format(
                    day=day, start=start, end=end
                ),
            )
            continue
        parsed.append((start, end, i))
    parsed.sort(key=lambda p: _minutes(p[0]))
    for before, after in pairwise(parsed):
        if _minutes(after[0]) < _minutes(before[1]):
            t.error(
                (day, after[2]),
                _("{day}: intervals {a}-{b} and {c}-{d} overlap").format(
                    day=day, a=before[0], b=before[1], c=after[0], d=after[1]
                ),
            )
    return tuple((start, end) for start, end, _i in parsed)


def _parse_workdays(
    t: Table,
    hours: dict[str, tuple[tuple[str, str], ...]],
    holidays: tuple[date, ...],
    always_open: bool,
) -> tuple[date, ...]:
    listed = _dates_listed(t, "workdays")
    if listed and always_open:
        t.error(
            "workdays", _("an always_open calendar has no make-up working days; remove workdays")
        )
        return ()
    for day, i in listed:
        weekday = WEEKDAYS[day.weekday()]
        if day in holidays:
            t.error(
                ("workdays", i),
                _("workdays: {day} is also a holiday; a date is one or the other").format(
                    day=day.isoformat()
                ),
            )
        elif hours.get(weekday):
            t.error(
                ("workdays", i),
                _(
                    "workdays: {day} is a {weekday}, a working day already; list only "
                    "dates the calendar would otherwise close"
                ).format(day=day.isoformat(), weekday=weekday),
            )
    return tuple(sorted(day for day, _i in listed))


def _parse_dates(t: Table, key: str) -> tuple[date, ...]:
    """A calendar's array of local dates (holidays, workdays): sorted, each listed once."""
    return tuple(sorted(day for day, _i in _dates_listed(t, key)))


def _dates_listed(t: Table, key: str) -> list[tuple[date, int]]:
    """The valid dates of an array with their index in it (so a message names its line)."""
    raw = t.raw.get(key, _MISSING)
    if raw is _MISSING:
        return []
    if not isinstance(raw, list):
        t.error(key, _("{key} must be an array of dates, e.g. [2026-10-01]").format(key=key))
        return []
    listed: list[tuple[date, int]] = []
    seen: set[date] = set()
    for i, element in enumerate(raw):
        day: date | None = None
        if isinstance(element, date) and not isinstance(element, datetime):
            day = element
        elif isinstance(element, str):
            try:
                day = date.fromisoformat(element)
            except ValueError:
                day = None
        if day is None:
            t.error(
                (key, i),
                _("{key}: {value!r} is not a date YYYY-MM-DD").format(key=key, value=element),
            )
        elif day in seen:
            t.error(
                (key, i), _("{key}: {day} is listed twice").format(key=key, day=day.isoformat())
            )
        else:
            seen.add(day)
            listed.append((day, i))
    return listed
