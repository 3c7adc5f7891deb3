"""The KPI dashboard in a Pilot: tiles, period and cut changes, drill-down to the queue,
live refresh that never stacks and pauses under a modal (fixed desk, fixed clock)."""

from __future__ import annotations

from pathlib import Path

from itsm_tui import desk
from itsm_tui.app import HelpScreen
from itsm_tui.data.kpi import RED
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.kpi import KpiDashboardScreen
from itsm_tui.screens.kpi.dashboard import drill_down
from itsm_tui.screens.kpi.reading import Scope, TrendCache
from itsm_tui.screens.queue import QueueScreen
from tests.factories import NOW
from tests.ui.snapshot_apps import build_queue_store, queue_app, run_async, settle


async def _open_dashboard(pilot, app):  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("K")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, KpiDashboardScreen)
    return screen


@run_async
async def test_dashboard_shows_every_kpi_as_a_tile(tmp_path: Path) -> None:
    app = queue_app(build_queue_store(tmp_path / "desk.db"))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open_dashboard(pilot, app)
        assert screen.data is not None
        keys = [tile.kpi.key for tile in screen.query("KpiTile")]  # type: ignore[attr-defined]
        assert keys == [k.key for k in screen.data.report.kpis]
        backlog = screen.data.report.by_key()["backlog"]
        assert backlog.value == 8
        # The panel shows the same figure the report measured.
        assert "Backlog  8" in str(screen.query_one("#kpi-backlog").render())
        assert "breaches" not in str(screen.query_one("#kpi-detail").render())
        assert "refreshed 11:30:00" in str(screen.query_one("#kpi-detail").render())


@run_async
async def test_period_and_cut_changes_read_again(tmp_path: Path) -> None:
    app = queue_app(build_queue_store(tmp_path / "desk.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dashboard(pilot, app)
        assert screen.data is not None and screen.data.report.period.days == 30
        await pilot.press("p")
        await settle(pilot)
        # 30 days → the quarter so far: from 1 October to the clock's day.
        assert screen.choice.name == "quarter"
        assert screen.data.report.period.label() == "2026-10-01 – 2026-11-24"
        await pilot.press("t")
        await settle(pilot)
        first_team = screen.data.teams[0]
        assert screen.data.report.cut.team == first_team
        assert f"team {first_team}" in str(screen.query_one("#kpi-detail").render())
        await pilot.press("d")
        await pilot.press(*"2026-11-01 2026-11-30", "enter")
        await settle(pilot)
        assert screen.data.report.period.label() == "2026-11-01 – 2026-11-30"
        # Dates the wrong way round: one line, the box keeps the text, nothing read.
        reads = screen.reads
        await pilot.press("d", "ctrl+u", *"2026-11-30 2026-11-01", "enter")
        await settle(pilot)
        assert screen.reads == reads
        assert screen.query_one("#kpi-dates").value == "2026-11-30 2026-11-01"  # type: ignore[attr-defined]


@run_async
async def test_enter_drills_down_to_the_queue_with_a_filter(tmp_path: Path) -> None:
    app = queue_app(build_queue_store(tmp_path / "desk.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dashboard(pilot, app)
        screen.query_one("#kpi-breaches_today").focus()
        await pilot.press("enter")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert queue.view_key == "breached"
        assert queue.count == 2


@run_async
async def test_enter_on_a_resolved_kpi_shows_the_periods_tickets_in_the_queue(
    tmp_path: Path,
) -> None:
    store = build_queue_store(tmp_path / "desk.db")
    with store.write() as session:
        # Two of the desk's tickets resolved today: the figure counts them.
        for number in ("INC0000001", "INC0000002"):
            desk.resolve_ticket(
                session,
                get_agent(session, "root"),
                number,
                code="fixed",
                notes="Restarted",
                now=NOW,
            )
    app = queue_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dashboard(pilot, app)
        assert screen.data is not None
        period = screen.data.report.period
        samples = screen.data.report.by_key()["reopen_rate"].samples
        screen.query_one("#kpi-reopen_rate").focus()
        await pilot.press("enter")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert queue.filter_text == f"resolved:{period.first_day}..{period.last_day}"
        assert samples == 2 and queue.count == 2


def test_drill_down_names_the_cut() -> None:
    view, text = drill_down("request_cycle", Scope('Desk "A"', "Email"))
    assert view == "resolved"
    assert text == 'type:request team:"Desk \\"A\\"" service:"Email"'


@run_async
async def test_refresh_never_stacks_and_pauses_under_a_modal(tmp_path: Path) -> None:
    app = queue_app(build_queue_store(tmp_path / "desk.db"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = KpiDashboardScreen(poll_seconds=0)
        app.push_screen(screen)
        await settle(pilot)
        reads = screen.reads
        # Ten asks while reads are under way: at most one more read queued behind each.
        for _ in range(10):
            screen.reload()
        await settle(pilot, rounds=20)
        assert screen.most_in_flight == 1
        assert screen.reads - reads <= 2
        # A modal on top: the timer fires, nothing is read, the timer is armed again.
        screen._poll_seconds = 60
        app.push_screen(HelpScreen([]))
        await settle(pilot)
        reads = screen.reads
        screen.poll_now()
        await settle(pilot)
        assert screen.reads == reads
        assert screen._poll_timer is not None
        app.pop_screen()
        screen.poll_now()
        await settle(pilot)
        assert screen.reads == reads + 1


def test_trend_cache_stays_bounded() -> None:
    from datetime import date, timedelta

    from itsm_tui.data.kpi import Cut

    cache = TrendCache(size=5)
    for n in range(20):
        cache.put(date(2026, 1, 1) + timedelta(days=n), Cut(), {"csat": float(n)})
    assert len(cache) == 5
    assert cache.get(date(2026, 1, 1), Cut()) is None
    assert cache.get(date(2026, 1, 20), Cut()) == {"csat": 19.0}
    assert RED  # the statuses the tiles colour by come from data/kpi


@run_async
async def test_a_supervisor_of_one_team_sees_that_teams_numbers(tmp_path: Path) -> None:
    app = queue_app(build_queue_store(tmp_path / "desk.db"), "sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dashboard(pilot, app)
        assert screen.data is not None
        assert screen.data.report.cut.team == "Service Desk"
        await pilot.press("t")
        await settle(pilot)
        # The team stays: sam's dashboard is his team's.
        assert screen.data.report.cut.team == "Service Desk"
        # Drill-downs keep to it too.
        assert 'team:"Service Desk"' in drill_down("backlog", screen.scope)[1]
