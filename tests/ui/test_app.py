"""The app shell: help, palette commands, escalator results, and the wiring to other screens."""

from __future__ import annotations

from itsm_tui.app import HelpScreen, ItsmApp, make_app
from itsm_tui.data.store import Store
from itsm_tui.escalation.sweep import SweepResult
from itsm_tui.messages import SweepFinished
from itsm_tui.screens.queue import QueueScreen
from tests.ui.snapshot_apps import queue_app, queue_context, run_async, settle


def toasts(app: ItsmApp) -> list[str]:
    return [n.message for n in app._notifications]


@run_async
async def test_question_mark_shows_every_binding(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        described = dict((d, k) for k, d in app.screen.lines)
        for description in ("Open", "Take", "Assign", "Status", "Reply", "Note", "Search", "Sort"):
            assert description in described
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@run_async
async def test_k_opens_the_kpi_dashboard_once(queue_store: Store) -> None:
    from itsm_tui.screens.kpi import KpiDashboardScreen

    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await settle(pilot)
        assert isinstance(app.screen, KpiDashboardScreen)
        # K on the dashboard keeps the one open (its period and cut), never a second.
        await pilot.press("K")
        await settle(pilot)
        assert sum(isinstance(s, KpiDashboardScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@run_async
async def test_the_palette_reaches_the_knowledge_base(queue_store: Store) -> None:
    from itsm_tui.screens.knowledge import KnowledgeScreen

    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Knowledge")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeScreen)


@run_async
async def test_b_and_the_palette_reach_the_change_board_and_calendar(queue_store: Store) -> None:
    from itsm_tui.screens.changes.board import ChangeBoardScreen
    from itsm_tui.screens.changes.calendar import ChangeCalendarScreen
    from itsm_tui.screens.changes.detail import ChangeDetailScreen

    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # From the queue: the calendar opens over the board (Esc leads back through it).
        await pilot.press("ctrl+p", *"Change calendar")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeCalendarScreen)
        board = app.screen_stack[-2]
        assert isinstance(board, ChangeBoardScreen)
        # One board, however it is reached.
        await pilot.press("B")
        await settle(pilot)
        assert app.screen is board
        await pilot.press("L")
        await settle(pilot)
        assert isinstance(app.screen, ChangeCalendarScreen)
        await pilot.press("ctrl+p", *"Change board")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is board
        await pilot.press("ctrl+p", *"chg0000042")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert app.screen.number == "CHG0000042"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@run_async
async def test_palette_switches_the_view(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"View: Unassigned")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.view_key == "unassigned"


@run_async
async def test_a_sweep_result_toasts_and_refreshes_the_queue(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        generation = screen.table.generation
        number = screen.table.cached_rows()[0].number  # alice's own ticket
        app.post_message(
            SweepFinished(SweepResult(breached=[{"number": number, "kind": "resolution"}]))
        )
        await settle(pilot)
        assert app.sweeps == 1
        assert any("1 breached" in m and number in m for m in toasts(app))
        assert screen.table.generation > generation  # read again
        app.post_message(SweepFinished(SweepResult()))  # nothing happened: no toast
        await settle(pilot)
        assert sum("SLA sweep" in m for m in toasts(app)) == 1


@run_async
async def test_the_escalator_runs_in_the_background_and_stops_with_the_app(
    queue_store: Store,
) -> None:
    app = make_app(queue_context(queue_store), escalator=True, poll_seconds=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        scheduler = app._scheduler
        assert scheduler is not None and scheduler.running
        # The first sweep runs at once; wait for its message without sleeping for time.
        for _ in range(200):
            if app.sweeps:
                break
            await pilot.pause(0.05)
        assert app.sweeps >= 1
    assert app._scheduler is None


@run_async
async def test_keys_open_the_detail_and_the_forms(queue_store: Store) -> None:
    from itsm_tui.screens.detail import TicketDetailScreen
    from itsm_tui.screens.forms import AssignForm, CommentForm, NewTicketForm, StatusForm

    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, screen_type in (
            ("a", AssignForm),
            ("s", StatusForm),
            ("r", CommentForm),
            ("w", CommentForm),
            ("n", NewTicketForm),
            ("N", NewTicketForm),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_type), key
            if key in "rw":
                assert app.screen.kind == {"r": "reply", "w": "work_note"}[key]
            if key in "nN":
                assert app.screen.ticket_type == {"n": "incident", "N": "request"}[key]
            app.pop_screen()
            await settle(pilot)
            assert isinstance(app.screen, QueueScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)


@run_async
async def test_the_header_clock_reads_in_the_agents_zone(queue_store: Store) -> None:
    from itsm_tui.data.models import Agent

    with queue_store.write() as session:
        session.execute(
            Agent.__table__.update()
            .where(Agent.username == "alice")
            .values(timezone="Asia/Shanghai")
        )
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        header = app.screen.query_one("#desk-header").content.plain
        # The fixed clock is Tue 24 Nov 11:30 UTC: 19:30 in Shanghai.
        assert header.endswith("Tue 24 Nov 19:30")
