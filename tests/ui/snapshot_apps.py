"""Fixed queue stores and apps for the queue's tests and snapshots (no random, no wall clock)."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import ParamSpec

from sqlalchemy import update
from textual.app import App
from textual.pilot import Pilot

from itsm_tui.app import ItsmApp, make_app
from itsm_tui.context import DeskContext
from itsm_tui.data.models import SlaClock
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import assign_ticket, create_ticket, transition_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.sla import refresh_sla_due
from tests.factories import NOW, build_desk

P = ParamSpec("P")

# Every queue test and snapshot lives at this instant: two hours after the desk's NOW.
CLOCK = NOW + timedelta(hours=2)

# (title, impact, urgency, service, assignee, status) of the fixed desk's tickets.
TICKETS: tuple[tuple[str, int, int, str | None, str | None, str | None], ...] = (
    ("Mail server down for the whole floor", 1, 1, "Email", "alice", "in_progress"),
    ("VPN drops every ten minutes", 2, 1, "VPN", "nina", None),
    ("Printer on 3rd floor jams", 3, 3, None, None, None),
    ("[bold red]x[/]\x1b[31m markup stays literal", 2, 2, "Email", "bob", None),
    ("打印机无法连接 — CJK 标题 🚀 aligned", 2, 3, None, "alice", None),
    ("Outlook asks for the password again", 3, 2, "Email", None, "pending"),
    ("New starter laptop", 3, 3, None, "bob", None),
    ("Wi-Fi slow in meeting room B", 2, 2, "VPN", "alice", None),
)
# The first ticket's clock is made to have breached (the sweep recorded it); the
# second's ran past its due time an hour before CLOCK, not yet swept: breached too.
BREACHED_TITLE = TICKETS[0][0]
OVERDUE_TITLE = TICKETS[1][0]


def build_queue_store(path: Path) -> Store:
    """A small desk (tests/factories.py) with TICKETS opened an hour apart before NOW."""
    store = open_store(sqlite_url(path))
    build_desk(store)
    with store.write() as session:
        alice = get_agent(session, "alice")
        # The supervisor may hand tickets across tiers (to nina, of Network).
        sam = get_agent(session, "sam")
        numbers = []
        for i, (title, impact, urgency, service, assignee, status) in enumerate(TICKETS):
            at = NOW - timedelta(hours=len(TICKETS) - i)
            ticket = create_ticket(
                session,
                alice,
                type="incident",
                title=title,
                impact=impact,
                urgency=urgency,
                service=service,
                description=f"Ticket {i} of the fixed queue",
                opened_at=at,
                now=at,
            )
            numbers.append(ticket.number)
            if assignee:
                assign_ticket(session, sam, ticket.number, assignee=assignee, now=at)
            if status:
                transition_ticket(session, alice, ticket.number, status, now=at)
        session.flush()
    with store.write() as session:
        # The small desk has no SLA policies: give each ticket a resolution clock by hand,
        # as the escalator would have left it at CLOCK (one breached, one warned, one paused).
        targets = {1: 240, 2: 480, 3: 1440, 4: 2880}
        for ticket_id, (_t, impact, urgency, _s, _a, status) in enumerate(TICKETS, start=1):
            started = NOW - timedelta(hours=len(TICKETS) - ticket_id + 1)
            target = targets[min(4, impact + urgency - 1)]
            state = "paused" if status == "pending" else "running"
            session.add(
                SlaClock(
                    ticket_id=ticket_id,
                    kind="resolution",
                    target_minutes=target,
                    started_at=started,
                    due_at=started + timedelta(minutes=target),
                    state=state,
                    running_since=started if state == "running" else None,
                    paused_at=started if state == "paused" else None,
                )
            )
        session.flush()
        # The first ticket is late; the second has passed its first warning.
        session.execute(
            update(SlaClock)
            .where(SlaClock.ticket_id == 1)
            .values(state="breached", due_at=CLOCK - timedelta(minutes=80), fired_percent=100)
        )
        session.execute(update(SlaClock).where(SlaClock.ticket_id == 2).values(fired_percent=50))
        # Inserted around the write path: the tickets' SLA key as the desk keeps it.
        refresh_sla_due(session, range(1, len(TICKETS) + 1))
    return store


def queue_context(store: Store, actor: str = "alice") -> DeskContext:
    return DeskContext(store=store, actor=actor, clock=lambda: CLOCK, desk_name="Test Desk")


def queue_app(store: Store, actor: str = "alice", *, poll_seconds: float = 0) -> ItsmApp:
    """The app without escalator or polling timer: tests poll by hand."""
    return make_app(queue_context(store, actor), escalator=False, poll_seconds=poll_seconds)


async def settle(pilot: Pilot[None], rounds: int = 6) -> None:
    """Let workers finish and their messages land (no sleeping)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def run_async(test: Callable[P, Awaitable[None]]) -> Callable[P, None]:
    """Run an async test without an asyncio plugin for pytest."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]

    return run


def _snapshot_app(actor: str = "alice") -> ItsmApp:
    # The header shows local time: pin the zone so images match on any machine.
    os.environ["TZ"] = "UTC"
    time.tzset()
    path = Path(tempfile.mkdtemp(prefix="itsm-snap-")) / "desk.db"
    return queue_app(build_queue_store(path), actor)


def snapshot_queue() -> ItsmApp:
    """The queue of the fixed desk, as alice (her own view first)."""
    return _snapshot_app()


def snapshot_empty_queue() -> ItsmApp:
    """The queue as sam, the supervisor, who holds no ticket: My tickets is empty."""
    return _snapshot_app("sam")


def snapshot_wall() -> App[None]:
    """The wall panel of the fixed desk for the whole desk, no live refresh."""
    from itsm_tui.screens.kpi.wall import WallApp

    os.environ["TZ"] = "UTC"
    time.tzset()
    path = Path(tempfile.mkdtemp(prefix="itsm-snap-")) / "desk.db"
    return WallApp(queue_context(build_queue_store(path), "sam"), poll_seconds=0)
