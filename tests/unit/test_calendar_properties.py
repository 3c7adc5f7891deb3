"""Business time laws on random calendars, zones, holidays and starts (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from itsm_tui.domain.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    add_business_minutes,
    always_open_calendar,
    business_minutes_between,
    business_time_between,
    is_working,
    next_working_instant,
)

ZONES = ("America/New_York", "Europe/Berlin", "Asia/Shanghai", "UTC")
# The local hour each zone repeats when it falls back, in minutes after midnight.
REPEATED_HOUR = {"America/New_York": (60, 120), "Europe/Berlin": (120, 180)}
FIRST, LAST = datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 12, 31, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
TICK = timedelta(microseconds=1)

LAWS = settings(deadline=None, max_examples=150)
ORACLE = settings(deadline=None, max_examples=100)


def _transitions() -> list[datetime]:
    """Every DST change of the test zones in the years the starts are drawn from."""
    found = []
    for name in REPEATED_HOUR:
        zone = ZoneInfo(name)
        hour = FIRST
        previous = hour.astimezone(zone).utcoffset()
        while hour < LAST:
            hour += timedelta(hours=1)
            offset = hour.astimezone(zone).utcoffset()
            if offset != previous:
                found.append(hour)
                previous = offset
    return found


TRANSITIONS = _transitions()


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Boundaries near DST changes and usual office hours turn up more often than chance would allow.
BOUNDARIES = st.one_of(
    st.integers(0, 1440),
    st.sampled_from([0, 30, 60, 90, 120, 150, 180, 240, 540, 720, 810, 1080, 1440]),
)
PRESETS = st.sampled_from(
    [
        [["09:00", "12:00"], ["13:30", "18:00"]],
        [["09:00", "12:00"], ["12:00", "18:00"]],
        [["00:00", "24:00"]],
        [["00:00", "02:00"], ["20:00", "24:00"]],
        [["01:00", "04:00"]],
    ]
)


@st.composite
def random_intervals(draw: st.DrawFn) -> list[list[str]]:
    points = sorted(set(draw(st.lists(BOUNDARIES, max_size=6))))
    if len(points) % 2:
        points.pop()
    return [[hhmm(a), hhmm(b)] for a, b in zip(points[::2], points[1::2], strict=True)]


DAY_HOURS = st.one_of(st.just([]), PRESETS, random_intervals())


@st.composite
def holiday_lists(draw: st.DrawFn) -> list[str]:
    days = draw(st.lists(st.dates(date(2024, 1, 1), date(2031, 12, 31)), max_size=20))
    # Runs of closed days, like a national holiday week.
    for first, length in draw(
        st.lists(
            st.tuples(st.dates(date(2024, 1, 1), date(2031, 12, 31)), st.integers(1, 10)),
            max_size=3,
        )
    ):
        days.extend(first + timedelta(days=i) for i in range(length))
    return [d.isoformat() for d in days]


@st.composite
def calendars(draw: st.DrawFn, always_open_allowed: bool = True) -> BusinessCalendar:
    if always_open_allowed and draw(st.integers(0, 19)) == 0:
        return always_open_calendar()
    zone = draw(st.sampled_from(ZONES))
    hours = {day: draw(DAY_HOURS) for day in WEEKDAYS}
    # Sparse weeks make N = 20,000 span centuries; an hour a week keeps runs short.
    weekly = sum(_minutes(e) - _minutes(s) for day in hours.values() for s, e in day)
    assume(weekly >= 60)
    holidays = draw(holiday_lists())
    # Make-up working days: closed weekdays and holidays alike may be worked instead.
    workdays_as = draw(st.sampled_from([day for day in WEEKDAYS if hours[day]] or ["mon"]))
    closed = set(holidays)
    workdays = (
        [
            d.isoformat()
            for d in draw(st.lists(st.dates(date(2024, 1, 1), date(2031, 12, 31)), max_size=8))
            if d.isoformat() not in closed
        ]
        if hours[workdays_as]
        else []
    )
    return BusinessCalendar.from_config(
        "random", zone, hours, holidays, workdays=workdays, workdays_as=workdays_as
    )


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


ANY_INSTANT = st.datetimes(
    min_value=FIRST.replace(tzinfo=None),
    max_value=LAST.replace(tzinfo=None),
    timezones=st.just(UTC),
)
NEAR_A_CHANGE = st.builds(
    lambda at, minutes: at + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(-4 * 1440, 2 * 1440),
)
STARTS = st.one_of(ANY_INSTANT, NEAR_A_CHANGE)
WHOLE_MINUTE_STARTS = st.one_of(
    ANY_INSTANT.map(lambda at: at.replace(second=0, microsecond=0)), NEAR_A_CHANGE
)
MINUTES = st.integers(0, 20_000)
GAPS = st.one_of(
    st.integers(0, 10 * 86_400_000_000).map(lambda us: timedelta(microseconds=us)),
    st.integers(0, 20_000).map(lambda m: m * MINUTE),
)


@LAWS
@given(calendars(), STARTS, MINUTES)
def test_counting_what_was_added_gives_it_back(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(cal, start, minutes)
    assert business_minutes_between(cal, start, due) == minutes
    assert business_time_between(cal, start, due) == minutes * MINUTE


@LAWS
@given(calendars(), STARTS, GAPS, MINUTES)
def test_a_later_start_is_never_due_earlier(
    cal: BusinessCalendar, start: datetime, gap: timedelta, minutes: int
) -> None:
    assert add_business_minutes(cal, start, minutes) <= add_business_minutes(
        cal, start + gap, minutes
    )


@LAWS
@given(calendars(), STARTS, MINUTES, MINUTES)
def test_more_minutes_are_due_later(cal: BusinessCalendar, start: datetime, a: int, b: int) -> None:
    fewer, more = sorted((a, b))
    due_fewer, due_more = (
        add_business_minutes(cal, start, fewer),
        add_business_minutes(cal, start, more),
    )
    assert start <= due_fewer <= due_more
    if fewer < more:
        assert due_fewer < due_more


@LAWS
@given(calendars(), STARTS, MINUTES)
def test_due_time_is_in_working_time_or_at_its_end(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(cal, start, minutes)
    if minutes == 0:
        assert is_working(cal, due)
        assert due == next_working_instant(cal, start)
    else:
        # Working just before the due time: inside an interval or exactly at its end.
        assert is_working(cal, due - TICK)


@LAWS
@given(calendars(), STARTS, GAPS, GAPS)
def test_counting_is_additive_over_a_split_point(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    split, end = start + first, start + first + second
    whole = business_time_between(cal, start, end)
    assert whole == business_time_between(cal, start, split) + business_time_between(
        cal, split, end
    )
    assert whole <= end - start


@LAWS
@given(calendars(), WHOLE_MINUTE_STARTS, MINUTES, MINUTES)
def test_whole_minutes_add_up_exactly(
    cal: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    split, end = start + first * MINUTE, start + (first + second) * MINUTE
    assert business_minutes_between(cal, start, end) == business_minutes_between(
        cal, start, split
    ) + business_minutes_between(cal, split, end)


@LAWS
@given(calendars(), STARTS, MINUTES, MINUTES)
def test_adding_in_two_steps_is_adding_once(
    cal: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    halfway = add_business_minutes(cal, start, first)
    assert add_business_minutes(cal, halfway, second) == add_business_minutes(
        cal, start, first + second
    )


def _wall_clock_says_working(cal: BusinessCalendar, at: datetime) -> bool:
    """The naive reading: is the local clock inside one of today's intervals?"""
    if cal.always_open:
        return True
    local = at.astimezone(cal.zone)
    weekday = WEEKDAYS[local.weekday()]
    if local.date() in cal.workdays:
        weekday = cal.workdays_as
    elif local.date() in cal.holidays:
        return False
    minute = local.hour * 60 + local.minute
    return any(s <= minute < e for s, e in cal.hours.get(weekday, ()))


@ORACLE
@given(calendars(), WHOLE_MINUTE_STARTS, st.integers(1, 3 * 1440))
def test_matches_reading_the_wall_clock_minute_by_minute(
    cal: BusinessCalendar, start: datetime, window: int
) -> None:
    # The wall-clock reading and the first-occurrence rule only disagree for a
    # boundary strictly inside a repeated hour; such calendars are tested by hand.
    low, high = REPEATED_HOUR.get(cal.timezone, (0, 0))
    boundaries = {m for day in cal.hours.values() for interval in day for m in interval}
    assume(not any(low < m < high for m in boundaries))
    expected = 0
    for i in range(window):
        at = start + i * MINUTE
        working = _wall_clock_says_working(cal, at)
        assert is_working(cal, at) == working, at
        expected += working
    assert business_minutes_between(cal, start, start + window * MINUTE) == expected


@ORACLE
@given(calendars(always_open_allowed=False), WHOLE_MINUTE_STARTS, st.integers(1, 3 * 1440))
def test_make_up_days_match_reading_the_wall_clock(
    cal: BusinessCalendar, start: datetime, window: int
) -> None:
    # Every day of the window a make-up day (holidays excepted): each works the hours of
    # `workdays_as`, whatever its weekday, across DST changes as well.
    low, high = REPEATED_HOUR.get(cal.timezone, (0, 0))
    boundaries = {m for day in cal.hours.values() for interval in day for m in interval}
    assume(not any(low < m < high for m in boundaries))
    first = start.astimezone(cal.zone).date() - timedelta(days=1)
    days = {first + timedelta(days=i) for i in range(window // 1440 + 3)} - cal.holidays
    cal = replace(
        cal, workdays=frozenset(days), workdays_as=next(d for d in WEEKDAYS if cal.hours.get(d))
    )
    expected = 0
    for i in range(window):
        at = start + i * MINUTE
        working = _wall_clock_says_working(cal, at)
        assert is_working(cal, at) == working, at
        expected += working
    assert business_minutes_between(cal, start, start + window * MINUTE) == expected
