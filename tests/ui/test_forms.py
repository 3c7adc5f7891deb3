"""The action forms: each writes through the desk, stays open with its text on a refusal,
shows what another agent changed on a stale version, and re-applies."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import Button, Input, OptionList, Select, TextArea

from itsm_tui.data.models import Comment, Ticket, TimeEntry
from itsm_tui.desk import add_comment, transition_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.domain.workflow import workflow_for
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.forms import (
    AssignForm,
    CommentForm,
    DeskForm,
    NewTicketForm,
    PriorityForm,
    ResolveForm,
    StatusForm,
)
from tests.ui.detail_apps import (
    CLOCK,
    DetailHarness,
    context,
    run_async,
    settle,
    ticket_version,
)


def ticket(store, number: str) -> Ticket:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalars(select(Ticket).where(Ticket.number == number)).one()


def message(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#form-message").content.plain


async def type_into(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            await pilot.press("enter")
        await pilot.press(*[c if c != " " else "space" for c in line])


async def open_detail(pilot, key: str) -> DeskForm:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, DeskForm)
    return form


@run_async
async def test_reply_is_written_and_shown_in_the_timeline(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "r")
        assert isinstance(form, CommentForm) and form.kind == "reply"
        await type_into(pilot, "#comment-body", "Fixed the tunnel.\nPlease retry.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        first = app.screen.query("#detail-timeline .entry").first()
        assert "entry-reply" in first.classes
        assert "Please retry." in first.content.plain if hasattr(first.content, "plain") else True
    with store.read() as session:
        bodies = session.scalars(select(Comment.body).where(Comment.kind == "reply")).all()
    assert "Fixed the tunnel.\nPlease retry." in bodies


@run_async
async def test_work_note_cancelled_keeps_its_draft(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await open_detail(pilot, "w")
        await type_into(pilot, "#comment-body", "half a thought")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press("w")
        await settle(pilot)
        assert app.screen.query_one("#comment-body", TextArea).text == "half a thought"


@run_async
async def test_status_form_offers_exactly_the_allowed_moves(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "s")
        picker = form.query_one("#status-list", OptionList)
        offered = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        assert offered == list(workflow_for("incident").allowed("assigned"))
        # The list has the focus: arrows and Enter move to in progress.
        assert picker.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert "in progress" in app.screen.query_one("#detail-heading").content.plain
    assert ticket(store, numbers["vpn"]).status == "in_progress"


@run_async
async def test_status_form_of_a_resolved_ticket_offers_close_and_reopen(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["resolved"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "s")
        picker = form.query_one("#status-list", OptionList)
        offered = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        assert offered == ["closed", "reopen"]
        # "reopen" hands over to the reopen form, which needs a reason.
        picker.highlighted = 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReopenForm"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "reason is required" in message(app)
        await type_into(pilot, "#reopen-reason", "still jams")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    assert ticket(store, numbers["resolved"]).status == "in_progress"


@run_async
async def test_a_refused_transition_keeps_the_form_and_says_why(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    # A form opened from a stale row (no version to check): the desk itself refuses.
    app = DetailHarness(
        context(store), lambda: StatusForm(numbers["resolved"], None, "incident", "assigned")
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        picker = form.query_one("#status-list", OptionList)
        picker.highlighted = [
            picker.get_option_at_index(i).id for i in range(picker.option_count)
        ].index("pending")
        await type_into(pilot, "#status-note", "waiting for the user")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "cannot move from resolved to pending" in message(app)
        assert form.query_one("#status-note", TextArea).text == "waiting for the user"


@run_async
async def test_resolve_needs_code_and_notes_then_resolves(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "x")
        assert isinstance(form, ResolveForm)
        form.query_one("#resolve-code", Select).value = "fixed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "resolution notes is required" in message(app)
        await type_into(pilot, "#resolve-notes", "Rolled back the firmware.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    t = ticket(store, numbers["vpn"])
    assert (t.status, t.resolution_code, t.resolution_notes) == (
        "resolved",
        "fixed",
        "Rolled back the firmware.",
    )


@run_async
async def test_status_resolved_goes_through_the_resolve_form(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "s")
        picker = form.query_one("#status-list", OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        picker.highlighted = ids.index("resolved")
        await pilot.press("ctrl+s")
        await settle(pilot)
        resolve = app.screen
        assert isinstance(resolve, ResolveForm)
        resolve.query_one("#resolve-code", Select).value = "workaround"
        await type_into(pilot, "#resolve-notes", "Restarted the tunnel.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Both forms are gone and the detail shows the result.
        assert isinstance(app.screen, TicketDetailScreen)
        assert "resolved" in app.screen.query_one("#detail-heading").content.plain
    assert ticket(store, numbers["vpn"]).resolution_code == "workaround"


@run_async
async def test_priority_override_refused_for_an_agent_keeps_the_reason(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store, "alice"), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "p")
        assert isinstance(form, PriorityForm)
        form.query_one("#priority-value", Select).value = 1
        await type_into(pilot, "#priority-reason", "CEO affected")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "alice cannot override a priority" in message(app)
        assert "supervisor" in message(app)
        assert form.query_one("#priority-reason", TextArea).text == "CEO affected"
    assert ticket(store, numbers["vpn"]).priority == 2


@run_async
async def test_priority_override_by_a_supervisor(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store, "sam"), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "p")
        form.query_one("#priority-value", Select).value = 1
        await type_into(pilot, "#priority-reason", "CEO affected")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert "P1 (override)" in app.screen.query_one("#detail-heading").content.plain
    assert ticket(store, numbers["vpn"]).priority == 1


@run_async
async def test_stale_version_shows_who_changed_what_and_reapplies(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "w")
        await type_into(pilot, "#comment-body", "my careful note")
        loaded = form.version
        # Another agent moves the ticket after this screen loaded it.
        with store.write() as session:
            transition_ticket(
                session, get_agent(session, "bob"), numbers["vpn"], "in_progress", now=CLOCK
            )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "changed" in message(app)
        conflict = form.query_one("#form-conflict").content.plain
        assert "just now  bob  Status: assigned → in progress" in conflict
        assert form.query_one("#form-reapply", Button).display
        assert form.query_one("#comment-body", TextArea).text == "my careful note"
        await pilot.click("#form-reapply")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert form.version == ticket_version(store, numbers["vpn"]) - 1 != loaded
    with store.read() as session:
        notes = session.scalars(select(Comment.body).where(Comment.kind == "work_note")).all()
    assert "my careful note" in notes


@run_async
async def test_assign_with_type_ahead_in_the_same_team(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "a")
        assert isinstance(form, AssignForm)
        agents = form.query_one("#agent-list", OptionList)
        ids = [agents.get_option_at_index(i).id for i in range(agents.option_count)]
        # Nobody first, then the team's agents, then the others; never an inactive one.
        service_desk = [i for i in ids[1:] if i in ("alice", "bob", "sam")]
        assert ids[1 : 1 + len(service_desk)] == service_desk == ["alice", "bob", "sam"]
        assert "nina" in ids
        await type_into(pilot, "#agent-filter", "bo")
        assert [agents.get_option_at_index(i).id for i in range(agents.option_count)] == ["bob"]
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == numbers["vpn"])).one()
        assert t.assignee.username == "bob"


@run_async
async def test_assign_across_tiers_is_refused_for_an_agent(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "a")
        await type_into(pilot, "#agent-filter", "nina")
        await pilot.press("enter")
        assert form.team == "Network"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "move a ticket across support tiers" in message(app)
        assert form.query_one("#agent-filter", Input).value == "nina"


@run_async
async def test_link_and_log_time(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["nasty"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "l")
        await type_into(pilot, "#link-problem", "PRB9999")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "no ticket PRB9999" in message(app)
        form.query_one("#link-problem", Input).value = numbers["problem"].lower()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        links = app.screen.query("#detail-links .detail-link")
        assert [link.content.plain for link in links] == ["problem " + numbers["problem"]]

        form = await open_detail(pilot, "T")
        await type_into(pilot, "#time-minutes", "0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "more than 0" in message(app)
        form.query_one("#time-minutes", Input).value = "45"
        form.query_one("#time-note", Input).value = "read logs"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    with store.read() as session:
        entry = session.scalars(select(TimeEntry).where(TimeEntry.minutes == 45)).one()
        assert entry.note == "read logs"


@run_async
async def test_new_incident_shows_the_matrix_priority_as_values_change(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("incident"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        priority = form.query_one("#new-priority")
        assert priority.content.plain == "P4"
        form.query_one("#new-impact", Select).value = 1
        form.query_one("#new-urgency", Select).value = 1
        await settle(pilot)
        assert priority.content.plain == "P1"
        form.query_one("#new-urgency", Select).value = 3
        await settle(pilot)
        assert priority.content.plain == "P3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "a title is required" in message(app)
        await type_into(pilot, "#new-title", "Mail server down")
        form.query_one("#new-service", Select).value = "Email"
        form.query_one("#new-requester", Input).value = "not-an-address"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "is not an e-mail address" in message(app)
        form.query_one("#new-requester", Input).value = "ana@example.com"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    (number,) = app.results
    t = ticket(store, str(number))
    assert (t.title, t.priority, t.impact, t.urgency) == ("Mail server down", 3, 1, 3)


@run_async
async def test_new_request_asks_for_the_catalogue_form(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("request"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#new-title", "Laptop for Ana")
        form.query_one("#new-item", Select).value = "laptop"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Model is required" in message(app)
        form.query_one("#item-model", Input).value = "X1 Carbon"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    (number,) = app.results
    t = ticket(store, str(number))
    assert t.status == "awaiting_approval" and t.form_data == {"model": "X1 Carbon"}


@run_async
async def test_a_complaint_about_a_field_goes_when_the_field_is_filled(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("incident"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app) == "a title is required"
        await type_into(pilot, "#new-title", "Printer offline")
        await settle(pilot)
        assert not app.screen.query_one("#form-message").display
        # Another field's edit leaves a complaint about the title alone.
        app.screen.query_one("#new-title", Input).value = ""
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await type_into(pilot, "#new-requester", "ana@example.com")
        await settle(pilot)
        assert message(app) == "a title is required"


@run_async
async def test_log_time_keeps_what_is_not_a_number_and_says_so(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_detail(pilot, "T")
        minutes = form.query_one("#time-minutes", Input)
        assert minutes.value == "" and "e.g." in str(minutes.placeholder)
        await type_into(pilot, "#time-minutes", "abc")
        await settle(pilot)
        assert minutes.value == "abc"
        assert message(app) == "'abc' is not a number of minutes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and minutes.value == "abc"
        assert "'abc' is not a number of minutes" in message(app)
        minutes.value = "45"
        await settle(pilot)
        assert not form.query_one("#form-message").display
    with store.read() as session:
        assert session.scalars(select(TimeEntry)).all() != []  # the demo's own entry only
        assert session.scalars(select(TimeEntry).where(TimeEntry.minutes == 45)).all() == []


@run_async
async def test_the_stale_version_panel_keeps_its_buttons_on_an_80x24_screen(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_detail(pilot, "x")
        form.query_one("#resolve-code", Select).value = "fixed"
        form.query_one("#resolve-notes", TextArea).text = "Re-patched the cable."
        with store.write() as session:
            bob = get_agent(session, "bob")
            transition_ticket(session, bob, numbers["vpn"], "in_progress", now=CLOCK)
            add_comment(session, bob, numbers["vpn"], "looking", kind="work_note", now=CLOCK)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert form.query_one("#form-conflict").display
        footer_top = app.screen.query_one("DeskFooter").region.y
        for button in ("#form-submit", "#form-reapply", "#form-cancel"):
            region = form.query_one(button).region
            assert region.height == 1 and 0 <= region.y < footer_top, button
        # The body scrolls instead: the notes are still there to re-apply.
        assert (
            form.query_one("#form-body").region.bottom <= form.query_one("#form-message").region.y
        )
        await pilot.click("#form-reapply")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    assert ticket(store, numbers["vpn"]).status == "resolved"
