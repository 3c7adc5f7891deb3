"""The change calendar: its periods in the reader's zone (pure), and in Pilot the grid of
planned windows, freezes and maintenance, moving through time and opening a change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.widgets import Static

from itsm_tui.data.store import Store
from itsm_tui.screens.changes.calendar import ChangeCalendarScreen
from itsm_tui.screens.changes.calendar_view import (
    MONTH,
    WEEK,
    CalendarView,
    Line,
    period_bounds,
    shifted,
)
from tests.ui.change_board_apps import board_app, build_change_store
from tests.ui.snapshot_apps import run_async, settle

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


# ---------------------------------------------------------------------------
# In Pilot, over the fixed desk of changes (tests/ui/change_board_apps.py)


@pytest.fixture
def change_store(tmp_path: Path) -> Iterator[Store]:
    store = build_change_store(tmp_path / "desk.db")
    try:
        yield store
    finally:
        store.dispose()


async def open_calendar(pilot) -> ChangeCalendarScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("B")
    await settle(pilot)
    await pilot.press("L")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ChangeCalendarScreen)
    return screen


def line(view: CalendarView, label: str) -> Line:
    return next(li for li in view.lines if li.label == label)


def text_of(screen: ChangeCalendarScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


@run_async
async def test_the_week_of_today_with_windows_freezes_and_conflicts(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_calendar(pilot)
        view = screen.view
        assert "Week 48 · Mon 23 Nov – Sun 29 Nov 2026" in text_of(screen, "#calendar-detail")
        assert [li.label for li in view.lines] == ["Email", "VPN"]
        vpn = line(view, "VPN")
        firewall = next(c for c in vpn.changes if c.title == "Firewall rule clean-up")
        # Planned inside the VPN audit freeze: a conflict, drawn as one.
        assert firewall.in_conflict
        assert [f.name for f in vpn.freezes] == ["VPN audit"]
        email = line(view, "Email")
        assert [m.name for m in email.maintenance] == ["Sunday night"]
        # Every Email change this week is outside its Sunday-night window: a conflict too.
        conflicted = {c.title for li in view.lines for c in li.changes if c.in_conflict}
        assert conflicted == {c.title for c in email.changes} | {"Firewall rule clean-up"}
        assert "5 in conflict" in text_of(screen, "#calendar-detail")
        # Rejected and cancelled changes hold no window.
        shown = {c.title for li in view.lines for c in li.changes}
        assert "Decommission the fax gateway" not in shown


@run_async
async def test_keys_move_through_time_and_back_to_today(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_calendar(pilot)
        view = screen.view
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "Week 49 · Mon 30 Nov – Sun 06 Dec 2026" in text_of(screen, "#calendar-detail")
        # The month-end close holds every service: a line of its own.
        assert view.lines[0].label == "All services"
        assert [f.name for f in view.lines[0].freezes] == ["Month-end close"]
        await pilot.press("m")
        await settle(pilot)
        assert "December 2026" in text_of(screen, "#calendar-detail")
        await pilot.press("pageup")
        await settle(pilot)
        assert "November 2026" in text_of(screen, "#calendar-detail")
        # Back to weeks: the week the month shown begins in.
        await pilot.press("w")
        await settle(pilot)
        assert "Week 44 · Mon 26 Oct – Sun 01 Nov 2026" in text_of(screen, "#calendar-detail")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert "Week 42" in text_of(screen, "#calendar-detail")
        await pilot.press("t")
        await settle(pilot)
        assert "Week 48" in text_of(screen, "#calendar-detail")


@run_async
async def test_arrows_walk_the_changes_and_enter_opens_one(change_store: Store) -> None:
    from itsm_tui.screens.changes.detail import ChangeDetailScreen

    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_calendar(pilot)
        view = screen.view
        first = view.selected
        assert first is not None
        await pilot.press("right")
        second = view.selected
        assert second is not None and second.starts_at >= first.starts_at
        assert second.number != first.number
        await pilot.press("down")
        assert view.lines[view.row].label == "VPN"
        chosen = view.selected
        assert chosen is not None and chosen in view.lines[view.row].changes
        assert chosen.number in text_of(screen, "#calendar-selected")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert app.screen.number == chosen.number
        await pilot.press("escape")
        await settle(pilot)
        # Back on the calendar, on the same change.
        assert app.screen is screen and view.selected == chosen


@run_async
async def test_a_title_is_shown_literally(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_calendar(pilot)
        view = screen.view
        email = line(view, "Email")
        literal = next(c for c in email.changes if c.title.startswith("[bold"))
        view.row = view.lines.index(email)
        view.number = literal.number
        view._moved()
        await settle(pilot)
        shown = text_of(screen, "#calendar-selected")
        assert "[bold red]x[/]\\x1b[31m stays literal" in shown
        assert "\x1b" not in shown
