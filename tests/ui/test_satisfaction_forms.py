"""The ticket screen's survey (*) and complaint (!) keys: each form checks in place, writes
through the desk, and the survey then reads in the ticket's timeline."""

from __future__ import annotations

import io

from rich.console import Console
from sqlalchemy import select
from textual.widgets import Input, Select

from itsm_tui.data.models import Complaint, Survey, Ticket
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.forms import ComplaintForm, SurveyForm
from tests.ui.detail_apps import DetailHarness, context, run_async, settle


def timeline_text(screen: TicketDetailScreen) -> str:
    """The timeline's entries as a reader sees them, as plain text."""
    console = Console(width=120, record=True, file=io.StringIO())
    for entry in screen.query("#detail-timeline .entry"):
        console.print(entry.content)
    return console.export_text()


def message(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#form-message").content.plain


@run_async
async def test_a_survey_taken_by_phone_is_saved_once_and_shown(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    number = numbers["resolved"]
    app = DetailHarness(context(store, "bob"), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SurveyForm)
        form.query_one("#survey-comment", Input).value = "Fixed on the call"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app) == "choose the rating"
        assert form.query_one("#survey-comment", Input).value == "Fixed on the call"
        form.query_one("#survey-rating", Select).value = 4
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert "bob  survey\n  Rating: — → 4 / 5\n" in timeline_text(app.screen)
        # A second survey is refused by the desk; the form stays with its answers.
        await pilot.press("asterisk")
        await settle(pilot)
        second = app.screen
        second.query_one("#survey-rating", Select).value = 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is second
        assert message(app) == f"{number} already has a survey"
        assert second.query_one("#survey-rating", Select).value == 1
    with store.read() as s:
        rows = s.execute(
            select(Survey.rating, Survey.comment).join(Ticket).where(Ticket.number == number)
        ).all()
    assert [tuple(r) for r in rows] == [(4, "Fixed on the call")]


@run_async
async def test_a_complaint_is_recorded_against_the_ticket_and_its_requester(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    number = numbers["resolved"]
    app = DetailHarness(context(store, "bob"), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ComplaintForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app) == "a summary is required"
        form.query_one("#complaint-summary", Input).value = "[bold]Waited three days[/]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    with store.read() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.ticket_id, complaint.summary) == (ticket.id, "[bold]Waited three days[/]")
        assert complaint.requester_id == ticket.requester_id
