"""The filter line's `sla:` states on SQLite and PostgreSQL: each ticket is in the state
its SLA cell shows, in one state at most, and the Breached view is `sla:breached`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from itsm_tui.data import queue_pages
from itsm_tui.data.models import SlaClock
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.sla_standing import STANDINGS as SLA_STATES
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.sla import refresh_sla_due
from tests.factories import NOW, Desk


@dataclass(frozen=True)
class Clock:
    kind: str
    state: str
    due_in: timedelta | None
    target_minutes: int = 480
    fired_percent: int = 0
    # When the next threshold's event falls due (the write path stores it; None: none left).
    event_in: timedelta | None = None
    stopped: bool = False


H = timedelta(hours=1)
M = timedelta(minutes=1)
# title → its clocks as the write path and the sweep would have left them at NOW, and the
# standing its SLA cell shows (None: no clock counts or is paused).
CASES: dict[str, tuple[tuple[Clock, ...], str | None]] = {
    "far ahead": ((Clock("resolution", "running", 7 * H, event_in=3 * H),), "running"),
    "a minute before the first warning": (
        (Clock("resolution", "running", 7 * H, event_in=M),),
        "running",
    ),
    "first warning due exactly now": (
        (Clock("resolution", "running", 4 * H, event_in=0 * H),),
        "warned",
    ),
    "first warning due, not yet swept": (
        (Clock("resolution", "running", 3 * H, event_in=-M),),
        "warned",
    ),
    "warning fired": (
        (Clock("resolution", "running", 3 * H, fired_percent=50, event_in=H),),
        "warned",
    ),
    "breached": ((Clock("resolution", "breached", -H, fired_percent=100),), "breached"),
    "overdue, not yet swept": (
        (Clock("resolution", "running", -5 * M, event_in=-5 * M),),
        "breached",
    ),
    "due exactly now": ((Clock("resolution", "running", 0 * H, event_in=0 * H),), "breached"),
    "breached response, running resolution": (
        (
            Clock("response", "breached", -H, 60, fired_percent=100),
            Clock("resolution", "running", 7 * H, event_in=3 * H),
        ),
        "breached",
    ),
    "nearest clock warned": (
        (
            Clock("response", "running", 10 * M, 60, fired_percent=75, event_in=10 * M),
            Clock("resolution", "running", 7 * H, event_in=3 * H),
        ),
        "warned",
    ),
    "paused": ((Clock("resolution", "paused", None),), "paused"),
    "met response, paused resolution": (
        (Clock("response", "met", -H, 60, stopped=True), Clock("resolution", "paused", None)),
        "paused",
    ),
    "met and stopped": ((Clock("resolution", "met", -H, stopped=True),), None),
    "no clock": ((), None),
}


@pytest.fixture
def sla_desk(desk: Desk) -> Desk:
    with desk.store.write() as session:
        alice = get_agent(session, "alice")
        ids = []
        for title, (clocks, _state) in CASES.items():
            ticket = create_ticket(
                session, alice, type="incident", title=title, impact=2, urgency=2, now=NOW - H
            )
            session.flush()
            ids.append(ticket.id)
            for c in clocks:
                due = NOW + c.due_in if c.due_in is not None else None
                session.add(
                    SlaClock(
                        ticket_id=ticket.id,
                        kind=c.kind,
                        target_minutes=c.target_minutes,
                        started_at=NOW - H,
                        due_at=due,
                        state=c.state,
                        running_since=NOW - H if c.state == "running" else None,
                        paused_at=NOW - H if c.state == "paused" else None,
                        stopped_at=NOW - H if c.stopped else None,
                        fired_percent=c.fired_percent,
                        next_event_at=NOW + c.event_in if c.event_in is not None else None,
                    )
                )
        refresh_sla_due(session, ids)
    return desk


def titles(desk: Desk, query: QueueQuery) -> set[str]:
    with desk.store.read() as session:
        rows = queue_pages.queue_page(session, query, now=NOW, limit=100)
        assert queue_pages.count_queue(session, query, now=NOW) == len(rows)
    return {row.title for row in rows}


def test_each_ticket_is_in_the_state_its_sla_cell_shows(sla_desk: Desk) -> None:
    everyone = QueueQuery(TicketFilter(open_only=True))
    with sla_desk.store.read() as session:
        cells = {
            row.title: row.sla_state
            for row in queue_pages.queue_page(session, everyone, now=NOW, limit=100)
        }
    assert cells == {title: state for title, (_c, state) in CASES.items()}
    found: dict[str, set[str]] = {}
    for state in SLA_STATES:
        found[state] = titles(sla_desk, QueueQuery(TicketFilter(open_only=True), sla_state=state))
        assert found[state] == {t for t, s in cells.items() if s == state}, state
    # One state at most: the sets are disjoint.
    assert sum(len(v) for v in found.values()) == len(set().union(*found.values()))


def test_the_breached_view_and_the_breached_filter_agree(sla_desk: Desk) -> None:
    view = QueueQuery(TicketFilter(open_only=True), sla="breached")
    stacked = QueueQuery(TicketFilter(open_only=True), sla="breached", sla_state="breached")
    filtered = QueueQuery(TicketFilter(open_only=True), sla_state="breached")
    assert titles(sla_desk, view) == titles(sla_desk, filtered) == titles(sla_desk, stacked)
    assert titles(sla_desk, filtered) == {
        "breached",
        "overdue, not yet swept",
        "due exactly now",
        "breached response, running resolution",
    }


def test_sla_states_combine_with_sorts_and_other_filters(sla_desk: Desk) -> None:
    for sort in ("sla", "priority", "age", "number"):
        warned = QueueQuery(TicketFilter(open_only=True, priority=3), sort=sort, sla_state="warned")
        assert titles(sla_desk, warned) == {
            t for t, (_c, state) in CASES.items() if state == "warned"
        }
    nobody = QueueQuery(TicketFilter(open_only=True, priority=1), sla_state="warned")
    assert titles(sla_desk, nobody) == set()


def test_an_unknown_sla_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SLA state"):
        QueueQuery(sla_state="late")
