"""The change calendar: its periods in the reader's zone (pure), and in Pilot the grid of
planned windows, freezes and maintenance, moving through time and opening a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from itsm_tui.screens.changes.calendar_view import MONTH, WEEK, period_bounds, shifted

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_week_runs_monday_to_monday_at_local_midnight() -> None:
    # Monday 30 Nov 2026 01:00 in Shanghai is still Sunday in UTC.
    anchor = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
    start, end = period_bounds(anchor, WEEK, SHANGHAI)
    assert start == datetime(2026, 11, 30, tzinfo=SHANGHAI)
    assert start.astimezone(UTC) == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(days=7)
    assert start.weekday() == 0


def test_a_month_across_a_dst_change_is_its_local_days() -> None:
    start, end = period_bounds(datetime(2026, 3, 15, 12, tzinfo=UTC), MONTH, BERLIN)
    assert (start, end) == (
        datetime(2026, 3, 1, tzinfo=BERLIN),
        datetime(2026, 4, 1, tzinfo=BERLIN),
    )
    # March in Berlin loses an hour to summer time.
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=31, hours=-1)


def test_moving_by_months_lands_in_the_right_month_from_any_day() -> None:
    jan31 = datetime(2026, 1, 31, 20, tzinfo=BERLIN)
    feb = shifted(jan31, MONTH, 1, BERLIN)
    assert period_bounds(feb, MONTH, BERLIN)[0] == datetime(2026, 2, 1, tzinfo=BERLIN)
    december = shifted(jan31, MONTH, -1, BERLIN)
    assert period_bounds(december, MONTH, BERLIN)[0] == datetime(2025, 12, 1, tzinfo=BERLIN)
    next_year = shifted(datetime(2026, 12, 5, tzinfo=BERLIN), MONTH, 1, BERLIN)
    assert period_bounds(next_year, MONTH, BERLIN)[0] == datetime(2027, 1, 1, tzinfo=BERLIN)


def test_moving_by_weeks_keeps_monday_starts() -> None:
    anchor = datetime(2026, 11, 25, 9, tzinfo=UTC)
    before = period_bounds(shifted(anchor, WEEK, -1, UTC), WEEK, UTC)
    after = period_bounds(shifted(anchor, WEEK, 1, UTC), WEEK, UTC)
    assert before[0] == datetime(2026, 11, 16, tzinfo=UTC)
    assert after[0] == datetime(2026, 11, 30, tzinfo=UTC)
