"""tickets.sla_due_at, the queue's stored SLA sort key, on SQLite and PostgreSQL.

The key is the nearest `due_at` of a ticket's counting clocks (running or breached, not
stopped), 9999-12-31 when none counts. Every check here recomputes it independently:
the clocks read as plain rows and the rule applied in Python (`recomputed`), never
with the code under test. The desk is the shipped default desk (tests/sla_desk.py);
expected instants are the hand-worked ones of docs/sla.md's example.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from itsm_tui.data import queue_pages
from itsm_tui.data.migrate import alembic_config, current_revision, head_revision
from itsm_tui.data.models import Agent, SlaClock, Ticket
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.store import Store
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.desk import (
    add_comment,
    override_priority,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.desk.imports import TicketRecord, import_tickets
from itsm_tui.desk.records import get_agent
from tests.conftest import BACKENDS
from tests.sla_desk import create, desk_store, local, run_sweep
from tests.store.test_seed import seeded

NEVER = datetime(9999, 12, 31, tzinfo=UTC)
COUNTING = ("running", "breached")
TUE_0930 = local(2026, 11, 24, 9, 30)
REQUEST_FORM = {"system": "ERP", "access_level": "read", "justification": "month-end close"}


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn, with the default desk and its agents (tests/sla_desk.py)."""
    yield from desk_store(request, tmp_path)


def recomputed(session: Session) -> dict[int, datetime]:
    """Every ticket's key from its clocks, worked out here and not by the desk."""
    keys = {ticket_id: NEVER for ticket_id in session.scalars(select(Ticket.id))}
    for ticket_id, state, due_at, stopped_at in session.execute(
        select(SlaClock.ticket_id, SlaClock.state, SlaClock.due_at, SlaClock.stopped_at)
    ):
        if state in COUNTING and stopped_at is None and due_at is not None:
            keys[ticket_id] = min(keys[ticket_id], due_at)
    return keys


def stored(session: Session) -> dict[int, datetime]:
    return {i: at for i, at in session.execute(select(Ticket.id, Ticket.sla_due_at))}


def assert_keys_match(store: Store, after: str) -> dict[str, datetime]:
    """The stored key of every ticket is the recomputed one; the keys by ticket number."""
    with store.read() as s:
        want, got = recomputed(s), stored(s)
        numbers = dict(s.execute(select(Ticket.id, Ticket.number)).all())
    wrong = {numbers[i]: (got[i], want[i]) for i in want if got.get(i) != want[i]}
    assert not wrong, f"after {after}: (stored, recomputed) {wrong}"
    return {numbers[i]: at for i, at in got.items()}


def act(store: Store, fn, *args, actor: str = "tia", **kwargs):  # type: ignore[no-untyped-def]
    with store.write() as session:
        return fn(session, get_agent(session, actor), *args, **kwargs)


def move(store: Store, number: str, status: str, at: datetime, actor: str = "tia") -> None:
    act(store, transition_ticket, number, status, now=at, actor=actor)


# ---------------------------------------------------------------------------
# The write path keeps the key


def test_every_desk_operation_keeps_the_key_equal_to_the_clocks(sla_store: Store) -> None:
    store = sla_store
    # A P3 incident: response due Tue 15:00, resolution Fri 09:30 (docs/sla.md).
    inc = create(store, TUE_0930, impact=2, urgency=2, assignee="tia")
    keys = assert_keys_match(store, "create")
    assert keys[inc] == local(2026, 11, 24, 15, 0)

    # Born awaiting approval: both clocks paused, nothing counts.
    req = create(
        store,
        TUE_0930,
        impact=3,
        urgency=3,
        type="request",
        catalogue_item="access-request",
        form_data=REQUEST_FORM,
    )
    keys = assert_keys_match(store, "create paused")
    assert keys[req] == NEVER

    # Pending 10:30–14:30 pauses both clocks; in_progress resumes them (150 business
    # minutes later) and is the response: the resolution clock leads, due Fri 12:00.
    move(store, inc, "pending", local(2026, 11, 24, 10, 30))
    keys = assert_keys_match(store, "pause")
    assert keys[inc] == NEVER
    move(store, inc, "in_progress", local(2026, 11, 24, 14, 30))
    keys = assert_keys_match(store, "resume and respond")
    assert keys[inc] == local(2026, 11, 27, 12, 0)

    # Approval resumes the request's clocks: the response is due 30 minutes later.
    approved = local(2026, 11, 25, 9, 30)
    move(store, req, "approved", approved, actor="sue")
    keys = assert_keys_match(store, "approve")
    assert keys[req] == approved + timedelta(minutes=30)

    # A public reply meets the request's response clock: its resolution clock leads.
    act(store, add_comment, req, "On it", kind="reply", now=local(2026, 11, 25, 9, 40))
    keys = assert_keys_match(store, "reply")
    assert approved + timedelta(minutes=30) < keys[req] < NEVER

    # Re-targeting: a higher priority by impact, then a supervisor's override to P1.
    before = keys[inc]
    act(store, update_ticket, inc, impact=1, now=local(2026, 11, 25, 10, 0))
    keys = assert_keys_match(store, "re-target by impact")
    assert keys[inc] < before
    before = keys[inc]
    act(
        store,
        override_priority,
        inc,
        1,
        reason="the whole floor",
        now=local(2026, 11, 25, 10, 5),
        actor="sue",
    )
    keys = assert_keys_match(store, "re-target by override")
    assert keys[inc] < before

    # Resolving stops every clock; reopening restarts the resolution clock.
    act(store, resolve_ticket, inc, code="fixed", notes="cable", now=local(2026, 11, 25, 10, 10))
    keys = assert_keys_match(store, "resolve")
    assert keys[inc] == NEVER
    act(store, reopen_ticket, inc, reason="back again", now=local(2026, 11, 25, 11, 0))
    keys = assert_keys_match(store, "reopen")
    assert keys[inc] < NEVER

    # Cancelling stops the clocks as cancelled.
    gone = create(store, TUE_0930, impact=3, urgency=3)
    assert assert_keys_match(store, "create P4")[gone] < NEVER
    move(store, gone, "cancelled", local(2026, 11, 24, 10, 0))
    assert assert_keys_match(store, "cancel")[gone] == NEVER

    # The sweep breaches a response clock: still counting, due when it was due.
    late = create(store, TUE_0930, impact=2, urgency=2)
    keys = assert_keys_match(store, "create another P3")
    result = run_sweep(store, local(2026, 11, 24, 15, 1))
    assert {"number": late, "kind": "response"} in result.breached
    after = assert_keys_match(store, "sweep")
    assert after[late] == keys[late] == local(2026, 11, 24, 15, 0)

    # Imported tickets have no clocks.
    with store.write() as s:
        s.add(Agent(username="root", display_name="Admin", roles="admin"))
    record = TicketRecord(
        type="incident", title="From the old desk", status="new", impact=2, urgency=2,
        opened_at=local(2026, 11, 20, 9, 0),
    )  # fmt: skip
    with store.write() as s:
        imported = import_tickets(s, get_agent(s, "root"), [record], now=TUE_0930)
    assert imported.tickets == 1
    keys = assert_keys_match(store, "import")
    new = [at for number, at in keys.items() if number not in (inc, req, gone, late)]
    assert new == [NEVER]


def test_the_seed_writes_each_ticket_its_key(store: Store) -> None:
    # A short span, so some of the history is still work in hand with counting clocks.
    seeded(store, 400, days=7)
    keys = assert_keys_match(store, "seed")
    counting = [at for at in keys.values() if at != NEVER]
    # Open tickets with running clocks and tickets with none (finished, paused) both exist.
    assert counting and len(counting) < len(keys)


def test_the_migration_backfills_the_key_of_a_store_with_clocks(sla_store: Store) -> None:
    store = sla_store
    for i, (impact, urgency) in enumerate([(1, 1), (2, 2), (3, 3), (2, 3)]):
        create(store, TUE_0930 + timedelta(minutes=7 * i), impact=impact, urgency=urgency)
    paused = create(store, TUE_0930, impact=2, urgency=2, assignee="tia")
    move(store, paused, "pending", local(2026, 11, 24, 10, 0))
    done = create(store, TUE_0930, impact=2, urgency=2)
    act(store, resolve_ticket, done, code="fixed", notes="x", now=local(2026, 11, 24, 11, 0))
    breached = create(store, TUE_0930, impact=2, urgency=2)
    run_sweep(store, local(2026, 11, 24, 15, 1))
    expected = assert_keys_match(store, "the write path")

    config = alembic_config(store.engine)
    command.downgrade(config, "0005")
    with store.engine.connect() as conn:
        columns = conn.execute(
            text("SELECT * FROM tickets WHERE 1 = 0")
        ).keys()  # the column is gone at 0005
    assert "sla_due_at" not in columns
    command.upgrade(config, "head")
    assert current_revision(store.engine) == head_revision()
    store.engine.dispose()  # SQLite: no pooled connection holds the old schema

    keys = assert_keys_match(store, "the migration's backfill")
    assert keys == expected
    assert keys[paused] == keys[done] == NEVER
    assert keys[breached] == local(2026, 11, 24, 15, 0)
    assert sum(at != NEVER for at in keys.values()) == 5


# ---------------------------------------------------------------------------
# The queue sorted by the key


def _python_order(session: Session, query: QueueQuery) -> list[int]:
    """The view's tickets sorted by (recomputed key, id), in Python."""
    keys = recomputed(session)
    rows = session.execute(select(Ticket.id, Ticket.is_open)).all()
    chosen = [i for i, is_open in rows if is_open or not query.filters.open_only]
    return sorted(chosen, key=lambda i: (keys[i], i), reverse=query.descending)


@pytest.fixture
def sorted_desk(sla_store: Store) -> Store:
    """Twenty-odd tickets over two days: counting, paused, met, resolved; ties of due time."""
    store = sla_store
    plan = [(1, 1), (2, 2), (3, 3), (2, 3), (1, 2), (3, 2)]
    for i in range(18):
        impact, urgency = plan[i % len(plan)]
        # Pairs opened at the same instant with the same priority: tied keys.
        at = TUE_0930 + timedelta(minutes=20 * (i // 2))
        number = create(store, at, impact=impact, urgency=urgency, assignee="tia")
        if i % 5 == 1:
            move(store, number, "pending", at + timedelta(minutes=5))
        elif i % 5 == 2:
            act(store, resolve_ticket, number, code="fixed", notes="x", now=at + timedelta(hours=1))
        elif i % 5 == 3:
            move(store, number, "in_progress", at + timedelta(minutes=10))
    create(
        store, TUE_0930, impact=3, urgency=3, type="request", catalogue_item="access-request",
        form_data=REQUEST_FORM,
    )  # fmt: skip
    run_sweep(store, local(2026, 11, 24, 16, 0))
    assert_keys_match(store, "the fixture")
    return store


QUERIES = {
    "open": QueueQuery(TicketFilter(open_only=True), sort="sla"),
    "open, descending": QueueQuery(TicketFilter(open_only=True), sort="sla", descending=True),
    "all": QueueQuery(TicketFilter(), sort="sla"),
    "all, descending": QueueQuery(TicketFilter(), sort="sla", descending=True),
}
NOW = local(2026, 11, 24, 16, 0)


@pytest.mark.parametrize("case", list(QUERIES))
def test_pages_positions_and_counts_sorted_by_sla_agree_with_python(
    sorted_desk: Store, case: str
) -> None:
    query = QUERIES[case]
    with sorted_desk.read() as s:
        expected = _python_order(s, query)
        assert len(expected) > 10
        whole = queue_pages.queue_page(s, query, now=NOW, limit=1000)
        assert [r.id for r in whole] == expected
        assert queue_pages.count_queue(s, query, now=NOW) == len(expected)

        # Keyset pages of three, forwards, concatenate to the whole view.
        pages: list[int] = []
        after = None
        while True:
            page = queue_pages.queue_page(s, query, now=NOW, limit=3, after=after)
            pages += [r.id for r in page]
            if len(page) < 3:
                break
            after = page[-1].key
        assert pages == expected

        # Around each row, as read_window reads it: the rows before its key, the row
        # and those after it, its position and the count in one pass; its key by id.
        for index, row in enumerate(whole):
            assert queue_pages.queue_key_of(s, query, row.id, now=NOW) == row.key
            before = queue_pages.queue_page(s, query, now=NOW, limit=4, before=row.key)
            assert [r.id for r in before] == expected[max(0, index - 4) : index]
            onwards = queue_pages.queue_page(
                s, query, now=NOW, limit=4, after=row.key, inclusive=True
            )
            assert [r.id for r in onwards] == expected[index : index + 4]
            assert queue_pages.count_and_position(s, query, row.key, now=NOW) == (
                len(expected),
                index,
            )
            assert queue_pages.queue_position(s, query, row.key, now=NOW) == index
        last = queue_pages.queue_page(s, query, now=NOW, limit=5, from_end=True)
        assert [r.id for r in last] == expected[-5:]


def test_the_soon_view_sorted_by_sla_lists_the_clocks_due_soon_in_key_order(
    sorted_desk: Store,
) -> None:
    query = replace(QUERIES["open"], sla="soon", soon_within=timedelta(days=2))
    with sorted_desk.read() as s:
        keys = recomputed(s)
        soon = {
            t
            for t, state, due in s.execute(
                select(SlaClock.ticket_id, SlaClock.state, SlaClock.due_at)
            )
            if state == "running" and due is not None and NOW < due <= NOW + timedelta(days=2)
        }
        got = [r.id for r in queue_pages.queue_page(s, query, now=NOW, limit=100)]
    assert soon
    assert got == sorted(soon, key=lambda i: (keys[i], i))
