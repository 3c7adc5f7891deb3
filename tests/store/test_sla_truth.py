"""One SLA truth on SQLite and PostgreSQL: a re-target moves the due time (by a person or
by an escalation rule) and says so in the timeline; the sweep's status moves follow the
desk's clock rules; the saved views, `sla breaching`, the `sla:` filter, the queue's SLA
column and the detail's clock line agree at the boundary instants.

Desk and times: tests/sla_desk.py (the default desk; Shanghai business hours Mon–Fri
09:00–12:00, 13:30–18:00). Worked times are in the docstring of each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from itsm_tui.context import DeskContext
from itsm_tui.data import queue_pages, record_json
from itsm_tui.data.directory import desk_directory
from itsm_tui.data.history import history_page
from itsm_tui.data.models import AuditEvent, Escalation, SlaClock, Ticket
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.store import Store
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.desk import (
    add_comment,
    assign_ticket,
    override_priority,
    resolve_ticket,
    sla,
    transition_ticket,
)
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.screens.detail import ClockSnapshot
from itsm_tui.screens.queue import view_query
from itsm_tui.screens.timeline import entries
from tests.conftest import BACKENDS
from tests.sla_desk import (
    SHANGHAI,
    build_sla_desk,
    clocks,
    create,
    desk_store,
    desk_text,
    local,
    run_sweep,
    ticket,
)

TUE_0930 = local(2026, 11, 24, 9, 30)


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


def act(store: Store, fn: Any, *args: Any, actor: str = "tia", **kwargs: Any) -> Any:
    with store.write() as session:
        return fn(session, get_agent(session, actor), *args, **kwargs)


def sla_due_at(store: Store, number: str) -> datetime:
    with store.read() as session:
        return session.scalar(select(Ticket.sla_due_at).where(Ticket.number == number))


def due_moves(store: Store, number: str) -> list[tuple[Any, ...]]:
    """(actor id, clock, old due, new due, reason) of the ticket's `sla.due_moved` events."""
    with store.read() as session:
        t = get_ticket(session, number)
        rows = session.execute(
            select(
                AuditEvent.actor_id,
                AuditEvent.field,
                AuditEvent.old_value,
                AuditEvent.new_value,
                AuditEvent.reason,
            )
            .where(AuditEvent.record_id == t.id, AuditEvent.action == sla.DUE_MOVED)
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def timeline_entries(store: Store, number: str) -> list[str]:
    """Each entry of the ticket's timeline as one line: its head, then its changes."""
    with store.read() as session:
        page = history_page(session, get_ticket(session, number).id, size=1000)
    shown = entries(list(page.audit), list(page.comments), list(page.escalations), SHANGHAI)
    return [
        " · ".join([e.head, *(f"{label}: {old} → {new}" for label, old, new in e.changes)])
        for e in shown
    ]


# ---------------------------------------------------------------------------
# Re-targeting moves the due time


def test_override_on_a_breached_ticket_moves_its_due_times_and_says_so_in_the_timeline(
    sla_store: Store,
) -> None:
    """A P3 opened Tue 09:30; its response breaches at 15:00 (240 business minutes). At
    16:00 a supervisor makes it P1 (24x7: 15 and 120 minutes). By then each clock has
    spent 300 business minutes: under P1 the response ran out at 09:45 and the
    resolution at 11:30, so both are breached as of those instants, not due at the old
    instants with a 2-hour target beside them."""
    number = create(sla_store, TUE_0930, impact=2, urgency=2, assignee="tia")
    run_sweep(sla_store, local(2026, 11, 24, 15, 0))
    assert clocks(sla_store, number)["response"].breached_at == local(2026, 11, 24, 15, 0)
    four_pm = local(2026, 11, 24, 16, 0)
    act(sla_store, override_priority, number, 1, reason="VIP", actor="sue", now=four_pm)

    got = clocks(sla_store, number)
    response, resolution = got["response"], got["resolution"]
    assert (response.target_minutes, resolution.target_minutes) == (15, 120)
    assert response.state == resolution.state == "breached"
    assert response.breached_at == response.due_at == local(2026, 11, 24, 9, 45)
    assert resolution.breached_at == resolution.due_at == local(2026, 11, 24, 11, 30)
    assert sla_due_at(sla_store, number) == local(2026, 11, 24, 9, 45)
    with sla_store.read() as session:
        sue_id = get_agent(session, "sue").id
    assert sorted(due_moves(sla_store, number)) == [
        (
            sue_id,
            "sla.resolution",
            local(2026, 11, 27, 9, 30).isoformat(),
            local(2026, 11, 24, 11, 30).isoformat(),
            "VIP",
        ),
        (
            sue_id,
            "sla.response",
            local(2026, 11, 24, 15, 0).isoformat(),
            local(2026, 11, 24, 9, 45).isoformat(),
            "VIP",
        ),
    ]
    # One entry for the override: the priority, the targets and the due times it moved.
    (override,) = [e for e in timeline_entries(sla_store, number) if "Priority: P3 → P1" in e]
    assert "Response due: 2026-11-24 15:00 → 09:45" in override
    assert "Resolution due: 2026-11-27 09:30 → 2026-11-24 11:30" in override
    assert ticket(sla_store, number).priority == 1

    # The resolution breach was never told: the next sweep records and sends it, dated
    # when P1's target ran out.
    done = run_sweep(sla_store, four_pm + timedelta(seconds=30))
    assert {"number": number, "kind": "resolution"} in done.breached
    assert clocks(sla_store, number)["resolution"].breached_at == local(2026, 11, 24, 11, 30)


def test_lowering_the_priority_of_a_breached_ticket_puts_its_due_time_after_now(
    sla_store: Store,
) -> None:
    """A P1 opened Tue 09:30 breaches its 15-minute response at 09:45. At 10:00 it is made
    P4 (450 business minutes): 30 spent, 420 left → due Wed 09:30. The target that applies
    decides: the clock runs again; the first breach stays in the history. Run out again,
    it is breached in every view, and stopped late it is recorded breached at its new due
    time."""
    number = create(sla_store, TUE_0930, impact=1, urgency=1, assignee="tia")
    run_sweep(sla_store, local(2026, 11, 24, 9, 45))
    ten = local(2026, 11, 24, 10, 0)
    act(sla_store, override_priority, number, 4, reason="not urgent", actor="sue", now=ten)

    response = clocks(sla_store, number)["response"]
    wed_0930 = local(2026, 11, 25, 9, 30)
    assert (response.state, response.breached_at, response.due_at) == ("running", None, wed_0930)
    moves = {m[1]: m for m in due_moves(sla_store, number)}
    assert moves["sla.response"][1:4] == (
        "sla.response",
        local(2026, 11, 24, 9, 45).isoformat(),
        wed_0930.isoformat(),
    )
    with sla_store.read() as session:
        breaches = session.scalars(
            select(Escalation.kind).where(Escalation.clock_id == response.id)
        ).all()
    assert "breach" in breaches  # the history keeps the first breach
    assert sla_due_at(sla_store, number) == wed_0930

    assert number in view_numbers(sla_store, "soon", local(2026, 11, 25, 8, 0))
    assert number in view_numbers(sla_store, "breached", wed_0930)
    run_sweep(sla_store, wed_0930)  # the breach fired once already: nothing to send again
    act(sla_store, add_comment, number, "on it", kind="reply", now=local(2026, 11, 25, 10, 0))
    response = clocks(sla_store, number)["response"]
    assert (response.state, response.breached_at) == ("breached", wed_0930)


def test_escalations_priority_raise_retargets_the_clocks_and_keeps_the_sort_key(
    sla_store: Store,
) -> None:
    """The P3's response reaches level 2 at Tue 17:00 and the rule raises it to P2. Its
    resolution clock has spent 360 business minutes; P2 allows 480: due Wed 10:00 (60
    minutes left on Tuesday, then 09:00–10:00), not Fri 09:30 under P3."""
    number = create(sla_store, TUE_0930, impact=2, urgency=2, assignee="tia")
    for at in (local(2026, 11, 24, 15, 0), local(2026, 11, 24, 17, 0)):
        run_sweep(sla_store, at)
    after = ticket(sla_store, number)
    assert after.priority == 2
    resolution = clocks(sla_store, number)["resolution"]
    assert (resolution.target_minutes, resolution.due_at) == (480, local(2026, 11, 25, 10, 0))
    moves = due_moves(sla_store, number)
    assert moves[-1][:2] == (None, "sla.resolution")
    assert moves[-1][2:4] == (
        local(2026, 11, 27, 9, 30).isoformat(),
        local(2026, 11, 25, 10, 0).isoformat(),
    )
    assert moves[-1][4] == "rule Long breach: 150% of the response target"
    (raised,) = [e for e in timeline_entries(sla_store, number) if "Priority: P3 → P2" in e]
    assert "Resolution due: 2026-11-27 09:30 → 2026-11-25 10:00" in raised
    # The stored key follows: the response clock (breached under P2 at 10:00) is nearest.
    assert sla_due_at(sla_store, number) == local(2026, 11, 24, 10, 0)


# ---------------------------------------------------------------------------
# The sweep's status move follows the desk's clock rules


def test_sweeps_move_back_to_new_pauses_the_clocks_as_a_desk_transition_does(
    store: Store,
) -> None:
    """A desk whose P3 policy pauses in `new` (waiting in a queue nobody works). Level 1
    at Tue 15:00 puts the swept ticket back to `new`; a twin is put back to `new` by a
    person at the same instant. Both resolution clocks are paused alike; assigned again
    on Wednesday 10:00 they resume alike, the pause not counted."""
    text = desk_text().replace(
        "resolution_minutes = 1350            # 3 business days",
        'resolution_minutes = 1350\npause_statuses = ["pending", "new"]',
        1,
    )
    assert 'pause_statuses = ["pending", "new"]' in text
    build_sla_desk(store, text)
    swept = create(store, TUE_0930, impact=2, urgency=2, assignee="tia")
    twin = create(store, TUE_0930, impact=2, urgency=2, assignee="tia")
    three = local(2026, 11, 24, 15, 0)
    # The twin is answered at once, so the sweep leaves it alone; a person unassigns it.
    act(store, add_comment, twin, "looking", kind="reply", now=TUE_0930)
    run_sweep(store, three)
    act(store, assign_ticket, twin, unassign=True, actor="sue", now=three)
    assert ticket(store, swept).status == ticket(store, twin).status == "new"

    def resolution(number: str) -> SlaClock:
        return clocks(store, number)["resolution"]

    for number in (swept, twin):
        clock = resolution(number)
        assert (clock.state, clock.paused_at, clock.due_at, clock.next_event_at) == (
            "paused",
            three,
            None,
            None,
        )
        assert clock.spent_seconds == 240 * 60  # 150 before lunch, 90 after
    swept_response = clocks(store, swept)["response"]
    assert swept_response.state == "paused" and swept_response.breached_at == three
    assert sla_due_at(store, swept) == sla_due_at(store, twin) > local(2027, 1, 1)

    wed_10 = local(2026, 11, 25, 10, 0)
    act(store, assign_ticket, swept, assignee="eve", actor="sue", now=wed_10)
    act(store, assign_ticket, twin, assignee="eve", actor="sue", now=wed_10)
    # 1110 minutes left from Wed 10:00: 390 on Wednesday, 450 Thursday, 270 Friday.
    fri_1500 = local(2026, 11, 27, 15, 0)
    for number in (swept, twin):
        clock = resolution(number)
        assert (clock.state, clock.due_at) == ("running", fri_1500)
        assert clock.paused_seconds == 240 * 60  # Tue 15:00–18:00 and Wed 09:00–10:00
    assert sla_due_at(store, swept) == clocks(store, swept)["response"].due_at


# ---------------------------------------------------------------------------
# The views agree at the boundary instants


NOW = local(2026, 11, 24, 3, 0)  # P1 clocks are 24x7: night is as good as day


def view_numbers(store: Store, view: str, now: datetime) -> set[str]:
    ctx = DeskContext(store=store, actor="tia", clock=lambda: now)
    with store.read() as session:
        query = view_query(view, desk_directory(session, "tia"), ctx)
        return {r.number for r in queue_pages.queue_page(session, query, now=now, limit=500)}


def standing_numbers(store: Store, standing: str, now: datetime) -> set[str]:
    query = QueueQuery(TicketFilter(open_only=True), sla=standing)
    with store.read() as session:
        return {r.number for r in queue_pages.queue_page(session, query, now=now, limit=500)}


def row_standings(store: Store, now: datetime) -> dict[str, str | None]:
    """The queue's SLA column: each open ticket's standing."""
    with store.read() as session:
        rows = queue_pages.queue_page(session, QueueQuery(TicketFilter()), now=now, limit=500)
    return {r.number: r.sla_state for r in rows}


def detail_standings(store: Store, now: datetime) -> dict[str, str | None]:
    """The detail screen's clock line of each ticket's nearest counting clock, or its
    paused clock."""
    out: dict[str, str | None] = {}
    with store.read() as session:
        for t in session.scalars(select(Ticket)):
            snaps = [ClockSnapshot.of(c) for c in sla.clocks_of(session, t)]
            live = [s for s in snaps if s.stopped_at is None]
            counting = [s for s in live if s.due_at is not None]
            if counting:
                out[t.number] = min(counting, key=lambda s: s.due_at).live(now)[0]
            else:
                out[t.number] = "paused" if live else None
    return out


def test_views_filters_column_and_detail_agree_at_the_boundary_instants(
    sla_store: Store,
) -> None:
    """P1 incidents (24x7, response 15 minutes) placed around NOW:
    due_now (response due exactly at NOW), soon (due one minute after), warned (its 50%
    warning fired), running, paused (pending), met (resolved), and late (overdue by a
    quarter of an hour, never swept), unswept (past its 50% warning, not yet swept)."""

    def p1(minutes_ago: float) -> str:
        opened = NOW - timedelta(minutes=minutes_ago)
        return create(sla_store, opened, impact=1, urgency=1, assignee="tia")

    due_now, soon, warned, running = p1(15), p1(14), p1(10), p1(2)
    paused, met = p1(5), p1(5)
    act(sla_store, transition_ticket, paused, "pending", now=NOW - timedelta(minutes=1))
    act(
        sla_store,
        resolve_ticket,
        met,
        code="fixed",
        notes="done",
        now=NOW - timedelta(minutes=1),
    )
    run_sweep(sla_store, NOW - timedelta(seconds=1))  # warnings of due_now, soon, warned
    late, unswept = p1(30), p1(9)

    breached_view = view_numbers(sla_store, "breached", NOW)
    soon_view = view_numbers(sla_store, "soon", NOW)
    assert breached_view == {due_now, late}
    assert soon_view == {soon, warned, unswept, running}
    assert not breached_view & soon_view
    with sla_store.read() as session:
        listed = [r["number"] for r in record_json.breaching_soon(session, NOW, timedelta(hours=2))]
    assert listed == [soon, warned, unswept, running]  # soonest first, the view's tickets

    expected = {
        due_now: "breached",
        late: "breached",
        soon: "warned",
        warned: "warned",
        unswept: "warned",  # its first threshold's instant has come
        running: "running",
        paused: "paused",
        met: None,
    }
    assert row_standings(sla_store, NOW) == expected
    assert detail_standings(sla_store, NOW) == expected
    for standing in ("breached", "warned", "running", "paused"):
        assert standing_numbers(sla_store, standing, NOW) == {
            n for n, s in expected.items() if s == standing
        }, standing

    # A second before NOW the ticket due at NOW is breaching soon, not breached.
    before = NOW - timedelta(seconds=1)
    assert due_now in view_numbers(sla_store, "soon", before)
    assert due_now not in view_numbers(sla_store, "breached", before)
    assert row_standings(sla_store, before)[due_now] == "warned"
