"""Writes the KPIs are computed from: time spent, surveys, complaints, outages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    Complaint,
    Outage,
    Survey,
    Ticket,
    TimeEntry,
)
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    Edit,
    as_utc,
    audit_value,
    check_text,
    check_version,
    get_or_create_requester,
    get_service,
    get_ticket,
    require,
    utcnow,
)
from itsm_tui.i18n import _

# One entry longer than a day is a typo, not a shift.
MAX_MINUTES_PER_ENTRY = 24 * 60


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, _("now"))


def not_future(at: datetime, now: datetime, what: str) -> datetime:
    at = as_utc(at, what)
    if at > now + CLOCK_SKEW:
        raise InvalidInput(_("{what} {at} is in the future").format(what=what, at=at.isoformat()))
    return at


def log_time(
    session: Session,
    actor: Agent,
    number: str,
    minutes: int,
    *,
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> TimeEntry:
    """Minutes the actor spent on a ticket, costed at the actor's hourly rate."""
    now = _now(now)
    require(actor, "ticket.work", _("log time"))
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not 0 < minutes <= MAX_MINUTES_PER_ENTRY
    ):
        raise InvalidInput(
            _("minutes must be a whole number from 1 to {most}, not {value}").format(
                most=MAX_MINUTES_PER_ENTRY, value=minutes
            )
        )
    check_text(note, _("note"), limit=10_000)
    logged_at = now if at is None else not_future(at, now, _("logged-at"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    cost = (Decimal(actor.hourly_cost) * minutes / 60).quantize(Decimal("0.01"))
    entry = TimeEntry(
        ticket_id=ticket.id,
        agent_id=actor.id,
        minutes=minutes,
        cost=cost,
        logged_at=logged_at,
        note=note,
    )
    session.add(entry)
    Edit(session, actor, ticket, action="time.log", now=now).note("time_spent", None, str(minutes))
    session.flush()
    return entry


def record_survey(
    session: Session,
    actor: Agent,
    number: str,
    rating: int,
    *,
    comment: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Survey:
    """The requester's 1–5 rating of a resolved ticket (one per ticket), entered by an agent."""
    now = _now(now)
    require(actor, "ticket.work", _("record surveys"))
    check_rating(rating, comment)
    submitted = now if at is None else not_future(at, now, _("submitted-at"))
    ticket = get_ticket(session, number, for_update=True)
    check_version(session, ticket, expected_version)
    return write_survey(session, actor, ticket, rating, comment, submitted, now)


def check_rating(rating: int, comment: str) -> None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_("a rating is 1 to 5, not {value}").format(value=rating))
    check_text(comment, _("comment"), limit=10_000)


def check_surveyable(session: Session, ticket: Ticket) -> None:
    """A survey follows a resolution, once per ticket."""
    if ticket.resolved_at is None:
        raise InvalidInput(
            _("{number} is not resolved; surveys follow a resolution").format(number=ticket.number)
        )
    if session.scalars(select(Survey.id).where(Survey.ticket_id == ticket.id)).first() is not None:
        raise InvalidInput(_("{number} already has a survey").format(number=ticket.number))


def write_survey(
    session: Session,
    actor: Agent | None,
    ticket: Ticket,
    rating: int,
    comment: str,
    submitted: datetime,
    now: datetime,
) -> Survey:
    """The survey row and its audit; `actor` None: the requester, through a survey link."""
    check_surveyable(session, ticket)
    survey = Survey(ticket_id=ticket.id, rating=rating, comment=comment, submitted_at=submitted)
    session.add(survey)
    Edit(session, actor, ticket, action="survey", now=now).note("rating", None, str(rating))
    session.flush()
    return survey


def record_complaint(
    session: Session,
    actor: Agent,
    *,
    summary: str,
    number: str | None = None,
    requester: str | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Complaint:
    """A requester's formal complaint, about a ticket or the service in general."""
    now = _now(now)
    require(actor, "ticket.work", _("record complaints"))
    check_text(summary, _("summary"), required=True, limit=10_000)
    received = now if at is None else not_future(at, now, _("received-at"))
    ticket = get_ticket(session, number, for_update=True) if number else None
    who = get_or_create_requester(session, requester) if requester else None
    if who is None and ticket is not None:
        who = ticket.requester
    complaint = Complaint(
        ticket_id=ticket.id if ticket else None,
        requester_id=who.id if who else None,
        received_at=received,
        summary=summary,
    )
    session.add(complaint)
    session.flush()
    if ticket is not None:
        Edit(session, actor, ticket, action="complaint", now=now).note(
            "complaint", None, summary[:200]
        )
    else:
        audit_plain(session, actor, "complaint", complaint.id, None, "complaint", now)
    session.flush()
    return complaint


def record_outage(
    session: Session,
    actor: Agent,
    *,
    service: str,
    started_at: datetime,
    ended_at: datetime | None = None,
    number: str | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> Outage:
    """A service was down from … to … (open-ended while it still is): feeds availability."""
    now = _now(now)
    require(actor, "outage.record", _("record outages"))
    the_service = get_service(session, service)
    start = not_future(started_at, now, _("started-at"))
    end = None if ended_at is None else not_future(ended_at, now, _("ended-at"))
    if end is not None and end <= start:
        raise InvalidInput(_("an outage must end after it starts"))
    check_text(notes, _("notes"), limit=10_000)
    ticket = get_ticket(session, number) if number else None
    outage = Outage(
        service_id=the_service.id,
        ticket_id=ticket.id if ticket else None,
        started_at=start,
        ended_at=end,
        notes=notes,
        recorded_by_id=actor.id,
    )
    session.add(outage)
    session.flush()
    audit_plain(
        session,
        actor,
        "outage",
        outage.id,
        the_service.name,
        "outage.record",
        now,
        new=f"{audit_value(start)} – {audit_value(end) or '…'}",
    )
    return outage


def end_outage(
    session: Session,
    actor: Agent,
    outage_id: int,
    *,
    ended_at: datetime,
    now: datetime | None = None,
) -> Outage:
    """Close an open-ended outage: the service was back at `ended_at`."""
    now = _now(now)
    require(actor, "outage.record", _("record outages"))
    outage = session.get(Outage, outage_id, with_for_update=True)
    if outage is None:
        raise InvalidInput(_("no outage {id}").format(id=outage_id))
    if outage.ended_at is not None:
        raise InvalidInput(
            _("the outage of {service} already ended at {at}").format(
                service=outage.service.name, at=audit_value(outage.ended_at)
            )
        )
    end = not_future(ended_at, now, _("ended-at"))
    if end <= outage.started_at:
        raise InvalidInput(_("an outage must end after it starts"))
    outage.ended_at = end
    session.flush()
    audit_plain(
        session,
        actor,
        "outage",
        outage.id,
        outage.service.name,
        "outage.end",
        now,
        new=f"{audit_value(outage.started_at)} – {audit_value(end)}",
    )
    return outage


def audit_plain(
    session: Session,
    actor: Agent,
    record_type: str,
    record_id: int,
    label: str | None,
    action: str,
    now: datetime,
    *,
    new: str | None = None,
) -> None:
    """Audit a record that has no version of its own (outages, complaints)."""
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            record_type=record_type,
            record_id=record_id,
            record_number=label,
            action=action,
            new_value=new,
        )
    )
