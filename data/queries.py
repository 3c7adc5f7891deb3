"""Read-side queries: the JSON shape of a ticket, filtered keyset pages, counts, summaries.

Every list here is one or a few index ranges, never a table loaded into Python.
The queue's order is (priority, opened_at, id); each page query reads it from an
index whose leading columns are pinned by equalities (`is_open`, `team_id`,
`assignee_id` or `status`). Where a view spans several values of that leading
column (all tickets: open and not open; several statuses), the page is the merge
of one ordered, limited index range per value (UNION ALL), because PostgreSQL
sorts every matching row for `col IN (…) ORDER BY …` (see PERF-NOTES).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.visitors import replacement_traverse

from itsm_tui.data import sla_standing
from itsm_tui.data.models import (
    SLA_DUE_NEVER,
    Agent,
    AuditEvent,
    CatalogueItem,
    Change,
    Comment,
    DeskSetting,
    Escalation,
    Requester,
    Service,
    SlaClock,
    Team,
    Ticket,
)
from itsm_tui.domain.priority import priority_label
from itsm_tui.domain.workflow import WORKFLOWS

# Keys of a ticket's JSON object, in the order they are printed (and the CSV columns).
TICKET_FIELDS = (
    "number",
    "type",
    "title",
    "description",
    "status",
    "priority",
    "impact",
    "urgency",
    "category",
    "service",
    "team",
    "assignee",
    "requester",
    "catalogue_item",
    "form_data",
    "opened_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "resolution_code",
    "resolution_notes",
    "reopen_count",
    "escalation_level",
    "is_open",
    "priority_overridden",
    "is_major",
    "parent",
    "problem",
    "change",
    "root_cause",
    "workaround",
    "known_error",
    "version",
)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, e.g. 2026-11-24T09:30:00Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------
# One ticket as a JSON object

_Assignee = aliased(Agent, name="assignee_agent")
_Parent = aliased(Ticket, name="parent_ticket")
_Problem = aliased(Ticket, name="problem_ticket")


def _record_query() -> Select[Any]:
    """Tickets with the names of everything they point at, in one statement."""
    return (
        select(
            Ticket,
            Service.name,
            Team.name,
            _Assignee.username,
            Requester.email,
            CatalogueItem.code,
            _Parent.number,
            _Problem.number,
            Change.number,
        )
        .outerjoin(Service, Service.id == Ticket.service_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assignee_id)
        .outerjoin(Requester, Requester.id == Ticket.requester_id)
        .outerjoin(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
        .outerjoin(_Parent, _Parent.id == Ticket.parent_id)
        .outerjoin(_Problem, _Problem.id == Ticket.problem_id)
        .outerjoin(Change, Change.id == Ticket.change_id)
    )


def _as_record(row: Any) -> dict[str, Any]:
    t, service, team, assignee, requester, item, parent, problem, change = row
    return {
        "number": t.number,
        "type": t.type,
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": priority_label(t.priority),
        "impact": t.impact,
        "urgency": t.urgency,
        "category": t.category,
        "service": service,
        "team": team,
        "assignee": assignee,
        "requester": requester,
        "catalogue_item": item,
        "form_data": t.form_data,
        "opened_at": iso(t.opened_at),
        "updated_at": iso(t.updated_at),
        "first_response_at": iso(t.first_response_at),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "resolution_code": t.resolution_code,
        "resolution_notes": t.resolution_notes,
        "reopen_count": t.reopen_count,
        "escalation_level": t.escalation_level,
        "is_open": t.is_open,
        "priority_overridden": t.priority_overridden,
        "is_major": t.is_major,
        "parent": parent,
        "problem": problem,
        "change": change,
        "root_cause": t.root_cause,
        "workaround": t.workaround,
        "known_error": t.known_error,
        "version": t.version,
    }


def ticket_records(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The JSON objects of these tickets, in the order of `ids` (one query)."""
    if not ids:
        return []
    # populate_existing: a ticket written earlier in this transaction reads as stored now.
    rows = session.execute(
        _record_query().where(Ticket.id.in_(list(ids))).execution_options(populate_existing=True)
    ).all()
    by_id = {row[0].id: _as_record(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def ticket_record(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The JSON object of one ticket (after a write: what the transaction will commit)."""
    session.flush()
    return ticket_records(session, [ticket.id])[0]


def ticket_detail(session: Session, number: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The ticket's object plus its SLA clocks (as of `now`), escalations, comments and
    audit trail, oldest first."""
    from itsm_tui.desk import sla
    from itsm_tui.desk.records import get_ticket, utcnow

    ticket = get_ticket(session, number)
    record = ticket_record(session, ticket)
    comments = session.execute(
        select(Comment, Agent.username)
        .outerjoin(Agent, Agent.id == Comment.author_id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    record["comments"] = [
        {
            "kind": c.kind,
            "author": username or c.author_name,
            "body": c.body,
            "created_at": iso(c.created_at),
        }
        for c, username in comments
    ]
    impersonator = aliased(Agent)
    events = session.execute(
        select(AuditEvent, Agent.username, impersonator.username)
        .outerjoin(Agent, Agent.id == AuditEvent.actor_id)
        .outerjoin(impersonator, impersonator.id == AuditEvent.impersonator_id)
        .where(AuditEvent.record_type == "ticket", AuditEvent.record_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()
    record["audit"] = [
        {
            "at": iso(e.at),
            "actor": username,
            # The administrator who acted as `actor` (itsm --as), or null.
            "impersonator": admin,
            "action": e.action,
            "field": e.field,
            "old": e.old_value,
            "new": e.new_value,
            "reason": e.reason,
            "version": e.record_version,
        }
        for e, username, admin in events
    ]
    at = now or utcnow()
    clocks = session.scalars(
        select(SlaClock)
        .where(SlaClock.ticket_id == ticket.id)
        .order_by(SlaClock.kind.desc())  # response first
    ).all()
    record["sla"] = [
        {k: iso(v) if isinstance(v, datetime) else v for k, v in sla.clock_view(c, at).items()}
        for c in clocks
    ]
    escalations = session.scalars(
        select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.id)
    ).all()
    clock_kind = {c.id: c.kind for c in clocks}
    record["escalations"] = [
        {
            "level": e.level,
            "kind": e.kind,
            "clock": clock_kind.get(e.clock_id),
            "at": iso(e.at),
            "rule": e.rule,
            "reason": e.reason,
            "actions": list(e.actions),
        }
        for e in escalations
    ]
    return record


def breaching_soon(
    session: Session, now: datetime, within: timedelta, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Open tickets whose nearest clock falls due after now and by now + within, soonest
    first: the Breaching soon view's tickets (`sla_standing.breaching_within`, one range
    of ix_tickets_open_sla); an overdue ticket is breached, not breaching."""
    nearest = SlaClock.__table__.alias("nearest")
    rows = session.execute(
        select(
            nearest.c.kind,
            Ticket.sla_due_at.label("due_at"),
            Ticket.number,
            Ticket.title,
            Ticket.priority,
            Ticket.status,
            Team.name.label("team"),
            Agent.username.label("assignee"),
        )
        .join(
            nearest,
            and_(
                nearest.c.ticket_id == Ticket.id,
                nearest.c.due_at == Ticket.sla_due_at,
                nearest.c.state.in_(sla_standing.COUNTING),
                nearest.c.stopped_at.is_(None),
            ),
        )
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(Ticket.is_open.is_(True), sla_standing.breaching_within(now, within))
        .order_by(Ticket.sla_due_at, Ticket.id, nearest.c.kind.desc())
        .limit(limit)
    ).all()
    out: list[dict[str, Any]] = []
    for r in rows:
        if out and out[-1]["number"] == r.number:
            continue  # both clocks due at the same instant: the ticket once (response first)
        out.append(
            {
                "number": r.number,
                "kind": r.kind,
                "due_at": iso(r.due_at),
                # Wall-clock time to the due instant.
                "due_in_minutes": round((r.due_at - now).total_seconds() / 60, 1),
                "priority": priority_label(r.priority),
                "status": r.status,
                "team": r.team,
                "assignee": r.assignee,
                "title": r.title,
            }
        )
    return out


def change_record(session: Session, change: Change) -> dict[str, Any]:
    """The JSON object of a change request."""
    session.flush()
    team = session.get(Team, change.team_id) if change.team_id else None
    owner = session.get(Agent, change.owner_id) if change.owner_id else None
    problem = session.get(Ticket, change.problem_id) if change.problem_id else None
    return {
        "number": change.number,
        "title": change.title,
        "description": change.description,
        "change_type": change.change_type,
        "category": change.category,
        "status": change.status,
        "risk": change.risk,
        "impact": change.impact,
        "services": list(change.services or []),
        "team": team.name if team else None,
        "owner": owner.username if owner else None,
        "problem": problem.number if problem else None,
        "planned_start": iso(change.planned_start),
        "planned_end": iso(change.planned_end),
        "implementation_plan": change.implementation_plan,
        "backout_plan": change.backout_plan,
        "test_plan": change.test_plan,
        "opened_at": iso(change.opened_at),
        "updated_at": iso(change.updated_at),
        "closed_at": iso(change.closed_at),
        "is_open": change.is_open,
        "version": change.version,
    }


# ---------------------------------------------------------------------------
# Lists


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets a view shows. Names are resolved to ids by the caller.

    `statuses` empty means any status; `open_only` keeps tickets still being worked.
    `unassigned` and `assignee_id` exclude each other.
    """

    statuses: tuple[str, ...] = ()
    priority: int | None = None
    type: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    open_only: bool = False

    def __post_init__(self) -> None:
        if self.unassigned and self.assignee_id is not None:
            raise ValueError("a view is either unassigned or of one assignee, not both")


@dataclass(frozen=True)
class PageKey:
    """Where a page of the queue ends: the sort key of its last ticket."""

    priority: int
    opened_at: datetime
    id: int


@dataclass
class _Plan:
    """The index range(s) a filter reads: one branch per value of the leading column."""

    branches: list[list[ColumnElement[bool]]] = field(default_factory=list)
    shared: list[ColumnElement[bool]] = field(default_factory=list)


def _openness(statuses: Sequence[str]) -> set[bool]:
    """Which values of is_open tickets in these statuses can have (statuses are shared by types)."""
    values: set[bool] = set()
    for status in statuses:
        for flow in WORKFLOWS.values():
            if status in flow.statuses:
                values.add(flow.is_open(status))
    return values


def _plan(filters: TicketFilter) -> _Plan:
    plan = _Plan()
    open_values = {True} if filters.open_only else {True, False}
    if filters.statuses:
        open_values &= _openness(filters.statuses)
    if not open_values:
        # No ticket can match (e.g. --open with only final statuses, or unknown statuses).
        plan.branches = [[false()]]
        return plan

    if filters.priority is not None:
        plan.shared.append(Ticket.priority == filters.priority)
    if filters.type is not None:
        plan.shared.append(Ticket.type == filters.type)

    # The leading equality chooses the index: assignee, team, status or the whole queue.
    leading: list[ColumnElement[bool]] = []
    if filters.unassigned:
        leading.append(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        leading.append(Ticket.assignee_id == filters.assignee_id)
    if filters.team_id is not None:
        if leading:
            plan.shared.append(Ticket.team_id == filters.team_id)
        else:
            leading.append(Ticket.team_id == filters.team_id)

    if leading or not filters.statuses:
        # ix_tickets_queue / ix_tickets_team_queue / ix_tickets_assignee_queue:
        # (leading…, is_open, priority, opened_at, id), one branch per is_open value.
        if filters.statuses:
            plan.shared.append(Ticket.status.in_(filters.statuses))
        plan.branches = [
            [*leading, Ticket.is_open == value] for value in sorted(open_values, reverse=True)
        ]
    else:
        # ix_tickets_status (status, priority, opened_at): one branch per status.
        if len(open_values) == 1:
            plan.shared.append(Ticket.is_open == next(iter(open_values)))
        plan.branches = [[Ticket.status == status] for status in dict.fromkeys(filters.statuses)]
    return plan


def _order() -> tuple[Any, ...]:
    return (Ticket.priority, Ticket.opened_at, Ticket.id)


def page_statement(
    filters: TicketFilter, *, limit: int, after: PageKey | None = None
) -> Select[Any]:
    """The ids (and sort keys) of one page: exposed so tests can EXPLAIN it."""
    plan = _plan(filters)
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
    plan = _plan(filters)
    total = 0
    # Counting per branch keeps each count inside one index range, like the pages.
    for branch in plan.branches:
        stmt = select(func.count()).select_from(Ticket).where(*branch, *plan.shared)
        total += session.execute(stmt).scalar_one()
    return total


# ---------------------------------------------------------------------------
# The whole store at a glance


def desk_name(session: Session) -> str | None:
    """The desk's name from the [desk] table of its configuration, if it has one."""
    row = session.get(DeskSetting, "desk")
    if row is not None and isinstance(row.value, dict) and isinstance(row.value.get("name"), str):
        return row.value["name"]
    return None


def store_summary(session: Session) -> dict[str, Any]:
    """Counts by type and status, open tickets by priority, and the desk's size."""
    by_type_status = session.execute(
        select(Ticket.type, Ticket.status, func.count()).group_by(Ticket.type, Ticket.status)
    ).all()
    by_type: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for kind, status, n in by_type_status:
        by_type[kind] = by_type.get(kind, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    open_by_priority = {
        priority_label(p): n
        for p, n in session.execute(
            select(Ticket.priority, func.count())
            .where(Ticket.is_open == True)  # noqa: E712 — `= true` is what the index can use
            .group_by(Ticket.priority)
            .order_by(Ticket.priority)
        ).all()
    }

    def count(model: type[Any]) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    return {
        "desk": desk_name(session),
        "tickets": sum(by_type.values()),
        "open": sum(open_by_priority.values()),
        "by_type": dict(sorted(by_type.items())),
        "by_status": dict(sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0]))),
        "open_by_priority": open_by_priority,
        "changes": count(Change),
        "agents": count(Agent),
        "teams": count(Team),
        "services": count(Service),
    }


# ---------------------------------------------------------------------------
# The console's queue: any sort, keyset pages, positions, the SLA column

# Columns the queue can sort by. "priority" is the queue order (priority, opened_at, id)
# and reads the queue indexes; "number" reads the unique index on number; the others
# sort the view's matching rows (fine for open views, a full sort on "all tickets").
QUEUE_SORTS = ("priority", "number", "sla", "status", "title", "service", "team", "assignee", "age")

# A clock that never falls due sorts after every clock that does.
_NEVER = SLA_DUE_NEVER
# The queue's SLA selections: the two saved views' ("soon", "breached") and the `sla:`
# filter's standings; each is a definition of data/sla_standing.py.
SLA_SELECTIONS = ("soon", *sla_standing.STANDINGS)


def text_match(text: str, dialect: str, *, scan_view: bool = False) -> ColumnElement[bool]:
    """The one place the queue's `/` search becomes SQL: full-text on both databases.

    `scan_view` (SQLite only): write the match as `+tickets.id IN (…)`, which stops
    SQLite from driving the query by rowid lookups of every match; it reads the view's
    own index range in the view's order instead and probes the (materialised) match
    list, so a page stops after `limit` hits and a count reads only the covering index.
    Better when a word matches many tickets (see `_scan_view`).
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


def _scan_view(session: Session, query: QueueQuery) -> bool:
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
    # Tickets resolved at or after this instant.
    resolved_since: datetime | None = None
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


def _name_of(model: Any, column: Any, ticket_column: Any) -> Any:
    # Outside the subquery: no row (no team, no assignee) must sort as "" too.
    return func.coalesce(select(column).where(model.id == ticket_column).scalar_subquery(), "")


def _sort_exprs(sort: str) -> tuple[list[Any], bool]:
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
    # path (itsm_tui.desk.sla.refresh_sla_due); _NEVER when no clock counts. All open
    # tickets in this order are a walk of ix_tickets_open_sla.
    return [Ticket.sla_due_at], False


def _key_literals(exprs: Sequence[Any], key: QueueKey) -> Any:
    values = []
    for expr, value in zip(exprs, key, strict=True):
        values.append(literal(value, getattr(expr, "type", None)))
    return tuple_(*values)


def _queue_conditions(
    query: QueueQuery, now: datetime, dialect: str, *, scan_view: bool = False
) -> tuple[_Plan, list[Any]]:
    plan = _plan(query.filters)
    if query.resolved_since is not None:
        # One branch on ix_tickets_resolved_at's short range; the plan's own branches
        # (is_open, team, assignee…) become a filter on it.
        f = query.filters
        split_on_open = f.unassigned or f.assignee_id is not None or f.team_id is not None
        if len(plan.branches) == 2 and (split_on_open or not f.statuses):
            # Both is_open values (see _plan): an OR over them would make SQLite read
            # ix_tickets_queue whole, so keep only the leading equalities.
            kept = plan.branches[0][:-1]
        else:
            kept = [or_(*(and_(*b) for b in plan.branches))]
        plan = _Plan(
            branches=[[Ticket.resolved_at >= query.resolved_since]],
            shared=[*plan.shared, *kept],
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
    plan, extra = _queue_conditions(query, now, dialect, scan_view=scan_view)
    exprs, reversed_column = _sort_exprs(query.sort)
    exprs = [*exprs, Ticket.id]
    descending = query.descending != reversed_column
    # Reading backwards (before a key, or the end) flips the direction of the scan.
    backwards = before is not None or from_end
    scan_desc = descending != backwards
    conditions = list(extra)
    key = before if before is not None else after
    if key is not None:
        row = tuple_(*exprs)
        bound = _key_literals(exprs, key)
        if scan_desc:
            conditions.append(row <= bound if inclusive else row < bound)
        else:
            conditions.append(row >= bound if inclusive else row > bound)
    order = [e.desc() if scan_desc else e.asc() for e in exprs]
    labels = [f"k{i}" for i in range(len(exprs))]
    if query.resolved_since is not None and len(plan.branches) == 1:
        # Recently resolved: a day's range of ix_tickets_resolved_at, then sorted. Left to
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
        scan_view=_scan_view(session, query),
    )
    found = [(row[0], tuple(row[1:])) for row in session.execute(stmt)]
    if before is not None or from_end:
        found.reverse()
    return queue_rows(session, found, now)


def _before_key(query: QueueQuery, key: QueueKey) -> ColumnElement[bool]:
    """The view's rows that come before `key` in its order."""
    exprs, reversed_column = _sort_exprs(query.sort)
    exprs = [*exprs, Ticket.id]
    row = tuple_(*exprs)
    bound = _key_literals(exprs, key)
    descending = query.descending != reversed_column
    return row > bound if descending else row < bound


def count_queue(session: Session, query: QueueQuery, *, now: datetime) -> int:
    """How many tickets the view holds (one count per index range, like the pages)."""
    return queue_position(session, query, None, now=now)


def queue_position(
    session: Session, query: QueueQuery, key: QueueKey | None, *, now: datetime
) -> int:
    """How many rows of the view come before `key` (all of them when `key` is None):
    the row index of a ticket, so a refresh can put the cursor back on it."""
    plan, extra = _queue_conditions(
        query, now, session.get_bind().dialect.name, scan_view=_scan_view(session, query)
    )
    conditions = list(extra)
    if key is not None:
        conditions.append(_before_key(query, key))
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
    plan, extra = _queue_conditions(
        query, now, session.get_bind().dialect.name, scan_view=_scan_view(session, query)
    )
    before = _before_key(query, key)
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
    plan, extra = _queue_conditions(query, now, session.get_bind().dialect.name)
    exprs, _reversed = _sort_exprs(query.sort)
    for branch in plan.branches:
        row = session.execute(
            select(*exprs, Ticket.id).where(Ticket.id == ticket_id, *branch, *extra)
        ).first()
        if row is not None:
            return tuple(row)
    return None
