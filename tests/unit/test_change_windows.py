"""Occurrences of one-off and recurring windows (across DST), and interval arithmetic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_tui.config import DeskFileError, load_desk_text
from itsm_tui.domain.change_windows import (
    Window,
    covers,
    intersect,
    occurrences,
    overlaps,
    recurrence_problem,
    subtract,
    union,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_one_off_window_occurs_once_when_it_reaches_into_the_range() -> None:
    w = Window("cutover", _utc(2026, 12, 5, 22), _utc(2026, 12, 6, 2))
    assert occurrences(w, _utc(2026, 12, 6, 1), _utc(2026, 12, 7)) == [
        (_utc(2026, 12, 5, 22), _utc(2026, 12, 6, 2))
    ]
    assert occurrences(w, _utc(2026, 12, 6, 2), _utc(2026, 12, 7)) == []


def test_half_open_windows_that_touch_do_not_overlap() -> None:
    assert not overlaps(
        _utc(2026, 1, 1, 1), _utc(2026, 1, 1, 2), _utc(2026, 1, 1, 2), _utc(2026, 1, 1, 3)
    )
    assert overlaps(
        _utc(2026, 1, 1, 1), _utc(2026, 1, 1, 3), _utc(2026, 1, 1, 2), _utc(2026, 1, 1, 4)
    )


def test_weekly_window_keeps_its_local_hours_across_both_dst_changes() -> None:
    # Saturday 22:00 to Sunday 04:00 in Berlin: the spring night is an hour shorter in real
    # time, the autumn night an hour longer; the local hours stay the same.
    w = Window(
        "Saturday night",
        datetime(2026, 3, 7, 22, tzinfo=BERLIN),
        datetime(2026, 3, 8, 4, tzinfo=BERLIN),
        "FREQ=WEEKLY;BYDAY=SA",
        "Europe/Berlin",
    )
    spring = occurrences(w, _utc(2026, 3, 28, 12), _utc(2026, 3, 29, 12))
    assert [(s.astimezone(BERLIN).hour, e.astimezone(BERLIN).hour) for s, e in spring] == [(22, 4)]
    assert spring[0][1] - spring[0][0] == timedelta(hours=5)
    autumn = occurrences(w, _utc(2026, 10, 24, 12), _utc(2026, 10, 25, 12))
    assert [(s.astimezone(BERLIN).hour, e.astimezone(BERLIN).hour) for s, e in autumn] == [(22, 4)]
    assert autumn[0][1] - autumn[0][0] == timedelta(hours=7)
    # A normal week is six hours.
    normal = occurrences(w, _utc(2026, 3, 21, 12), _utc(2026, 3, 22, 12))
    assert normal[0][1] - normal[0][0] == timedelta(hours=6)


def test_month_end_freeze_falls_on_each_last_day() -> None:
    w = Window(
        "Month-end close",
        datetime(2026, 1, 31, 18, tzinfo=SHANGHAI),
        datetime(2026, 2, 1, 6, tzinfo=SHANGHAI),
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "Asia/Shanghai",
    )
    found = occurrences(w, _utc(2026, 2, 1), _utc(2026, 5, 1))
    assert [s.astimezone(SHANGHAI).date().isoformat() for s, _ in found] == [
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]
    assert all(e - s == timedelta(hours=12) for s, e in found)


def test_first_occurrence_counts_even_when_the_rule_does_not_match_it() -> None:
    # starts_at is a Wednesday, the rule says Saturdays: the Wednesday still happens.
    w = Window("w", _utc(2026, 12, 2, 22), _utc(2026, 12, 2, 23), "FREQ=WEEKLY;BYDAY=SA")
    found = occurrences(w, _utc(2026, 12, 1), _utc(2026, 12, 13))
    assert [s.day for s, _ in found] == [2, 5, 12]


def test_occurrence_that_started_before_the_range_is_found() -> None:
    w = Window("nightly", _utc(2026, 1, 1, 20), _utc(2026, 1, 2, 8), "FREQ=DAILY")
    assert occurrences(w, _utc(2026, 6, 10, 7), _utc(2026, 6, 10, 7, 30)) == [
        (_utc(2026, 6, 9, 20), _utc(2026, 6, 10, 8))
    ]


def test_rule_ending_with_until_or_count_stops() -> None:
    w = Window("w", _utc(2026, 1, 1, 20), _utc(2026, 1, 1, 21), "FREQ=DAILY;COUNT=3")
    assert len(occurrences(w, _utc(2026, 1, 1), _utc(2026, 2, 1))) == 3


def test_recurrence_problems_are_one_readable_line() -> None:
    start = _utc(2026, 1, 1)
    assert "FREQ is missing" in (recurrence_problem("BYDAY=SA", start, "UTC") or "")
    assert "BYDAY" in (recurrence_problem("FREQ=WEEKLY;BYDAY=XX", start, "UTC") or "")
    assert "hourly" in (recurrence_problem("FREQ=MINUTELY", start, "UTC") or "")
    assert "UTC" in (recurrence_problem("FREQ=DAILY;UNTIL=20270101", start, "Asia/Shanghai") or "")
    assert "first occurrence" in (
        recurrence_problem("DTSTART:20260101\nFREQ=DAILY", start, "UTC") or ""
    )
    assert "time zone" in (recurrence_problem("FREQ=DAILY", start, "Mars/Base") or "")
    assert recurrence_problem("FREQ=DAILY;UNTIL=20270101T000000Z", start, "Asia/Shanghai") is None
    assert recurrence_problem("FREQ=MONTHLY;BYMONTHDAY=-1", start, "UTC") is None


# Interval arithmetic against sets of hours.

BASE = _utc(2026, 1, 1)
_intervals = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 8)).map(
        lambda t: (BASE + timedelta(hours=t[0]), BASE + timedelta(hours=t[0] + t[1]))
    ),
    max_size=6,
)


def _hours(intervals: list[tuple[datetime, datetime]]) -> set[int]:
    return {
        h
        for s, e in intervals
        for h in range(
            int((s - BASE).total_seconds() // 3600), int((e - BASE).total_seconds() // 3600)
        )
    }


@settings(max_examples=150, deadline=None)
@given(_intervals, _intervals, st.integers(0, 44), st.integers(1, 6))
def test_union_intersect_subtract_covers_agree_with_sets(a, b, at, length) -> None:  # type: ignore[no-untyped-def]
    ua, ub = union(a), union(b)
    assert _hours(ua) == _hours(a)
    assert all(x[1] < y[0] for x, y in itertools.pairwise(ua))  # disjoint, apart
    assert _hours(intersect(ua, ub)) == _hours(a) & _hours(b)
    assert _hours(subtract(ua, ub)) == _hours(a) - _hours(b)
    start, end = BASE + timedelta(hours=at), BASE + timedelta(hours=at + length)
    assert covers(ua, start, end) == (set(range(at, at + length)) <= _hours(a))


def test_same_instant_in_two_zones_steps_in_each_zones_own_hours() -> None:
    # 17:00 UTC is 19:00 in Berlin's summer time. After the clocks go back on the 25th the
    # Berlin window stays at 19:00 local (18:00 UTC); the UTC one stays at 17:00 UTC.
    at, until = _utc(2026, 10, 23, 17), _utc(2026, 10, 23, 18)
    utc_w = Window("u", at, until, "FREQ=DAILY", "UTC")
    berlin_w = Window("b", at, until, "FREQ=DAILY", "Europe/Berlin")
    day = (_utc(2026, 10, 26), _utc(2026, 10, 27))
    assert occurrences(utc_w, *day) == [(_utc(2026, 10, 26, 17), _utc(2026, 10, 26, 18))]
    assert occurrences(berlin_w, *day) == [(_utc(2026, 10, 26, 18), _utc(2026, 10, 26, 19))]


# ---------------------------------------------------------------------------
# The desk file's schedule: dependencies, maintenance windows, recurring freezes.

DESK = """\
[desk]
timezone = "Asia/Shanghai"

[[services]]
name = "Database"

[[services]]
name = "Identity"
depends_on = ["Database"]

[[services.maintenance_windows]]
name = "Sunday early"
starts_at = 2026-01-04T01:00:00+08:00
ends_at = 2026-01-04T05:00:00+08:00
recurrence = "FREQ=WEEKLY;BYDAY=SU"

[[services]]
name = "Email"
depends_on = ["Identity"]

[[freeze_windows]]
name = "Month-end close"
starts_at = 2026-01-31T00:00:00+08:00
ends_at = 2026-02-02T09:00:00+08:00
recurrence = "FREQ=MONTHLY;BYMONTHDAY=-1"
timezone = "Asia/Shanghai"
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(DeskFileError) as caught:
        load_desk_text(text, "desk.toml")
    return caught.value.errors


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_desk_file_reads_dependencies_maintenance_and_recurring_freezes() -> None:
    config = load_desk_text(DESK, "desk.toml")
    services = {s.name: s for s in config.services or ()}
    assert services["Email"].depends_on == ("Identity",)
    (window,) = services["Identity"].maintenance_windows
    assert (window.name, window.recurrence, window.timezone) == (
        "Sunday early",
        "FREQ=WEEKLY;BYDAY=SU",
        None,
    )
    assert window.starts_at == _utc(2026, 1, 3, 17)
    (freeze,) = config.freeze_windows or ()
    assert (freeze.recurrence, freeze.timezone) == ("FREQ=MONTHLY;BYMONTHDAY=-1", "Asia/Shanghai")


def test_dependency_on_an_unknown_service_or_itself_is_named_with_its_line() -> None:
    text = DESK.replace('depends_on = ["Identity"]', 'depends_on = ["Identity", "Email", "Mail"]')
    assert _errors(text) == [
        f"desk.toml:{_line(text, 'Mail')}: service 'Email': a service cannot depend on itself",
        f"desk.toml:{_line(text, 'Mail')}: service 'Email': "
        "depends_on names unknown service 'Mail'",
    ]


EMAIL_DEP = 'depends_on = ["Email"]'


def test_dependency_cycle_is_refused_with_its_path() -> None:
    text = DESK.replace('name = "Database"\n', f'name = "Database"\n{EMAIL_DEP}\n')
    assert _errors(text) == [
        f"desk.toml:{_line(text, EMAIL_DEP)}: service 'Database': "
        "depends_on goes round in a circle: Database → Email → Identity → Database"
    ]


def test_bad_rrule_and_zone_are_named_with_their_lines() -> None:
    text = DESK.replace(
        'recurrence = "FREQ=WEEKLY;BYDAY=SU"', 'recurrence = "FREQ=WEEKLY;BYDAY=SUN"'
    )
    text = text.replace('timezone = "Asia/Shanghai"\n"""', "")
    text = text.replace(
        'recurrence = "FREQ=MONTHLY;BYMONTHDAY=-1"\ntimezone = "Asia/Shanghai"',
        'recurrence = "BYMONTHDAY=-1"\ntimezone = "Asia/Shanghia"',
    )
    assert _errors(text) == [
        f"desk.toml:{_line(text, 'BYDAY=SUN')}: service 'Identity': "
        "recurrence 'FREQ=WEEKLY;BYDAY=SUN' is not an RRULE: invalid 'BYDAY': SUN",
        f"desk.toml:{_line(text, 'BYMONTHDAY=-1')}: freeze window 'Month-end close': "
        "recurrence 'BYMONTHDAY=-1' is not an RRULE: FREQ is missing",
        f"desk.toml:{_line(text, 'Shanghia')}: freeze window 'Month-end close': "
        "timezone 'Asia/Shanghia' is not an IANA time zone (e.g. Asia/Shanghai, UTC)",
    ]


def test_maintenance_window_needs_its_keys_and_an_order() -> None:
    text = DESK.replace(
        "ends_at = 2026-01-04T05:00:00+08:00", "ends_at = 2026-01-03T05:00:00+08:00"
    )
    text = text.replace('name = "Sunday early"\n', 'name = "Sunday early"\nday = "sun"\n')
    assert _errors(text) == [
        f"desk.toml:{_line(text, 'day = ')}: service 'Identity': unknown key 'day'",
        f"desk.toml:{_line(text, '2026-01-03T05')}: service 'Identity': "
        "ends_at must be after starts_at",
    ]
