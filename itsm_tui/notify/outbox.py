"""Outbox rows for new notifications, written in the transaction that writes the notifications.

Routing ([notifications] in the desk file) says, per event, who hears of it and on which
channels. It becomes a small table of routes (hundreds of rows at most) joined in SQL with
the new notifications: one INSERT … SELECT per slice of routes, however many notifications,
so the escalation sweep's thousands of notices cost a few statements, not a loop.

Every session writes the outbox with its notifications: the after-flush hook below covers
notices added through the ORM (the desk, the on-call pages); the sweep's bulk insert calls
`enqueue` with the ids it inserted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, String, and_, event, insert, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

# The desk file's modules import the desk (its errors), which installs the hook below: the
# section's reader is imported when first needed, not at import time.
if TYPE_CHECKING:
    from itsm_tui.config.notifications import NotificationSettings

from itsm_tui.data.models import Agent, DeskSetting, Notification, OutboxMessage, Team

# SQLite allows 500 terms in a compound SELECT; the routes go in slices below that.
ROUTE_SLICE = 400
# Bounded IN lists on both databases.
ID_SLICE = 2000


def read_settings(conn: Connection | Session) -> NotificationSettings | None:
    """The desk's [notifications] section, or None when the desk sends nothing out."""
    from itsm_tui.config.notifications import notifications_from_value

    value = conn.execute(
        select(DeskSetting.value).where(DeskSetting.key == "notifications")
    ).scalar_one_or_none()
    if not isinstance(value, dict):
        return None
    try:
        return notifications_from_value(value)
    except (KeyError, TypeError, ValueError):
        # A malformed setting sends nothing rather than failing the desk's write.
        return None


def routes(settings: NotificationSettings) -> list[dict[str, Any]]:
    """One row per (event, audience, recipient, channel) the desk file routes."""
    from itsm_tui.config.notifications import LOUD_EVENTS

    out: list[dict[str, Any]] = []
    for event_kind, route in settings.events.items():
        quiet = event_kind not in LOUD_EVENTS
        for audience in route.to:
            people = settings.teams if audience == "team" else settings.agents
            for who in people:
                for channel in route.channels:
                    address = who.addresses.get(channel)
                    if address is None:
                        continue
                    out.append(
                        {
                            "event": event_kind,
                            "audience": audience,
                            "recipient": who.username,
                            "team": who.team,
                            "channel": channel,
                            "address": address,
                            "secret": who.secrets.get(channel),
                            # A team's channel is a room, not a person asleep.
                            "quiet": quiet and audience != "team",
                        }
                    )
    return out


def _routes_cte(rows: Sequence[dict[str, Any]]) -> Any:
    selects = [
        select(
            literal(r["event"], String).label("event"),
            literal(r["audience"], String).label("audience"),
            literal(r["recipient"], String).label("recipient"),
            literal(r["team"], String).label("team"),
            literal(r["channel"], String).label("channel"),
            literal(r["address"], String).label("address"),
            literal(r["secret"], String).label("secret"),
            literal(r["quiet"], Boolean).label("quiet"),
        )
        for r in rows
    ]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).cte("routes")


def enqueue(conn: Connection | Session, notification_ids: Sequence[int]) -> int:
    """Write the outbox rows of these (just written) notifications; how many were written."""
    if not notification_ids:
        return 0
    settings = read_settings(conn)
    if settings is None or not settings.events:
        return 0
    all_routes = routes(settings)
    written = 0
    n = Notification.__table__
    a = Agent.__table__
    t = Team.__table__
    for r_start in range(0, len(all_routes), ROUTE_SLICE):
        r = _routes_cte(all_routes[r_start : r_start + ROUTE_SLICE])
        for i_start in range(0, len(notification_ids), ID_SLICE):
            ids = list(notification_ids[i_start : i_start + ID_SLICE])
            written += _insert(conn, r, n, a, t, ids)
    return written


def _insert(conn: Any, r: Any, n: Any, a: Any, t: Any, ids: list[int]) -> int:
    columns = (
        "notification_id",
        "recipient",
        "team",
        "channel",
        "address",
        "secret",
        "quiet",
        "state",
        "due_at",
        "attempts",
        "created_at",
    )
    # To a person: the agent it is addressed to, or each active member of the team it is
    # addressed to.
    to_agent = and_(r.c.audience == "agent", n.c.agent_id == a.c.id)
    to_member = and_(
        r.c.audience == "members",
        n.c.agent_id.is_(None),
        a.c.team_id == n.c.team_id,
        a.c.active.is_(True),
    )
    people = (
        select(
            n.c.id,
            r.c.recipient,
            literal(None, String),
            r.c.channel,
            r.c.address,
            r.c.secret,
            r.c.quiet,
            literal("pending", String),
            n.c.deliver_at,
            literal(0),
            n.c.created_at,
        )
        .select_from(n)
        .join(r, r.c.event == n.c.kind)
        .join(a, and_(a.c.username == r.c.recipient, to_agent | to_member))
        .where(n.c.id.in_(ids))
    )
    rooms = (
        select(
            n.c.id,
            literal(None, String),
            r.c.team,
            r.c.channel,
            r.c.address,
            r.c.secret,
            r.c.quiet,
            literal("pending", String),
            n.c.deliver_at,
            literal(0),
            n.c.created_at,
        )
        .select_from(n)
        .join(r, r.c.event == n.c.kind)
        .join(t, and_(r.c.audience == "team", t.c.name == r.c.team, t.c.id == n.c.team_id))
        .where(n.c.id.in_(ids), n.c.agent_id.is_(None))
    )
    total = 0
    for query in (people, rooms):
        result = conn.execute(insert(OutboxMessage.__table__).from_select(columns, query))
        total += max(result.rowcount or 0, 0)
    return total


@event.listens_for(Session, "after_flush")
def _outbox_with_notifications(session: Session, _context: Any) -> None:
    """Notifications added through the ORM get their outbox rows in the same flush."""
    ids = [o.id for o in session.new if isinstance(o, Notification) and o.id is not None]
    if ids:
        enqueue(session.connection(), ids)
