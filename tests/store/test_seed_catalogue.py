"""The seed's catalogue requests of planned items, on both databases (the bulk story's
and the few written through the desk's own functions alike), each what the write path
leaves: an open one at exactly one step, held by that step's team; a fulfilled one with
every step done; a rejected one with none; the requester told at each step."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data.models import (
    AuditEvent,
    CatalogueItem,
    Comment,
    FulfilmentTask,
    SlaClock,
    Ticket,
)
from itsm_tui.data.seed import seed_store
from itsm_tui.data.seed import tickets as seed_tickets
from itsm_tui.data.seed.catalogue import PLANNED_REQUESTS, planned_request_count
from itsm_tui.data.store import Store
from itsm_tui.desk.catalogue_forms import check_answers
from tests.factories import NOW

TICKETS = 1_000


@pytest.fixture
def seeded(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    # Every draw of the planned item stays with it: at this size the sample then holds
    # its requests turned down, at a step, fulfilled and closed (the mix, not the rules).
    monkeypatch.setattr(seed_tickets, "PLANNED_SHARE", 1.0)
    with store.write() as s:
        apply_config(s, load_default_desk(), now=NOW - timedelta(days=40))
    summary = seed_store(store, tickets=TICKETS, days=30, seed=4, now=NOW)
    assert summary.tickets == TICKETS and summary.rows["tickets"] == TICKETS
    assert sum(sum(v.values()) for v in summary.by_type_status.values()) == TICKETS
    return store


def test_planned_requests_are_what_the_write_path_leaves(seeded: Store) -> None:
    with seeded.read() as s:
        total = s.scalar(select(func.count()).select_from(Ticket))
        item = s.scalars(select(CatalogueItem).where(CatalogueItem.code == "new-starter")).one()
        steps = len(item.tasks)
        planned = s.scalars(
            select(Ticket).where(Ticket.catalogue_item_id == item.id).order_by(Ticket.id)
        ).all()
        assert total == TICKETS
        # The bulk story's requests of the item and the ones written through the desk.
        assert len(planned) > 2 * PLANNED_REQUESTS
        statuses = {t.status for t in planned}
        assert {"fulfilled", "fulfilling", "rejected", "closed"} <= statuses
        for ticket in planned:
            rows = s.scalars(
                select(FulfilmentTask)
                .where(FulfilmentTask.ticket_id == ticket.id)
                .order_by(FulfilmentTask.position)
            ).all()
            replies = s.scalar(
                select(func.count()).where(Comment.ticket_id == ticket.id, Comment.kind == "reply")
            )
            assert [r.position for r in rows] == list(range(1, len(rows) + 1))
            if ticket.resolution_code == "fulfilled":
                assert [r.status for r in rows] == ["done"] * steps
                assert ticket.resolution_code == "fulfilled"
                assert ticket.resolved_at == rows[-1].ended_at
            elif ticket.status == "fulfilling":
                assert [r.status for r in rows][-1] == "open"
                assert all(r.status == "done" for r in rows[:-1])
                assert ticket.team_id == rows[-1].team_id and ticket.assignee_id is None
            else:
                assert ticket.approved_at is None or ticket.status in ("rejected", "closed")
                assert rows == [], ticket.number
            # Promised from submission or approval; a request turned down has no promise.
            promised = bool(rows)
            assert (ticket.promised_at is not None) == promised
            # Submitted, and each step's start and end, and fulfilment, told the requester.
            assert replies >= 1 + sum(1 if r.status == "open" else 2 for r in rows)


def test_how_many_planned_requests_a_seed_writes() -> None:
    assert [planned_request_count(n) for n in (0, 49, 50, 399, 5_000, 200_000)] == [
        0,
        0,
        1,
        7,
        PLANNED_REQUESTS,
        PLANNED_REQUESTS,
    ]
    # The million-ticket store shows them too.
    assert planned_request_count(1_000_000) == PLANNED_REQUESTS


def test_every_seeded_request_is_timed_by_its_items_standard(seeded: Store) -> None:
    """The bulk story's requests and the planned ones alike: the resolution clock's target
    is the item's delivery standard (sla.target_of), and an open request's clock falls due
    at its promise, as the write path leaves them."""
    with seeded.read() as s:
        rows = s.execute(
            select(Ticket, SlaClock, CatalogueItem.fulfilment_minutes, CatalogueItem.tasks)
            .join(SlaClock, SlaClock.ticket_id == Ticket.id)
            .join(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
            .where(SlaClock.kind == "resolution")
        ).all()
        assert len(rows) > PLANNED_REQUESTS
        assert {minutes for *_r, minutes, _t in rows} > {450}  # not all one day long
        for ticket, clock, minutes, tasks in rows:
            assert clock.target_minutes == minutes, ticket.number
            if tasks and ticket.status == "fulfilling":
                assert clock.due_at == ticket.promised_at, ticket.number


def test_every_seeded_request_has_its_promise_and_its_promises_audit_trail(
    seeded: Store,
) -> None:
    """Bulk and planned requests alike: `promised_at` is the last promise audited on the
    request, made in the write that submitted it or approved it (fulfilment.promise_of),
    and none before fulfilment may start; a rejection keeps what was promised."""
    with seeded.read() as s:
        requests = s.scalars(
            select(Ticket).where(Ticket.type == "request", Ticket.catalogue_item_id.is_not(None))
        ).all()
        events: dict[int, list[AuditEvent]] = {}
        for e in s.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_type == "ticket", AuditEvent.field == "promised_at")
            .order_by(AuditEvent.id)
        ):
            events.setdefault(e.record_id, []).append(e)
        clocks = {
            c.ticket_id: c for c in s.scalars(select(SlaClock).where(SlaClock.kind == "resolution"))
        }
        seen = {"create": 0, "transition": 0, "none": 0, "counting": 0}
        assert len(requests) > 10 * PLANNED_REQUESTS
        for ticket in requests:
            trail = events.get(ticket.id, [])
            if ticket.promised_at is None:
                # Never approved: it waited for its approver, or was turned down.
                assert trail == [], ticket.number
                assert ticket.approved_at is None or ticket.status in ("rejected", "closed")
                seen["none"] += 1
                continue
            assert trail, ticket.number
            last = trail[-1]
            assert last.new_value == ticket.promised_at.astimezone(UTC).isoformat()
            assert [e.old_value for e in trail] == [None] + [e.new_value for e in trail[:-1]]
            for e in trail:
                if e.action == "create":
                    assert e.at == ticket.opened_at and e.record_version == 1, ticket.number
                else:
                    # The approval's write: the same version as its status change.
                    assert e.action == "transition", ticket.number
                    assert e.at == ticket.approved_at, ticket.number
                seen[e.action] += 1
            clock = clocks.get(ticket.id)
            counting = clock is not None and clock.state in ("running", "breached")
            if counting and clock.stopped_at is None:
                # Counting since the same instant, the same minutes: one due time.
                assert clock.due_at == ticket.promised_at, ticket.number
                seen["counting"] += 1
        assert min(seen.values()) >= 1, seen


def test_seeded_request_forms_answer_each_field_as_the_desk_stores_it(seeded: Store) -> None:
    """Every seeded request's form (bulk and planned alike) passes the desk's own check
    unchanged, and a free-text answer fits its field: a department, not a reason."""
    with seeded.read() as s:
        items = {i.id: i for i in s.scalars(select(CatalogueItem))}
        requests = s.scalars(select(Ticket).where(Ticket.catalogue_item_id.is_not(None))).all()
        departments = set()
        for ticket in requests:
            item = items[ticket.catalogue_item_id]
            stored = ticket.form_data or {}
            assert check_answers(s, item.form or [], stored) == stored, ticket.number
            if "department" in stored:
                departments.add(stored["department"])
    assert departments == {"Finance"}
    assert {items[t.catalogue_item_id].code for t in requests if t.form_data} >= {
        "new-starter",
        "software-install",
        "access-request",
    }
