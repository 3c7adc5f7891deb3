"""Read queries on both databases: the ticket JSON, filters, keyset pages, counts and plans."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement, Executable

from itsm_tui.data import (
    queue_pages,
    queue_views,
    record_json,
    store_summary,
    ticket_filter,
    ticket_lists,
)
from itsm_tui.data.models import Agent, Team, Ticket
from itsm_tui.data.store import Store
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.data.ticket_lists import PageKey
from itsm_tui.desk import add_comment, create_ticket, link_ticket, resolve_ticket
from itsm_tui.domain.workflow import WORKFLOWS
from tests.factories import NOW, Desk

# ---------------------------------------------------------------------------
# A desk with a spread of tickets


def _spread(desk: Desk, n: int = 40) -> None:
    """`n` tickets of every type, priority and age, some sharing an opened_at (ties)."""
    rng = random.Random(5)
    with desk.store.write() as s:
        actor = desk.actor(s, "alice")
        for i in range(n):
            kind = rng.choice(["incident", "incident", "request", "problem"])
            assignee = rng.choice([None, None, "alice", "bob", "nina"])
            create_ticket(
                s,
                actor,
                type=kind,
                title=f"ticket {i}",
                impact=rng.randint(1, 3),
                urgency=rng.randint(1, 3),
                assignee=assignee,
                team="Network" if assignee == "nina" else None,
                # Steps of 10 minutes over 12 slots: many tickets share an opened_at.
                opened_at=NOW - timedelta(minutes=10 * rng.randint(0, 11)),
                now=NOW,
            )
        resolvable = s.scalars(
            select(Ticket.number).where(Ticket.type != "request").order_by(Ticket.id)
        ).all()
        for number in resolvable[::4]:
            resolve_ticket(s, actor, number, code="fixed", notes="done", now=NOW)


def _all_rows(session: Session) -> list[Ticket]:
    return list(session.scalars(select(Ticket)))


def _ids(desk: Desk, session: Session) -> dict[str, int]:
    agents = dict(session.execute(select(Agent.username, Agent.id)).all())
    teams = dict(session.execute(select(Team.name, Team.id)).all())
    return {**agents, **teams}


def _matches(t: Ticket, f: TicketFilter) -> bool:
    return (
        (not f.statuses or t.status in f.statuses)
        and (f.priority is None or t.priority == f.priority)
        and (f.type is None or t.type == f.type)
        and (f.team_id is None or t.team_id == f.team_id)
        and (f.assignee_id is None or t.assignee_id == f.assignee_id)
        and (not f.unassigned or t.assignee_id is None)
        and (not f.open_only or t.is_open)
    )


def _filters(ids: dict[str, int]) -> list[TicketFilter]:
    return [
        TicketFilter(),
        TicketFilter(open_only=True),
        TicketFilter(open_only=True, priority=2),
        TicketFilter(priority=1),
        TicketFilter(type="incident"),
        TicketFilter(open_only=True, type="request"),
        TicketFilter(team_id=ids["Network"]),
        TicketFilter(team_id=ids["Service Desk"], open_only=True),
        TicketFilter(assignee_id=ids["bob"]),
        TicketFilter(assignee_id=ids["alice"], open_only=True),
        TicketFilter(unassigned=True),
        TicketFilter(unassigned=True, open_only=True, team_id=ids["Service Desk"]),
        TicketFilter(statuses=("new",)),
        TicketFilter(statuses=("resolved", "assigned", "new")),
        TicketFilter(statuses=("resolved", "fulfilled"), open_only=True),
        TicketFilter(statuses=("assigned",), assignee_id=ids["bob"]),
    ]


def _expected(rows: list[Ticket], f: TicketFilter) -> list[str]:
    chosen = sorted(
        (t for t in rows if _matches(t, f)), key=lambda t: (t.priority, t.opened_at, t.id)
    )
    return [t.number for t in chosen]


def test_list_tickets_matches_every_filter_in_queue_order(desk: Desk) -> None:
    _spread(desk)
    with desk.store.read() as s:
        rows = _all_rows(s)
        for f in _filters(_ids(desk, s)):
            expected = _expected(rows, f)
            got = [r["number"] for r in ticket_lists.list_tickets(s, f, limit=1000)]
            assert got == expected, f
            assert ticket_lists.count_tickets(s, f) == len(expected), f


@pytest.mark.parametrize("page_size", [1, 3, 7])
def test_keyset_pages_concatenate_to_the_whole_list(desk: Desk, page_size: int) -> None:
    _spread(desk)
    with desk.store.read() as s:
        rows = _all_rows(s)
        for f in _filters(_ids(desk, s)):
            pages: list[str] = []
            after: PageKey | None = None
            while True:
                page = ticket_lists.list_tickets(s, f, limit=page_size, after=after)
                assert len(page) <= page_size
                pages += [r["number"] for r in page]
                if len(page) < page_size:
                    break
                after = ticket_lists.page_key(s, page[-1]["number"])
            assert pages == _expected(rows, f), f
            assert len(set(pages)) == len(pages)


def test_filters_that_cannot_match_return_nothing(desk: Desk) -> None:
    _spread(desk, 8)
    with desk.store.read() as s:
        closed_only = TicketFilter(statuses=("closed",), open_only=True)
        assert ticket_lists.list_tickets(s, closed_only, limit=10) == []
        assert ticket_lists.count_tickets(s, closed_only) == 0
        assert ticket_lists.list_tickets(s, TicketFilter(), limit=0) == []


def test_an_assignee_and_unassigned_exclude_each_other() -> None:
    with pytest.raises(ValueError):
        TicketFilter(assignee_id=1, unassigned=True)


# ---------------------------------------------------------------------------
# The JSON shape


def test_ticket_record_names_what_it_points_at(desk: Desk) -> None:
    with desk.store.write() as s:
        alice = desk.actor(s, "alice")
        problem = create_ticket(
            s, alice, type="problem", title="Root", impact=2, urgency=2, now=NOW
        )
        incident = create_ticket(
            s,
            alice,
            type="incident",
            title="Leaf",
            impact=1,
            urgency=1,
            service="Email",
            requester="wei@example.com",
            assignee="bob",
            now=NOW,
        )
        link_ticket(s, alice, incident.number, problem=problem.number, now=NOW)
        # Inside the write: the record is what the transaction will commit.
        record = record_json.ticket_record(s, incident)
    assert record == {
        **record,
        "number": "INC0000001",
        "priority": "P1",
        "service": "Email",
        "team": "Service Desk",
        "assignee": "bob",
        "requester": "wei@example.com",
        "problem": "PRB0000001",
        "parent": None,
        "version": 2,
        "opened_at": "2026-11-24T09:30:00Z",
    }
    assert tuple(record) == record_json.TICKET_FIELDS
    with desk.store.read() as s:
        detail = record_json.ticket_detail(s, "INC0000001")
    history = ("comments", "audit", "sla", "escalations")
    assert {k: v for k, v in detail.items() if k not in history} == record
    # The small desk of these tests has no SLA policies: no clocks, nothing escalated.
    assert (detail["sla"], detail["escalations"]) == ([], [])


def test_a_page_of_records_is_one_query_for_its_names(desk: Desk) -> None:
    _spread(desk, 20)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(desk.store.engine, "before_cursor_execute", count)
    try:
        with desk.store.read() as s:
            records = ticket_lists.list_tickets(s, TicketFilter(), limit=20)
    finally:
        event.remove(desk.store.engine, "before_cursor_execute", count)
    assert len(records) == 20
    assert all(r["team"] for r in records)
    # One statement for the page's keys, one for the records with every name joined.
    assert len([st for st in statements if "tickets" in st]) == 2, statements


def test_ticket_detail_lists_comments_and_audit_oldest_first(desk: Desk) -> None:
    with desk.store.write() as s:
        alice = desk.actor(s, "alice")
        create_ticket(s, alice, type="incident", title="x", impact=3, urgency=3, now=NOW)
        for i in range(3):
            add_comment(s, alice, "INC0000001", f"note {i}", now=NOW + timedelta(minutes=i))
    with desk.store.read() as s:
        detail = record_json.ticket_detail(s, "INC0000001")
    assert [c["body"] for c in detail["comments"]] == ["note 0", "note 1", "note 2"]
    assert detail["comments"][2]["created_at"] == "2026-11-24T09:32:00Z"
    assert detail["audit"][0]["action"] == "create"
    assert [e["version"] for e in detail["audit"]] == [1, 2, 2, 3, 4]


def test_store_summary_counts_by_type_and_status(desk: Desk) -> None:
    _spread(desk, 20)
    with desk.store.read() as s:
        rows = _all_rows(s)
        summary = store_summary.store_summary(s)
    assert summary["tickets"] == 20
    assert summary["open"] == sum(t.is_open for t in rows)
    assert sum(summary["by_type"].values()) == sum(summary["by_status"].values()) == 20
    assert summary["by_type"]["incident"] == sum(t.type == "incident" for t in rows)
    assert sum(summary["open_by_priority"].values()) == summary["open"]
    assert (summary["agents"], summary["teams"], summary["services"]) == (6, 2, 2)


# ---------------------------------------------------------------------------
# Plans: every view reads an index range, on both databases


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain)
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if compiler.dialect.name == "sqlite" else "EXPLAIN "
    return prefix + compiler.process(element.statement, **kw)


def _bulk(store: Store, n: int = 4000) -> dict[str, int]:
    """`n` tickets inserted directly (a plan needs rows, not history); 10% open."""
    rng = random.Random(9)
    with store.write() as s:
        teams = [t.id for t in s.scalars(select(Team))]
        agents = [a.id for a in s.scalars(select(Agent))]
        rows = []
        for i in range(n):
            is_open = rng.random() < 0.1
            rows.append(
                {
                    "number": f"INC{i + 1:07d}",
                    "type": "incident",
                    "title": f"t{i}",
                    "description": "",
                    "status": rng.choice(["new", "assigned", "in_progress"])
                    if is_open
                    else "closed",
                    "is_open": is_open,
                    "impact": 2,
                    "urgency": 2,
                    "priority": rng.randint(1, 4),
                    "team_id": rng.choice(teams),
                    "assignee_id": rng.choice([None, *agents]),
                    "opened_at": NOW - timedelta(minutes=rng.randint(0, 500_000)),
                    "updated_at": NOW,
                    "version": 1,
                }
            )
        s.execute(insert(Ticket), rows)
        ids = {
            "team": teams[0],
            "agent": agents[0],
        }
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return ids


def _plan(store: Store, statement: Any, *, index_order: bool = False) -> list[str]:
    """The plan's lines. `index_order` asks PostgreSQL for its plan when sorting and
    full scans are priced out: on a few thousand test rows sorting the matches is
    cheapest, so this asks instead whether an index delivers the order at all, which
    is the plan a LIMIT over a million rows picks."""
    with store.read() as s:
        if index_order and not store.is_sqlite:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                s.execute(text(f"SET LOCAL {setting} = off"))
        rows = s.execute(Explain(statement)).all()
    if store.is_sqlite:
        return [row[-1] for row in rows]
    return [row[0] for row in rows]


VIEWS: dict[str, Callable[[dict[str, int]], TicketFilter]] = {
    "open queue": lambda ids: TicketFilter(open_only=True),
    "open P1": lambda ids: TicketFilter(open_only=True, priority=1),
    "team queue": lambda ids: TicketFilter(open_only=True, team_id=ids["team"]),
    "my tickets": lambda ids: TicketFilter(open_only=True, assignee_id=ids["agent"]),
    "unassigned": lambda ids: TicketFilter(open_only=True, unassigned=True),
    "all tickets": lambda ids: TicketFilter(),
    "one status": lambda ids: TicketFilter(statuses=("new",)),
    "open statuses": lambda ids: TicketFilter(statuses=("new", "assigned")),
}
# Views that read one index range and need no sort at all.
SINGLE_RANGE = {"open queue", "open P1", "team queue", "my tickets", "unassigned"}


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_reads_an_index_range(store: Store, view: str) -> None:
    from tests.factories import build_desk

    build_desk(store)
    ids = _bulk(store)
    f = VIEWS[view](ids)
    # The second page continues after a real ticket of the view, as a scrolling queue does.
    with store.read() as s:
        first = ticket_lists.list_tickets(s, f, limit=20)
        assert first, view
        after = ticket_lists.page_key(s, first[-1]["number"])
    for key in (None, after):
        plan = _plan(store, ticket_lists.page_statement(f, limit=50, after=key), index_order=True)
        shown = "\n".join(plan)
        if store.is_sqlite:
            ticket_steps = [line for line in plan if " tickets" in line]
            assert ticket_steps, shown
            # Every read of the tickets table goes through one of its indexes.
            assert all("USING" in line and "INDEX" in line for line in ticket_steps), shown
            if view in SINGLE_RANGE:
                assert "TEMP B-TREE" not in shown, shown
        else:
            assert "Seq Scan" not in shown, shown
            assert "Index" in shown, shown
            if view in SINGLE_RANGE:
                assert "Sort" not in shown, shown


def test_the_open_queue_uses_the_queue_index(store: Store) -> None:
    from tests.factories import build_desk

    build_desk(store)
    _bulk(store)
    shown = "\n".join(
        _plan(store, ticket_lists.page_statement(TicketFilter(open_only=True), limit=50))
    )
    assert "ix_tickets_queue" in shown, shown


def test_open_statuses_agree_with_the_workflows() -> None:
    # The status branches rely on is_open following from the status for every type.
    for flow in WORKFLOWS.values():
        for status in flow.statuses:
            assert ticket_filter.openness([status]) >= {flow.is_open(status)}


@pytest.mark.parametrize("descending", [False, True])
def test_open_queue_sorted_by_age_walks_an_index_without_sorting(
    store: Store, descending: bool
) -> None:
    """ix_tickets_open_age (migration 0003): the age sort of all open tickets needs no sort."""
    from tests.factories import build_desk

    build_desk(store)
    _bulk(store)
    query = queue_views.QueueQuery(
        filters=TicketFilter(open_only=True), sort="age", descending=descending
    )
    statement = queue_pages.queue_statement(query, now=NOW, limit=100, dialect=store.dialect)
    shown = "\n".join(_plan(store, statement, index_order=True))
    assert "ix_tickets_open_age" in shown, shown
    assert ("TEMP B-TREE" if store.is_sqlite else "Sort") not in shown, shown
