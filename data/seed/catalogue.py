"""Requests for the catalogue items that have a fulfilment plan, written through the desk's
own functions after the bulk load: submitted, approved or turned down, steps done by their
teams, some fulfilled and some still at a step.

They are few (PLANNED_REQUESTS at most, whatever the seed's size), so the write path itself
is cheap enough here, and what they hold is what it writes by construction: the bulk story
(data/seed/story.py) leaves planned items out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, CatalogueItem, Requester, Service, Team, Ticket
from itsm_tui.desk import add_comment, create_ticket, transition_ticket
from itsm_tui.desk.fulfilment import complete_task
from itsm_tui.domain import roles

# At most this many planned requests: about 45 desk writes (measured 2 s at load 14 on
# two cores, a quarter-second each request) at any size of seed, the million included
# (2.4 s of a 1M seed's 2,362 s, measured at load 4–9 on two shared cores).
PLANNED_REQUESTS = 8
# One planned request per this many seeded tickets, below PLANNED_REQUESTS.
TICKETS_PER_PLANNED = 50
# Of the requests that wait for an approver, every this-many-th is turned down (the
# second, the sixth...): even eight requests show a rejection, whatever the random stream.
TURNED_DOWN_EVERY = 4

REPLY = "Thanks, we have started on this and will update you at each step."
NOTES = ("Done as the checklist says.", "Checked with the requester.", "")


def planned_request_count(tickets: int) -> int:
    """At every size, the million included: its queue, inbox and ticket screens show
    requests at a step, fulfilled and turned down as a small desk's do."""
    return min(PLANNED_REQUESTS, tickets // TICKETS_PER_PLANNED)


def any_planned_item(w: Any) -> bool:
    """Whether the desk has an active item with a plan (read through the bulk writer)."""
    rows = w.rows(
        "SELECT tasks FROM catalogue_items WHERE active = " + ("1" if w.sqlite else "true")
    )
    return any(json.loads(t) if isinstance(t, str) else t for (t,) in rows)


def planned_statuses(session: Session, count: int) -> dict[tuple[str, str], int]:
    """How many of the last `count` tickets (the planned requests) are in each status."""
    if count <= 0:
        return {}
    newest = select(Ticket.id).order_by(Ticket.id.desc()).limit(count).subquery()
    return {
        ("request", status): int(n)
        for status, n in session.execute(
            select(Ticket.status, func.count())
            .where(Ticket.id.in_(select(newest.c.id)))
            .group_by(Ticket.status)
        )
    }


# What a requester writes in a free-text field, by a word of the field's name or label
# (the first that fits): a department field holds a department, a name field a name.
TEXT_ANSWERS = (
    ("department", "Finance"),
    ("team", "Finance"),
    ("account", "wei.li"),
    ("software", "LibreOffice 24.2"),
    ("system", "Finance reporting"),
    ("email", "wei.li@example.com"),
    ("phone", "+44 20 7946 0958"),
    ("location", "London office, 3rd floor"),
    ("office", "London office, 3rd floor"),
    ("cost", "CC-4102"),
    ("name", "Wei Li"),
)
# A reason, in a field that asks for one or in a free-text box of no known meaning.
REASON = "Needed for daily work."


def answer(field: dict[str, Any], opened: date, agent: str, service: str | None) -> Any:
    """A seeded request's answer to one form field, as the desk stores it
    (catalogue_forms.check_answers): fitting the field's kind and, for free text, its
    name ("department" holds a department)."""
    kind = field.get("kind", "text")
    if kind == "date":
        return (opened + timedelta(days=14)).isoformat()
    if kind == "choice":
        return str(field["choices"][0])
    if kind == "number":
        return 1
    if kind == "checkbox":
        return False
    if kind == "agent":
        return agent
    if kind == "service":
        return service or ""
    words = f"{field['name']} {field.get('label') or ''}".lower()
    return next((said for word, said in TEXT_ANSWERS if word in words), REASON)


def answers(
    form: Sequence[dict[str, Any]], opened: date, agent: str, service: str | None
) -> dict[str, Any]:
    """The answers to a form's required fields (what a requester must fill in), and its
    boxes left unticked (check_answers stores every checkbox)."""
    return {
        str(f["name"]): answer(f, opened, agent, service)
        for f in form
        if f.get("required") or f.get("kind") == "checkbox"
    }


def seed_planned_requests(session: Session, now: datetime, count: int, seed: int) -> int:
    """Write `count` requests of planned items (none when the desk has no plan); returns
    how many were written. Deterministic for the same desk, `now`, `count` and `seed`."""
    items = [
        i
        for i in session.scalars(
            select(CatalogueItem).where(CatalogueItem.active).order_by(CatalogueItem.id)
        )
        if i.tasks
    ]
    if not items or count <= 0:
        return 0
    rng = random.Random(seed)
    agents = list(session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)))
    workers = [a for a in agents if roles.can(a.role_set, "ticket.work")]
    by_team: dict[int | None, list[Agent]] = {}
    for a in workers:
        by_team.setdefault(a.team_id, []).append(a)
    team_ids = {t.name: t.id for t in session.scalars(select(Team))}
    requesters = list(session.scalars(select(Requester.email).order_by(Requester.id).limit(50)))
    service = session.scalars(select(Service.name).order_by(Service.id).limit(1)).first()

    def member(team: str | None) -> Agent:
        pool = by_team.get(team_ids.get(team or "")) or workers
        return pool[int(rng.random() * len(pool))]

    def approver(item: CatalogueItem) -> Agent | None:
        if item.approval_role:
            pool = [a for a in workers if item.approval_role in a.role_set]
        else:
            pool = [a for a in workers if roles.can(a.role_set, "ticket.approve_request")]
        return pool[int(rng.random() * len(pool))] if pool else None

    written = asked = 0
    for k in range(count):
        item = items[k % len(items)]
        steps = list(item.tasks or ())
        # Older requests are further along: the newest are still at a step or waiting.
        age = timedelta(hours=0.5 + (count - 1 - k) * 5 + rng.random() * 2)
        at = now - age
        creator = member(item.team.name if item.team else None)
        ticket = create_ticket(
            session,
            creator,
            type="request",
            title=item.name,
            impact=3,
            urgency=3,
            requester=requesters[k % len(requesters)] if requesters else None,
            catalogue_item=item.code,
            form_data=answers(item.form or (), at.date(), creator.username, service),
            opened_at=at,
            now=at,
        )
        written += 1
        if ticket.status == "awaiting_approval":
            who = approver(item)
            at += timedelta(minutes=30 + rng.random() * 150)
            if who is None or at >= now:
                continue
            asked += 1
            turned_down = asked % TURNED_DOWN_EVERY == 2
            transition_ticket(
                session,
                who,
                ticket.number,
                "rejected" if turned_down else "approved",
                note="Not for this role." if turned_down else None,
                now=at,
            )
            if turned_down:
                continue
        # Someone of the first step's team answers the requester soon after it starts.
        at += timedelta(minutes=5 + rng.random() * 20)
        if at >= now:
            continue
        add_comment(session, member(steps[0]["team"]), ticket.number, REPLY, now=at)
        for step in steps:
            minutes = int(step.get("minutes") or 60)
            at += timedelta(minutes=minutes * (0.3 + rng.random()))
            if at >= now:
                break
            note = NOTES[int(rng.random() * len(NOTES))]
            complete_task(session, member(step["team"]), ticket.number, note=note, now=at)
    return written
