"""The outbox as lists: messages by state, newest first, in keyset pages; a message's attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Change, Notification, OutboxAttempt, OutboxMessage, Ticket

PAGE = 50


@dataclass(frozen=True)
class OutboxRow:
    id: int
    state: str
    channel: str
    to: str
    kind: str
    record: str | None
    message: str
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class AttemptRow:
    at: datetime
    deliverer: str
    ok: bool
    answer: str


def outbox_page(
    session: Session,
    *,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = PAGE,
) -> list[OutboxRow]:
    """Up to `limit` messages (of `state`), newest first, older than `before_id`."""
    o, n = OutboxMessage, Notification
    query = (
        select(
            o.id,
            o.state,
            o.channel,
            func.coalesce(o.recipient, o.team),
            n.kind,
            func.coalesce(Ticket.number, Change.number),
            n.message,
            o.attempts,
            o.due_at,
            o.sent_at,
            o.last_error,
        )
        .join(n, n.id == o.notification_id)
        .outerjoin(Ticket, Ticket.id == n.ticket_id)
        .outerjoin(Change, Change.id == n.change_id)
        .order_by(o.id.desc())
        .limit(limit)
    )
    if state is not None:
        # ix_outbox_due leads with state.
        query = query.where(o.state == state)
    if before_id is not None:
        query = query.where(o.id < before_id)
    return [OutboxRow(*row) for row in session.execute(query)]


def attempts_of(session: Session, outbox_id: int) -> list[AttemptRow]:
    a = OutboxAttempt
    rows = session.execute(
        select(a.at, a.deliverer, a.ok, a.answer)
        .where(a.outbox_id == outbox_id)
        .order_by(a.at, a.id)
    )
    return [AttemptRow(*row) for row in rows]


def dead_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "dead")
        )
        or 0
    )
