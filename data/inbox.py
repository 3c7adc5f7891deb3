"""Read queries of the notification inbox: an agent's unread notices in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session

from itsm_tui.data.models import Notification, NotificationRead, Ticket


@dataclass(frozen=True)
class InboxItem:
    """One delivered notification as the inbox and the toasts show it."""

    id: int
    kind: str
    message: str
    created_at: datetime
    deliver_at: datetime
    ticket: str | None
    # True when it was addressed to the agent's team rather than to the agent.
    to_team: bool
    read_at: datetime | None = None


@dataclass(frozen=True)
class InboxKey:
    """Where a page of the inbox ends: newest first, so the next page is older than this."""

    deliver_at: datetime
    id: int


@dataclass(frozen=True)
class _Branch:
    """One index range of the inbox: its conditions and the index's key, newest first."""

    where: list[ColumnElement[bool]]
    order: list[ColumnElement[Any]]


def _branches(
    agent_id: int, team_id: int | None, now: datetime, read_through: datetime | None = None
) -> list[_Branch]:
    """What the agent has not read yet, one branch per index range.

    `read_through` is the agent's read mark (Agent.notices_read_through): what was
    delivered at or before it is read, whatever its read_at or receipts say. It bounds
    each range from below on the index's deliver_at, so neither a page nor the count
    walks the notices read by the mark (after "mark all read", none at all).

    Their own notices: read_at NULL (ix_notifications_inbox: agent_id, read_at,
    deliver_at). Their team's notices (no agent; one addressed to a colleague through
    the team is not ours): no receipt of theirs, probed per notice by the primary key
    of notification_reads (ix_notifications_team: team_id, agent_id, read_at,
    deliver_at, id). A team notice with read_at set was closed for the whole team
    before receipts existed (revision 0004).

    Each branch orders by its index's whole key. PostgreSQL does not take `IS NULL` as
    an equality when it matches an ORDER BY to an index, so `ORDER BY deliver_at, id`
    alone sorts every matching row; agent_id and read_at are one value throughout a
    branch, so the longer key is the same order, read backwards off the index.
    """
    delivered: list[ColumnElement[bool]] = [Notification.deliver_at <= now]
    if read_through is not None:
        delivered.append(
            Notification.deliver_at > literal(read_through, Notification.deliver_at.type)
        )
    own = _Branch(
        [
            Notification.agent_id == agent_id,
            Notification.read_at.is_(None),
            *delivered,
        ],
        [Notification.agent_id, Notification.read_at, Notification.deliver_at, Notification.id],
    )
    if team_id is None:
        return [own]
    receipt = (
        select(NotificationRead.notification_id)
        .where(
            NotificationRead.notification_id == Notification.id,
            NotificationRead.agent_id == agent_id,
        )
        .exists()
    )
    team = _Branch(
        [
            Notification.team_id == team_id,
            Notification.agent_id.is_(None),
            Notification.read_at.is_(None),
            *delivered,
            ~receipt,
        ],
        [
            Notification.team_id,
            Notification.agent_id,
            Notification.read_at,
            Notification.deliver_at,
            Notification.id,
        ],
    )
    return [own, team]


def unread_statement(
    agent_id: int,
    team_id: int | None,
    now: datetime,
    *,
    limit: int = 50,
    after: InboxKey | None = None,
    read_through: datetime | None = None,
) -> Select[Any]:
    """The ids and keys of one page, newest first: exposed so tests can EXPLAIN it.

    Each branch (own, team) is an ordered, limited index range; the merge sorts at
    most 2 × limit rows, however many notices the desk holds.
    """
    page: list[ColumnElement[bool]] = []
    if after is not None:
        page = [
            # The plain bound starts each index range at the key; the row comparison
            # breaks ties on deliver_at by id.
            Notification.deliver_at <= literal(after.deliver_at, Notification.deliver_at.type),
            tuple_(Notification.deliver_at, Notification.id)
            < tuple_(
                literal(after.deliver_at, Notification.deliver_at.type),
                literal(after.id, Notification.id.type),
            ),
        ]
    selects = [
        select(Notification.id, Notification.deliver_at)
        .where(*branch.where, *page)
        .order_by(*(column.desc() for column in branch.order))
        .limit(limit)
        for branch in _branches(agent_id, team_id, now, read_through)
    ]
    if len(selects) == 1:
        return selects[0]
    merged = union_all(*(s.subquery().select() for s in selects)).subquery("page")
    return (
        select(merged.c.id, merged.c.deliver_at)
        .order_by(merged.c.deliver_at.desc(), merged.c.id.desc())
        .limit(limit)
    )


def unread(
    session: Session,
    agent_id: int,
    team_id: int | None,
    now: datetime,
    *,
    limit: int = 50,
    after: InboxKey | None = None,
    read_through: datetime | None = None,
) -> list[InboxItem]:
    """Delivered (deliver_at ≤ now), unread notices of the agent and their team, newest first.

    `read_through`: the agent's read mark (Agent.notices_read_through; see `_branches`).
    """
    if limit <= 0:
        return []
    page = unread_statement(
        agent_id, team_id, now, limit=limit, after=after, read_through=read_through
    ).subquery("unread")
    rows = session.execute(
        select(Notification, Ticket.number)
        .join(page, page.c.id == Notification.id)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .order_by(page.c.deliver_at.desc(), page.c.id.desc())
    ).all()
    return [
        InboxItem(
            id=n.id,
            kind=n.kind,
            message=n.message,
            created_at=n.created_at,
            deliver_at=n.deliver_at,
            ticket=number,
            to_team=n.agent_id is None,
            # Everything listed is unread by this agent: an own notice's read_at is NULL,
            # and a team notice has no receipt of theirs.
            read_at=n.read_at if n.agent_id is not None else None,
        )
        for n, number in rows
    ]


def unread_count(
    session: Session,
    agent_id: int,
    team_id: int | None,
    now: datetime,
    *,
    read_through: datetime | None = None,
) -> int:
    """How many delivered notices the agent has not read yet (after their read mark)."""
    counts = [
        select(func.count()).select_from(Notification).where(*branch.where).scalar_subquery()
        for branch in _branches(agent_id, team_id, now, read_through)
    ]
    total = counts[0] if len(counts) == 1 else counts[0] + counts[1]
    return int(session.execute(select(total)).scalar_one())


def next_key(items: list[InboxItem]) -> InboxKey | None:
    """The key to continue after this page (None for an empty page)."""
    if not items:
        return None
    last = items[-1]
    return InboxKey(last.deliver_at, last.id)


__all__ = [
    "InboxItem",
    "InboxKey",
    "next_key",
    "unread",
    "unread_count",
    "unread_statement",
]
