"""Writes to the notification inbox: marking notices read, one by one or all at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Notification, NotificationRead
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import as_utc, require, utcnow
from itsm_tui.i18n import _


def mark_read(
    session: Session, actor: Agent, ids: Iterable[int], now: datetime | None = None
) -> int:
    """Mark the actor's (or their team's) notices read for the actor; returns how many changed.

    A notice addressed to the actor gets its read_at. A team notice gets the actor's
    receipt: each agent of the team reads it for themselves, and colleagues still see
    it. Notices addressed to somebody else, and ones the actor already read (their read
    mark included: see `mark_all_read`), are left alone: reading twice, or two agents
    reading one team notice, is not an error.
    """
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("read notifications"))
    wanted = sorted(set(ids))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in wanted):
        raise InvalidInput(_("notification ids must be whole numbers"))
    if not wanted:
        return 0
    unmarked = _after_mark(actor)
    own = session.execute(
        update(Notification)
        .where(
            Notification.id.in_(wanted),
            Notification.agent_id == actor.id,
            Notification.read_at.is_(None),
            *unmarked,
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    changed = int(own.rowcount or 0)
    if actor.team_id is None:
        return changed
    receipt = (
        select(NotificationRead.notification_id)
        .where(
            NotificationRead.notification_id == Notification.id,
            NotificationRead.agent_id == actor.id,
        )
        .exists()
    )
    unread_team_notices = select(
        Notification.id,
        literal(actor.id, NotificationRead.agent_id.type),
        literal(now, NotificationRead.read_at.type),
    ).where(
        Notification.id.in_(wanted),
        Notification.team_id == actor.team_id,
        Notification.agent_id.is_(None),
        # Read before receipts existed: closed for the whole team already.
        Notification.read_at.is_(None),
        *unmarked,
        ~receipt,
    )
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    team = session.execute(
        insert(NotificationRead)
        .from_select(["notification_id", "agent_id", "read_at"], unread_team_notices)
        # The same agent marking it in two sessions at once: the later insert loses quietly.
        .on_conflict_do_nothing(index_elements=["notification_id", "agent_id"])
        # SQLAlchemy keeps an INSERT's rowcount only when asked (psycopg's is gone by then).
        .execution_options(preserve_rowcount=True)
    )
    return changed + int(team.rowcount or 0)


def mark_all_read(session: Session, actor: Agent, now: datetime | None = None) -> datetime:
    """Everything delivered to the actor and their team up to `now` is read, for the actor;
    returns their read mark.

    One timestamp on the agent (Agent.notices_read_through), the way a chat or mail client
    keeps a read pointer, not a receipt per team notice: a team of a million-ticket desk
    holds over half a million notices, and the inbox then reads only what came after the
    mark. The actor's own unread notices delivered since the previous mark get their
    read_at too, in one UPDATE. The mark only moves forward: a session with an earlier
    clock leaves a later mark where it is. Colleagues' inboxes are untouched.
    """
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("read notifications"))
    session.execute(
        update(Notification)
        .where(
            Notification.agent_id == actor.id,
            Notification.read_at.is_(None),
            Notification.deliver_at <= now,
            *_after_mark(actor),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Agent)
        .where(
            Agent.id == actor.id,
            or_(Agent.notices_read_through.is_(None), Agent.notices_read_through < now),
        )
        .values(notices_read_through=now)
        .execution_options(synchronize_session=False)
    )
    # Read back: another session may hold a later mark.
    session.expire(actor, ["notices_read_through"])
    return actor.notices_read_through or now


def _after_mark(actor: Agent) -> list[ColumnElement[bool]]:
    """Notices after the actor's read mark (all of them without one): the rest are read."""
    if actor.notices_read_through is None:
        return []
    return [
        Notification.deliver_at > literal(actor.notices_read_through, Notification.deliver_at.type)
    ]
