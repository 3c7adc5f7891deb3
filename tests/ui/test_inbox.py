"""The inbox lists delivered unread notices newest first, opens their ticket and marks them
read; the watcher toasts each new one (escalations as errors)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import OptionList

from itsm_tui.data.models import Notification, NotificationRead, Page, Ticket
from itsm_tui.desk import paging
from itsm_tui.desk.records import get_agent, get_team
from itsm_tui.domain.oncall import Rotation
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.inbox import InboxScreen, NotificationWatcher
from tests.factories import NOW
from tests.ui.detail_apps import CLOCK, DetailHarness, context, run_async, settle


def add_notice(store, number: str, *, kind: str, message: str, minutes: int, team: bool = False):  # type: ignore[no-untyped-def]
    with store.write() as session:
        alice = get_agent(session, "alice")
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.number == number)).one()
        at = NOW + timedelta(minutes=minutes)
        notice = Notification(
            agent_id=None if team else alice.id,
            team_id=get_team(session, "Service Desk").id if team else None,
            ticket_id=ticket_id,
            kind=kind,
            message=message,
            created_at=at,
            deliver_at=at,
        )
        session.add(notice)
        session.flush()
        return notice.id


def read_at(store, notice_id: int, reader: str = "alice"):  # type: ignore[no-untyped-def]
    """When `reader` read it: the notice's read_at, or for a team notice their receipt."""
    with store.read() as session:
        notice = session.get(Notification, notice_id)
        if notice.agent_id is not None:
            return notice.read_at
        receipt = session.get(NotificationRead, (notice_id, get_agent(session, reader).id))
        return receipt.read_at if receipt else None


@run_async
async def test_inbox_lists_newest_first_opens_and_marks_read(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    team = add_notice(
        store, numbers["nasty"], kind="warning", message="[b]half[/b] way", minutes=100, team=True
    )
    later = add_notice(store, numbers["resolved"], kind="comment", message="bob said", minutes=110)
    add_notice(store, numbers["vpn"], kind="assignment", message="not yet", minutes=24 * 60)
    app = DetailHarness(context(store), InboxScreen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        assert [i.ticket for i in screen.items] == [
            numbers["resolved"],
            numbers["nasty"],
            numbers["vpn"],  # the demo's escalation at +90 min
            numbers["vpn"],  # and its assignment to alice at +5 min
        ]
        picker = screen.query_one("#inbox-list", OptionList)
        assert "[b]half[/b] way" in str(picker.get_option_at_index(1).prompt)
        # Recent notices say how long ago (the clock is NOW + 2 h); the oldest is 115 min old.
        assert str(picker.get_option_at_index(0).prompt).startswith("● 10 min ago")
        assert str(picker.get_option_at_index(3).prompt).startswith("● 1 h ago")
        # Enter opens the newest notice's ticket and marks it read.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert app.screen.number == numbers["resolved"]
        assert read_at(store, later) == CLOCK
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert [i.ticket for i in screen.items] == [
            numbers["nasty"],
            numbers["vpn"],
            numbers["vpn"],
        ]
        # m marks the highlighted one read without opening it (a team notice).
        await pilot.press("m")
        await settle(pilot)
        assert read_at(store, team) == CLOCK
        assert read_at(store, team, "bob") is None  # a team notice is read by each agent
        assert [i.ticket for i in screen.items] == [numbers["vpn"], numbers["vpn"]]
        await pilot.press("M")
        await settle(pilot)
        assert screen.items == []
        assert "Nothing unread" in screen.query_one("#inbox-status").content.plain


class WatchedScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield NotificationWatcher(interval=3600, id="watcher")


@run_async
async def test_watcher_toasts_a_new_escalation_as_an_error(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = DetailHarness(context(store), WatchedScreen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # The backlog (the demo's assignment and escalation) is summed up once, not replayed.
        toasts = list(app._notifications)
        assert [t.message for t in toasts] == ["2 unread notifications"]
        add_notice(
            store,
            numbers["vpn"],
            kind="escalation",
            message="INC breach \x1b[31m[red]L2[/red]",
            minutes=115,
        )
        add_notice(store, numbers["vpn"], kind="assignment", message="yours now", minutes=116)
        watcher = app.screen.query_one(NotificationWatcher)
        watcher.poll_now()
        await settle(pilot)
        toasts = list(app._notifications)[1:]
        assert [(t.message, t.severity) for t in toasts] == [
            ("INC breach \\x1b[31m[red]L2[/red]", "error"),
            ("yours now", "information"),
        ]
        assert not toasts[0].markup
        # Seen notices are not toasted again.
        watcher.poll_now()
        await settle(pilot)
        assert len(list(app._notifications)) == 3


@run_async
async def test_a_on_a_page_acknowledges_it_from_the_app_and_stops_the_chain(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    with store.write() as session:
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.number == numbers["vpn"])).one()
        rota = Rotation("Service Desk", ("alice",), date(2020, 1, 6))
        wanted = paging.PageWanted(
            ticket_id, numbers["vpn"], get_team(session, "Service Desk").id, "test"
        )
        sent = paging.start_chains(session, [wanted], {"Service Desk": rota}, NOW)
    assert [(p.agent, p.level) for p in sent] == [("alice", 1)]
    app = DetailHarness(context(store), InboxScreen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        picker = screen.query_one("#inbox-list", OptionList)
        # On a notice that is not a page the key says so and writes nothing.
        picker.highlighted = next(i for i, n in enumerate(screen.items) if n.kind != "page")
        await pilot.press("A")
        await settle(pilot)
        with store.read() as session:
            assert session.scalar(select(Page.acknowledged_at)) is None
        picker.highlighted = next(i for i, n in enumerate(screen.items) if n.kind == "page")
        await pilot.press("A")
        await settle(pilot)
        assert all(n.kind != "page" for n in screen.items)  # read: gone from the inbox
    with store.read() as session:
        page = session.scalars(select(Page)).one()
        assert (page.acknowledged_by.username, page.acknowledged_via) == ("alice", "app")
        assert page.acknowledged_at == CLOCK and page.answer_due_at is None
    with store.write() as session:
        assert paging.pass_on_unanswered(session, CLOCK + timedelta(hours=1)) == []


@run_async
async def test_a_on_the_ticket_screen_acknowledges_its_page_and_a_second_press_is_refused(
    demo,  # type: ignore[no-untyped-def]
) -> None:
    store, numbers = demo
    number = numbers["vpn"]
    with store.write() as session:
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.number == number)).one()
        rota = Rotation("Service Desk", ("bob",), date(2020, 1, 6))
        wanted = paging.PageWanted(ticket_id, number, get_team(session, "Service Desk").id, "test")
        assert [
            p.agent for p in paging.start_chains(session, [wanted], {"Service Desk": rota}, NOW)
        ] == ["bob"]
    app = DetailHarness(context(store), lambda: TicketDetailScreen(number))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        with store.read() as session:
            page = session.scalars(select(Page)).one()
            # alice acknowledges bob's page for him: the audit names her.
            assert (page.agent.username, page.acknowledged_by.username) == ("bob", "alice")
            assert page.acknowledged_via == "app" and page.answer_due_at is None
        await pilot.press("A")
        await settle(pilot)
        shown = [str(n.message) for n in app._notifications]
        assert any("already acknowledged by alice" in m for m in shown), shown


def footer_descriptions(app) -> list[str]:  # type: ignore[no-untyped-def]
    from textual.widgets._footer import FooterKey

    from itsm_tui.screens.widgets.footer import DeskFooter

    return [k.description for k in app.screen.query_one(DeskFooter).query(FooterKey)]


def add_team_notices(store, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` team notices, one a minute, the newest 10 minutes before the clock."""
    with store.write() as session:
        team = get_team(session, "Service Desk").id
        for k in range(count):
            at = CLOCK - timedelta(minutes=10 + k)
            session.add(
                Notification(
                    team_id=team, kind="warning", message=f"w{k}", created_at=at, deliver_at=at
                )
            )


def unread_of(store, username: str) -> int:  # type: ignore[no-untyped-def]
    from itsm_tui.data import inbox

    with store.read() as session:
        agent = get_agent(session, username)
        return inbox.unread_count(
            session, agent.id, agent.team_id, CLOCK, read_through=agent.notices_read_through
        )


@run_async
async def test_M_reads_everything_delivered_not_only_the_listed_page(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    # More than a page: the list holds 50, the count says how many wait.
    add_team_notices(store, 70)
    app = DetailHarness(context(store), InboxScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        assert len(screen.items) == 50 and screen.unread == 72  # and the demo's own two
        assert "Mark all read" in footer_descriptions(app)
        await pilot.press("M")
        await settle(pilot)
        assert screen.items == [] and screen.unread == 0
        assert "Nothing unread" in screen.query_one("#inbox-status").content.plain
        # Read again from the store, not only taken off the list.
        await pilot.press("f5")
        await settle(pilot)
        assert screen.items == []
    with store.read() as session:
        alice = get_agent(session, "alice")
        assert alice.notices_read_through == CLOCK
        # One mark, no receipt per notice; her colleague's inbox is as it was.
        assert session.scalar(select(NotificationRead.agent_id)) is None
    assert unread_of(store, "alice") == 0 and unread_of(store, "bob") == 70


@run_async
async def test_the_palette_marks_all_notices_read_from_the_inbox(queue_store) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.snapshot_apps import queue_app

    add_team_notices(queue_store, 3)
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InboxScreen) and screen.unread >= 3
        await pilot.press("ctrl+p", *"mark all notices")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.items == [] and screen.unread == 0
        assert app.unread == 0  # the header's count too
    assert unread_of(queue_store, "alice") == 0
