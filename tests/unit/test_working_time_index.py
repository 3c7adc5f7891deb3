"""WorkingTimeIndex (the seed's bulk business time) agrees with the calendar's own functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsm_tui.domain.calendar import (
    BusinessCalendar,
    WorkingTimeIndex,
    add_business_time,
    business_time_between,
    next_working_instant,
)
from tests.unit.test_calendar_properties import calendars

ORIGIN = datetime(2026, 3, 1, tzinfo=UTC)
SPAN_DAYS = 120
SECOND = timedelta(seconds=1)


def _index(cal: BusinessCalendar) -> WorkingTimeIndex:
    # A year past the instants drawn below, so every due time falls inside the table.
    return WorkingTimeIndex(cal, ORIGIN, ORIGIN, ORIGIN + timedelta(days=SPAN_DAYS + 900))


INSTANTS = st.integers(0, SPAN_DAYS * 86_400)
# Durations in µs, from a second to 20 business days, plus fractions of a minute that
# percent thresholds produce (e.g. 33 % of 15 minutes).
DURATIONS = st.one_of(
    st.integers(1, 20 * 450 * 60).map(lambda s: s * 1_000_000),
    st.integers(1, 10**11),
)


@settings(deadline=None, max_examples=150)
@given(calendars(), INSTANTS, INSTANTS)
def test_seconds_between_is_business_time_between(cal: BusinessCalendar, a: int, b: int) -> None:
    index = _index(cal)
    expected = business_time_between(cal, ORIGIN + a * SECOND, ORIGIN + b * SECOND)
    assert index.seconds_between(a, b) == expected // SECOND


@settings(deadline=None, max_examples=150)
@given(calendars(), INSTANTS, DURATIONS)
def test_add_micro_is_add_business_time(cal: BusinessCalendar, a: int, micro: int) -> None:
    index = _index(cal)
    expected = add_business_time(cal, ORIGIN + a * SECOND, timedelta(microseconds=micro))
    assert index.add_micro(a, micro) == (expected - ORIGIN) // timedelta(microseconds=1)


@settings(deadline=None, max_examples=100)
@given(calendars(), INSTANTS)
def test_next_working_is_next_working_instant(cal: BusinessCalendar, a: int) -> None:
    expected = next_working_instant(cal, ORIGIN + a * SECOND)
    assert _index(cal).next_working(a) == (expected - ORIGIN) // SECOND


def test_a_due_time_that_uses_the_morning_up_is_at_lunch() -> None:
    cal = BusinessCalendar.from_config(
        "office", "Asia/Shanghai", {"mon": [["09:00", "12:00"], ["13:30", "18:00"]]}, []
    )
    index = _index(cal)
    monday_nine = int((datetime(2026, 3, 2, 1, 0, tzinfo=UTC) - ORIGIN) // SECOND)
    # 180 minutes from 09:00 local end exactly at 12:00 (04:00 UTC), not at 13:30.
    due = index.add_micro(monday_nine, 180 * 60 * 1_000_000)
    assert ORIGIN + timedelta(microseconds=due) == datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def test_instants_outside_the_index_are_refused() -> None:
    cal = BusinessCalendar.from_config("office", "UTC", {"mon": [["09:00", "17:00"]]}, [])
    index = WorkingTimeIndex(cal, ORIGIN, ORIGIN, ORIGIN + timedelta(days=7))
    with pytest.raises(ValueError, match="outside"):
        index.worked(8 * 86_400)
