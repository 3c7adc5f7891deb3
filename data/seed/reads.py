"""How far each agent has read their inbox when the seeded history ends: a read mark
(Agent.notices_read_through) a few hours before `now`, so the demo opens on a handful of
recent notices, as a desk whose people keep up with their notices would, not hundreds.

A mark, not receipts: at a million tickets the teams hold over half a million notices,
and a receipt for each notice and agent would be millions of rows. One UPDATE per agent.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from itsm_tui.data.seed.timeline import MINUTE

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

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


def write_read_marks(seeder: Seeder) -> None:
    """Set each active agent's read mark; a later mark already there is kept.

    One pass over the last day's notices (the notices' indexes may be set aside during a
    large load: this reads the table once, not once per agent), then one UPDATE per agent.
    """
    w, clock, staff = seeder.w, seeder.clock, seeder.staff
    now = clock.now
    recent = w.rows(
        "SELECT agent_id, team_id, deliver_at FROM notifications"
        f" WHERE read_at IS NULL AND deliver_at > '{clock.text(now - LOOK_BACK_MINUTES * MINUTE)}'"
        f" AND deliver_at <= '{clock.text(now)}'"
    )
    own: dict[int, list[str]] = {}
    to_team: dict[int, list[str]] = {}
    for agent_id, team_id, deliver_at in recent:
        at = _as_text(deliver_at)
        if agent_id is not None:
            own.setdefault(int(agent_id), []).append(at)
        elif team_id is not None:
            to_team.setdefault(int(team_id), []).append(at)
    team_of = {a: t for t, agents in staff.team_agents.items() for a in agents}
    marks = []
    for agent_id in staff.all_agents:
        team = team_of.get(agent_id)
        theirs = own.get(agent_id, []) + (to_team.get(team, []) if team is not None else [])
        mark = read_mark(clock.text(now - read_lag_minutes(agent_id) * MINUTE), theirs)
        marks.append((mark, agent_id, mark))
    w.executemany(
        "UPDATE agents SET notices_read_through = ? WHERE id = ?"
        " AND (notices_read_through IS NULL OR notices_read_through < ?)",
        marks,
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


def _as_text(value: str | datetime) -> str:
    """An instant as SQLite stores it (what PostgreSQL returns as a naive UTC datetime):
    the form marks are compared and written in."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)
