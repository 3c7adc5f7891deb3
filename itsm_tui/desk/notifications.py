"""Writes to the notification inbox: marking notices read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Notification
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import as_utc, require, utcnow
from itsm_tui.i18n import _


def mark_read(
    session: Session, actor: Agent, ids: Iterable[int], now: datetime | None = None
) -> int:
    """Mark the actor's (or their team's) notices read; returns how many changed.

    Notices addressed to somebody else, and ones already read, are left alone: two
    agents of a team reading the same team notice is not an error.
    """
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "ticket.work", _("read notifications"))
    wanted = sorted(set(ids))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in wanted):
        raise InvalidInput(_("notification ids must be whole numbers"))
    if not wanted:
        return 0
    mine = Notification.agent_id == actor.id
    if actor.team_id is not None:
        mine = or_(
            mine, and_(Notification.team_id == actor.team_id, Notification.agent_id.is_(None))
        )
    result = session.execute(
        update(Notification)
        .where(Notification.id.in_(wanted), Notification.read_at.is_(None), mine)
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
