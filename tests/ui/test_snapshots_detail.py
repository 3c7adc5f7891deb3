"""Snapshots of the detail screen and each action form at 80×24 and 160×50 (fixed data, clock)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select, TextArea

from itsm_tui.desk import add_comment, assign_ticket, transition_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.forms import NewTicketForm
from itsm_tui.screens.inbox import InboxScreen
from tests.ui.detail_apps import (
    CLOCK,
    DetailHarness,
    context,
    demo_store,
    planned_request,
    settle,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def press_then_settle(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("which", ["vpn", "nasty"])
def test_detail_screen(snap_compare, tmp_path: Path, size, which: str) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers[which]))
    assert snap_compare(app, terminal_size=size, run_before=press_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_planned_request(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    """A request at its first step: the promise with its standard, the steps, "o Step done"
    in the footer, and a long requester address on a line of its own (not wrapped)."""
    store, _numbers = demo_store(tmp_path)
    number = planned_request(store, requester="wei.li.procurement@finance.example.com")
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    assert snap_compare(app, terminal_size=size, run_before=press_then_settle())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "ticket, key",
    [
        ("vpn", "a"),  # assign
        ("vpn", "s"),  # status
        ("vpn", "r"),  # reply
        ("vpn", "w"),  # work note
        ("vpn", "x"),  # resolve
        ("resolved", "R"),  # reopen
        ("vpn", "p"),  # priority override
        ("vpn", "l"),  # link
        ("vpn", "T"),  # log time
    ],
)
def test_action_form(snap_compare, tmp_path: Path, size, ticket: str, key: str) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers[ticket]))
    assert snap_compare(app, terminal_size=size, run_before=press_then_settle(key))


@pytest.mark.parametrize("size", SIZES)
def test_refused_priority_override(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))

    async def run_before(pilot: Pilot[Any]) -> None:
        await press_then_settle("p")(pilot)
        pilot.app.screen.query_one("#priority-reason").focus()
        await pilot.press(*"urgent", "ctrl+s")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("ticket_type", ["incident", "request"])
def test_new_ticket_form(snap_compare, tmp_path: Path, size, ticket_type: str) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), lambda: NewTicketForm(ticket_type))

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#new-impact", Select).value = 1
        pilot.app.screen.query_one("#new-urgency", Select).value = 1
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_inbox(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), InboxScreen)
    assert snap_compare(app, terminal_size=size, run_before=press_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_stale_version_panel(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    """Resolve on a version another agent moved on: the changes, and Save / Re-apply /
    Cancel on screen at 80×24 (the body scrolls)."""
    store, numbers = demo_store(tmp_path)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))

    async def run_before(pilot: Pilot[Any]) -> None:
        await press_then_settle("x")(pilot)
        pilot.app.screen.query_one("#resolve-code", Select).value = "fixed"
        pilot.app.screen.query_one("#resolve-notes", TextArea).text = "Re-patched the cable."
        with store.write() as session:
            bob = get_agent(session, "bob")
            transition_ticket(session, bob, numbers["vpn"], "in_progress", now=CLOCK)
            add_comment(session, bob, numbers["vpn"], "looking", kind="work_note", now=CLOCK)
            assign_ticket(
                session, get_agent(session, "sam"), numbers["vpn"], assignee="bob", now=CLOCK
            )
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
