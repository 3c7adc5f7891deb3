"""How far each agent has read their inbox when the seeded history ends: a read mark
(Agent.notices_read_through) a few hours before `now`, so the demo opens on a handful of
recent notices, as a desk whose people keep up with their notices would, not hundreds.

A mark, not receipts: at a million tickets the teams hold over half a million notices,
and a receipt for each notice and agent would be millions of rows. One UPDATE per agent.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Notification

# Each agent last caught up between one and four hours before `now` (spread by agent, so
# the agents of a team do not all see the same inbox)...
READ_LAG_MINUTES = (60, 240)
# ...and has read all but at most this many: a busy team's last hours still open on a
# handful (a million-ticket desk delivers a team hundreds of notices an hour)...
MOST_UNREAD = 12
# ...and at least this many of the last day's, where the day delivered them: a quiet
# desk's inbox is not empty for whoever opens the demo (the inbox shows how it works).
FEWEST_UNREAD = 3
LOOK_BACK_MINUTES = 24 * 60


def read_lag_minutes(agent_id: int) -> int:
    """How long before `now` the agent last read everything: fixed per agent id, from a
    stream of its own (the seed's stream is not drawn from, so no other row moves)."""
    return random.Random(f"read mark {agent_id}").randint(*READ_LAG_MINUTES)


def write_read_marks(session: Session, now: datetime) -> None:
    """Set each active agent's read mark; a later mark already there is kept.

    Run last, once every notice of the seed is in (the catalogue's desk-written requests
    deliver some too): one read of the last day's unread notices, one UPDATE per agent.
    """
    since = now - timedelta(minutes=LOOK_BACK_MINUTES)
    recent = session.execute(
        select(Notification.agent_id, Notification.team_id, Notification.deliver_at).where(
            Notification.read_at.is_(None),
            Notification.deliver_at > since,
            Notification.deliver_at <= now,
        )
    ).all()
    own: dict[int, list[str]] = {}
    to_team: dict[int, list[str]] = {}
    for agent_id, team_id, deliver_at in recent:
        at = _as_text(deliver_at)
        if agent_id is not None:
            own.setdefault(agent_id, []).append(at)
        elif team_id is not None:
            to_team.setdefault(team_id, []).append(at)
    agents = session.execute(
        select(Agent.id, Agent.team_id).where(Agent.active.is_(True)).order_by(Agent.id)
    ).all()
    for agent_id, team in agents:
        theirs = own.get(agent_id, []) + (to_team.get(team, []) if team is not None else [])
        caught_up = _as_text(now - timedelta(minutes=read_lag_minutes(agent_id)))
        mark = datetime.fromisoformat(read_mark(caught_up, theirs)).replace(tzinfo=UTC)
        session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .where(Agent.notices_read_through.is_(None) | (Agent.notices_read_through < mark))
            .values(notices_read_through=mark)
            .execution_options(synchronize_session=False)
        )


def read_mark(caught_up: str, delivered: list[str]) -> str:
    """The mark of an agent who caught up at `caught_up`, given the instants (as text) of
    their unread notices of the last day: at most MOST_UNREAD stay after it, and at least
    FEWEST_UNREAD where the day delivered that many."""
    newest = sorted(delivered, reverse=True)

    def left(mark: str) -> int:
        return sum(1 for at in newest if at > mark)

    # Read through the newest one past the handful: at most MOST_UNREAD are after it.
    through_most = newest[MOST_UNREAD] if len(newest) > MOST_UNREAD else caught_up
    after = left(caught_up)
    if after > MOST_UNREAD:
        return through_most
    if after < FEWEST_UNREAD and after < len(newest):
        # A second before the FEWEST_UNREAD-th newest (or the day's oldest): those stay.
        kept = newest[min(FEWEST_UNREAD, len(newest)) - 1]
        earlier = _as_text(datetime.fromisoformat(kept) - timedelta(seconds=1))
        # Many notices at that one instant: read them rather than leave too many.
        return earlier if left(earlier) <= MOST_UNREAD else through_most
    return caught_up


def _as_text(value: datetime) -> str:
    """An instant in UTC as text that sorts in time order: the form marks are compared in."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
