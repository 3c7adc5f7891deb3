"""The people of a demo desk: agents per team (supervisors, CAB, managers) and requesters."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from itsm_tui.data.seed.desk import Desk
from itsm_tui.data.seed.texts import DEPARTMENTS, FAMILY, GIVEN
from itsm_tui.data.seed.writer import BulkWriter
from itsm_tui.domain import roles


def demo_roster(desk: Desk, rng: random.Random) -> list[dict[str, Any]]:
    """The demo agents: 4–8 per team with a supervisor, a desk manager, CAB, change manager."""
    people = [f"{g}.{f}" for f in FAMILY for g in GIVEN]
    rng.shuffle(people)
    pool = iter(people)
    tier_rate = {1: 160.0, 2: 240.0, 3: 320.0}
    agents: list[dict[str, Any]] = []
    for team_id, _name, tier in desk.teams:
        size = 4 + rng.randrange(5)
        for k in range(size):
            person = next(pool)
            supervisor = k == 0
            rate = tier_rate.get(tier, 200.0) * (1.3 if supervisor else rng.uniform(0.85, 1.15))
            agents.append(
                {
                    "username": person.lower(),
                    "display_name": person.replace(".", " "),
                    "roles": roles.SUPERVISOR if supervisor else roles.AGENT,
                    "team_id": team_id,
                    "hourly_cost": round(rate, 2),
                    "supervisor_of": team_id if supervisor else None,
                }
            )
    # Senior agents of the higher tiers sit on the CAB.
    seniors = [a for a in agents if a["roles"] == roles.AGENT]
    seniors.sort(key=lambda a: -dict((t[0], t[2]) for t in desk.teams)[a["team_id"]])
    for a in seniors[:3]:
        a["roles"] = f"{roles.AGENT} {roles.CAB}"
    first_team = desk.teams[0][0]
    agents.append(
        {
            "username": "desk.manager",
            "display_name": "Desk Manager",
            "roles": f"{roles.SUPERVISOR} {roles.ADMIN}",
            "team_id": first_team,
            "hourly_cost": 380.0,
            "supervisor_of": None,
        }
    )
    agents.append(
        {
            "username": "change.manager",
            "display_name": "Change Manager",
            "roles": f"{roles.CHANGE_MANAGER} {roles.CAB}",
            "team_id": None,
            "hourly_cost": 360.0,
            "supervisor_of": None,
        }
    )
    return agents


def ensure_agents(w: BulkWriter, desk: Desk, rng: random.Random) -> None:
    roster = demo_roster(desk, rng)
    names = [a["username"] for a in roster]
    existing = {str(r[0]) for r in w.rows("SELECT username FROM agents")}
    if existing & set(names):
        return
    next_id = int(w.scalar("SELECT COALESCE(MAX(id), 0) FROM agents")) + 1
    rows = []
    supervisors = []
    for offset, a in enumerate(roster):
        aid = next_id + offset
        rows.append(
            (
                aid,
                a["username"],
                a["display_name"],
                f"{a['username']}@desk.example.com",
                a["roles"],
                a["team_id"],
                a["hourly_cost"],
                None,
                1,
            )
        )
        if a["supervisor_of"] is not None:
            supervisors.append((aid, a["supervisor_of"]))
    w.insert(
        "agents",
        (
            "id",
            "username",
            "display_name",
            "email",
            "roles",
            "team_id",
            "hourly_cost",
            "timezone",
            "active",
        ),
        rows,
    )
    w.executemany("UPDATE teams SET supervisor_id = ? WHERE id = ?", supervisors)


def ensure_requesters(w: BulkWriter, count: int) -> list[int]:
    wanted = []
    for i in range(count):
        g = GIVEN[i % len(GIVEN)]
        f = FAMILY[(i // len(GIVEN)) % len(FAMILY)]
        wanted.append(
            (
                f"{g}.{f}.{i}@staff.example.com".lower(),
                f"{g} {f}",
                DEPARTMENTS[i % len(DEPARTMENTS)],
            )
        )
    known = {
        str(e): int(i)
        for i, e in w.rows(
            "SELECT id, email FROM requesters WHERE email LIKE '%@staff.example.com'"
        )
    }
    next_id = int(w.scalar("SELECT COALESCE(MAX(id), 0) FROM requesters")) + 1
    ids = []
    rows = []
    for email, name, dept in wanted:
        if email in known:
            ids.append(known[email])
            continue
        rows.append((next_id, email, name, dept))
        ids.append(next_id)
        next_id += 1
    w.insert("requesters", ("id", "email", "name", "department"), rows)
    return ids


@dataclass
class Staff:
    """Who works the seeded records: names, rates, teams and the roles a story needs."""

    agent_name: dict[int, str]
    agent_rate: dict[int, float]  # cost per minute
    team_agents: dict[int, list[int]]
    cab: list[int]
    change_managers: list[int]
    supervisor: dict[int, int]  # team id -> its supervisor
    all_agents: list[int]
    requesters: list[int]


def load_staff(w: BulkWriter, desk: Desk, requester_ids: list[int]) -> Staff:
    rows = w.rows(
        "SELECT id, username, roles, team_id, hourly_cost FROM agents "
        "WHERE active = " + ("1" if w.sqlite else "true") + " ORDER BY id"
    )
    team_agents: dict[int, list[int]] = {t[0]: [] for t in desk.teams}
    for i, _u, _r, t, _c in rows:
        if t is not None and t in team_agents:
            team_agents[int(t)].append(int(i))
    return Staff(
        agent_name={int(i): str(u) for i, u, _r, _t, _c in rows},
        agent_rate={int(i): float(c or 0) / 60.0 for i, _u, _r, _t, c in rows},
        team_agents=team_agents,
        cab=[int(i) for i, _u, r, _t, _c in rows if roles.CAB in str(r).split()],
        change_managers=[
            int(i) for i, _u, r, _t, _c in rows if roles.CHANGE_MANAGER in str(r).split()
        ]
        or [int(rows[0][0])],
        supervisor={int(t): int(s) for t, s in w.rows("SELECT id, supervisor_id FROM teams") if s},
        all_agents=[int(r[0]) for r in rows],
        requesters=requester_ids,
    )
