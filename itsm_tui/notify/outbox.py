"""Outbox rows for new notifications, written in the transaction that writes the notifications.

Routing ([notifications] in the desk file) says, per event, who hears of it and on which
channels. It is grouped by (audience, channel): for each group one INSERT … SELECT joins
the new notices with their agent or team by primary key, keeps those whose kind the group
routes and whose recipient has an address on the channel (an IN list), and takes the
address from a CASE over the recipient's name. So the escalation sweep's thousands of
notices cost at most 3 audiences × 6 channels statements per slice of 2,000 notices, each
an indexed join, never a loop in Python nor a join against an unindexed routing table (that
first version took 104 s for 20,000 notices and 3,220 routes; bench/notify.py).

Every session writes the outbox with its notifications: the after-flush hook below covers
notices added through the ORM (the desk, the on-call pages); the sweep's bulk insert calls
`enqueue` with the ids it inserted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, event, insert, literal, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, DeskSetting, Notification, OutboxMessage, Team

# The desk file's modules import the desk (its errors), which installs the hook below: the
# section's reader is imported when first needed, not at import time.
if TYPE_CHECKING:
    from itsm_tui.config.notifications import NotificationSettings

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


@dataclass
class RouteGroup:
    """Everyone an (audience, channel) reaches: the events routed so, and each recipient's
    (username or team name) address and signing secret on the channel."""

    audience: str
    channel: str
    events: set[str] = field(default_factory=set)
    addresses: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def route_groups(settings: NotificationSettings) -> list[RouteGroup]:
    groups: dict[tuple[str, str], RouteGroup] = {}
    for event_kind, route in settings.events.items():
        for audience in route.to:
            people = settings.teams if audience == "team" else settings.agents
            for channel in route.channels:
                group = groups.setdefault((audience, channel), RouteGroup(audience, channel))
                group.events.add(event_kind)
                for who in people:
                    name = who.team if audience == "team" else who.username
                    if name is not None and channel in who.addresses:
                        group.addresses[name] = who.addresses[channel]
                        if channel in who.secrets:
                            group.secrets[name] = who.secrets[channel]
    return [g for g in groups.values() if g.addresses]


def routes(settings: NotificationSettings) -> list[tuple[str, str, str, str]]:
    """Every (event, audience, channel, recipient) the desk file routes (for figures)."""
    return [
        (e, g.audience, g.channel, name)
        for g in route_groups(settings)
        for e in sorted(g.events)
        for name in g.addresses
    ]


def enqueue(conn: Connection | Session, notification_ids: Sequence[int]) -> None:
    """Write the outbox rows of these (just written) notifications."""
    if not notification_ids:
        return
    settings = read_settings(conn)
    if settings is None or not settings.events:
        return
    groups = route_groups(settings)
    for start in range(0, len(notification_ids), ID_SLICE):
        ids = list(notification_ids[start : start + ID_SLICE])
        for group in groups:
            conn.execute(_insert(group, ids))


_COLUMNS = (
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


def _insert(group: RouteGroup, ids: list[int]) -> Any:
    from itsm_tui.config.notifications import LOUD_EVENTS

    n, a, t = Notification.__table__, Agent.__table__, Team.__table__
    to_team = group.audience == "team"
    name = t.c.name if to_team else a.c.username
    names = list(group.addresses)
    address = case(group.addresses, value=name)
    secret = case(group.secrets, value=name, else_=None) if group.secrets else None
    # A page wakes people; a team's channel is a room, never held for quiet hours.
    quiet = literal(False) if to_team else n.c.kind.not_in(LOUD_EVENTS)
    query = select(
        n.c.id,
        literal(None, String) if to_team else a.c.username,
        t.c.name if to_team else literal(None, String),
        literal(group.channel, String),
        address,
        secret if secret is not None else literal(None, String),
        quiet,
        literal("pending", String),
        n.c.deliver_at,
        literal(0),
        n.c.created_at,
    ).where(n.c.id.in_(ids), n.c.kind.in_(sorted(group.events)), name.in_(names))
    if group.audience == "agent":
        query = query.select_from(n.join(a, a.c.id == n.c.agent_id))
    elif group.audience == "members":
        # A team's notice, to each active member on their own channel.
        query = query.select_from(
            n.join(a, and_(a.c.team_id == n.c.team_id, a.c.active.is_(true())))
        ).where(n.c.agent_id.is_(None))
    else:
        query = query.select_from(n.join(t, t.c.id == n.c.team_id)).where(n.c.agent_id.is_(None))
    return insert(OutboxMessage.__table__).from_select(_COLUMNS, query)


@event.listens_for(Session, "after_flush")
def _outbox_with_notifications(session: Session, _context: Any) -> None:
    """Notifications added through the ORM get their outbox rows in the same flush."""
    ids = [o.id for o in session.new if isinstance(o, Notification) and o.id is not None]
    if ids:
        enqueue(session.connection(), ids)
