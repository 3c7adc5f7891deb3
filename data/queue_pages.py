"""The console's queue reads: keyset pages in any sort, counts, positions and the drawn
rows with their SLA column. What a view selects is queue_views'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from itsm_tui.data import sla_standing
from itsm_tui.data.models import Agent, Service, SlaClock, Team, Ticket
from itsm_tui.data.queue_views import (
    QueueKey,
    QueueQuery,
    before_key,
    key_literals,
    search_scans_view,
    sort_exprs,
    view_conditions,
)

# The assignee's agent row, under the alias name record_json's reads use too.
_Assignee = aliased(Agent, name="assignee_agent")


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, ready to draw; `key` continues a keyset page after it."""

    id: int
    number: str
    type: str
    priority: int
    status: str
    title: str
    service: str | None
    team: str | None
    assignee: str | None
    opened_at: datetime
    version: int
    key: QueueKey
    # Time to the nearest counting clock's due instant (negative once late); None: no clock.
    sla_left: timedelta | None = None
    # "running" | "warned" | "breached" | "paused" | None (no clock that counts).
    sla_state: str | None = None


def queue_statement(
    query: QueueQuery,
    *,
    now: datetime,
    limit: int,
    after: QueueKey | None = None,
    before: QueueKey | None = None,
    inclusive: bool = False,
    offset: int = 0,
    from_end: bool = False,
    dialect: str = "sqlite",
    scan_view: bool = False,
) -> Select[Any]:
    """Ids and sort keys of one page of the view, in the view's order.

    `after` / `before` are keysets (the page after / before that key; `inclusive` keeps
    the key's own row); `from_end` reads the last rows; `offset` skips rows (only for
    jumps far from anything cached). `before` and `from_end` come back reversed: the
    caller reverses them (`queue_page` does). `scan_view`: see `text_match`.
    """
    plan, extra = view_conditions(query, now, dialect, scan_view=scan_view)
    exprs, reversed_column = sort_exprs(query.sort)
    exprs = [*exprs, Ticket.id]
    descending = query.descending != reversed_column
    # Reading backwards (before a key, or the end) flips the direction of the scan.
    backwards = before is not None or from_end
    scan_desc = descending != backwards
    conditions = list(extra)
    key = before if before is not None else after
    if key is not None:
        row = tuple_(*exprs)
        bound = key_literals(exprs, key)
        if scan_desc:
            conditions.append(row <= bound if inclusive else row < bound)
        else:
            conditions.append(row >= bound if inclusive else row > bound)
    order = [e.desc() if scan_desc else e.asc() for e in exprs]
    labels = [f"k{i}" for i in range(len(exprs))]
    time_ranged = any(
        t is not None
        for t in (
            query.resolved_since,
            query.resolved_until,
            query.opened_since,
            query.opened_until,
        )
    )
    if time_ranged and len(plan.branches) == 1:
        # Recently resolved, or the filter line's resolved:/opened: days: a range of
        # ix_tickets_resolved_at (ix_tickets_opened_at), then sorted. Left to
        # themselves both planners walk the sort column's index and filter resolved_at,
        # which reads most of the table for the last page (or on a quiet day); a
        # materialized CTE makes them read the range first.
        resolved = (
            select(
                Ticket.id.label("tid"), *(e.label(n) for e, n in zip(exprs, labels, strict=True))
            )
            .where(*plan.branches[0], *conditions)
            .cte("resolved")
            .prefix_with("MATERIALIZED")
        )
        cols = [resolved.c[n] for n in labels]
        stmt = select(resolved.c.tid, *cols).order_by(
            *[c.desc() if scan_desc else c.asc() for c in cols]
        )
        return stmt.offset(offset).limit(limit) if offset else stmt.limit(limit)
    branch_limit = limit + offset
    selects = [
        select(Ticket.id.label("tid"), *(e.label(n) for e, n in zip(exprs, labels, strict=True)))
        .where(*branch, *conditions)
        .order_by(*order)
        .limit(branch_limit)
        for branch in plan.branches
    ]
    if len(selects) == 1:
        return selects[0].limit(limit).offset(offset) if offset else selects[0]
    # As in page_statement: one ordered, limited index range per branch, merged. A deep
    # offset reads offset + limit rows of each branch (fine on SQLite, slow on PostgreSQL
    # at hundreds of thousands: the table only uses it for a scrollbar jump).
    merged = union_all(*(s.subquery().select() for s in selects)).subquery("page")
    cols = [merged.c[n] for n in labels]
    return (
        select(merged.c.tid, *cols)
        .order_by(*[c.desc() if scan_desc else c.asc() for c in cols])
        .offset(offset)
        .limit(limit)
    )


def queue_rows(
    session: Session, ids_and_keys: Sequence[tuple[int, QueueKey]], now: datetime
) -> list[QueueRow]:
    """The drawn lines of these tickets (names and SLA clocks joined for this page only)."""
    if not ids_and_keys:
        return []
    ids = [i for i, _k in ids_and_keys]
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.priority,
            Ticket.status,
            Ticket.title,
            Ticket.opened_at,
            Ticket.version,
            Ticket.type,
            Service.name,
            Team.name,
            _Assignee.username,
        )
        .outerjoin(Service, Service.id == Ticket.service_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assignee_id)
        .where(Ticket.id.in_(ids))
    ).all()
    clocks: dict[int, list[Any]] = {}
    # Plain rows, not ORM objects: only what the SLA cell needs, for the whole page at once.
    for clock in session.execute(
        select(
            SlaClock.ticket_id,
            SlaClock.state,
            SlaClock.due_at,
            SlaClock.stopped_at,
            SlaClock.fired_percent,
            SlaClock.next_event_at,
        ).where(SlaClock.ticket_id.in_(ids), SlaClock.stopped_at.is_(None))
    ):
        clocks.setdefault(clock.ticket_id, []).append(clock)
    by_id = {r[0]: r for r in rows}
    out: list[QueueRow] = []
    for ticket_id, key in ids_and_keys:
        r = by_id.get(ticket_id)
        if r is None:
            continue
        left, state = sla_standing.ticket_standing(clocks.get(ticket_id, []), now)
        out.append(
            QueueRow(
                id=r[0],
                number=r[1],
                priority=r[2],
                status=r[3],
                title=r[4],
                opened_at=r[5],
                version=r[6],
                type=r[7],
                service=r[8],
                team=r[9],
                assignee=r[10],
                key=tuple(key),
                sla_left=left,
                sla_state=state,
            )
        )
    return out


def queue_page(
    session: Session,
    query: QueueQuery,
    *,
    now: datetime,
    limit: int,
    after: QueueKey | None = None,
    before: QueueKey | None = None,
    inclusive: bool = False,
    offset: int = 0,
    from_end: bool = False,
) -> list[QueueRow]:
    """One page of the view in its order, each row with its keyset key (see queue_statement)."""
    if limit <= 0:
        return []
    stmt = queue_statement(
        query,
        now=now,
        limit=limit,
        after=after,
        before=before,
        inclusive=inclusive,
        offset=offset,
        from_end=from_end,
        dialect=session.get_bind().dialect.name,
        scan_view=search_scans_view(session, query),
    )
    found = [(row[0], tuple(row[1:])) for row in session.execute(stmt)]
    if before is not None or from_end:
        found.reverse()
    return queue_rows(session, found, now)


def count_queue(session: Session, query: QueueQuery, *, now: datetime) -> int:
    """How many tickets the view holds (one count per index range, like the pages)."""
    return queue_position(session, query, None, now=now)


def queue_position(
    session: Session, query: QueueQuery, key: QueueKey | None, *, now: datetime
) -> int:
    """How many rows of the view come before `key` (all of them when `key` is None):
    the row index of a ticket, so a refresh can put the cursor back on it."""
    plan, extra = view_conditions(
        query, now, session.get_bind().dialect.name, scan_view=search_scans_view(session, query)
    )
    conditions = list(extra)
    if key is not None:
        conditions.append(before_key(query, key))
    total = 0
    for branch in plan.branches:
        stmt = select(func.count()).select_from(Ticket).where(*branch, *conditions)
        total += session.execute(stmt).scalar_one()
    return total


def count_and_position(
    session: Session, query: QueueQuery, key: QueueKey, *, now: datetime
) -> tuple[int, int]:
    """The view's count and how many of its rows come before `key`, in one pass over
    each index range (what `count_queue` and `queue_position` read in two)."""
    plan, extra = view_conditions(
        query, now, session.get_bind().dialect.name, scan_view=search_scans_view(session, query)
    )
    before = before_key(query, key)
    total = position = 0
    for branch in plan.branches:
        stmt = (
            select(func.count(), func.count(case((before, 1))))
            .select_from(Ticket)
            .where(*branch, *extra)
        )
        n, p = session.execute(stmt).one()
        total += n
        position += p
    return total, position


def queue_key_of(
    session: Session, query: QueueQuery, ticket_id: int, *, now: datetime
) -> QueueKey | None:
    """The ticket's current sort key in this view's order, or None once it left the view."""
    plan, extra = view_conditions(query, now, session.get_bind().dialect.name)
    exprs, _reversed = sort_exprs(query.sort)
    for branch in plan.branches:
        row = session.execute(
            select(*exprs, Ticket.id).where(Ticket.id == ticket_id, *branch, *extra)
        ).first()
        if row is not None:
            return tuple(row)
    return None
