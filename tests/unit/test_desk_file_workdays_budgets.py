"""The desk file's make-up working days and budget periods, and the dry run's due-time line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from itsm_tui.config import load_default_desk, load_desk_text
from itsm_tui.config.clocks import DueTimeMoves
from itsm_tui.domain.calendar import BusinessCalendar, business_minutes_between
from tests.unit.test_desk_file import BASE, at, only_error

# ---------------------------------------------------------------------------
# Budgets of a category nest or stay apart


def test_a_month_and_a_quarter_inside_their_year_break_it_down() -> None:
    text = BASE + "".join(
        f'\n[[budgets]]\nperiod = "{period}"\namount = 100\n'
        for period in ("2026", "2026-01", "2026-Q1", "2026-02", "2026-11", "2027-01")
    )
    budgets = load_desk_text(text).budgets or ()
    assert [b.period for b in budgets] == [
        "2026",
        "2026-01",
        "2026-Q1",
        "2026-02",
        "2026-11",
        "2027-01",
    ]


def test_two_budgets_of_one_length_that_overlap_are_refused() -> None:
    text = BASE + (
        "\n[[budgets]]\nperiod_start = 2026-01-15\nperiod_end = 2026-02-14\namount = 100\n"
        '\n[[budgets]]\nperiod = "2026-02"\namount = 100\n'
        '\n[[budgets]]\nperiod = "2026-02"\ncategory = "change"\namount = 100\n'
    )
    february = at(text, 'period = "2026-02"')
    assert only_error(text) == (
        f"desk.toml:{february}: budget 'incident 2026-02': period "
        "overlaps budget 'incident 2026-01-15..2026-02-14' without lying inside it; a budget "
        "may break a longer one down (a month of its year), not cross it"
    )


def test_the_same_period_twice_is_a_duplicate() -> None:
    text = BASE + '\n[[budgets]]\nperiod = "2026"\namount = 1\n' * 2
    assert "budget 'incident 2026' is defined twice (first on line" in only_error(text)


# ---------------------------------------------------------------------------
# Make-up working days (调休)


def test_default_desk_shanghai_calendar_works_the_2026_make_up_days() -> None:
    cal = next(c for c in load_default_desk().calendars or () if c.name == "business-hours")
    assert cal.workdays == tuple(
        date(2026, m, d) for m, d in ((1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10))
    )
    assert all(day.weekday() >= 5 for day in cal.workdays)
    assert not set(cal.workdays) & set(cal.holidays)
    assert cal.workdays_as == "mon"


def test_workdays_and_the_weekday_they_work_as() -> None:
    text = BASE.replace(
        "holidays = [2026-10-01]",
        'holidays = [2026-10-01]\nworkdays = [2026-10-11, "2026-10-10"]\nworkdays_as = "tue"',
    )
    cal = (load_desk_text(text).calendars or ())[0]
    assert cal.workdays == (date(2026, 10, 10), date(2026, 10, 11))
    assert cal.workdays_as == "tue"


def test_a_date_both_holiday_and_workday_is_an_error_with_its_line() -> None:
    text = BASE.replace(
        "holidays = [2026-10-01]",
        "holidays = [2026-10-01, 2026-10-10]\nworkdays = [\n  2026-10-11,\n  2026-10-10,\n]",
    )
    line = at(text, "  2026-10-10,")
    assert only_error(text) == (
        f"desk.toml:{line}: calendar 'business-hours': workdays: 2026-10-10 is also a holiday; "
        "a date is one or the other"
    )


@pytest.mark.parametrize(
    ("lines", "needle", "message"),
    [
        (
            "workdays = [2026-10-13]",
            "workdays",
            "workdays: 2026-10-13 is a tue, a working day already; list only dates the "
            "calendar would otherwise close",
        ),
        (
            'workdays = [2026-10-10]\nworkdays_as = "wed"',
            "workdays_as",
            "make-up working days work wed's hours and wed has none; name a working weekday: "
            'workdays_as = "tue"',
        ),
        (
            'workdays = [2026-10-10]\nworkdays_as = "monday"',
            "workdays_as",
            "workdays_as 'monday' is not a weekday: mon, tue, wed, thu, fri, sat, sun",
        ),
        ("workdays = [2026-10-10, 2026-10-10]", "workdays", "workdays: 2026-10-10 is listed twice"),
        (
            "workdays = 2026-10-10",
            "workdays",
            "workdays must be an array of dates, e.g. [2026-10-01]",
        ),
    ],
)
def test_bad_workdays_name_the_line_and_the_fix(lines: str, needle: str, message: str) -> None:
    text = BASE.replace("holidays = [2026-10-01]", "holidays = [2026-10-01]\n" + lines)
    assert only_error(text) == f"desk.toml:{at(text, needle)}: calendar 'business-hours': {message}"


def test_an_always_open_calendar_has_no_workdays() -> None:
    text = BASE.replace("always_open = true", "always_open = true\nworkdays = [2026-10-10]")
    assert only_error(text) == (
        f"desk.toml:{at(text, 'workdays')}: calendar '24x7': an always_open calendar has no "
        "make-up working days; remove workdays"
    )


def test_desk_file_workdays_reach_the_business_time_arithmetic() -> None:
    cal = next(c for c in load_default_desk().calendars or () if c.name == "business-hours")
    built = BusinessCalendar.from_config(
        cal.name,
        cal.timezone,
        {d: [list(iv) for iv in ivs] for d, ivs in cal.hours.items()},
        cal.holidays,
        workdays=cal.workdays,
        workdays_as=cal.workdays_as,
    )
    saturday, sunday = (
        datetime(2026, 2, 13, 16, 0, tzinfo=UTC),
        datetime(2026, 2, 14, 16, 0, tzinfo=UTC),
    )
    assert business_minutes_between(built, saturday, sunday) == 450


# ---------------------------------------------------------------------------
# The dry run's due-time line


def test_the_due_time_line_says_how_many_which_way_and_the_largest_move() -> None:
    old = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    moves = DueTimeMoves(37, 5, timedelta(hours=2), "INC0000042", old, old + timedelta(hours=2))
    assert moves.line() == (
        "37 open due times move (5 earlier, 32 later), the most by 2h: "
        "INC0000042 due 2026-11-25 06:00 → 2026-11-25 08:00 UTC"
    )
    back = DueTimeMoves(3, 3, timedelta(minutes=90), "INC0000007", old, old - timedelta(minutes=90))
    assert back.line().startswith("3 open due times move (all earlier), the most by 1h 30m: ")
    assert DueTimeMoves().line() == "No open due time moves."
