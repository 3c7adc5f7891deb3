"""How far each agent has read their inbox when the seeded history ends: a read mark
(Agent.notices_read_through) a few hours before `now`, so the demo opens on a handful of
recent notices, as a desk whose people keep up with their notices would, not hundreds.

A mark, not receipts: at a million tickets the teams hold over half a million notices,
and a receipt for each notice and agent would be millions of rows. One UPDATE per agent.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from itsm_tui.data.seed.timeline import MINUTE

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

# Each agent last caught up between one and four hours before `now` (which, spread by
# agent, so the agents of a team do not all see the same inbox)...
READ_LAG_MINUTES = (60, 240)
# ...and has read all but at most this many: a busy team's last hours still open on a
# handful (a million-ticket desk delivers a team dozens of notices an hour).
MOST_UNREAD = 12


def read_lag_minutes(agent_id: int) -> int:
    """How long before `now` the agent last read everything: fixed per agent id, from a
    stream of its own (the seed's stream is not drawn from, so no other row moves)."""
    return random.Random(f"read mark {agent_id}").randint(*READ_LAG_MINUTES)


def write_read_marks(seeder: Seeder) -> None:
    """Set each active agent's read mark; a later mark already there is kept.

    One pass over the notices of the last READ_LAG_MINUTES[1] (the notices' indexes may be
    set aside during a large load: this reads the table once, not once per agent).
    """
    w, clock, staff = seeder.w, seeder.clock, seeder.staff
    now = clock.now
    oldest = now - READ_LAG_MINUTES[1] * MINUTE
    recent = w.rows(
        "SELECT agent_id, team_id, deliver_at FROM notifications"
        f" WHERE read_at IS NULL AND deliver_at > '{clock.text(oldest)}'"
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
        mark = clock.text(now - read_lag_minutes(agent_id) * MINUTE)
        team = team_of.get(agent_id)
        theirs = own.get(agent_id, []) + (to_team.get(team, []) if team is not None else [])
        unread = sorted(
            (at for at in theirs if at > mark),
            reverse=True,
        )
        if len(unread) > MOST_UNREAD:
            # Read through the newest one past the handful: at most MOST_UNREAD are after it.
            mark = unread[MOST_UNREAD]
        marks.append((mark, agent_id, mark))
    w.executemany(
        "UPDATE agents SET notices_read_through = ? WHERE id = ?"
        " AND (notices_read_through IS NULL OR notices_read_through < ?)",
        marks,
    )


def _as_text(value: str | datetime) -> str:
    """An instant as SQLite stores it (what PostgreSQL returns as a naive UTC datetime):
    the form marks are compared and written in."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)
