"""A ticket's history in pages (both databases): every row once, newest first, a write
never split between pages, no page read whole; and the time zone an agent reads in."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data.history import history_page
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    BusinessCalendar,
    Comment,
    DeskSetting,
    Escalation,
)
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.desk.zones import agent_zone
from tests.factories import NOW, Desk, build_desk


def busy_ticket(desk: Desk) -> tuple[int, str]:
    """A ticket with 60 writes a minute apart: notes, re-assignments, status moves, and one
    instant at which 30 audit events landed (an import-sized write)."""
    with desk.store.write() as session:
        alice, bob = get_agent(session, "alice"), get_agent(session, "bob")
        ticket = d.create_ticket(
            session, alice, type="incident", title="Busy", impact=2, urgency=2, now=NOW
        )
        number = ticket.number
        for i in range(1, 61):
            at = NOW + timedelta(minutes=i)
            if i % 3 == 0:
                d.add_comment(session, bob, number, f"note {i}", kind="work_note", now=at)
            elif i % 3 == 1:
                d.assign_ticket(
                    session, alice, number, assignee="bob" if i % 2 else "alice", now=at
                )
            else:
                d.add_comment(session, alice, number, f"reply {i}", kind="reply", now=at)
        burst_at = NOW + timedelta(minutes=30, seconds=30)
        ticket = get_ticket(session, number)
        session.add_all(
            AuditEvent(
                at=burst_at,
                actor_id=alice.id,
                record_type="ticket",
                record_id=ticket.id,
                record_number=number,
                action="update",
                field=f"x{i}",
                old_value=None,
                new_value=str(i),
                record_version=999,
            )
            for i in range(30)
        )
        session.add(
            Escalation(
                ticket_id=ticket.id,
                kind="breach",
                level=1,
                at=NOW + timedelta(minutes=45, seconds=10),
                rule="P2 breach",
                reason="late",
                actions=["notify_supervisor"],
            )
        )
        return ticket.id, number


def test_pages_cover_the_history_once_newest_first_without_splitting_an_instant(desk: Desk) -> None:
    ticket_id, _number = busy_ticket(desk)
    seen_audit: list[int] = []
    seen_comments: list[int] = []
    seen_escalations: list[int] = []
    windows = []
    with desk.store.read() as session:
        before = None
        for _page_no in range(100):
            page = history_page(session, ticket_id, before=before, size=10)
            times = [r.at for r in (*page.audit, *page.comments, *page.escalations)]
            assert times, "a page before the end is never empty"
            windows.append((min(times), max(times)))
            # Bounded: the size-th newest row of any source bounds the window, so a page
            # holds at most size rows per source, plus what shares the boundary instant.
            assert len(page.comments) <= 10 and len(page.escalations) <= 10
            assert len(page.audit) <= 10 + 30
            seen_audit += [r.id for r in page.audit]
            seen_comments += [r.id for r in page.comments]
            seen_escalations += [r.id for r in page.escalations]
            if page.older_than is None:
                break
            assert page.older_than == min(times)
            before = page.older_than
        total_audit = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.record_type == "ticket", AuditEvent.record_id == ticket_id)
        )
        total_comments = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.ticket_id == ticket_id)
        )
    assert len(windows) > 3
    assert sorted(seen_audit) == sorted(set(seen_audit)) and len(seen_audit) == total_audit
    assert len(seen_comments) == len(set(seen_comments)) == total_comments == 40
    assert len(seen_escalations) == 1
    # Newest first, and no instant on two pages.
    for (_older_low, older_high), (newer_low, _h) in zip(windows[1:], windows, strict=False):
        assert older_high < newer_low


def test_a_ticket_without_history_beyond_one_page_says_nothing_is_older(desk: Desk) -> None:
    with desk.store.write() as session:
        ticket = d.create_ticket(
            session,
            get_agent(session, "alice"),
            type="incident",
            title="Quiet",
            impact=3,
            urgency=3,
            now=NOW,
        )
        ticket_id = ticket.id
    with desk.store.read() as session:
        page = history_page(session, ticket_id, size=10)
    assert page.older_than is None and len(page.audit) == 1 and page.audit[0].action == "create"


def test_an_agent_reads_times_in_their_zone_else_the_main_calendars(desk: Desk) -> None:
    with desk.store.write() as session:
        assert agent_zone(session, get_agent(session, "alice")) is UTC  # the desk says nothing
        session.add(
            BusinessCalendar(name="office", timezone="Asia/Shanghai", hours={}, holidays=[])
        )
        session.merge(
            DeskSetting(
                key="desk",
                value={"name": "D", "timezone": "Europe/Berlin", "default_calendar": "office"},
            )
        )
    with desk.store.write() as session:
        assert agent_zone(session, get_agent(session, "alice")) == ZoneInfo("Asia/Shanghai")
        assert agent_zone(session, None) == ZoneInfo("Asia/Shanghai")
        session.execute(
            Agent.__table__.update()
            .where(Agent.username == "bob")
            .values(timezone="America/New_York")
        )
    with desk.store.write() as session:
        assert agent_zone(session, get_agent(session, "bob")) == ZoneInfo("America/New_York")
        # A desk without a main calendar: its own timezone key.
        session.merge(DeskSetting(key="desk", value={"name": "D", "timezone": "Europe/Berlin"}))
    with desk.store.read() as session:
        assert agent_zone(session, get_agent(session, "alice")) == ZoneInfo("Europe/Berlin")


def test_a_page_reads_index_ranges_without_sorting_the_history(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    """However long a ticket's history, a page walks indexes in time order (SQLite plans;
    before ix_audit_record held the time, a page sorted every event of the ticket)."""
    from sqlalchemy import event

    desk = build_desk(sqlite_store)
    ticket_id, _number = busy_ticket(desk)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(sqlite_store.engine, "before_cursor_execute", capture)
    try:
        with sqlite_store.read() as session:
            history_page(session, ticket_id, before=NOW + timedelta(minutes=40), size=10)
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", capture)
    assert len(statements) >= 6
    with sqlite_store.read() as session:
        for statement, params in statements:
            plan = " ".join(
                str(row[3])
                for row in session.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, params
                )
            )
            assert "TEMP B-TREE" not in plan, (statement, plan)
            assert "SCAN audit_events" not in plan and "SCAN comments" not in plan, plan
