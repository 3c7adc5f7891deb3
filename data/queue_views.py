"""What one view of the console's queue selects and in which order: `QueueQuery`, its
sorts, its conditions (filter, `/` search, SLA selections) and its keyset keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import replacement_traverse

from itsm_tui.data import sla_standing
from itsm_tui.data.models import Agent, Service, Team, Ticket
from itsm_tui.data.ticket_filter import IndexPlan, TicketFilter, index_plan

# Columns the queue can sort by. "priority" is the queue order (priority, opened_at, id)
# and reads the queue indexes; "number" reads the unique index on number; the others
# sort the view's matching rows (fine for open views, a full sort on "all tickets").
QUEUE_SORTS = ("priority", "number", "sla", "status", "title", "service", "team", "assignee", "age")

# The queue's SLA selections: the two saved views' ("soon", "breached") and the `sla:`
# filter's standings; each is a definition of data/sla_standing.py.
SLA_SELECTIONS = ("soon", *sla_standing.STANDINGS)


def text_match(text: str, dialect: str, *, scan_view: bool = False) -> ColumnElement[bool]:
    """The one place the queue's `/` search becomes SQL: full-text on both databases.

    `scan_view` (SQLite only): write the match as `+tickets.id IN (…)`, which stops
    SQLite from driving the query by rowid lookups of every match; it reads the view's
    own index range in the view's order instead and probes the (materialised) match
    list, so a page stops after `limit` hits and a count reads only the covering index.
    Better when a word matches many tickets (see `search_scans_view`).
    """
    from itsm_tui.data.search import parse_query, search_clause

    clause = search_clause(dialect, parse_query(text))
    if not (scan_view and dialect == "sqlite"):
        return clause
    plus_id = literal_column(f"+{Ticket.__tablename__}.id", Integer)

    def unindexed(element: Any, **_kw: Any) -> Any:
        if getattr(element, "table", None) is Ticket.__table__ and element.name == "id":
            return plus_id
        return None

    return replacement_traverse(clause, {}, unindexed)


# Matches at which a search reads the view's index instead of looking every match up.
SCAN_VIEW_MATCHES = 2000
_scan_view_cache: dict[tuple[int, str], bool] = {}


def search_scans_view(session: Session, query: QueueQuery) -> bool:
    """Whether a search should read the view's index range (many matches) rather than
    look each match up by rowid (few matches): one capped probe, remembered per text."""
    dialect = session.get_bind().dialect.name
    if not query.text or dialect != "sqlite":
        return False
    cache_key = (id(session.get_bind()), query.text)
    found = _scan_view_cache.get(cache_key)
    if found is None:
        probe = select(Ticket.id).where(text_match(query.text, dialect)).limit(SCAN_VIEW_MATCHES)
        matches = session.execute(select(func.count()).select_from(probe.subquery())).scalar_one()
        found = matches >= SCAN_VIEW_MATCHES
        if len(_scan_view_cache) > 256:
            _scan_view_cache.clear()
        _scan_view_cache[cache_key] = found
    return found


@dataclass(frozen=True)
class QueueQuery:
    """One view of the queue: a `TicketFilter` plus what only the console asks for."""

    filters: TicketFilter = field(default_factory=TicketFilter)
    sort: str = "priority"
    descending: bool = False
    text: str | None = None
    service_id: int | None = None
    # "soon": the nearest clock falls due within `soon_within` of now; or a standing of
    # sla_standing.STANDINGS (breached, warned, running, paused).
    sla: str | None = None
    soon_within: timedelta = timedelta(hours=2)
    # Tickets resolved at or after this instant (and before `resolved_until`), and opened
    # in [opened_since, opened_until): the filter line's `resolved:` and `opened:` days.
    resolved_since: datetime | None = None
    resolved_until: datetime | None = None
    opened_since: datetime | None = None
    opened_until: datetime | None = None
    # The filter line's `sla:` term, stacked on the view: tickets standing there
    # (sla_standing.STANDINGS), e.g. Breaching soon with sla:warned.
    sla_state: str | None = None

    def __post_init__(self) -> None:
        if self.sort not in QUEUE_SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")
        if self.sla is not None and self.sla not in SLA_SELECTIONS:
            raise ValueError(f"unknown SLA filter {self.sla!r}")
        if self.sla_state not in (None, *sla_standing.STANDINGS):
            raise ValueError(f"unknown SLA state {self.sla_state!r}")


QueueKey = tuple[Any, ...]


def _name_of(model: Any, column: Any, ticket_column: Any) -> Any:
    # Outside the subquery: no row (no team, no assignee) must sort as "" too.
    return func.coalesce(select(column).where(model.id == ticket_column).scalar_subquery(), "")


def sort_exprs(sort: str) -> tuple[list[Any], bool]:
    """The sort expressions (without id) and whether the column reads reversed.

    Age ascending means youngest first, i.e. opened_at descending.
    """
    if sort == "priority":
        return [Ticket.priority, Ticket.opened_at], False
    if sort == "number":
        return [Ticket.number], False
    if sort == "age":
        return [Ticket.opened_at], True
    if sort == "status":
        return [Ticket.status], False
    if sort == "title":
        return [Ticket.title], False
    if sort == "service":
        return [_name_of(Service, Service.name, Ticket.service_id)], False
    if sort == "team":
        return [_name_of(Team, Team.name, Ticket.team_id)], False
    if sort == "assignee":
        return [_name_of(Agent, Agent.username, Ticket.assignee_id)], False
    # sla: the nearest due instant of a counting clock, stored on the ticket by the write
    # path (itsm_tui.desk.sla.refresh_sla_due); SLA_DUE_NEVER when no clock counts. All open
    # tickets in this order are a walk of ix_tickets_open_sla.
    return [Ticket.sla_due_at], False


def key_literals(exprs: Sequence[Any], key: QueueKey) -> Any:
    values = []
    for expr, value in zip(exprs, key, strict=True):
        values.append(literal(value, getattr(expr, "type", None)))
    return tuple_(*values)


def view_conditions(
    query: QueueQuery, now: datetime, dialect: str, *, scan_view: bool = False
) -> tuple[IndexPlan, list[Any]]:
    plan = index_plan(query.filters)
    resolved = _time_range(Ticket.resolved_at, query.resolved_since, query.resolved_until)
    opened = _time_range(Ticket.opened_at, query.opened_since, query.opened_until)
    # One branch on the range of ix_tickets_resolved_at (or ix_tickets_opened_at): the
    # plan's own branches (is_open, team, assignee…) become a filter on it.
    chosen_range = resolved or opened
    if chosen_range:
        f = query.filters
        split_on_open = f.unassigned or f.assignee_id is not None or f.team_id is not None
        if len(plan.branches) == 2 and (split_on_open or not f.statuses):
            # Both is_open values (see index_plan): an OR over them would make SQLite read
            # ix_tickets_queue whole, so keep only the leading equalities.
            kept = plan.branches[0][:-1]
        else:
            kept = [or_(*(and_(*b) for b in plan.branches))]
        plan = IndexPlan(
            branches=[chosen_range],
            shared=[*plan.shared, *kept, *(opened if resolved else [])],
        )
    extra: list[Any] = list(plan.shared)
    if query.service_id is not None:
        extra.append(Ticket.service_id == query.service_id)
    if query.text:
        extra.append(text_match(query.text, dialect, scan_view=scan_view))
    if query.sla == "soon":
        # A range of ix_tickets_open_sla: disjoint from "breached" by construction.
        extra.append(sla_standing.breaching_within(now, query.soon_within))
    elif query.sla is not None:
        extra.append(sla_standing.standing_is(query.sla, now))
    if query.sla_state is not None:
        extra.append(sla_filter(query.sla_state, now, dialect))
    return plan, extra


def _time_range(
    column: Any, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def sla_filter(standing: str, now: datetime, dialect: str) -> ColumnElement[bool]:
    """The filter line's `sla:` term: the standing's one definition (`sla_standing`), read
    along the view's own ordered index on SQLite (`+tickets.sla_due_at`, as in text_match),
    which would otherwise read the ix_tickets_open_sla range of every ticket standing there
    and sort it for a page. PostgreSQL's statistics choose the view's index already."""
    condition = sla_standing.standing_is(standing, now)
    if dialect != "sqlite":
        return condition
    plus_key = literal_column(f"+{Ticket.__tablename__}.sla_due_at", Ticket.sla_due_at.type)

    def unindexed(element: Any, **_kw: Any) -> Any:
        if getattr(element, "table", None) is Ticket.__table__ and element.name == "sla_due_at":
            return plus_key
        return None

    return replacement_traverse(condition, {}, unindexed)


def before_key(query: QueueQuery, key: QueueKey) -> ColumnElement[bool]:
    """The view's rows that come before `key` in its order."""
    exprs, reversed_column = sort_exprs(query.sort)
    exprs = [*exprs, Ticket.id]
    row = tuple_(*exprs)
    bound = key_literals(exprs, key)
    descending = query.descending != reversed_column
    return row > bound if descending else row < bound
