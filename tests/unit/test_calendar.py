"""Business time: exact due instants at edges, holidays, DST, 24x7 and bad calendars."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from itsm_tui.domain.calendar import (
    ALWAYS_OPEN_UTC,
    WEEKDAYS,
    BusinessCalendar,
    WorkingInterval,
    add_business_minutes,
    add_business_time,
    always_open_calendar,
    business_minutes_between,
    business_time_between,
    is_working,
    next_working_instant,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")

WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")
LUNCH_BREAK = [["09:00", "12:00"], ["13:30", "18:00"]]
NINE_TO_FIVE = [["09:00", "17:00"]]
NATIONAL_DAY_2026 = [f"2026-10-0{d}" for d in range(1, 8)]


def office(
    zone: str = "Asia/Shanghai",
    intervals: list[list[str]] = LUNCH_BREAK,
    holidays: list[str] | None = None,
) -> BusinessCalendar:
    return BusinessCalendar.from_config(
        "office", zone, {day: intervals for day in WEEKDAYS_ONLY}, holidays or []
    )


def sunday_only(zone: str, *intervals: tuple[str, str]) -> BusinessCalendar:
    return BusinessCalendar.from_config("sunday", zone, {"sun": [list(i) for i in intervals]}, [])


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


CN = office()


# -- interval edges -----------------------------------------------------------------------


def test_start_exactly_at_opening_counts_from_opening() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 60) == sh(2026, 5, 11, 10, 0)


def test_target_that_fills_the_morning_is_due_at_lunch_not_after_it() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 180) == sh(2026, 5, 11, 12, 0)


def test_one_minute_past_the_morning_lands_after_lunch() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 181) == sh(2026, 5, 11, 13, 31)


def test_start_exactly_at_lunch_waits_for_the_afternoon() -> None:
    start = sh(2026, 5, 11, 12, 0)
    assert add_business_minutes(CN, start, 30) == sh(2026, 5, 11, 14, 0)
    assert not is_working(CN, start)
    assert is_working(CN, start - timedelta(microseconds=1))


def test_start_during_lunch_counts_from_the_afternoon() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 11, 12, 45), 60) == sh(2026, 5, 11, 14, 30)


def test_start_exactly_at_afternoon_opening_is_working() -> None:
    start = sh(2026, 5, 11, 13, 30)
    assert is_working(CN, start)
    assert add_business_minutes(CN, start, 1) == sh(2026, 5, 11, 13, 31)


def test_start_exactly_at_closing_continues_next_morning() -> None:
    start = sh(2026, 5, 11, 18, 0)
    assert not is_working(CN, start)
    assert add_business_minutes(CN, start, 1) == sh(2026, 5, 12, 9, 1)
    assert next_working_instant(CN, start) == sh(2026, 5, 12, 9, 0)


def test_start_before_opening_counts_from_opening() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 11, 7, 15), 15) == sh(2026, 5, 11, 9, 15)


def test_touching_intervals_are_one_stretch_of_work() -> None:
    cal = office(intervals=[["09:00", "12:00"], ["12:00", "18:00"]])
    assert add_business_minutes(cal, sh(2026, 5, 11, 11, 0), 120) == sh(2026, 5, 11, 13, 0)
    assert is_working(cal, sh(2026, 5, 11, 12, 0))


def test_seconds_in_the_start_are_kept() -> None:
    start = sh(2026, 5, 11, 9, 0, 30)
    assert add_business_minutes(CN, start, 1) == sh(2026, 5, 11, 9, 1, 30)
    assert business_minutes_between(CN, sh(2026, 5, 11, 9, 0), start) == 0.5


# -- zero minutes, inside and outside working time -----------------------------------------


def test_zero_minutes_inside_working_time_is_the_start() -> None:
    start = sh(2026, 5, 11, 10, 17, 5)
    assert add_business_minutes(CN, start, 0) == start
    assert next_working_instant(CN, start) == start


def test_zero_minutes_outside_working_time_is_the_next_opening() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 16, 11, 0), 0) == sh(2026, 5, 18, 9, 0)


def test_results_are_aware_utc() -> None:
    due = add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 60)
    assert due.tzinfo is UTC
    assert due == utc(2026, 5, 11, 2, 0)
    assert next_working_instant(CN, sh(2026, 5, 11, 10, 0)).tzinfo is UTC


def test_start_in_any_zone_is_the_same_instant() -> None:
    start_utc = utc(2026, 5, 8, 9, 30)  # Friday 17:30 in Shanghai
    assert add_business_minutes(CN, start_utc, 120) == sh(2026, 5, 11, 10, 30)
    start_ny = start_utc.astimezone(NEW_YORK)
    assert add_business_minutes(CN, start_ny, 120) == sh(2026, 5, 11, 10, 30)


# -- weekends, holidays, year end ----------------------------------------------------------


def test_p1_opened_friday_evening_is_due_monday_morning() -> None:
    # The SLA example: 120 business minutes from Friday 17:30 Shanghai time.
    due = add_business_minutes(CN, sh(2026, 5, 8, 17, 30), 120)
    assert due.astimezone(SHANGHAI) == sh(2026, 5, 11, 10, 30)
    assert business_minutes_between(CN, sh(2026, 5, 8, 17, 30), due) == 120


def test_weekend_start_counts_from_monday() -> None:
    assert add_business_minutes(CN, sh(2026, 5, 16, 15, 0), 90) == sh(2026, 5, 18, 10, 30)
    assert not is_working(CN, sh(2026, 5, 16, 10, 0))


def test_weekend_has_no_business_time() -> None:
    assert business_minutes_between(CN, sh(2026, 5, 8, 18, 0), sh(2026, 5, 11, 9, 0)) == 0


def test_holiday_friday_joins_the_weekend() -> None:
    cal = office(holidays=["2026-05-15"])
    assert add_business_minutes(cal, sh(2026, 5, 14, 17, 0), 120) == sh(2026, 5, 18, 10, 0)
    assert not is_working(cal, sh(2026, 5, 15, 10, 0))


def test_national_day_week_is_closed() -> None:
    cal = office(holidays=NATIONAL_DAY_2026)
    assert add_business_minutes(cal, sh(2026, 9, 30, 17, 0), 120) == sh(2026, 10, 8, 10, 0)
    assert business_minutes_between(cal, sh(2026, 9, 30, 18, 0), sh(2026, 10, 8, 9, 0)) == 0
    assert next_working_instant(cal, sh(2026, 10, 1, 9, 0)) == sh(2026, 10, 8, 9, 0)


def test_year_end_skips_new_years_day() -> None:
    cal = office(holidays=["2026-01-01"])
    assert add_business_minutes(cal, sh(2025, 12, 31, 17, 0), 120) == sh(2026, 1, 2, 10, 0)
    assert business_minutes_between(cal, sh(2025, 12, 31, 12, 0), sh(2026, 1, 2, 10, 0)) == 330


def test_ten_business_days_end_at_closing_on_the_tenth_day() -> None:
    ten_days = 10 * (180 + 270)
    assert add_business_minutes(CN, sh(2026, 5, 11, 9, 0), ten_days) == sh(2026, 5, 22, 18, 0)


def test_a_hundred_thousand_minutes() -> None:
    # 222 full days of 450 minutes (44 weeks and Mon, Tue), then 100 minutes on day 223.
    due = add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 100_000)
    assert due == sh(2027, 3, 17, 10, 40)
    assert business_minutes_between(CN, sh(2026, 5, 11, 9, 0), due) == 100_000


# -- make-up working days (调休) ------------------------------------------------------------

SPRING_FESTIVAL_2026 = [
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-23",
]


def swapped(
    workdays: list[str], workdays_as: str = "mon", **hours: list[list[str]]
) -> BusinessCalendar:
    week = {day: LUNCH_BREAK for day in WEEKDAYS_ONLY} | hours
    return BusinessCalendar.from_config(
        "cn",
        "Asia/Shanghai",
        week,
        SPRING_FESTIVAL_2026,
        workdays=workdays,
        workdays_as=workdays_as,
    )


def test_make_up_saturday_works_a_weekday_s_hours() -> None:
    cal = swapped(["2026-02-14"])
    # Friday 17:00 + 120 min: one hour on Friday, then Saturday 14 February opens at 09:00.
    assert add_business_minutes(cal, sh(2026, 2, 13, 17, 0), 120) == sh(2026, 2, 14, 10, 0)
    assert is_working(cal, sh(2026, 2, 14, 9, 0))
    assert not is_working(cal, sh(2026, 2, 14, 12, 30))
    assert business_minutes_between(cal, sh(2026, 2, 14, 0, 0), sh(2026, 2, 15, 0, 0)) == 450
    # The Saturday after is an ordinary weekend day.
    assert business_minutes_between(cal, sh(2026, 2, 21, 0, 0), sh(2026, 2, 22, 0, 0)) == 0


def test_without_the_make_up_day_the_saturday_is_closed() -> None:
    cal = swapped([])
    assert add_business_minutes(cal, sh(2026, 2, 13, 17, 0), 120) == sh(2026, 2, 24, 10, 0)


def test_make_up_sunday_before_a_holiday_week() -> None:
    # 2026: Sunday 4 January is worked after New Year's Day (Thu 1 – Sat 3 off).
    cal = BusinessCalendar.from_config(
        "cn",
        "Asia/Shanghai",
        {day: LUNCH_BREAK for day in WEEKDAYS_ONLY},
        ["2026-01-01", "2026-01-02"],
        workdays=["2026-01-04"],
    )
    assert next_working_instant(cal, sh(2025, 12, 31, 18, 0)) == sh(2026, 1, 4, 9, 0)
    assert add_business_minutes(cal, sh(2025, 12, 31, 17, 0), 120) == sh(2026, 1, 4, 10, 0)


def test_make_up_day_works_the_hours_of_the_weekday_named() -> None:
    cal = swapped(["2026-02-14"], workdays_as="fri", fri=[["09:00", "15:00"]])
    assert business_minutes_between(cal, sh(2026, 2, 14, 0, 0), sh(2026, 2, 15, 0, 0)) == 360
    assert not is_working(cal, sh(2026, 2, 14, 15, 0))


def test_make_up_day_in_a_dst_zone_keeps_its_local_hours() -> None:
    # Sunday 8 March 2026 is New York's spring-forward day: 09:00-17:00 local is 8 h
    # of work (the jump is at 02:00), from 13:00 UTC.
    cal = BusinessCalendar.from_config(
        "ny", "America/New_York", {"mon": NINE_TO_FIVE}, [], workdays=["2026-03-08"]
    )
    assert next_working_instant(cal, utc(2026, 3, 7, 0, 0)) == utc(2026, 3, 8, 13, 0)
    assert business_minutes_between(cal, utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 0, 0)) == 480


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workdays": ["2026-02-16"]}, "2026-02-16 is both a holiday and a make-up working day"),
        ({"workdays": ["2026-02-14"], "workdays_as": "sat"}, "sat has none"),
        ({"workdays": ["2026-02-14"], "workdays_as": "monday"}, "'monday' is not a weekday"),
        ({"workdays": ["2026-02-30"]}, "make-up working day '2026-02-30' is not a date"),
    ],
)
def test_bad_make_up_days_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_config(
            "cn",
            "UTC",
            {"mon": NINE_TO_FIVE},
            SPRING_FESTIVAL_2026,
            **kwargs,  # type: ignore[arg-type]
        )


def test_make_up_days_survive_pickling_and_count_in_equality() -> None:
    cal = swapped(["2026-02-14"])
    assert pickle.loads(pickle.dumps(cal)) == cal
    assert copy.deepcopy(cal).workdays == frozenset({date(2026, 2, 14)})
    assert cal != swapped([])
    assert cal != swapped(["2026-02-14"], workdays_as="tue")


# -- "24:00" ------------------------------------------------------------------------------


NIGHT_SHIFT = BusinessCalendar.from_config(
    "night", "Asia/Shanghai", {"sat": [["20:00", "24:00"]], "sun": [["00:00", "02:00"]]}, []
)


def test_interval_ending_at_24_00_runs_to_midnight() -> None:
    assert add_business_minutes(NIGHT_SHIFT, sh(2026, 5, 16, 23, 0), 60) == sh(2026, 5, 17, 0, 0)
    assert is_working(NIGHT_SHIFT, sh(2026, 5, 16, 23, 59, 59))


def test_work_continues_across_midnight() -> None:
    assert add_business_minutes(NIGHT_SHIFT, sh(2026, 5, 16, 23, 0), 120) == sh(2026, 5, 17, 1, 0)
    assert is_working(NIGHT_SHIFT, sh(2026, 5, 17, 0, 0))
    assert business_minutes_between(NIGHT_SHIFT, sh(2026, 5, 16, 0), sh(2026, 5, 18, 0)) == 360


def test_24_00_before_a_closed_day() -> None:
    cal = BusinessCalendar.from_config("late", "Asia/Shanghai", {"fri": [["18:00", "24:00"]]}, [])
    assert add_business_minutes(cal, sh(2026, 5, 15, 23, 0), 61) == sh(2026, 5, 22, 18, 1)
    assert not is_working(cal, sh(2026, 5, 16, 0, 0))


# -- daylight saving ------------------------------------------------------------------------


def test_new_york_spring_forward_interval_is_two_real_hours() -> None:
    cal = sunday_only("America/New_York", ("01:00", "04:00"))
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 120
    # 01:00 EST is 06:00 UTC; one hour later the clock jumps from 02:00 to 03:00.
    assert add_business_minutes(cal, day, 60) == utc(2026, 3, 8, 7, 0)
    assert add_business_minutes(cal, day, 120) == utc(2026, 3, 8, 8, 0)  # 04:00 EDT


def test_new_york_fall_back_interval_is_four_real_hours() -> None:
    cal = sunday_only("America/New_York", ("01:00", "04:00"))
    day = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 240
    # Opens at the first 01:00 (EDT, 05:00 UTC); 90 minutes later it is 01:30 again, in EST.
    assert next_working_instant(cal, day) == utc(2026, 11, 1, 5, 0)
    assert add_business_minutes(cal, day, 90) == utc(2026, 11, 1, 6, 30)
    assert add_business_minutes(cal, day, 240) == utc(2026, 11, 1, 9, 0)  # 04:00 EST


def test_new_york_ordinary_sunday_is_three_hours() -> None:
    cal = sunday_only("America/New_York", ("01:00", "04:00"))
    day = datetime(2026, 3, 15, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 180


def test_new_york_weekend_change_moves_the_utc_opening() -> None:
    cal = office("America/New_York", NINE_TO_FIVE)
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)  # EST, 21:00 UTC
    assert add_business_minutes(cal, friday, 120) == utc(2026, 3, 9, 14, 0)  # 10:00 EDT
    autumn = datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK)  # EDT, 20:00 UTC
    assert add_business_minutes(cal, autumn, 120) == utc(2026, 11, 2, 15, 0)  # 10:00 EST


def test_opening_inside_the_spring_gap_moves_to_the_jump() -> None:
    cal = sunday_only("America/New_York", ("02:30", "05:00"))
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert next_working_instant(cal, day) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 120
    ordinary = datetime(2026, 3, 15, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, ordinary, ordinary + timedelta(days=1)) == 150


def test_interval_wholly_inside_the_spring_gap_does_not_happen_that_day() -> None:
    cal = sunday_only("America/New_York", ("02:10", "02:40"))
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 0
    assert next_working_instant(cal, day) == datetime(2026, 3, 15, 2, 10, tzinfo=NEW_YORK)


def test_berlin_spring_forward() -> None:
    cal = sunday_only("Europe/Berlin", ("01:00", "04:00"))
    day = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 120
    assert add_business_minutes(cal, day, 120) == utc(2026, 3, 29, 2, 0)  # 04:00 CEST


def test_berlin_fall_back() -> None:
    cal = sunday_only("Europe/Berlin", ("01:00", "04:00"))
    day = datetime(2026, 10, 25, tzinfo=BERLIN)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 240
    assert add_business_minutes(cal, day, 240) == utc(2026, 10, 25, 3, 0)  # 04:00 CET


def test_berlin_weekday_hours_either_side_of_the_change() -> None:
    cal = office("Europe/Berlin", NINE_TO_FIVE)
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN)  # CET
    assert add_business_minutes(cal, friday, 120) == utc(2026, 3, 30, 8, 0)  # 10:00 CEST
    autumn = datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN)  # CEST
    assert add_business_minutes(cal, autumn, 120) == utc(2026, 10, 26, 9, 0)  # 10:00 CET
    # A day that does not straddle a change is its wall-clock length.
    monday = datetime(2026, 3, 30, tzinfo=BERLIN)
    assert business_minutes_between(cal, monday, monday + timedelta(days=1)) == 480


def test_ambiguous_end_is_the_first_occurrence() -> None:
    # Berlin repeats 02:00-03:00 on 2026-10-25 (CEST 00:00-01:00 UTC, then CET 01:00-02:00 UTC).
    cal = sunday_only("Europe/Berlin", ("00:00", "02:30"))
    day = datetime(2026, 10, 25, tzinfo=BERLIN)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 150
    assert add_business_minutes(cal, day, 150) == utc(2026, 10, 25, 0, 30)


def test_ambiguous_start_is_the_first_occurrence_and_the_repeat_is_worked() -> None:
    cal = sunday_only("Europe/Berlin", ("02:30", "08:00"))
    day = datetime(2026, 10, 25, tzinfo=BERLIN)
    assert next_working_instant(cal, day) == utc(2026, 10, 25, 0, 30)  # first 02:30, CEST
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 390


def test_interval_inside_the_repeated_hour_is_worked_once() -> None:
    cal = sunday_only("Europe/Berlin", ("02:00", "02:30"))
    day = datetime(2026, 10, 25, tzinfo=BERLIN)
    assert business_minutes_between(cal, day, day + timedelta(days=1)) == 30
    assert is_working(cal, utc(2026, 10, 25, 0, 15))  # 02:15 CEST, first pass
    assert not is_working(cal, utc(2026, 10, 25, 1, 15))  # 02:15 CET, the repeat


def test_shanghai_has_no_daylight_saving() -> None:
    cal = sunday_only("Asia/Shanghai", ("01:00", "04:00"))
    for day in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)):
        midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        assert business_minutes_between(cal, midnight, midnight + timedelta(days=1)) == 180
        assert add_business_minutes(cal, midnight, 180) == midnight + timedelta(hours=4)


# -- 24x7 ---------------------------------------------------------------------------------


def test_always_open_is_elapsed_time() -> None:
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    # In UTC: Python adds a timedelta to a zoned datetime in wall time, not elapsed time.
    elapsed = start.astimezone(UTC) + timedelta(minutes=100_000)
    assert add_business_minutes(ALWAYS_OPEN_UTC, start, 100_000) == elapsed
    # Elapsed, not wall-clock: 01:30 to 04:30 across the spring gap is two hours.
    end = datetime(2026, 3, 8, 4, 30, tzinfo=NEW_YORK)
    assert business_minutes_between(ALWAYS_OPEN_UTC, start, end) == 120
    assert is_working(ALWAYS_OPEN_UTC, start)
    assert next_working_instant(ALWAYS_OPEN_UTC, start) == start


def test_always_open_from_config() -> None:
    cal = BusinessCalendar.from_config("ops", "Asia/Shanghai", {}, [], always_open=True)
    assert cal == always_open_calendar("ops", "Asia/Shanghai")
    assert add_business_minutes(cal, sh(2026, 10, 1, 3, 0), 60) == sh(2026, 10, 1, 4, 0)


def test_always_open_refuses_hours_and_holidays() -> None:
    with pytest.raises(ValueError, match="always open"):
        BusinessCalendar.from_config("ops", "UTC", {"mon": NINE_TO_FIVE}, [], always_open=True)
    with pytest.raises(ValueError, match="always open"):
        BusinessCalendar.from_config("ops", "UTC", {}, ["2026-10-01"], always_open=True)
    with pytest.raises(ValueError, match="always open"):
        BusinessCalendar.from_config(
            "ops", "UTC", {}, [], always_open=True, workdays=["2026-10-10"]
        )


# -- counting -----------------------------------------------------------------------------


def test_between_counts_only_working_time() -> None:
    assert business_minutes_between(CN, sh(2026, 5, 11, 8, 0), sh(2026, 5, 11, 19, 0)) == 450
    assert business_minutes_between(CN, sh(2026, 5, 11, 11, 0), sh(2026, 5, 11, 14, 0)) == 90


def test_between_is_zero_when_end_is_not_after_start() -> None:
    start = sh(2026, 5, 11, 10, 0)
    assert business_minutes_between(CN, start, start) == 0
    assert business_minutes_between(CN, start, start - timedelta(hours=1)) == 0


def test_business_time_is_exact() -> None:
    start = sh(2026, 5, 11, 9, 0, 0, 1)
    assert business_time_between(CN, start, sh(2026, 5, 11, 9, 1)) == timedelta(
        seconds=59, microseconds=999_999
    )


def test_add_business_time_takes_a_remainder() -> None:
    remaining = timedelta(minutes=82, seconds=30)
    assert add_business_time(CN, sh(2026, 5, 11, 11, 0), remaining) == sh(2026, 5, 11, 13, 52, 30)


# -- bad input ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 5, 11, 9, 0)
    with pytest.raises(ValueError, match="no time zone"):
        add_business_minutes(CN, naive, 10)
    with pytest.raises(ValueError, match="no time zone"):
        business_minutes_between(CN, sh(2026, 5, 11, 9, 0), naive)
    with pytest.raises(ValueError, match="no time zone"):
        is_working(CN, naive)
    with pytest.raises(ValueError, match="no time zone"):
        next_working_instant(CN, naive)


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_minutes(CN, sh(2026, 5, 11, 9, 0), -1)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(CN, sh(2026, 5, 11, 9, 0), timedelta(seconds=-1))


def test_minutes_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        add_business_minutes(CN, sh(2026, 5, 11, 9, 0), 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_business_minutes(CN, sh(2026, 5, 11, 9, 0), True)


def test_calendar_without_working_time_raises_instead_of_looping() -> None:
    closed = BusinessCalendar.from_config("closed", "UTC", {day: [] for day in WEEKDAYS}, [])
    with pytest.raises(ValueError, match="no working time in the 3 years"):
        add_business_minutes(closed, utc(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="no working time"):
        next_working_instant(closed, utc(2026, 1, 1))
    assert business_minutes_between(closed, utc(2026, 1, 1), utc(2030, 1, 1)) == 0
    assert not is_working(closed, utc(2026, 1, 1))


def test_years_of_holidays_raise_instead_of_looping() -> None:
    first = date(2026, 1, 1)
    every_day = [(first + timedelta(days=i)).isoformat() for i in range(5 * 366)]
    cal = office("UTC", NINE_TO_FIVE, every_day)
    with pytest.raises(ValueError, match="no working time"):
        add_business_minutes(cal, utc(2026, 1, 1), 1)


def test_working_time_after_a_long_closure_is_found() -> None:
    first = date(2026, 1, 1)
    closure = [(first + timedelta(days=i)).isoformat() for i in range(2 * 365)]
    cal = office("UTC", NINE_TO_FIVE, closure)
    assert next_working_instant(cal, utc(2026, 1, 1)) == utc(2028, 1, 3, 9, 0)


def test_result_beyond_the_representable_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="beyond"):
        add_business_minutes(CN, datetime(9999, 12, 30, tzinfo=UTC), 10_000)
    with pytest.raises(ValueError, match="beyond"):
        add_business_minutes(ALWAYS_OPEN_UTC, datetime(9999, 12, 31, tzinfo=UTC), 10_000)


@pytest.mark.parametrize(
    ("hours", "holidays", "zone", "message"),
    [
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, [], "UTC", "overlap"),
        ({"mon": [["13:30", "18:00"], ["09:00", "12:00"]]}, [], "UTC", "out of order"),
        ({"mon": [["12:00", "09:00"]]}, [], "UTC", "must start before it ends"),
        ({"mon": [["09:00", "09:00"]]}, [], "UTC", "must start before it ends"),
        ({"mon": [["9:00", "12:00"]]}, [], "UTC", "'9:00' is not a time"),
        ({"mon": [["09:00", "24:30"]]}, [], "UTC", "'24:30' is not a time"),
        ({"mon": [["09:00", "12:60"]]}, [], "UTC", "'12:60' is not a time"),
        ({"mon": [["24:00", "24:00"]]}, [], "UTC", "'24:00' is not a time"),
        ({"mon": [["09:00"]]}, [], "UTC", "is not an interval"),
        ({"mon": ["09:00-12:00"]}, [], "UTC", "is not an interval"),
        ({"mon": "09:00-12:00"}, [], "UTC", "is not a list"),
        ({"mon": None}, [], "UTC", "is not a list"),
        ({"monday": [["09:00", "12:00"]]}, [], "UTC", "unknown weekday 'monday'"),
        ({"mon": [["09:00", "12:00"]]}, [], "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ({"mon": [["09:00", "12:00"]]}, [], "", "not an IANA name"),
        ({"mon": [["09:00", "12:00"]]}, ["2026-02-30"], "UTC", "'2026-02-30' is not a date"),
        ({"mon": [["09:00", "12:00"]]}, ["tomorrow"], "UTC", "'tomorrow' is not a date"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(
    hours: dict[str, list[list[str]]], holidays: list[str], zone: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_config("desk", zone, hours, holidays)


def test_config_becomes_typed_intervals() -> None:
    cal = BusinessCalendar.from_config(
        "cn",
        "Asia/Shanghai",
        {"mon": LUNCH_BREAK, "sat": [], "sun": [["20:00", "24:00"]]},
        ["2026-10-01", "2026-10-01"],
    )
    assert cal.hours == {
        "mon": (WorkingInterval(540, 720), WorkingInterval(810, 1080)),
        "sun": (WorkingInterval(1200, 1440),),
    }
    assert cal.holidays == frozenset({date(2026, 10, 1)})
    assert str(cal.hours["sun"][0]) == "20:00-24:00"
    assert cal.zone == SHANGHAI


def test_equal_calendars_hash_alike() -> None:
    assert hash(office()) == hash(office())
    assert office() == office()
    assert office() != office(holidays=["2026-10-01"])


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(
            "x", "UTC", hours={"mon": (WorkingInterval(540, 720), WorkingInterval(600, 800))}
        )
    with pytest.raises(ValueError, match="0–1440"):
        BusinessCalendar("x", "UTC", hours={"mon": (WorkingInterval(540, 1500),)})


def test_clock_set_back_across_midnight() -> None:
    # America/Moncton, 1995-10-29: at 00:01 ADT (03:01 UTC) the clock went back to
    # 23:01 AST on Saturday. The Sunday shift opened at the first 00:00 (03:00 UTC)
    # and keeps running while the clock shows Saturday again.
    cal = BusinessCalendar.from_config(
        "moncton",
        "America/Moncton",
        {"sat": [["22:00", "24:00"]], "sun": [["00:00", "06:00"]]},
        [],
    )
    saturday_again = utc(1995, 10, 29, 3, 30)
    assert saturday_again.astimezone(cal.zone).day == 28
    assert is_working(cal, saturday_again)
    assert business_minutes_between(cal, utc(1995, 10, 29, 3, 15), utc(1995, 10, 29, 3, 45)) == 30
    weekend = business_minutes_between(cal, utc(1995, 10, 28, 3, 0), utc(1995, 10, 30, 4, 0))
    assert weekend == 120 + 420
    assert add_business_minutes(cal, utc(1995, 10, 29, 2, 0), 120) == utc(1995, 10, 29, 4, 0)


def test_calendars_copy_and_pickle_as_values() -> None:
    cal = office(holidays=NATIONAL_DAY_2026)
    add_business_minutes(cal, sh(2026, 9, 30, 17, 0), 120)  # fills the day cache
    for clone in (pickle.loads(pickle.dumps(cal)), copy.deepcopy(cal), copy.copy(cal)):
        assert clone == cal
        assert add_business_minutes(clone, sh(2026, 9, 30, 17, 0), 120) == sh(2026, 10, 8, 10, 0)
    renamed = dataclasses.replace(cal, name="renamed")
    assert renamed.hours == cal.hours and renamed.name == "renamed"
