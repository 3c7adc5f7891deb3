"""Seeded SLA history is what the write path writes: a sample of seeded tickets is played
again through the desk's own functions (create, assign, transition, reply, resolve,
reopen) and the escalator's sweep, with an injected clock, on a second store; clocks,
escalations, notifications and the tickets' SLA fields must match field by field."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    CatalogueItem,
    Comment,
    Escalation,
    FulfilmentTask,
    Notification,
    Requester,
    Service,
    SlaClock,
    Team,
    Ticket,
)
from itsm_tui.data.seed import seed_store
from itsm_tui.data.seed import tickets as seed_tickets
from itsm_tui.data.seed.catalogue import planned_request_count
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import problems as desk_problems
from itsm_tui.desk import tickets as desk
from itsm_tui.desk.fulfilment import complete_task
from itsm_tui.escalation.sweep import sweep
from tests.conftest import _db_counter

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
SEED = 11
# Enough for requests of an item with steps still at a step at NOW.
TICKETS = 1_000
SWEEP_EVERY = timedelta(seconds=30)
CLOCK_FIELDS = (
    "target_minutes",
    "started_at",
    "due_at",
    "state",
    "running_since",
    "paused_at",
    "paused_seconds",
    "spent_seconds",
    "stopped_at",
    "breached_at",
    "fired_percent",
    "warnings_fired",
    "next_event_at",
    "escalation_level",
)
REQUEST_STATUSES = (
    "awaiting_approval",
    "approved",
    "fulfilling",
    "rejected",
    "fulfilled",
    "closed",
)
# Ticket columns not compared as they are: its own id and number (the replay numbers its
# tickets anew), its problem and its major incident (compared as the numbers they point
# to), and the form answers (the second store's items ask nothing: the seed's answers
# need not fit them).
TICKET_LEFT_OUT = ("id", "number", "problem_id", "parent_id", "form_data")
TICKET_FIELDS = tuple(c.key for c in Ticket.__table__.columns if c.key not in TICKET_LEFT_OUT)


def _default_desk(store: Store) -> None:
    with store.write() as s:
        apply_config(s, load_default_desk(), now=NOW - timedelta(days=40))


@pytest.fixture
def seeded(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    # Every draw of the planned item stays with it: at this size the sample then holds
    # its requests turned down, at a step, fulfilled and closed (the mix, not the rules).
    monkeypatch.setattr(seed_tickets, "PLANNED_SHARE", 1.0)
    _default_desk(store)
    seed_store(store, tickets=TICKETS, days=30, seed=SEED, now=NOW)
    return store


@pytest.fixture
def blank(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A second store on the same database: the same desk and people, no history."""
    if store.is_sqlite:
        target = tmp_path / "replay.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        url = sqlite_url(target)
    else:
        server = request.getfixturevalue("pg_server")
        name = f"itsm_replay_{os.getpid()}_{next(_db_counter)}"
        url = server.create_database(name, template=request.getfixturevalue("pg_template"))
    other = open_store(url)
    try:
        _default_desk(other)
        # The same seed with no tickets makes the same agents and requesters.
        seed_store(other, tickets=0, days=30, seed=SEED, now=NOW)
        with other.write() as s:
            # Forms do not touch the clocks; the seed's answers need not fit them.
            s.execute(update(CatalogueItem).values(form=[]))
        yield other
    finally:
        other.dispose()


def _sample(store: Store) -> list[int]:
    """Tickets that escalated, paused, reopened or were cancelled, and some plain ones."""
    with store.read() as s:
        escalated = s.scalars(
            select(Escalation.ticket_id).distinct().order_by(Escalation.ticket_id)
        )
        paused = s.scalars(select(SlaClock.ticket_id).where(SlaClock.state == "paused"))
        cancelled = s.scalars(select(SlaClock.ticket_id).where(SlaClock.state == "cancelled"))
        reopened = s.scalars(select(Ticket.id).where(Ticket.reopen_count > 0))
        moved = s.scalars(
            select(AuditEvent.record_id).where(
                AuditEvent.action == "escalation", AuditEvent.field == "team"
            )
        )
        raised = s.scalars(
            select(AuditEvent.record_id)
            .where(AuditEvent.action == "escalation", AuditEvent.field == "priority")
            .order_by(AuditEvent.record_id)
        )
        plain = s.scalars(select(Ticket.id).where(Ticket.id % 23 == 0))
        # Catalogue requests in each state a promise can be in: none yet (awaiting), made
        # at submission, made again at the approval, kept by a rejection.
        planned = [i.id for i in s.scalars(select(CatalogueItem)) if i.tasks]
        requests = [
            t
            for status in REQUEST_STATUSES
            for t in s.scalars(
                select(Ticket.id)
                .where(Ticket.type == "request", Ticket.catalogue_item_id.is_not(None))
                .where(Ticket.catalogue_item_id.not_in(planned))
                .where(Ticket.status == status)
                .order_by(Ticket.id)
                .limit(2)
            )
        ]
        # Bulk requests of the items with steps (the desk-written ones, the newest
        # tickets, left out): waiting, turned down, at a step, fulfilled, closed.
        last_bulk = s.scalar(select(func.max(Ticket.id))) - planned_request_count(TICKETS)
        stepped = [
            t
            for status in REQUEST_STATUSES
            for t in s.scalars(
                select(Ticket.id)
                .where(Ticket.catalogue_item_id.in_(planned), Ticket.id <= last_bulk)
                .where(Ticket.status == status)
                .order_by(Ticket.id.desc())
                .limit(2)
            )
        ]
        promised_twice = s.scalars(
            select(AuditEvent.record_id)
            .where(AuditEvent.field == "promised_at", AuditEvent.old_value.is_not(None))
            .order_by(AuditEvent.record_id)
            .limit(2)
        )
        picked: list[int] = []
        # Problems with one and with several incidents.
        held = s.execute(
            select(Ticket.problem_id, func.count())
            .where(Ticket.problem_id.is_not(None))
            .group_by(Ticket.problem_id)
            .order_by(Ticket.problem_id)
        ).all()
        # Incidents a seeded change caused carry the change's link, which only a replay of
        # the change could write: left out, with any problem holding one.
        caused = set(
            s.scalars(
                select(AuditEvent.record_id).where(
                    AuditEvent.record_type == "ticket",
                    AuditEvent.action == "link",
                    AuditEvent.field == "change",
                )
            )
        )
        tainted = set(s.scalars(select(Ticket.problem_id).where(Ticket.id.in_(caused))))
        tainted.discard(None)
        held = [(p, n) for p, n in held if p not in caused and p not in tainted]
        problems = [p for p, n in held if n == 1][:2] + [p for p, n in held if n > 1][:3]
        # Problems that found their cause, and known errors.
        analysed = s.scalars(
            select(Ticket.id)
            .where(Ticket.type == "problem", Ticket.root_cause != "", Ticket.known_error.is_(False))
            .order_by(Ticket.id)
        )
        known_errors = s.scalars(
            select(Ticket.id).where(Ticket.known_error.is_(True)).order_by(Ticket.id.desc())
        )
        # Major incidents (played with every incident linked under them: the first link
        # made each one major), none of whose incidents a change caused.
        spoilt = set(s.scalars(select(Ticket.parent_id).where(Ticket.id.in_(caused))))
        majors = [
            m
            for m in s.scalars(select(Ticket.id).where(Ticket.is_major.is_(True)))
            if m not in spoilt
        ]
        for group, count in (
            (escalated, 18),
            (moved, 8),
            (raised, 2),
            (paused, 6),
            (cancelled, 4),
            (reopened, 4),
            (plain, 14),
            (problems, 5),
            (analysed, 3),
            (known_errors, 3),
            (majors, 3),
            (requests, 2 * len(REQUEST_STATUSES)),
            (promised_twice, 2),
            (stepped, 2 * len(REQUEST_STATUSES)),
        ):
            fresh = [t for t in dict.fromkeys(group) if t not in picked and t not in caused]
            picked += fresh[:count]
        # Each is played with what its writes link it to: a problem with its incidents
        # (create_problem links them), an incident with its problem, a major incident with
        # every incident under it (the first link made it major), an incident with its
        # major incident; none of them linked to a change (only its replay could write that).
        linked: set[int] = set()
        for t in picked:
            group = {t}
            while True:
                grown = group | set(
                    s.scalars(
                        select(Ticket.id).where(
                            Ticket.id.in_(group)
                            | Ticket.problem_id.in_(group)
                            | Ticket.parent_id.in_(group)
                        )
                    )
                )
                for column in (Ticket.problem_id, Ticket.parent_id):
                    grown |= set(s.scalars(select(column).where(Ticket.id.in_(group))))
                grown.discard(None)
                if grown == group:
                    break
                group = grown
            if not group & caused:
                linked |= group
    return sorted(linked)


# The field of a write's own event, by the write's action.
PRINCIPAL = {
    "assign": "assignee",
    "transition": "status",
    "resolve": "status",
    "reopen": "status",
    "task.done": "task",
}


def _writes(store: Store, ids: list[int]) -> list[tuple[datetime, int, int, Any]]:
    """Every write the seed recorded for these tickets, but the sweep's own, in time order:
    the event each version is named for. What a write does inside itself (a promise, the
    desk's replies to the requester, the next step handed out) the desk writes again."""
    with store.read() as s:
        audits = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_type == "ticket", AuditEvent.record_id.in_(ids))
            .where(AuditEvent.action != "escalation")
            .order_by(AuditEvent.at, AuditEvent.record_id, AuditEvent.record_version, AuditEvent.id)
        ).all()
        comments = {
            t: list(s.scalars(select(Comment).where(Comment.ticket_id == t).order_by(Comment.id)))
            for t in ids
        }
        step_notes = {
            (f.ticket_id, f.name): f.note
            for f in s.scalars(select(FulfilmentTask).where(FulfilmentTask.ticket_id.in_(ids)))
        }
        s.expunge_all()
    # The event that says which write it was: the one of the field the write is named for
    # (a transition that takes the ticket writes its assignee first), else the first.
    main: dict[tuple[int, int], AuditEvent] = {}
    for a in audits:
        key = (a.record_id, a.record_version)
        if key not in main or (
            a.field == PRINCIPAL.get(a.action) and main[key].field != PRINCIPAL.get(a.action)
        ):
            main[key] = a
    out = []
    for a in main.values():
        body = None
        if a.action.startswith("comment."):
            # The comment this write added (the desk's own replies sit beside it).
            kind = a.action.removeprefix("comment.")
            pool = comments[a.record_id]
            k = next(
                k
                for k, c in enumerate(pool)
                if c.created_at == a.at and c.author_id == a.actor_id and c.kind == kind
            )
            body = pool.pop(k).body
        elif a.action == "task.done":
            body = step_notes[(a.record_id, a.old_value)]
        out.append((a.at, a.record_id, a.record_version, (a, body)))
    return out


def _sweep_until(store: Store, until: datetime, *, final: bool = False) -> None:
    """The escalator's 30-second sweeps, run only where one has something due; `final`:
    then one at `until` itself, as the seed ends."""
    while True:
        with store.read() as s:
            nxt = s.scalar(select(func.min(SlaClock.next_event_at)))
        if nxt is None:
            return
        tick = datetime.fromtimestamp(
            -(-nxt.timestamp() // SWEEP_EVERY.total_seconds()) * SWEEP_EVERY.total_seconds(), UTC
        )
        if final and tick > until >= nxt:
            tick = until
        if tick > until:
            return
        with store.write() as s:
            sweep(s, tick)


def _replay(seeded: Store, blank: Store, ids: list[int]) -> dict[int, str]:
    """Play the sampled tickets' writes on `blank`; the number each got there, by seed id."""
    with seeded.read() as s:
        facts = {
            t.id: (
                t,
                s.get(Service, t.service_id).name if t.service_id else None,
                s.get(Requester, t.requester_id).email if t.requester_id else None,
                s.get(Team, t.team_id).name,
                s.get(CatalogueItem, t.catalogue_item_id).code if t.catalogue_item_id else None,
            )
            for t in s.scalars(select(Ticket).where(Ticket.id.in_(ids)))
        }
        names = dict(s.execute(select(Agent.id, Agent.username)).all())
        # An item with steps opens its requests in its own team (its steps move them on).
        stepped = {i.code for i in s.scalars(select(CatalogueItem)) if i.tasks}
        # The team a ticket was opened in: the one a breach moved it from, if one did.
        first_team = dict(
            s.execute(
                select(AuditEvent.record_id, AuditEvent.old_value)
                .where(AuditEvent.action == "escalation", AuditEvent.field == "team")
                .where(AuditEvent.record_id.in_(ids))
                .order_by(AuditEvent.id.desc())
            ).all()
        )
        s.expunge_all()
    admin = "desk.manager"
    numbers: dict[int, str] = {}
    seeded_ids = {t.number: tid for tid, (t, *_rest) in facts.items()}
    # Problems whose workaround was published: publish_workaround made their next write too.
    published: set[int] = set()
    for at, tid, _version, (audit, body) in _writes(seeded, ids):
        _sweep_until(blank, at)
        with blank.write() as s:
            actor = s.scalars(
                select(Agent).where(Agent.username == names.get(audit.actor_id, admin))
            ).one()
            incidents = (
                sorted(
                    (i.number, numbers[i.id]) for i, *_rest in facts.values() if i.problem_id == tid
                )
                if audit.action == "create"
                else []
            )
            if incidents:
                t, _service, _requester, team, _item = facts[tid]
                problem = desk_problems.create_problem(
                    s,
                    actor,
                    incidents=[replayed for _seeded, replayed in incidents],
                    title=t.title,
                    description=t.description,
                    impact=t.impact,
                    urgency=t.urgency,
                    team=first_team.get(tid, team),
                    now=at,
                )
                numbers[tid] = problem.number
                continue
            if audit.action == "link" and audit.field in ("problem", "incident", "is_major"):
                # Written by create_problem above, with the problem's create, or by the
                # first link under a major incident, with the incident's link.
                continue
            if audit.action == "create":
                t, service, requester, team, item = facts[tid]
                ticket = desk.create_ticket(
                    s,
                    actor,
                    type=t.type,
                    title=t.title,
                    impact=t.impact,
                    urgency=t.urgency,
                    description=t.description,
                    category=t.category,
                    service=service,
                    requester=requester,
                    team=first_team.get(tid, None if item in stepped else team),
                    catalogue_item=item,
                    opened_at=at,
                    now=at,
                )
                numbers[tid] = ticket.number
                continue
            number = numbers[tid]
            if audit.action == "assign":
                desk.assign_ticket(s, actor, number, assignee=audit.new_value, now=at)
            elif audit.action == "transition":
                if audit.new_value == "known_error" and tid in published:
                    published.discard(tid)
                    continue
                desk.transition_ticket(s, actor, number, audit.new_value, now=at)
            elif audit.action == "resolve":
                t = facts[tid][0]
                desk.resolve_ticket(
                    s, actor, number, code=t.resolution_code, notes=t.resolution_notes, now=at
                )
            elif audit.action == "reopen":
                desk.reopen_ticket(s, actor, number, reason=audit.reason, now=at)
            elif audit.action == "update" and audit.field == "root_cause":
                desk_problems.record_root_cause(
                    s, actor, number, root_cause=audit.new_value, now=at
                )
            elif audit.action == "update" and audit.field == "workaround":
                desk_problems.publish_workaround(
                    s, actor, number, workaround=audit.new_value, now=at
                )
                published.add(tid)
            elif audit.action == "link" and audit.field == "parent":
                major = numbers[seeded_ids[audit.new_value]]
                desk.link_ticket(s, actor, number, parent=major, now=at)
            elif audit.action.startswith("comment."):
                kind = audit.action.removeprefix("comment.")
                desk.add_comment(s, actor, number, body, kind=kind, now=at)
            elif audit.action == "task.done":
                complete_task(s, actor, number, note=body or "", now=at)
            else:
                raise AssertionError(
                    f"unexpected write {audit.action} {audit.field} {audit.new_value} on {tid}"
                )
    _sweep_until(blank, NOW, final=True)
    return numbers


def _clocks(store: Store, tid: int) -> dict[str, dict[str, Any]]:
    with store.read() as s:
        return {
            c.kind: {f: getattr(c, f) for f in CLOCK_FIELDS}
            for c in s.scalars(select(SlaClock).where(SlaClock.ticket_id == tid))
        }


def _escalations(store: Store, tid: int) -> list[tuple[Any, ...]]:
    with store.read() as s:
        rows = s.execute(
            select(
                SlaClock.kind,
                Escalation.kind,
                Escalation.level,
                Escalation.at,
                Escalation.rule,
                Escalation.reason,
                Escalation.actions,
            )
            .join(SlaClock, SlaClock.id == Escalation.clock_id)
            .where(Escalation.ticket_id == tid)
        ).all()
    return sorted((*r[:6], json.dumps(r[6])) for r in rows)


def _notifications(store: Store, tid: int, number: str) -> list[tuple[Any, ...]]:
    with store.read() as s:
        rows = s.execute(
            select(
                Agent.username,
                Team.name,
                Notification.kind,
                Notification.message,
                Notification.created_at,
                Notification.deliver_at,
            )
            .outerjoin(Agent, Agent.id == Notification.agent_id)
            .outerjoin(Team, Team.id == Notification.team_id)
            .where(Notification.ticket_id == tid, Notification.kind != "assignment")
            .where(Notification.kind != "comment")
        ).all()
    return sorted(
        (r[0] or "", r[1] or "", r[2], r[3].replace(number, "#"), r[4], r[5]) for r in rows
    )


def _ticket(store: Store, tid: int, renumber: dict[str, str]) -> dict[str, Any]:
    """Every column of the ticket the desk sets, names for ids, its problem as the number
    the replay gave it."""
    with store.read() as s:
        t = s.get(Ticket, tid)
        assert t is not None
        values = {f: getattr(t, f) for f in TICKET_FIELDS}
        values["team"] = t.team.name if t.team else None
        values["assignee"] = t.assignee.username if t.assignee else None
        held = t.problem
        values["problem"] = renumber.get(held.number, held.number) if held else None
        major = t.parent
        values["parent"] = renumber.get(major.number, major.number) if major else None
        return values


def _audits(
    store: Store, tid: int, number: str, renumber: dict[str, str], *, field: str | None = None
) -> list[tuple[Any, ...]]:
    """The ticket's audit events (or those of one `field`), every column that says what
    happened: when, by whom, in which write, the field, old → new, why; its own number
    read as "#" and other tickets' as the replay numbered them. In version order; the
    events of one write in a fixed order (the desk's order among them carries nothing)."""
    with store.read() as s:
        query = select(
            AuditEvent.record_version,
            AuditEvent.at,
            AuditEvent.actor_id,
            AuditEvent.action,
            AuditEvent.field,
            AuditEvent.old_value,
            AuditEvent.new_value,
            AuditEvent.reason,
        ).where(AuditEvent.record_type == "ticket", AuditEvent.record_id == tid)
        if field is not None:
            query = query.where(AuditEvent.field == field)
        rows = s.execute(query).all()

    def plain(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return renumber.get(value, value).replace(number, "#")

    return sorted((tuple(plain(v) for v in r) for r in rows), key=repr)


def _steps(store: Store, tid: int, number: str) -> dict[str, list[tuple[Any, ...]]]:
    """What fulfilment writes of a request besides its audit events: its step rows, its
    comments (the desk's replies among them) and every notice (the steps' among them)."""
    with store.read() as s:
        tasks = s.execute(
            select(
                FulfilmentTask.position,
                FulfilmentTask.steps,
                FulfilmentTask.name,
                FulfilmentTask.team_id,
                FulfilmentTask.expected_minutes,
                FulfilmentTask.status,
                FulfilmentTask.started_at,
                FulfilmentTask.ended_at,
                FulfilmentTask.done_by_id,
                FulfilmentTask.note,
            )
            .where(FulfilmentTask.ticket_id == tid)
            .order_by(FulfilmentTask.position)
        ).all()
        comments = s.execute(
            select(Comment.created_at, Comment.author_id, Comment.kind, Comment.body).where(
                Comment.ticket_id == tid
            )
        ).all()
        notices = s.execute(
            select(
                Notification.team_id,
                Notification.agent_id,
                Notification.kind,
                Notification.message,
                Notification.created_at,
                Notification.deliver_at,
            ).where(Notification.ticket_id == tid)
        ).all()

    def plain(rows: Any) -> list[tuple[Any, ...]]:
        return sorted(
            (tuple(v.replace(number, "#") if isinstance(v, str) else v for v in r) for r in rows),
            key=repr,
        )

    return {
        "tasks": [tuple(r) for r in tasks],
        "comments": plain(comments),
        "notices": plain(notices),
    }


def _id_of(store: Store, number: str) -> int:
    with store.read() as s:
        return s.scalars(select(Ticket.id).where(Ticket.number == number)).one()


def test_seeded_clocks_escalations_and_tickets_are_what_the_desk_writes(
    seeded: Store, blank: Store
) -> None:
    ids = _sample(seeded)
    assert len(ids) >= 40
    numbers = _replay(seeded, blank, ids)
    with seeded.read() as s:
        seeded_numbers = dict(s.execute(select(Ticket.id, Ticket.number)).all())
    renumber = {seeded_numbers[tid]: numbers[tid] for tid in ids}
    escalated = linked = 0
    promised: dict[int, list[str]] = {}
    # Writes whose events the seed must reproduce, by (action, field): counted below so
    # the sample is known to hold each.
    covered: set[tuple[str, str | None]] = set()
    with seeded.read() as s:
        statuses = dict(
            s.execute(
                select(Ticket.id, Ticket.status).where(
                    Ticket.id.in_(ids), Ticket.catalogue_item_id.is_not(None)
                )
            ).all()
        )
        stepped = dict(
            s.execute(
                select(Ticket.id, Ticket.status)
                .join(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
                .where(Ticket.id.in_(ids), CatalogueItem.code == "new-starter")
            ).all()
        )
    for tid in ids:
        other = _id_of(blank, numbers[tid])
        number = seeded_numbers[tid]
        label = f"{number} (replayed as {numbers[tid]})"
        assert _clocks(seeded, tid) == _clocks(blank, other), label
        seeded_escalations = _escalations(seeded, tid)
        assert seeded_escalations == _escalations(blank, other), label
        escalated += bool(seeded_escalations)
        assert _notifications(seeded, tid, number) == _notifications(blank, other, numbers[tid]), (
            label
        )
        assert _ticket(seeded, tid, renumber) == _ticket(blank, other, {}), label
        # The whole history: every event of every write, as the desk writes it.
        seeded_audits = _audits(seeded, tid, number, renumber)
        assert seeded_audits == _audits(blank, other, numbers[tid], {}), label
        covered |= {(action, fld) for _v, _at, _actor, action, fld, *_rest in seeded_audits}
        linked += any(a[3] == "link" for a in seeded_audits)
        if tid in stepped:
            # Steps, replies and notices: what fulfilment writes, row for row.
            mine, theirs = (
                _steps(seeded, tid, number),
                _steps(blank, other, numbers[tid]),
            )
            for part in ("tasks", "comments", "notices"):
                assert mine[part] == theirs[part], (label, part)
        if tid in statuses:
            promised[tid] = [
                a[3] for a in _audits(seeded, tid, number, renumber, field="promised_at")
            ]
    # The sample covers what matters: escalated tickets among them, and problems.
    assert escalated >= 10
    assert linked >= 10
    # Each write the seed imitates, with the fields the desk sets in it.
    assert {
        ("create", None),
        ("assign", "assignee"),
        ("transition", "assignee"),
        ("transition", "status"),
        ("transition", "is_open"),
        ("transition", "first_response_at"),
        ("transition", "approved_by"),
        ("transition", "approved_at"),
        ("transition", "closed_at"),
        ("resolve", "resolution_code"),
        ("resolve", "resolution_notes"),
        ("resolve", "resolved_at"),
        ("reopen", "status"),
        ("reopen", "resolved_at"),
        ("reopen", "reopen_count"),
        ("resolve", "is_open"),
        ("comment.work_note", "comment"),
        ("comment", "first_response_at"),
        ("task.done", "task"),
        ("task.done", "team"),
        ("task.done", "resolved_at"),
        ("task.start", "task"),
        ("escalation", "priority"),
        ("update", "root_cause"),
        ("update", "workaround"),
        ("update", "known_error"),
        ("link", "parent"),
        ("link", "is_major"),
    } <= covered, sorted(covered, key=repr)
    # Requests promised at submission and at an approval (a request promised at both is
    # sampled when the seed has one: too rare to count on at this size), in
    # each state a request ends in: waiting for its approver (no promise yet), turned
    # down (a promise kept, or none), fulfilling, fulfilled and closed.
    assert {"create", "transition"} <= {a for events in promised.values() for a in events}
    assert {"awaiting_approval", "rejected", "fulfilled", "closed"} <= set(statuses.values())
    # Requests of an item with steps: turned down, mid-way, fulfilled, closed.
    assert {"rejected", "fulfilling", "fulfilled", "closed"} <= set(stepped.values()), stepped
