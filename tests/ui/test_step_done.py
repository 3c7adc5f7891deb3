"""The ticket screen's "Step done" key (F): a catalogue request's open step completed with an
optional note through the same desk function as `itsm catalog done`; refused (another
team's step, no open step) with a toast and nothing written; not offered on other tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, Comment, FulfilmentTask, Ticket
from itsm_tui.desk.records import get_ticket
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.forms.step_done import StepDoneForm
from tests.ui.detail_apps import (
    DetailHarness,
    context,
    planned_request,
    run_async,
    settle,
)


def written(store: Any) -> tuple[int, ...]:
    with store.read() as s:
        counts = [
            s.scalar(select(func.count()).select_from(model))
            for model in (Ticket, AuditEvent, Comment, FulfilmentTask)
        ]
        return (*counts, s.scalar(select(func.sum(Ticket.version))))


def tasks(store: Any, number: str) -> list[tuple[int, str, str]]:
    with store.read() as s:
        ticket = get_ticket(s, number)
        return [
            (t.position, t.status, t.note)
            for t in s.scalars(
                select(FulfilmentTask)
                .where(FulfilmentTask.ticket_id == ticket.id)
                .order_by(FulfilmentTask.position)
            )
        ]


def errors(app: Any) -> list[str]:
    return [n.message for n in app._notifications if n.severity in ("error", "warning")]


@run_async
async def test_o_completes_the_open_step_with_a_note(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    number = planned_request(store)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "Step done" in footer(app)
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, StepDoneForm)
        assert app.screen.step == "Step 1 of 2: Image the laptop (Service Desk)"
        await pilot.press(*"imaged")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert errors(app) == []
    assert tasks(store, number) == [(1, "done", "imaged"), (2, "open", "")]


@run_async
async def test_another_teams_step_is_refused_with_a_toast_and_nothing_written(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    number = planned_request(store, steps_done=1)  # step 2 belongs to Network
    before = written(store)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        await pilot.press(*"done", "ctrl+s")
        await settle(pilot)
        assert any("belongs to Network" in m for m in errors(app))
        # The form stays open with the note kept.
        assert isinstance(app.screen, StepDoneForm)
        assert app.screen.query_one("#step-note").text == "done"
    assert written(store) == before


@run_async
async def test_no_open_step_is_said_in_a_toast(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    number = planned_request(store, steps_done=2)  # fulfilled
    before = written(store)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert errors(app) == [f"{number} has no open fulfilment step: it is fulfilled"]
    assert written(store) == before


@run_async
async def test_not_offered_on_an_incident(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["nasty"]))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "Step done" not in footer(app)
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)


def footer(app: Any) -> str:
    strips = app.screen._compositor.render_strips()
    return "".join(seg.text for seg in strips[-1])
