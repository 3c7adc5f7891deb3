"""A record's history in pages, newest first: audit events (and a ticket's comments and
escalations) by time.

A page is a window of time [oldest, before): everything written at one instant lands on
the same page, so one write's audit events are never split between two pages, and no
page reads more than a few times its size whatever the ticket's history holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AuditEvent, Comment, Escalation, SlaClock

PAGE_SIZE = 40


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str | None
    action: str
    field: str | None
    old: str | None
    new: str | None
    version: int | None
    reason: str | None


@dataclass(frozen=True)
class CommentRow:
    id: int
    at: datetime
    author: str | None
    kind: str
    body: str


@dataclass(frozen=True)
class EscalationRow:
    id: int
    at: datetime
    kind: str
    level: int
    clock: str | None
    rule: str | None
    reason: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class HistoryPage:
    audit: tuple[AuditRow, ...]
    comments: tuple[CommentRow, ...]
    escalations: tuple[EscalationRow, ...]
    # Where the next (older) page starts; None when nothing older is left.
    older_than: datetime | None


# The ticket's own sources besides its audit events; other records (a change, an
# article) have their audit events only.
_NO_SOURCE: tuple[Any, ...] = (false(),)


def _sources(record_type: str, record_id: int) -> list[tuple[Any, tuple[Any, ...]]]:
    """(time column, conditions) of each history source of the record: audit, comments,
    escalations (the last two only a ticket has)."""
    ticket = record_type == "ticket"
    return [
        (AuditEvent.at, (AuditEvent.record_type == record_type, AuditEvent.record_id == record_id)),
        (Comment.created_at, (Comment.ticket_id == record_id,) if ticket else _NO_SOURCE),
        (Escalation.at, (Escalation.ticket_id == record_id,) if ticket else _NO_SOURCE),
    ]


def _nth_newest(
    session: Session, column: Any, where: tuple[Any, ...], before: datetime | None, n: int
) -> datetime | None:
    stmt: Select[Any] = select(column).where(*where)
    if before is not None:
        stmt = stmt.where(column < before)
    return session.scalars(stmt.order_by(column.desc()).offset(n - 1).limit(1)).first()


def history_page(
    session: Session,
    record_id: int,
    *,
    before: datetime | None = None,
    size: int = PAGE_SIZE,
    record_type: str = "ticket",
) -> HistoryPage:
    """The newest history of the record written before `before` (None: the newest of all).

    Each source (audit, comments, escalations) is probed for its size-th newest instant;
    the latest of those bounds the page, so every source is read whole inside the window.
    """
    horizons = [
        h
        for column, where in _sources(record_type, record_id)
        if (h := _nth_newest(session, column, where, before, size)) is not None
    ]
    oldest = max(horizons) if horizons else None

    def window(column: Any, where: tuple[Any, ...]) -> tuple[Any, ...]:
        conditions = list(where)
        if before is not None:
            conditions.append(column < before)
        if oldest is not None:
            conditions.append(column >= oldest)
        return tuple(conditions)

    audit_source, comment_source, escalation_source = _sources(record_type, record_id)
    audit = session.execute(
        select(AuditEvent, Agent.username)
        .outerjoin(Agent, Agent.id == AuditEvent.actor_id)
        .where(*window(*audit_source))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    comments = session.execute(
        select(Comment, Agent.username)
        .outerjoin(Agent, Agent.id == Comment.author_id)
        .where(*window(*comment_source))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    escalations = session.execute(
        select(Escalation, SlaClock.kind)
        .outerjoin(SlaClock, SlaClock.id == Escalation.clock_id)
        .where(*window(*escalation_source))
        .order_by(Escalation.at.desc(), Escalation.id.desc())
    ).all()
    older = None
    if oldest is not None and any(
        _nth_newest(session, column, where, oldest, 1) is not None
        for column, where in _sources(record_type, record_id)
    ):
        older = oldest
    return HistoryPage(
        audit=tuple(
            AuditRow(
                id=e.id,
                at=e.at,
                actor=username,
                action=e.action,
                field=e.field,
                old=e.old_value,
                new=e.new_value,
                version=e.record_version,
                reason=e.reason,
            )
            for e, username in audit
        ),
        comments=tuple(
            CommentRow(
                id=c.id,
                at=c.created_at,
                author=username or c.author_name,
                kind=c.kind,
                body=c.body,
            )
            for c, username in comments
        ),
        escalations=tuple(
            EscalationRow(
                id=x.id,
                at=x.at,
                kind=x.kind,
                level=x.level,
                clock=clock_kind,
                rule=x.rule,
                reason=x.reason or "",
                actions=tuple(str(a) for a in (x.actions or ())),
            )
            for x, clock_kind in escalations
        ),
        older_than=older,
    )
