"""Keys in one burst before ctrl+s: every form saves exactly what its fields hold after all of
them, Tab between fields included, and a bracketed paste lands whole before the save key."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select
from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.widgets import Input

from itsm_tui.app import make_app
from itsm_tui.data import directory
from itsm_tui.data.models import AuditEvent, Comment, Ticket, TimeEntry
from itsm_tui.domain.workflow import RESOLUTION_CODES, workflow_for
from itsm_tui.keys_in_order import KeyHandled
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.forms import (
    AssignForm,
    LinkForm,
    NewTicketForm,
    PriorityForm,
    ReopenForm,
    ResolveForm,
    StatusForm,
    TimeForm,
)
from tests.ui.detail_apps import DetailHarness, context, run_async, settle

NAMED_KEY = re.compile(r"<([a-z0-9_+]+)>")


# What the terminal's parser gives as the character of the named keys the tests press.
NAMED_CHARACTERS = {"enter": "\r", "tab": "\t", "escape": "\x1b", "backspace": "\x7f"}


def key_event(name: str, *, named: bool) -> events.Key:
    """The event the terminal driver posts for a typed character or a named key."""
    if named:
        return events.Key(name, NAMED_CHARACTERS.get(name))
    return events.Key(name if name.isalnum() else _character_to_key(name), name)


def burst(app: App[object], keys: str) -> None:
    """Post every key at once, as a clumped SSH link delivers them: `<tab>` names a key."""
    for position, part in enumerate(NAMED_KEY.split(keys)):
        names = [part] if position % 2 else list(part)
        for name in names:
            app.post_message(key_event(name, named=bool(position % 2)))


def paste(app: App[object], text: str) -> None:
    """A bracketed paste: one event holding the whole text."""
    app.post_message(events.Paste(text))


def ticket(store, number: str) -> Ticket:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return session.scalars(select(Ticket).where(Ticket.number == number)).one()


def comments(store, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    with store.read() as session:
        return list(session.scalars(select(Comment.body).where(Comment.kind == kind)).all())


async def run_burst(app: DetailHarness, keys: str, *, size: tuple[int, int] = (100, 40)) -> None:
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        burst(app, keys)
        await settle(pilot)
        # A loaded machine may still be working through the burst's keys or the save's
        # worker: settle again (rounds of messages, not time) until a result or a refusal.
        for _ in range(20):
            if app.results:
                break
            said = str(app.screen.query_one("#form-message").render()).strip()
            if said and "Saving" not in said:
                break
            await settle(pilot)
        if not app.results:
            message = app.screen.query_one("#form-message").render()
            raise AssertionError(f"the form is still open: {message}")


NOTES = [
    "Race 1: checked cabling and re-patched it",
    "Race 2: checked cabling and re-patched it, port 7/0/12",
    "Race 3: 'quotes', [brackets], <not a key> & 100% ~ done",
]


@run_async
async def test_notes_typed_in_a_burst_with_the_key_that_opens_the_form(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for note in NOTES:
            # `w` opens the form; the text follows before the form has even mounted.
            burst(app, f"w{note}<ctrl+s>")
            await settle(pilot)
            assert isinstance(app.screen, TicketDetailScreen)
        burst(app, "rFirst line<enter>second line, indented:<enter>  done<ctrl+s>")
        await settle(pilot)
    assert comments(store, "work_note")[-3:] == NOTES
    assert comments(store, "reply")[-1] == "First line\nsecond line, indented:\n  done"


@run_async
async def test_priority_override_chosen_tabbed_and_reasoned_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store, "sam"), lambda: PriorityForm(numbers["vpn"], None, "P2"))
    # The list opens on P2: up picks P1; Tab moves to the reason.
    await run_burst(app, "<enter><up><enter><tab>CEO affected, board meeting at 10<ctrl+s>")
    assert ticket(store, numbers["vpn"]).priority == 1
    with store.read() as session:
        reason = session.scalars(
            select(AuditEvent.reason).where(AuditEvent.action == "priority.override")
        ).first()
    assert reason == "CEO affected, board meeting at 10"


@run_async
async def test_new_incident_every_field_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("incident"))
    keys = (
        "Mail server down for the Shanghai office"
        "<tab><enter><up><up><enter>"  # impact: 3 -> 1
        "<tab><enter><up><enter>"  # urgency: 3 -> 2
        "<tab><tab>ana@staff.example.com"  # past the service, to the requester
        "<tab>Since 09:10 no mail arrives.<enter>Outbound works."
        "<ctrl+s>"
    )
    await run_burst(app, keys)
    (number,) = app.results
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        requester = t.requester.email if t.requester else None
    assert (t.title, t.impact, t.urgency, requester, t.description) == (
        "Mail server down for the Shanghai office",
        1,
        2,
        "ana@staff.example.com",
        "Since 09:10 no mail arrives.\nOutbound works.",
    )


@run_async
async def test_new_request_with_its_catalogue_fields_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("request"))
    keys = (
        "Laptop for Ana"
        "<tab><tab><tab><enter><down><enter>"  # past impact and urgency; the only item
        "<tab>ThinkPad X1 Carbon"  # the item's own field, mounted when the item was chosen
        "<tab><tab>ana@staff.example.com"
        "<ctrl+s>"
    )
    await run_burst(app, keys)
    (number,) = app.results
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        item = t.catalogue_item.code if t.catalogue_item else None
        requester = t.requester.email if t.requester else None
    assert (t.title, item, t.form_data, requester) == (
        "Laptop for Ana",
        "laptop",
        {"model": "ThinkPad X1 Carbon"},
        "ana@staff.example.com",
    )


@run_async
async def test_assign_filtered_and_picked_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(
        context(store),
        lambda: AssignForm(numbers["vpn"], None, team="Service Desk", assignee="alice"),
    )
    # Enter in the team filter picks the team and moves to the agent filter.
    await run_burst(app, "Service<enter>bo<enter><ctrl+s>")
    t = ticket(store, numbers["vpn"])
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == numbers["vpn"])).one()
        assert (t.team.name, t.assignee.username) == ("Service Desk", "bob")


@pytest.fixture
def lists_held(monkeypatch):  # type: ignore[no-untyped-def]
    """The forms' lists (teams, agents, services, the catalogue) come only once the test
    sets the event it gets: a burst surely lands before them."""
    lists_may_come = threading.Event()
    read_lists = directory.form_choices

    def deferred_lists(session):  # type: ignore[no-untyped-def]
        choices = read_lists(session)
        assert lists_may_come.wait(60), "the test never let the lists come"
        return choices

    monkeypatch.setattr(directory, "form_choices", deferred_lists)
    yield lists_may_come
    lists_may_come.set()


async def burst_before_the_lists(app: DetailHarness, keys: str, lists_may_come) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(100, 40)) as pilot:
        try:
            for _ in range(3):
                await pilot.pause()
            form = app.screen
            assert getattr(form, "choices", "no lists") is None, "the lists came too early"
            burst(app, keys)
            for _ in range(5):
                await pilot.pause()
            # The keys wait for the lists: nothing typed, nothing saved yet.
            assert all(not field.value for field in form.query(Input))
            assert not app.results
        finally:
            lists_may_come.set()
        await settle(pilot)


@run_async
async def test_assign_keys_typed_before_the_lists_arrive_pick_from_them(demo, lists_held) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(
        context(store),
        lambda: AssignForm(numbers["vpn"], None, team="Service Desk", assignee="alice"),
    )
    await burst_before_the_lists(app, "Service<enter>bo<enter><ctrl+s>", lists_held)
    assert app.results == [numbers["vpn"]]
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == numbers["vpn"])).one()
        assert (t.team.name, t.assignee.username) == ("Service Desk", "bob")


@run_async
async def test_new_request_typed_before_the_catalogue_arrives(demo, lists_held) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: NewTicketForm("request"))
    keys = (
        "Laptop for Ana"
        "<tab><tab><tab><enter><down><enter>"  # the only item, once the catalogue is there
        "<tab>ThinkPad X1 Carbon"
        "<tab><tab>ana@staff.example.com"
        "<ctrl+s>"
    )
    await burst_before_the_lists(app, keys, lists_held)
    (number,) = app.results
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        item = t.catalogue_item.code if t.catalogue_item else None
        requester = t.requester.email if t.requester else None
    assert (t.title, item, t.form_data, requester) == (
        "Laptop for Ana",
        "laptop",
        {"model": "ThinkPad X1 Carbon"},
        "ana@staff.example.com",
    )


@run_async
async def test_status_with_a_work_note_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    moves = workflow_for("incident").allowed("assigned")
    app = DetailHarness(
        context(store), lambda: StatusForm(numbers["vpn"], None, "incident", "assigned")
    )
    # Down moves from the first allowed status to the second; Tab to the note.
    await run_burst(app, "<down><tab>Waiting for the user to reboot<ctrl+s>")
    assert ticket(store, numbers["vpn"]).status == moves[1]
    assert comments(store, "work_note")[-1] == "Waiting for the user to reboot"


@run_async
async def test_resolve_code_and_notes_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: ResolveForm(numbers["vpn"], None, "incident"))
    # The list opens on its prompt, "choose a code".
    downs = "<down>" * (1 + RESOLUTION_CODES.index("workaround"))
    await run_burst(app, f"<enter>{downs}<enter><tab>Restarted the tunnel; RCA in PRB<ctrl+s>")
    t = ticket(store, numbers["vpn"])
    assert (t.status, t.resolution_code, t.resolution_notes) == (
        "resolved",
        "workaround",
        "Restarted the tunnel; RCA in PRB",
    )


@run_async
async def test_reopen_reason_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: ReopenForm(numbers["resolved"], None))
    await run_burst(app, "Still jams on every second page<ctrl+s>")
    assert ticket(store, numbers["resolved"]).status == "in_progress"
    with store.read() as session:
        reasons = session.scalars(
            select(AuditEvent.reason).where(AuditEvent.record_number == numbers["resolved"])
        ).all()
    assert "Still jams on every second page" in reasons


@run_async
async def test_log_time_minutes_and_note_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TimeForm(numbers["vpn"], None))
    await run_burst(app, "45<tab>read the firewall logs again<ctrl+s>")
    with store.read() as session:
        entry = session.scalars(select(TimeEntry).where(TimeEntry.minutes == 45)).one()
    assert entry.note == "read the firewall logs again"


@run_async
async def test_link_problem_after_a_tab_in_one_burst(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: LinkForm(numbers["nasty"], None))
    await run_burst(app, f"<tab>{numbers['problem']}<ctrl+s>")
    with store.read() as session:
        t = session.scalars(select(Ticket).where(Ticket.number == numbers["nasty"])).one()
        assert t.problem is not None and t.problem.number == numbers["problem"]


@run_async
async def test_a_bracketed_paste_lands_whole_before_the_save_key(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    pasted = "Log excerpt:\n  DPD timeout peer 10.0.0.1\n  [error] tunnel reset\x1b[31m"
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(app, "wSee:<enter>")
        paste(app, pasted)
        burst(app, "<enter>end<ctrl+s>")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
    assert comments(store, "work_note")[-1] == "See:\n" + pasted + "\nend"


@run_async
async def test_a_paste_into_a_field_then_tab_keeps_both_fields(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TimeForm(numbers["vpn"], None))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        paste(app, "30")
        burst(app, "<tab>")
        paste(app, "pasted note")
        burst(app, "<ctrl+s>")
        await settle(pilot)
        assert app.results
    with store.read() as session:
        entry = session.scalars(select(TimeEntry).where(TimeEntry.minutes == 30)).one()
    assert entry.note == "pasted note"


@run_async
async def test_keys_behind_a_save_act_on_the_saved_ticket(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = make_app(context(store), escalator=False, poll_seconds=0)
    async with app.run_test(size=(100, 40)) as pilot:
        # From the queue, in one burst: the All open view, the ticket on top of it, two
        # notes one behind the other. The second note's form opens only once the first
        # is written and the ticket read again, so it saves on the version the first made.
        keys = "".join(f"w{note}<ctrl+s>" for note in NOTES[:2])
        burst(app, f"6<enter>{keys}")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        opened = app.screen.number
    assert opened == numbers["vpn"]
    assert comments(store, "work_note")[-2:] == NOTES[:2]


@run_async
async def test_keys_still_on_their_way_when_the_app_closes_are_dropped_quietly(demo) -> None:  # type: ignore[no-untyped-def]
    # A key's marker can reach the app after its screens are gone (a quit, a hang-up, a
    # benchmark ending right after a key): it used to raise ScreenStackError on exit.
    store, numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
    app._waiting_keys.append(events.Key("x", "x"))
    await app._on_key_handled(KeyHandled())
    await app._deliver_waiting_keys()
    assert not app._waiting_keys
