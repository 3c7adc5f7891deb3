"""Many incidents at once: the intake's burst (thousands of alerts in seconds) opened
through the same rules as `create_ticket`, `link_ticket` and `record_outage`, set-based.

What each writes is what the one-at-a-time function writes (tested field by field: the
ticket, its SLA clocks, its audit events, its notices and outbox rows), but a batch costs a
handful of statements, not ~24 per incident: the numbers come from one upsert, the tickets,
clocks, audit events and outages are inserted in one flush each (executemany with
RETURNING), the services and teams they name are read once, and the tickets' SLA keys are
set by one UPDATE. A draft the desk refuses comes back as its error; the others go on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Outage, Service, Team, Ticket
from itsm_tui.desk import sla
from itsm_tui.desk.errors import DeskError, InvalidInput, NotFound
from itsm_tui.desk.measures import audit_plain, not_future
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    MAX_TITLE,
    Edit,
    as_utc,
    audit_value,
    check_level,
    check_text,
    get_service,
    get_team,
    next_numbers,
    priority_matrix,
    require,
)
from itsm_tui.desk.tickets import WORK, default_team_of, raise_major_incident
from itsm_tui.domain.priority import priority_for, priority_label
from itsm_tui.domain.workflow import INCIDENT, NUMBER_PREFIX, workflow_for
from itsm_tui.i18n import _


@dataclass(frozen=True)
class IncidentDraft:
    """One incident to open: `create_ticket`'s arguments for an incident nobody holds yet."""

    title: str
    impact: int
    urgency: int
    description: str = ""
    category: str = ""
    service: str | None = None
    team: str | None = None
    opened_at: datetime | None = None


def _names(session: Session, model: type, names: set[str]) -> dict[str, object]:
    """Records by lower-cased name, read in one query (as get_service/get_team match)."""
    if not names:
        return {}
    found = session.scalars(
        select(model).where(func.lower(model.name).in_(sorted(names)))  # type: ignore[attr-defined]
    ).all()
    return {r.name.lower(): r for r in found}  # type: ignore[attr-defined]


def open_incidents(
    session: Session, actor: Agent, drafts: Sequence[IncidentDraft], *, now: datetime
) -> list[Ticket | DeskError]:
    """Open these incidents as `create_ticket` would, one by one, in draft order (their
    numbers follow that order). Each result is the new ticket, or why it was refused."""
    now = as_utc(now, _("now"))
    require(actor, WORK, _("create tickets"))
    wanted = {
        key: {(getattr(d, key) or "").strip().lower() for d in drafts if getattr(d, key)}
        for key in ("service", "team")
    }
    services = _names(session, Service, wanted["service"])
    teams = _names(session, Team, wanted["team"])
    default_team = default_team_of(session)
    matrix = priority_matrix(session)
    flow = workflow_for(INCIDENT)
    status = flow.initial

    results: list[Ticket | DeskError] = []
    checked: list[tuple[int, IncidentDraft, datetime, Service | None, Team | None]] = []
    for index, draft in enumerate(drafts):
        try:
            check_text(draft.title, _("title"), required=True, limit=MAX_TITLE)
            check_text(draft.description, _("description"))
            check_text(draft.category, _("category"), limit=80)
            check_level(draft.impact, _("impact"))
            check_level(draft.urgency, _("urgency"))
            opened = now if draft.opened_at is None else as_utc(draft.opened_at, _("opened-at"))
            if opened > now + CLOCK_SKEW:
                raise InvalidInput(
                    _("opened-at {at} is in the future").format(
                        at=opened.isoformat(timespec="seconds")
                    )
                )
            service = team = None
            if draft.service:
                service = services.get(draft.service.strip().lower())
                if service is None:
                    get_service(session, draft.service)  # raises NotFound with the known names
            if draft.team:
                team = teams.get(draft.team.strip().lower())
                if team is None:
                    get_team(session, draft.team)
            checked.append((index, draft, opened, service, team or default_team))  # type: ignore[arg-type]
        except DeskError as exc:
            results.append(exc)
            continue
        results.append(None)  # type: ignore[arg-type]

    numbers = next_numbers(session, NUMBER_PREFIX[INCIDENT], len(checked))
    tickets: list[Ticket] = []
    for number, (index, draft, opened, service, team) in zip(numbers, checked, strict=True):
        ticket = Ticket(
            number=number,
            type=INCIDENT,
            title=draft.title,
            description=draft.description,
            status=status,
            is_open=flow.is_open(status),
            impact=draft.impact,
            urgency=draft.urgency,
            priority=priority_for(draft.impact, draft.urgency, matrix),
            priority_overridden=False,
            category=draft.category,
            service=service,
            requester=None,
            team=team,
            assignee=None,
            created_by_id=actor.id,
            catalogue_item=None,
            form_data=None,
            opened_at=opened,
            updated_at=now,
            version=0,
        )
        tickets.append(ticket)
        results[index] = ticket
    session.add_all(tickets)
    session.flush()
    sla.start_clocks_of(session, tickets)
    for ticket, (_index, _draft, _opened, service, team) in zip(tickets, checked, strict=True):
        edit = Edit(session, actor, ticket, action="create", now=now)
        edit.note(
            None,
            None,
            json.dumps(
                {
                    "type": INCIDENT,
                    "status": status,
                    "priority": priority_label(ticket.priority),
                    "team": team.name if team else None,
                    "assignee": None,
                    "service": service.name if service else None,
                },
                ensure_ascii=False,
            ),
        )
    # Nobody holds a new incident yet: no assignment notice (create_ticket's only one).
    session.flush()
    return results


def link_under(
    session: Session, actor: Agent, tickets: Sequence[Ticket], major: Ticket, *, now: datetime
) -> None:
    """`link_ticket(number, parent=major)` for each of these incidents: the same checks,
    the same audit events and the `major_incident` notice when `major` becomes one."""
    now = as_utc(now, _("now"))
    require(actor, WORK, _("link tickets"))
    if major.type != INCIDENT or any(t.type != INCIDENT for t in tickets):
        raise InvalidInput(_("only an incident can have a parent, and it must be an incident"))
    # link_ticket walks up from the parent for each ticket; the walk is the same for all.
    above: set[int] = set()
    node: Ticket | None = major
    while node is not None:
        above.add(node.id)
        node = node.parent
    for ticket in tickets:
        if ticket.id in above:
            raise InvalidInput(_("{number} cannot be its own parent").format(number=ticket.number))
    for ticket in tickets:
        edit = Edit(session, actor, ticket, action="link", now=now)
        edit.set("parent_id", major.id, shown=major, shown_old=ticket.parent)
        if not major.is_major:
            major_edit = Edit(session, actor, major, action="link", now=now)
            major_edit.set("is_major", True)
            raise_major_incident(session, actor, major, now)
    session.flush()


@dataclass(frozen=True)
class OutageDraft:
    """`record_outage`'s arguments for an outage still going on, of a ticket's service."""

    service: str
    started_at: datetime
    ticket: Ticket | None = None
    notes: str = ""


def record_outages(
    session: Session, actor: Agent, drafts: Sequence[OutageDraft], *, now: datetime
) -> list[Outage | DeskError]:
    """Record these open-ended outages as `record_outage` would; one flush for them all."""
    now = as_utc(now, _("now"))
    require(actor, "outage.record", _("record outages"))
    services = _names(session, Service, {d.service.strip().lower() for d in drafts})
    results: list[Outage | DeskError] = []
    kept: list[tuple[Outage, Service, datetime]] = []
    for draft in drafts:
        try:
            service = services.get(draft.service.strip().lower())
            if service is None:
                get_service(session, draft.service)
                raise NotFound(draft.service)  # not reached: get_service raised
            start = not_future(draft.started_at, now, _("started-at"))
            check_text(draft.notes, _("notes"), limit=10_000)
        except DeskError as exc:
            results.append(exc)
            continue
        outage = Outage(
            service_id=service.id,  # type: ignore[attr-defined]
            ticket_id=draft.ticket.id if draft.ticket else None,
            started_at=start,
            ended_at=None,
            notes=draft.notes,
            recorded_by_id=actor.id,
        )
        kept.append((outage, service, start))  # type: ignore[arg-type]
        results.append(outage)
    session.add_all([o for o, _s, _at in kept])
    session.flush()
    for outage, service, start in kept:
        audit_plain(
            session,
            actor,
            "outage",
            outage.id,
            service.name,
            "outage.record",
            now,
            new=f"{audit_value(start)} – …",
        )
    return results
