"""A tiny harness App for the detail screen, forms and inbox: a fixed desk and a fixed clock."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import ParamSpec

from sqlalchemy import select
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

from itsm_tui.context import DeskContext
from itsm_tui.data.models import BusinessCalendar, Escalation, Notification, SlaPolicy, Ticket
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import (
    add_comment,
    assign_ticket,
    create_ticket,
    link_ticket,
    log_time,
    transition_ticket,
)
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.keys_in_order import KeysInOrder
from tests.factories import NOW, build_desk

P = ParamSpec("P")

# The instant every screen of the harness lives at: two hours after the desk's NOW.
CLOCK = NOW + timedelta(hours=2)

NASTY_TITLE = "[bold red]x[/] \x1b[31mred\x07 标题 🚀 ok"
NASTY_COMMENT = "[link=http://evil]click[/link] \x1b]0;pwned\x07 done [b]not bold[/b]"


def fixed_clock() -> datetime:
    return CLOCK


def add_sla_policy(store: Store) -> None:
    """A 24x7 policy (response 1 h, resolution 8 h) so that clocks count in wall time."""
    with store.write() as session:
        calendar = BusinessCalendar(
            name="24x7", timezone="UTC", always_open=True, hours={}, holidays=[]
        )
        session.add(calendar)
        session.flush()
        session.add(
            SlaPolicy(
                name="Standard",
                rank=100,
                match={},
                response_minutes=60,
                resolution_minutes=480,
                calendar_id=calendar.id,
                warn_at_percent=[50, 75],
                pause_statuses=["pending"],
            )
        )


def build_demo(store: Store) -> dict[str, str]:
    """The small desk plus a few tickets with history; returns their numbers by role."""
    build_desk(store)
    add_sla_policy(store)
    with store.write() as session:
        bob = get_agent(session, "bob")
        alice = get_agent(session, "alice")
        vpn = create_ticket(
            session,
            bob,
            type="incident",
            title="VPN drops every ten minutes for the Shanghai office",
            description="Since the firmware update the tunnel resets.\nSecond line.",
            impact=2,
            urgency=1,
            service="VPN",
            requester="li.wei@example.com",
            now=NOW,
        )
        assign_ticket(session, bob, vpn.number, assignee="alice", now=NOW + timedelta(minutes=5))
        add_comment(
            session,
            alice,
            vpn.number,
            "We are looking into it; please keep the client running.",
            kind="reply",
            now=NOW + timedelta(minutes=20),
        )
        add_comment(
            session,
            alice,
            vpn.number,
            "Firewall log shows DPD timeouts.",
            kind="work_note",
            now=NOW + timedelta(minutes=40),
        )
        log_time(session, alice, vpn.number, 25, note="firewall logs", now=NOW + timedelta(hours=1))
        problem = create_ticket(
            session,
            bob,
            type="problem",
            title="Tunnel resets after firmware 9.2",
            impact=2,
            urgency=2,
            now=NOW,
        )
        link_ticket(
            session, alice, vpn.number, problem=problem.number, now=NOW + timedelta(hours=1)
        )
        nasty = create_ticket(
            session,
            bob,
            type="incident",
            title=NASTY_TITLE,
            description="body \x1b[2J [i]markup[/i] \u202eevil",
            impact=3,
            urgency=3,
            service="Email",
            now=NOW,
        )
        add_comment(session, bob, nasty.number, NASTY_COMMENT, kind="work_note", now=NOW)
        resolved = create_ticket(
            session,
            bob,
            type="incident",
            title="Printer jam on floor 3",
            impact=3,
            urgency=2,
            now=NOW,
        )
        transition_ticket(session, bob, resolved.number, "in_progress", now=NOW)
        from itsm_tui.desk import resolve_ticket

        resolve_ticket(
            session,
            bob,
            resolved.number,
            code="fixed",
            notes="Cleared the jam.",
            now=NOW + timedelta(minutes=30),
        )
        request = create_ticket(
            session,
            bob,
            type="request",
            title="New laptop for Ana",
            impact=3,
            urgency=3,
            catalogue_item="laptop",
            form_data={"model": "X1"},
            now=NOW,
        )
        # An escalation and its notice, as the sweep writes them.
        ticket = get_ticket(session, vpn.number)
        session.add(
            Escalation(
                ticket_id=ticket.id,
                clock_id=None,
                kind="breach",
                level=1,
                at=NOW + timedelta(minutes=90),
                rule="P2 breach",
                reason="response target missed",
                actions=["notify_supervisor"],
            )
        )
        session.add(
            Notification(
                agent_id=alice.id,
                ticket_id=ticket.id,
                kind="escalation",
                message=f"{vpn.number} breached its response target",
                created_at=NOW + timedelta(minutes=90),
                deliver_at=NOW + timedelta(minutes=90),
            )
        )
        numbers = {
            "vpn": vpn.number,
            "problem": problem.number,
            "nasty": nasty.number,
            "resolved": resolved.number,
            "request": request.number,
        }
    return numbers


def demo_store(folder: Path) -> tuple[Store, dict[str, str]]:
    """A fresh SQLite file in `folder` holding the demo desk."""
    store = open_store(sqlite_url(folder / "desk.db"))
    return store, build_demo(store)


def context(store: Store, actor: str = "alice") -> DeskContext:
    return DeskContext(store=store, actor=actor, clock=fixed_clock, desk_name="Test Desk")


class DetailHarness(KeysInOrder):
    """Pushes one screen over an empty base; `app.desk` and key handling as in the real app."""

    def __init__(self, ctx: DeskContext, make_screen: Callable[[], Screen[object]]) -> None:
        super().__init__()
        self.desk = ctx
        self._make_screen = make_screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(), self.results.append)


def ticket_version(store: Store, number: str) -> int:
    with store.read() as session:
        return int(session.scalars(select(Ticket.version).where(Ticket.number == number)).one())


async def settle(pilot: Pilot[object]) -> None:
    """Let every worker finish and every message land; then hold cursors still."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await pilot.pause()


def run_async(test: Callable[P, Awaitable[None]]) -> Callable[P, None]:
    """Run an async Pilot test as a plain pytest function (no async plugin is installed)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        async def main() -> None:
            await test(*args, **kwargs)

        asyncio.run(main())

    return run


# A two-step plan for the demo's "laptop" item: the first step is Service Desk's (alice's).
LAPTOP_PLAN = [
    {"name": "Image the laptop", "team": "Service Desk", "minutes": 90},
    {"name": "Register it", "team": "Network"},
]


def planned_request(store: Store, steps_done: int = 0, requester: str = "wei@example.com") -> str:
    """A request for the demo's laptop item with LAPTOP_PLAN, `steps_done` steps done."""
    from itsm_tui.data.models import CatalogueItem
    from itsm_tui.desk.fulfilment import complete_task

    with store.write() as session:
        item = session.scalars(select(CatalogueItem).where(CatalogueItem.code == "laptop")).one()
        item.requires_approval = False
        item.tasks = LAPTOP_PLAN
        number = create_ticket(
            session,
            get_agent(session, "alice"),
            type="request",
            title="Laptop for Wei",
            impact=3,
            urgency=3,
            catalogue_item="laptop",
            form_data={"model": "X1"},
            requester=requester,
            now=NOW,
        ).number
        for k in range(steps_done):
            sam = get_agent(session, "sam")
            complete_task(session, sam, number, now=NOW + timedelta(minutes=k))
    return number
