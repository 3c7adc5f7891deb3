"""The problem screens driven by Pilot: a problem from marked incidents in the queue, the
list and its recurring view, and the detail's step that resolves the incidents together."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import DataTable, SelectionList

from itsm_tui.data.models import Ticket
from itsm_tui.screens.problems import (
    ProblemDetailScreen,
    ProblemListScreen,
    ResolveIncidentsDialog,
)
from itsm_tui.screens.queue import QueueScreen
from tests.ui.problem_apps import build_problem_store
from tests.ui.snapshot_apps import queue_app, run_async, settle


def _problem_of(store, number: str) -> str | None:  # type: ignore[no-untyped-def]
    with store.read() as s:
        return s.scalar(
            select(Ticket.number).where(
                Ticket.id
                == select(Ticket.problem_id).where(Ticket.number == number).scalar_subquery()
            )
        )


@run_async
async def test_marked_incidents_become_one_problem(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    recurring = numbers["recurring"].split(",")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("6")  # all open
        await settle(pilot)
        wanted = set(recurring[:2])
        for _ in range(20):
            row = screen.table.selected
            if row is None or wanted <= set(screen.table.marked):
                break
            if row.number in wanted:
                await pilot.press("space")
            else:
                await pilot.press("down")
        assert sorted(screen.table.marked) == sorted(wanted)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        created = app.screen.number
        assert screen.table.marked == []
    assert {_problem_of(store, n) for n in wanted} == {created}
    assert _problem_of(store, recurring[2]) is None


@run_async
async def test_list_opens_detail_and_recurring_view_opens_a_problem(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, ProblemListScreen)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [
            numbers["known"],
            numbers["open"],
        ]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert app.screen.number == numbers["known"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProblemListScreen) and screen.suggestions
        assert [(c.service, c.size) for c in screen.rows] == [("Email", 3)]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        created = app.screen.number
    assert {_problem_of(store, n) for n in numbers["recurring"].split(",")} == {created}


@run_async
async def test_cascade_resolves_the_chosen_incidents_only(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    _first, second, third = numbers["incidents"].split(",")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["known"]))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ResolveIncidentsDialog)
        choices = dialog.query_one(SelectionList)
        # The first is resolved already: only the open two are offered, both chosen.
        assert sorted(choices.selected) == sorted([second, third])
        choices.deselect(third)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert any("1 incident resolved" in n.message for n in app._notifications)
    with store.read() as s:
        status = {
            number: state
            for number, state in s.execute(
                select(Ticket.number, Ticket.status).where(Ticket.number.in_([second, third]))
            )
        }
    assert status == {second: "resolved", third: "new"}


@run_async
async def test_cascade_refused_before_a_fix_or_workaround(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["open"]))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert any("publish its workaround first" in n.message for n in app._notifications)
