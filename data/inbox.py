"""Read queries of the notification inbox (and the pickers its action forms offer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from itsm_tui.data.models import Notification, Ticket


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


def _addressed_to(agent_id: int, team_id: int | None) -> ColumnElement[bool]:
    mine = Notification.agent_id == agent_id
    if team_id is None:
        return mine
    # A team notice has no agent; one addressed to a colleague is not ours to read.
    return or_(mine, and_(Notification.team_id == team_id, Notification.agent_id.is_(None)))


def unread(
    session: Session,
    agent_id: int,
    team_id: int | None,
    now: datetime,
    *,
    limit: int = 50,
    after: InboxKey | None = None,
) -> list[InboxItem]:
    """Delivered (deliver_at ≤ now), unread notices of the agent and their team, newest first."""
    if limit <= 0:
        return []
    conditions: list[ColumnElement[bool]] = [
        _addressed_to(agent_id, team_id),
        Notification.read_at.is_(None),
        Notification.deliver_at <= now,
    ]
    if after is not None:
        conditions.append(
            tuple_(Notification.deliver_at, Notification.id)
            < tuple_(
                literal(after.deliver_at, Notification.deliver_at.type),
                literal(after.id, Notification.id.type),
            )
        )
    rows = session.execute(
        select(Notification, Ticket.number)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .where(*conditions)
        .order_by(Notification.deliver_at.desc(), Notification.id.desc())
        .limit(limit)
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
            read_at=n.read_at,
        )
        for n, number in rows
    ]


def unread_count(session: Session, agent_id: int, team_id: int | None, now: datetime) -> int:
    """How many delivered notices the agent has not read yet."""
    return session.execute(
        select(func.count())
        .select_from(Notification)
        .where(
            _addressed_to(agent_id, team_id),
            Notification.read_at.is_(None),
            Notification.deliver_at <= now,
        )
    ).scalar_one()


def next_key(items: list[InboxItem]) -> InboxKey | None:
    """The key to continue after this page (None for an empty page)."""
    if not items:
        return None
    last = items[-1]
    return InboxKey(last.deliver_at, last.id)


# ---------------------------------------------------------------------------
# What the action forms offer to pick from (small configuration tables, read whole)


__all__ = [
    "InboxItem",
    "InboxKey",
    "next_key",
    "unread",
    "unread_count",
]
