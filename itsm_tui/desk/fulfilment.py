"""A catalogue request's fulfilment: its item's steps handed to their teams one after another,
the delivery standard's promised instant, and the public replies that keep the requester
informed at each step.

The steps are rows of `fulfilment_tasks`, not child tickets: a step has no SLA clocks,
priority, requester or state machine of its own, and every KPI counts tickets by type.
The request itself goes to the team of its open step (its `team_id` follows the plan),
so each step shows in its team's queue and inbox without a second kind of ticket.

Only an item with a plan (`tasks` in the desk file) is driven by the desk: its requests
are started, moved and fulfilled here and the requester is told of each move. A request
for an item without a plan is worked by hand as before (the agent replies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    Comment,
    FulfilmentTask,
    Notification,
    SlaPolicy,
    Ticket,
)
from itsm_tui.desk import sla
from itsm_tui.desk.errors import InvalidInput, PermissionDenied, TransitionRefused
from itsm_tui.desk.records import (
    Edit,
    as_utc,
    check_text,
    check_version,
    get_team,
    get_ticket,
    require,
    utcnow,
)
from itsm_tui.domain import roles
from itsm_tui.domain.calendar import BusinessCalendar, working_day_minutes
from itsm_tui.domain.workflow import REQUEST
from itsm_tui.i18n import _

WORK = "ticket.work"
OPEN, DONE, CANCELLED = "open", "done", "cancelled"


def delivery_standard(minutes: int, day_minutes: int | None = None) -> str:
    """A delivery standard (or a step's expected time) as people say it, the one place
    that words one: in a business calendar of 450-minute days 2250 minutes is "5 working
    days" and 240 is "4 working hours"; otherwise hours and minutes ("7 h 30 min").
    `day_minutes` is the working day of the calendar that times the request
    (`working_day_of`); None for a 24x7 calendar, or when none is known."""
    if day_minutes and minutes % day_minutes == 0:
        days = minutes // day_minutes
        return _("1 working day") if days == 1 else _("{n} working days").format(n=days)
    hours, rest = divmod(minutes, 60)
    if day_minutes and hours and not rest:
        return _("1 working hour") if hours == 1 else _("{n} working hours").format(n=hours)
    if not hours:
        return _("{m} min").format(m=rest)
    if not rest:
        return _("{h} h").format(h=hours)
    return _("{h} h {m} min").format(h=hours, m=rest)


# The priority a catalogue item's requests are timed at when the item is shown before any
# request exists (impact and urgency 3, as the request form starts).
SHOWN_PRIORITY = 3


def working_day_of(
    policies: Sequence[SlaPolicy], item_code: str, service: str | None, priority: int
) -> int | None:
    """The working day (minutes) of the calendar that times a request for the item: the
    one its SLA policy uses; None when no policy times it (around the clock)."""
    policy = sla.matching_policy(policies, REQUEST, priority, service, item_code)
    if policy is None:
        return None
    return working_day_minutes(sla.calendar_of(policy.calendar))


def working_day_of_ticket(session: Session, ticket: Ticket) -> int | None:
    """The working day (minutes) of the calendar of the policy that times the ticket."""
    policy = sla.policy_for(session, ticket)
    return working_day_minutes(sla.calendar_of(policy.calendar)) if policy is not None else None


def standard_of_ticket(session: Session, ticket: Ticket) -> str | None:
    """The request's item's delivery standard, worded in the calendar that times it."""
    item = ticket.catalogue_item
    if item is None:
        return None
    return delivery_standard(item.fulfilment_minutes, working_day_of_ticket(session, ticket))


def plan_of(ticket: Ticket) -> list[dict[str, Any]]:
    """The request's item's steps in order; empty for anything not driven by a plan."""
    if ticket.type != REQUEST or ticket.catalogue_item is None:
        return []
    return list(ticket.catalogue_item.tasks or ())


def open_task(session: Session, ticket: Ticket) -> FulfilmentTask | None:
    return session.scalars(
        select(FulfilmentTask).where(
            FulfilmentTask.ticket_id == ticket.id, FulfilmentTask.status == OPEN
        )
    ).first()


def _reply(session: Session, edit: Edit, actor: Agent, ticket: Ticket, body: str) -> None:
    """A public reply written by the desk on the actor's behalf. It tells the requester
    where their request stands; it is not the desk's first response (no SLA clock stops)."""
    session.add(
        Comment(
            ticket_id=ticket.id, author_id=actor.id, kind="reply", body=body, created_at=edit.now
        )
    )
    edit.note("comment", None, "reply", action="comment.reply")


def promise_of(cal: BusinessCalendar, start: datetime, standard_minutes: int) -> datetime:
    """The promised instant of a request: its item's delivery standard (minutes) from
    `start`, in business time of `cal`, the calendar of the SLA policy that times the
    request (around the clock when none does). The one definition: the write path
    (`_promise`) and the bulk seed (data/seed/replay.py) both call it.

    The resolution clock has the same target (sla.target_of) in the same calendar and
    counts from the same instant (it is born paused when the request waits for approval
    and resumes at the approval), so its due time and the promise are one instant."""
    return sla.instant_at_percent(cal, start, 0, standard_minutes, sla.BREACH_PERCENT)


def _promise(session: Session, edit: Edit, ticket: Ticket, start: datetime) -> None:
    """Promise the request from `start` (its submission, or its approval when it waited
    for one), as part of the write `edit` records."""
    item = ticket.catalogue_item
    if item is None:
        return
    policy = sla.policy_for(session, ticket)
    cal = sla.calendar_of(policy.calendar) if policy is not None else sla.UTC_24X7
    edit.set("promised_at", promise_of(cal, start, item.fulfilment_minutes))


# ---------------------------------------------------------------------------
# What the desk tells the requester and the teams: the one wording of each notice, used
# by the write path below and by the bulk seed (data/seed/fulfilment.py).


def said_submitted(number: str, item: str, standard: str | None) -> str:
    return _(
        "We have your request {number} for {item}. Its delivery standard is {standard}; "
        "we will tell you here as each step starts and ends."
    ).format(number=number, item=item, standard=standard)


def said_needs_approval(number: str, approval_role: str | None) -> str:
    return _("{number} needs approval ({who}) before the work starts.").format(
        number=number,
        who=_("by the {role} role").format(role=approval_role)
        if approval_role
        else _("by a supervisor"),
    )


def said_not_approved(number: str) -> str:
    return _("{number} was not approved, so it will not be fulfilled.").format(number=number)


def said_approved(number: str) -> str:
    return _("{number} is approved; the work starts now.").format(number=number)


def step_notice(number: str, position: int, steps: int, name: str) -> str:
    """The notice a step's team gets when the step is handed to it."""
    return _("{number} step {position} of {steps} is yours: {name}").format(
        number=number, position=position, steps=steps, name=name
    )


def said_step_started(
    position: int,
    steps: int,
    name: str,
    team: str,
    minutes: int | None,
    day_minutes: int | None,
) -> str:
    expected = (
        _(" (expected to take {standard})").format(standard=delivery_standard(minutes, day_minutes))
        if minutes
        else ""
    )
    return _("Step {position} of {steps} has started: {name}, by {team}{expected}.").format(
        position=position, steps=steps, name=name, team=team, expected=expected
    )


def said_step_done(position: int, steps: int, name: str) -> str:
    return _("Step {position} of {steps} is done: {name}.").format(
        position=position, steps=steps, name=name
    )


def fulfilled_notes(item: str) -> str:
    """The resolution notes of a request its last step fulfilled."""
    return _("Every step of {item} is done.").format(item=item)


def said_fulfilled(number: str) -> str:
    return _("{number} is fulfilled: every step is done.").format(number=number)


# ---------------------------------------------------------------------------
# Hooks of the ticket writes (itsm_tui.desk.tickets)


def request_created(session: Session, edit: Edit, actor: Agent, ticket: Ticket) -> None:
    """A catalogue request was just created: promise it when no approval stands in the way;
    a planned one tells the requester and, without an approval step, starts its first step."""
    item = ticket.catalogue_item
    if item is None:
        return
    waiting = ticket.status == "awaiting_approval"
    if not waiting:
        _promise(session, edit, ticket, ticket.opened_at)
    steps = plan_of(ticket)
    if not steps:
        return
    _reply(
        session,
        edit,
        actor,
        ticket,
        said_submitted(ticket.number, item.name, standard_of_ticket(session, ticket)),
    )
    if waiting:
        _reply(
            session,
            edit,
            actor,
            ticket,
            said_needs_approval(ticket.number, item.approval_role),
        )
        return
    _start_step(session, edit, actor, ticket, 1, steps)


def request_decided(
    session: Session, edit: Edit, actor: Agent, ticket: Ticket, approved: bool
) -> None:
    """The approver answered: the promise counts from the approval, a planned request
    tells the requester and starts its first step (or ends, rejected)."""
    if approved:
        _promise(session, edit, ticket, edit.now)
    steps = plan_of(ticket)
    if not steps:
        return
    if not approved:
        _reply(
            session,
            edit,
            actor,
            ticket,
            said_not_approved(ticket.number),
        )
        return
    _reply(
        session,
        edit,
        actor,
        ticket,
        said_approved(ticket.number),
    )
    _start_step(session, edit, actor, ticket, 1, steps)


def request_cancelled(session: Session, edit: Edit, ticket: Ticket) -> None:
    """A cancelled request's open step ends with it."""
    task = open_task(session, ticket)
    if task is None:
        return
    task.status, task.ended_at = CANCELLED, edit.now
    edit.note("task", task.name, CANCELLED, action="task.cancel")


def refuse_resolving(session: Session, ticket: Ticket) -> None:
    """A planned request is fulfilled by its last step, not by hand while one is open."""
    task = open_task(session, ticket)
    if task is not None:
        raise TransitionRefused(
            _(
                "{number} is at step {position} of {steps} ({name}, {team}); it is fulfilled "
                "when its last step is done: itsm catalog done {number}"
            ).format(
                number=ticket.number,
                position=task.position,
                steps=task.steps,
                name=task.name,
                team=task.team.name if task.team else "—",
            )
        )


def _start_step(
    session: Session,
    edit: Edit,
    actor: Agent,
    ticket: Ticket,
    position: int,
    steps: list[dict[str, Any]],
) -> FulfilmentTask:
    """Hand step `position` (1-based) to its team: the request moves to fulfilling and to
    that team, unassigned; the team is notified and the requester told."""
    from itsm_tui.desk.tickets import _move

    step = steps[position - 1]
    team = get_team(session, step["team"])
    task = FulfilmentTask(
        ticket_id=ticket.id,
        position=position,
        steps=len(steps),
        name=step["name"],
        team_id=team.id,
        expected_minutes=step.get("minutes"),
        status=OPEN,
        started_at=edit.now,
        note="",
    )
    session.add(task)
    if ticket.status != "fulfilling":
        _move(session, edit, ticket, "fulfilling", edit.now)
    edit.set("team_id", team.id, shown=team, shown_old=ticket.team)
    edit.set("assignee_id", None, shown=None, shown_old=ticket.assignee)
    edit.note("task", None, step["name"], action="task.start")
    session.add(
        Notification(
            team_id=team.id,
            ticket_id=ticket.id,
            kind="assignment",
            message=step_notice(ticket.number, position, len(steps), step["name"]),
            created_at=edit.now,
            deliver_at=edit.now,
        )
    )
    _reply(
        session,
        edit,
        actor,
        ticket,
        said_step_started(
            position,
            len(steps),
            step["name"],
            team.name,
            step.get("minutes"),
            working_day_of_ticket(session, ticket),
        ),
    )
    session.flush()
    return task


# ---------------------------------------------------------------------------
# Completing a step


def complete_task(
    session: Session,
    actor: Agent,
    number: str,
    *,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> FulfilmentTask:
    """Mark the request's open step done (by a member of its team, or a supervisor); the
    next step goes to its team, or, after the last, the request is fulfilled."""
    from itsm_tui.desk.tickets import _fulfil, _responded

    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, WORK, _("complete fulfilment steps"))
    check_text(note, _("note"), limit=10_000)
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    if ticket.type != REQUEST:
        raise InvalidInput(
            _("{number} is not a service request; only requests have fulfilment steps").format(
                number=ticket.number
            )
        )
    task = open_task(session, ticket)
    if task is None:
        steps = plan_of(ticket)
        raise TransitionRefused(
            _("{number} has no open fulfilment step: {why}").format(
                number=ticket.number,
                why=_("its item has no fulfilment plan")
                if not steps
                else _("it is {status}").format(status=ticket.status),
            )
        )
    if actor.team_id != task.team_id and not roles.can(
        actor.role_set, "ticket.assign_across_tiers"
    ):
        raise PermissionDenied(
            _("{agent} cannot complete {name} of {number}: that step belongs to {team}").format(
                agent=actor.username,
                name=task.name,
                number=ticket.number,
                team=task.team.name if task.team else "—",
            )
        )
    edit = Edit(session, actor, ticket, action="task.done", now=now)
    task.status, task.ended_at, task.done_by_id, task.note = DONE, now, actor.id, note
    edit.note("task", task.name, DONE)
    _reply(
        session,
        edit,
        actor,
        ticket,
        said_step_done(task.position, task.steps, task.name),
    )
    # Unlike the desk's own notices, this reply follows an agent's work: it answers the
    # requester as a reply by hand would (where replies count as the first response).
    _responded(session, edit, ticket, "reply", now)
    steps = plan_of(ticket)
    if task.position < len(steps):
        _start_step(session, edit, actor, ticket, task.position + 1, steps)
    else:
        notes = fulfilled_notes(ticket.catalogue_item.name)
        _fulfil(session, edit, actor, ticket, "fulfilled", notes, now)
        _reply(session, edit, actor, ticket, said_fulfilled(ticket.number))
    session.flush()
    return task


# ---------------------------------------------------------------------------
# Reading a request's steps


@dataclass(frozen=True)
class StepView:
    """One step of a request's plan as the CLI and the ticket screen show it."""

    position: int
    name: str
    team: str | None
    expected_minutes: int | None
    status: str  # waiting (not handed out yet) | open | done | cancelled
    started_at: datetime | None
    ended_at: datetime | None
    done_by: str | None
    note: str

    def as_json(self) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return {
            "position": self.position,
            "name": self.name,
            "team": self.team,
            "expected_minutes": self.expected_minutes,
            "status": self.status,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "done_by": self.done_by,
            "note": self.note,
        }


WAITING = "waiting"


def request_steps(session: Session, ticket: Ticket) -> list[StepView]:
    """The steps already handed out (from their rows) then the rest of the plan, waiting."""
    rows = session.scalars(
        select(FulfilmentTask)
        .where(FulfilmentTask.ticket_id == ticket.id)
        .order_by(FulfilmentTask.position)
    ).all()
    shown = [
        StepView(
            position=t.position,
            name=t.name,
            team=t.team.name if t.team else None,
            expected_minutes=t.expected_minutes,
            status=t.status,
            started_at=t.started_at,
            ended_at=t.ended_at,
            done_by=t.done_by.username if t.done_by else None,
            note=t.note or "",
        )
        for t in rows
    ]
    if ticket.is_open:
        for position, step in enumerate(plan_of(ticket), start=1):
            if position > len(shown):
                shown.append(
                    StepView(
                        position=position,
                        name=step["name"],
                        team=step["team"],
                        expected_minutes=step.get("minutes"),
                        status=WAITING,
                        started_at=None,
                        ended_at=None,
                        done_by=None,
                        note="",
                    )
                )
    return shown
