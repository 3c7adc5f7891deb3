"""Writes to the notification inbox: marking notices read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import literal, select, update
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
    it. Notices addressed to somebody else, and ones the actor already read, are left
    alone: reading twice, or two agents reading one team notice, is not an error.
    """
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("read notifications"))
    wanted = sorted(set(ids))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in wanted):
        raise InvalidInput(_("notification ids must be whole numbers"))
    if not wanted:
        return 0
    own = session.execute(
        update(Notification)
        .where(
            Notification.id.in_(wanted),
            Notification.agent_id == actor.id,
            Notification.read_at.is_(None),
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
