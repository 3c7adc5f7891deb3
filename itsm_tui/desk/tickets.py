"""Writes to tickets: create, update, assign, transition, comment, link, resolve, reopen, close.

Each function takes the session of one write transaction, the acting agent and
its arguments; validates; checks the actor's role; writes its audit events in
the same transaction; and bumps the ticket's version. `expected_version`, when
given, is the version the caller's screen or script loaded: if the ticket has
moved on since, the write raises `Conflict` and writes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Comment, Notification, Team, Ticket
from itsm_tui.desk import fulfilment, sla
from itsm_tui.desk.catalogue_forms import check_answers
from itsm_tui.desk.errors import InvalidInput, PermissionDenied, TransitionRefused
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    MAX_TITLE,
    Edit,
    as_utc,
    check_level,
    check_text,
    check_version,
    get_agent,
    get_article,
    get_catalogue_item,
    get_change,
    get_or_create_requester,
    get_service,
    get_team,
    get_ticket,
    next_number,
    priority_matrix,
    require,
    utcnow,
)
from itsm_tui.domain.priority import PRIORITIES, priority_for, priority_label
from itsm_tui.domain.workflow import (
    COMMENT_KINDS,
    INCIDENT,
    NUMBER_PREFIX,
    PROBLEM,
    REQUEST,
    RESOLUTION_CODES,
    TICKET_TYPES,
    a_ticket_of_type,
    workflow_for,
)
from itsm_tui.i18n import _

WORK = "ticket.work"


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, _("now"))


def _editable(ticket: Ticket, doing: str) -> None:
    """Finished tickets are read-only until reopened."""
    flow = workflow_for(ticket.type)
    if ticket.status in ("closed", "cancelled"):
        raise TransitionRefused(
            _("{number} is {status}; you cannot {doing}").format(
                number=ticket.number, status=ticket.status, doing=doing
            )
        )
    if ticket.status in flow.reopenable:
        raise TransitionRefused(
            _("{number} is {status}; reopen it before you {doing}").format(
                number=ticket.number, status=ticket.status, doing=doing
            )
        )


def _notify(
    session: Session,
    agent: Agent | None,
    actor: Agent | None,
    ticket: Ticket,
    kind: str,
    message: str,
    now: datetime,
) -> None:
    # Nobody needs to be told about what they did themselves.
    if agent is None or (actor is not None and agent.id == actor.id):
        return
    session.add(
        Notification(
            agent_id=agent.id,
            ticket_id=ticket.id,
            kind=kind,
            message=message,
            created_at=now,
            deliver_at=now,
        )
    )


def major_incident_notice(number: str, title: str) -> str:
    """What the team and the assignee of a new major incident are told."""
    return _("{number} is a major incident: {title}").format(number=number, title=title[:120])


def raise_major_incident(
    session: Session, actor: Agent | None, major: Ticket, now: datetime
) -> None:
    """The `major_incident` notice, once, when an incident becomes a major incident (a person
    linking under it, or the intake gathering a group): to its team and its assignee."""
    message = major_incident_notice(major.number, major.title)
    if major.team_id is not None:
        session.add(
            Notification(
                team_id=major.team_id,
                ticket_id=major.id,
                kind="major_incident",
                message=message,
                created_at=now,
                deliver_at=now,
            )
        )
    _notify(session, major.assignee, actor, major, "major_incident", message, now)


def default_team_of(session: Session) -> Team | None:
    """The first-line team: lowest tier, then name."""
    return session.scalars(select(Team).order_by(Team.tier, Team.name).limit(1)).first()


def _check_member(agent: Agent, team: Team | None) -> None:
    if team is not None and agent.team_id is not None and agent.team_id != team.id:
        raise InvalidInput(
            _("{agent} is not a member of team {team}").format(agent=agent.username, team=team.name)
        )


def _move(session: Session, edit: Edit, ticket: Ticket, target: str, now: datetime) -> None:
    """Every status change: the open flag and the SLA clocks follow it."""
    old = ticket.status
    edit.set("status", target)
    edit.set("is_open", workflow_for(ticket.type).is_open(target))
    session.flush()
    sla.status_changed(session, ticket, old, target, now)


def _responded(session: Session, edit: Edit, ticket: Ticket, how: str, now: datetime) -> None:
    """The desk's first response to the requester, if `how` counts as one on this desk."""
    if ticket.first_response_at is not None:
        return
    if how != "resolution" and how not in sla.response_met_by(session):
        return
    if how == "reply" and not workflow_for(ticket.type).is_open(ticket.status):
        # A note to the requester after the work ended is not a response to their ticket.
        return
    edit.set("first_response_at", now)
    session.flush()
    sla.meet(session, ticket, sla.RESPONSE, now)


# ---------------------------------------------------------------------------
# Create


def create_ticket(
    session: Session,
    actor: Agent,
    *,
    type: str,
    title: str,
    impact: int,
    urgency: int,
    description: str = "",
    category: str = "",
    service: str | None = None,
    requester: str | None = None,
    team: str | None = None,
    assignee: str | None = None,
    catalogue_item: str | None = None,
    form_data: dict[str, Any] | None = None,
    opened_at: datetime | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open an incident, a service request or a problem."""
    now = _now(now)
    require(actor, WORK, _("create tickets"))
    if type not in TICKET_TYPES:
        raise InvalidInput(
            _("unknown ticket type {type!r}; use one of: {types}").format(
                type=type, types=", ".join(TICKET_TYPES)
            )
        )
    check_text(title, _("title"), required=True, limit=MAX_TITLE)
    check_text(description, _("description"))
    check_text(category, _("category"), limit=80)
    check_level(impact, _("impact"))
    check_level(urgency, _("urgency"))
    opened = now if opened_at is None else as_utc(opened_at, _("opened-at"))
    if opened > now + CLOCK_SKEW:
        raise InvalidInput(
            _("opened-at {at} is in the future").format(at=opened.isoformat(timespec="seconds"))
        )

    the_service = get_service(session, service) if service else None
    the_requester = get_or_create_requester(session, requester) if requester else None
    item = None
    if catalogue_item:
        if type != REQUEST:
            raise InvalidInput(_("only service requests come from the catalogue"))
        item = get_catalogue_item(session, catalogue_item)
        form_data = check_answers(session, item.form, form_data or {})
        if the_service is None and item.service is not None:
            the_service = item.service
    elif form_data:
        raise InvalidInput(_("form answers need a catalogue item"))

    the_team = get_team(session, team) if team else None
    if the_team is None and item is not None:
        the_team = item.team
    if the_team is None:
        the_team = default_team_of(session)
    the_assignee = get_agent(session, assignee) if assignee else None
    if the_assignee is not None:
        _check_member(the_assignee, the_team)

    flow = workflow_for(type)
    status = flow.initial
    if type == REQUEST and item is not None and item.requires_approval:
        status = "awaiting_approval"
    elif type == INCIDENT and the_assignee is not None:
        status = "assigned"

    ticket = Ticket(
        number=next_number(session, NUMBER_PREFIX[type]),
        type=type,
        title=title,
        description=description,
        status=status,
        is_open=flow.is_open(status),
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency, priority_matrix(session)),
        priority_overridden=False,
        category=category,
        service=the_service,
        requester=the_requester,
        team=the_team,
        assignee=the_assignee,
        created_by_id=actor.id,
        catalogue_item=item,
        form_data=form_data or None,
        opened_at=opened,
        updated_at=now,
        version=0,
    )
    session.add(ticket)
    session.flush()
    sla.start_clocks(session, ticket)
    edit = Edit(session, actor, ticket, action="create", now=now)
    edit.note(
        None,
        None,
        json.dumps(
            {
                "type": type,
                "status": status,
                "priority": priority_label(ticket.priority),
                "team": the_team.name if the_team else None,
                "assignee": the_assignee.username if the_assignee else None,
                "service": the_service.name if the_service else None,
            },
            ensure_ascii=False,
        ),
    )
    if item is not None:
        fulfilment.request_created(session, edit, actor, ticket)
    _notify(
        session,
        the_assignee,
        actor,
        ticket,
        "assignment",
        _("{number} assigned to you: {title}").format(number=ticket.number, title=title[:120]),
        now,
    )
    session.flush()
    return ticket


# ---------------------------------------------------------------------------
# Update fields


def update_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    expected_version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    category: str | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    service: str | None = None,
    requester: str | None = None,
    root_cause: str | None = None,
    workaround: str | None = None,
    known_error: bool | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change the descriptive fields; impact or urgency re-derive the priority."""
    now = _now(now)
    require(actor, WORK, _("update tickets"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    _editable(ticket, _("change it"))
    edit = Edit(session, actor, ticket, action="update", now=now)
    if title is not None:
        edit.set("title", check_text(title, _("title"), required=True, limit=MAX_TITLE))
    if description is not None:
        edit.set("description", check_text(description, _("description")))
    if category is not None:
        edit.set("category", check_text(category, _("category"), limit=80))
    if service is not None:
        the_service = get_service(session, service) if service else None
        edit.set(
            "service_id",
            the_service.id if the_service else None,
            shown=the_service,
            shown_old=ticket.service,
        )
    if requester is not None:
        who = get_or_create_requester(session, requester) if requester else None
        edit.set("requester_id", who.id if who else None, shown=who, shown_old=ticket.requester)
    if root_cause is not None or workaround is not None or known_error is not None:
        if ticket.type != PROBLEM:
            raise InvalidInput(_("root cause, workaround and known error belong to problems"))
        if root_cause is not None:
            edit.set("root_cause", check_text(root_cause, _("root cause")))
        if workaround is not None:
            edit.set("workaround", check_text(workaround, _("workaround")))
        if known_error is not None:
            edit.set("known_error", known_error)
    if impact is not None or urgency is not None:
        new_impact = check_level(impact if impact is not None else ticket.impact, _("impact"))
        new_urgency = check_level(urgency if urgency is not None else ticket.urgency, _("urgency"))
        edit.set("impact", new_impact)
        edit.set("urgency", new_urgency)
        # A supervisor's override stands until a supervisor changes it again.
        if not ticket.priority_overridden:
            derived = priority_for(new_impact, new_urgency, priority_matrix(session))
            if edit.set(
                "priority",
                derived,
                shown=priority_label(derived),
                shown_old=priority_label(ticket.priority),
            ):
                session.flush()
                sla.retarget(session, ticket, actor_id=actor.id, now=now, reason=None)
    session.flush()
    return ticket


def override_priority(
    session: Session,
    actor: Agent,
    number: str,
    priority: int,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Set the priority by hand, against the matrix (supervisors; the reason is audited)."""
    now = _now(now)
    require(actor, "ticket.override_priority", _("override a priority"))
    if priority not in PRIORITIES:
        raise InvalidInput(_("priority must be P1, P2, P3 or P4, not {p}").format(p=priority))
    check_text(reason, _("reason"), required=True, limit=2000)
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    _editable(ticket, _("change its priority"))
    edit = Edit(session, actor, ticket, action="priority.override", now=now, reason=reason)
    edit.set(
        "priority",
        priority,
        shown=priority_label(priority),
        shown_old=priority_label(ticket.priority),
    )
    edit.set("priority_overridden", True)
    session.flush()
    sla.retarget(session, ticket, actor_id=actor.id, now=now, reason=reason)
    session.flush()
    return ticket


# ---------------------------------------------------------------------------
# Assign


def assign_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    team: str | None = None,
    assignee: str | None = None,
    unassign: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Hand the ticket to a team and/or an agent (`assignee=actor.username` is "take")."""
    now = _now(now)
    require(actor, WORK, _("assign tickets"))
    if team is None and assignee is None and not unassign:
        raise InvalidInput(_("name a team, an assignee, or both"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    _editable(ticket, _("reassign it"))

    new_team = get_team(session, team) if team else ticket.team
    new_assignee = ticket.assignee
    if unassign:
        new_assignee = None
    elif assignee:
        new_assignee = get_agent(session, assignee)
        if team is None and new_assignee.team is not None:
            # Giving it to a person moves it to that person's team.
            new_team = new_assignee.team
    elif (
        new_assignee is not None
        and new_team is not None
        and new_assignee.team_id
        not in (
            None,
            new_team.id,
        )
    ):
        # Moving the ticket to another team takes it off a holder who is not in that team.
        new_assignee = None
    if new_assignee is not None:
        if not new_assignee.active:
            raise InvalidInput(_("{agent} is inactive").format(agent=new_assignee.username))
        _check_member(new_assignee, new_team)
    if ticket.team is not None and new_team is not None and new_team.tier != ticket.team.tier:
        require(actor, "ticket.assign_across_tiers", _("move a ticket across support tiers"))

    edit = Edit(session, actor, ticket, action="assign", now=now)
    edit.set("team_id", new_team.id if new_team else None, shown=new_team, shown_old=ticket.team)
    old_assignee = ticket.assignee
    edit.set(
        "assignee_id",
        new_assignee.id if new_assignee else None,
        shown=new_assignee,
        shown_old=old_assignee,
    )
    if ticket.type == INCIDENT:
        if new_assignee is not None and ticket.status == "new":
            _move(session, edit, ticket, "assigned", now)
        elif new_assignee is None and ticket.status == "assigned":
            _move(session, edit, ticket, "new", now)
    if new_assignee is not None and (old_assignee is None or old_assignee.id != new_assignee.id):
        _notify(
            session,
            new_assignee,
            actor,
            ticket,
            "assignment",
            _("{number} assigned to you by {actor}: {title}").format(
                number=ticket.number, actor=actor.username, title=ticket.title[:120]
            ),
            now,
        )
    session.flush()
    return ticket


# ---------------------------------------------------------------------------
# Status


def _refuse_move(ticket: Ticket, target: str) -> TransitionRefused:
    flow = workflow_for(ticket.type)
    allowed = list(flow.allowed(ticket.status))
    if ticket.status in flow.reopenable:
        allowed.append(_("reopen"))
    if target not in flow.statuses:
        return TransitionRefused(
            _("{target!r} is not a status of {a_type}; statuses: {statuses}").format(
                target=target,
                a_type=a_ticket_of_type(ticket.type),
                statuses=", ".join(flow.statuses),
            )
        )
    if not allowed:
        return TransitionRefused(
            _("{number} is {status}, which is final; nothing can move it").format(
                number=ticket.number, status=ticket.status
            )
        )
    return TransitionRefused(
        _(
            "{number} cannot move from {status} to {target}; from {status} it can go to: {allowed}"
        ).format(
            number=ticket.number,
            status=ticket.status,
            target=target,
            allowed=", ".join(allowed),
        )
    )


def transition_ticket(
    session: Session,
    actor: Agent,
    number: str,
    status: str,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Move the ticket along its state machine (resolve and reopen have their own functions)."""
    now = _now(now)
    require(actor, WORK, _("change ticket status"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    flow = workflow_for(ticket.type)
    target = status.strip().lower()
    if target == ticket.status:
        raise TransitionRefused(
            _("{number} is already {status}").format(number=ticket.number, status=target)
        )
    if not flow.can_move(ticket.status, target):
        raise _refuse_move(ticket, target)
    if target == flow.resolved:
        raise InvalidInput(
            _("{status} needs a resolution code and notes; use resolve").format(status=target)
        )
    if note is not None:
        check_text(note, _("note"), required=True)
    if (
        ticket.type == REQUEST
        and ticket.status == "awaiting_approval"
        and target in ("approved", "rejected")
    ):
        _check_approver(actor, ticket)

    edit = Edit(session, actor, ticket, action="transition", now=now)
    if target == "assigned" and ticket.assignee is None:
        raise InvalidInput(
            _("{number} has no assignee; assign an agent before moving it to assigned").format(
                number=ticket.number
            )
        )
    if target == "in_progress" and ticket.assignee is None:
        # Whoever starts the work holds the ticket.
        edit.set("assignee_id", actor.id, shown=actor, shown_old=None)
    _move(session, edit, ticket, target, now)
    if target == "in_progress":
        _responded(session, edit, ticket, "in_progress", now)
    if target in ("approved", "rejected"):
        edit.set("approved_by_id", actor.id, shown=actor, shown_old=None)
        edit.set("approved_at", now)
    if target in ("closed", "cancelled", "rejected") and ticket.closed_at is None:
        edit.set("closed_at", now)
    if note:
        _add_comment(session, edit, actor, ticket, note, "work_note", now)
    if ticket.type == REQUEST and target in ("approved", "rejected"):
        fulfilment.request_decided(session, edit, actor, ticket, target == "approved")
    elif ticket.type == REQUEST and target == "cancelled":
        fulfilment.request_cancelled(session, edit, ticket)
    session.flush()
    return ticket


def _check_approver(actor: Agent, ticket: Ticket) -> None:
    """A catalogue item that names a role is approved by that role only (not even an admin:
    approval is the named role's judgement); otherwise by whoever may approve requests."""
    role = ticket.catalogue_item.approval_role if ticket.catalogue_item else None
    if role is None:
        require(actor, "ticket.approve_request", _("approve or reject requests"))
        return
    require(actor, WORK, _("approve or reject requests"))
    if role not in actor.role_set:
        raise PermissionDenied(
            _("{agent} cannot approve or reject {number}: {item} is approved by {role}").format(
                agent=actor.username,
                number=ticket.number,
                item=ticket.catalogue_item.code,
                role=role,
            )
        )


def resolve_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    code: str,
    notes: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolve (incident, problem) or fulfil (request), with a resolution code and notes."""
    now = _now(now)
    require(actor, WORK, _("resolve tickets"))
    code = code.strip().lower()
    if code not in RESOLUTION_CODES:
        raise InvalidInput(
            _("unknown resolution code {code!r}; codes: {codes}").format(
                code=code, codes=", ".join(RESOLUTION_CODES)
            )
        )
    check_text(notes, _("resolution notes"), required=True)
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    flow = workflow_for(ticket.type)
    target = flow.resolved
    assert target is not None
    if not flow.can_move(ticket.status, target):
        raise _refuse_move(ticket, target)
    if ticket.type == REQUEST:
        fulfilment.refuse_resolving(session, ticket)
    edit = Edit(session, actor, ticket, action="resolve", now=now)
    _fulfil(session, edit, actor, ticket, code, notes, now)
    session.flush()
    return ticket


def _fulfil(
    session: Session, edit: Edit, actor: Agent, ticket: Ticket, code: str, notes: str, now: datetime
) -> None:
    """Resolve (fulfil) within `edit`: by hand, or by a request's last fulfilment step."""
    target = workflow_for(ticket.type).resolved
    assert target is not None
    if ticket.assignee is None:
        edit.set("assignee_id", actor.id, shown=actor, shown_old=None)
    # A resolution answers the requester too, whatever counts as a response here.
    _responded(session, edit, ticket, "resolution", now)
    edit.set("resolution_code", code)
    edit.set("resolution_notes", notes)
    edit.set("resolved_at", now)
    _move(session, edit, ticket, target, now)


def reopen_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Take a resolved ticket back into work; the reason is kept in the audit log."""
    now = _now(now)
    require(actor, WORK, _("reopen tickets"))
    check_text(reason, _("reason"), required=True, limit=10_000)
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    flow = workflow_for(ticket.type)
    if ticket.status not in flow.reopenable:
        if ticket.status == "closed":
            raise TransitionRefused(
                _("{number} is closed, which is final; open a new ticket and link it").format(
                    number=ticket.number
                )
            )
        raise TransitionRefused(
            _("{number} is {status}; only a {statuses} ticket can be reopened").format(
                number=ticket.number,
                status=ticket.status,
                statuses=_(" or ").join(sorted(flow.reopenable)),
            )
        )
    edit = Edit(session, actor, ticket, action="reopen", now=now, reason=reason)
    assert flow.reopen_to is not None
    _move(session, edit, ticket, flow.reopen_to, now)
    edit.set("resolved_at", None)
    edit.set("resolution_code", None)
    edit.set("resolution_notes", None)
    edit.set("reopen_count", ticket.reopen_count + 1)
    _add_comment(session, edit, actor, ticket, reason, "work_note", now)
    session.flush()
    return ticket


def close_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Close a resolved, fulfilled or rejected ticket: final."""
    return transition_ticket(
        session, actor, number, "closed", expected_version=expected_version, now=now
    )


# ---------------------------------------------------------------------------
# Comments


def _add_comment(
    session: Session, edit: Edit, actor: Agent, ticket: Ticket, body: str, kind: str, now: datetime
) -> Comment:
    comment = Comment(ticket_id=ticket.id, author_id=actor.id, kind=kind, body=body, created_at=now)
    session.add(comment)
    edit.note("comment", None, kind, action=f"comment.{kind}")
    return comment


def add_comment(
    session: Session,
    actor: Agent,
    number: str,
    body: str,
    *,
    kind: str = "reply",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Comment:
    """A public reply to the requester or an internal work note."""
    now = _now(now)
    require(actor, WORK, _("comment on tickets"))
    if kind not in COMMENT_KINDS:
        raise InvalidInput(_("a comment is a reply or a work_note, not {kind!r}").format(kind=kind))
    check_text(body, _("comment"), required=True)
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    edit = Edit(session, actor, ticket, action="comment", now=now)
    comment = _add_comment(session, edit, actor, ticket, body, kind, now)
    if kind == "reply":
        _responded(session, edit, ticket, "reply", now)
    if ticket.assignee is not None:
        _notify(
            session,
            ticket.assignee,
            actor,
            ticket,
            "comment",
            _("{actor} commented on {number}").format(actor=actor.username, number=ticket.number),
            now,
        )
    session.flush()
    return comment


# ---------------------------------------------------------------------------
# Links


def link_ticket(
    session: Session,
    actor: Agent,
    number: str,
    *,
    parent: str | None = None,
    problem: str | None = None,
    change: str | None = None,
    article: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Link an incident to its major incident, a problem, a change or a knowledge article."""
    now = _now(now)
    require(actor, WORK, _("link tickets"))
    if not any((parent, problem, change, article)):
        raise InvalidInput(_("name what to link: a parent, a problem, a change or an article"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    edit = Edit(session, actor, ticket, action="link", now=now)
    if parent:
        major = get_ticket(session, parent)
        if ticket.type != INCIDENT or major.type != INCIDENT:
            raise InvalidInput(_("only an incident can have a parent, and it must be an incident"))
        # Walk up from the new parent: linking under one's own child would make a loop.
        node: Ticket | None = major
        while node is not None:
            if node.id == ticket.id:
                raise InvalidInput(
                    _("{number} cannot be its own parent").format(number=ticket.number)
                )
            node = node.parent
        edit.set("parent_id", major.id, shown=major, shown_old=ticket.parent)
        if not major.is_major:
            major_edit = Edit(session, actor, major, action="link", now=now)
            major_edit.set("is_major", True)
            raise_major_incident(session, actor, major, now)
    if problem:
        the_problem = get_ticket(session, problem)
        if the_problem.type != PROBLEM:
            raise InvalidInput(_("{number} is not a problem").format(number=the_problem.number))
        if ticket.type == PROBLEM:
            raise InvalidInput(_("a problem cannot be linked to another problem"))
        edit.set("problem_id", the_problem.id, shown=the_problem, shown_old=ticket.problem)
    if change:
        the_change = get_change(session, change)
        edit.set("change_id", the_change.id, shown=the_change, shown_old=ticket.change)
    if article:
        the_article = get_article(session, article)
        edit.set("kb_article_id", the_article.id, shown=the_article, shown_old=ticket.kb_article)
    session.flush()
    return ticket
