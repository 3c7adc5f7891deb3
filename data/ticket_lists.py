"""Filtered lists of tickets in queue order (`itsm list`): keyset pages and counts,
each one or a few index ranges (see ticket_filter), never a table loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from itsm_tui.data.models import Ticket
from itsm_tui.data.record_json import ticket_records
from itsm_tui.data.ticket_filter import TicketFilter, index_plan


@dataclass(frozen=True)
class PageKey:
    """Where a page of the queue ends: the sort key of its last ticket."""

    priority: int
    opened_at: datetime
    id: int


def _order() -> tuple[Any, ...]:
    return (Ticket.priority, Ticket.opened_at, Ticket.id)


def page_statement(
    filters: TicketFilter, *, limit: int, after: PageKey | None = None
) -> Select[Any]:
    """The ids (and sort keys) of one page: exposed so tests can EXPLAIN it."""
    plan = index_plan(filters)
    conditions = list(plan.shared)
    if after is not None:
        conditions.append(
            tuple_(Ticket.priority, Ticket.opened_at, Ticket.id)
            > tuple_(
                literal(after.priority, Ticket.priority.type),
                literal(after.opened_at, Ticket.opened_at.type),
                literal(after.id, Ticket.id.type),
            )
        )
    selects = [
        select(Ticket.id, Ticket.priority, Ticket.opened_at)
        .where(*branch, *conditions)
        .order_by(*_order())
        .limit(limit)
        for branch in plan.branches
    ]
    if len(selects) == 1:
        return selects[0]
    # Each branch is an ordered, limited index range; the merge sorts at most
    # limit × branches rows.
    merged = union_all(*(s.subquery().select() for s in selects)).subquery("page")
    return (
        select(merged.c.id, merged.c.priority, merged.c.opened_at)
        .order_by(merged.c.priority, merged.c.opened_at, merged.c.id)
        .limit(limit)
    )


def page_key(session: Session, number: str) -> PageKey:
    """The sort key of a ticket, to continue a list after it."""
    from itsm_tui.desk.records import get_ticket

    ticket = get_ticket(session, number)
    return PageKey(ticket.priority, ticket.opened_at, ticket.id)


def list_tickets(
    session: Session,
    filters: TicketFilter,
    *,
    limit: int = 50,
    after: PageKey | None = None,
) -> list[dict[str, Any]]:
    """One page of tickets in queue order (priority, opened_at, id), after `after`."""
    if limit <= 0:
        return []
    ids = [row.id for row in session.execute(page_statement(filters, limit=limit, after=after))]
    return ticket_records(session, ids)


def count_tickets(session: Session, filters: TicketFilter) -> int:
    """How many tickets the view holds (run it off the UI thread)."""
    plan = index_plan(filters)
    total = 0
    # Counting per branch keeps each count inside one index range, like the pages.
    for branch in plan.branches:
        stmt = select(func.count()).select_from(Ticket).where(*branch, *plan.shared)
        total += session.execute(stmt).scalar_one()
    return total
