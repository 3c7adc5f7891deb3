"""Carrying a change out and following it up: start, complete with an outcome, the
post-implementation review, close (and resolve the problem it fixed), cancel, and the
incidents it caused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Comment,
    Ticket,
)
from itsm_tui.desk.changes.common import (
    a_change_of_type,
    load_change,
    moment,
    move,
    notify,
    require_worker,
    type_rules,
)
from itsm_tui.desk.errors import InvalidInput, TransitionRefused
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    Edit,
    as_utc,
    check_text,
    get_ticket,
    require,
)
from itsm_tui.domain.change_process import review_required, within_review
from itsm_tui.domain.workflow import CHANGE_OUTCOMES, EMERGENCY_CHANGE, INCIDENT
from itsm_tui.i18n import _


def _instant(at: datetime | None, now: datetime, what: str) -> datetime:
    when = now if at is None else as_utc(at, what)
    if when > now + CLOCK_SKEW:
        raise InvalidInput(
            _("{what} {at} is in the future").format(
                what=what, at=when.isoformat(timespec="minutes")
            )
        )
    return when


def any_approval(session: Session, change: Change) -> bool:
    """At least one CAB member approved the change."""
    found = session.scalar(
        select(ChangeApproval.id)
        .where(ChangeApproval.change_id == change.id, ChangeApproval.decision == "approved")
        .limit(1)
    )
    return found is not None


def start_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Implementation begins (actual start: `at`, else now). An emergency change may start
    before every approval is in, once one emergency CAB member approved it."""
    now = moment(now)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("start changes"))
    if (
        change.change_type == EMERGENCY_CHANGE
        and change.status == "authorization"
        and not any_approval(session, change)
    ):
        raise TransitionRefused(
            _(
                "{number} has no approval yet; an emergency change starts once one member "
                "of the emergency CAB approved it"
            ).format(number=change.number)
        )
    started = _instant(at, now, _("actual start"))
    edit = Edit(session, actor, change, action="start", now=now)
    move(edit, change, "implementing")
    edit.set("actual_start", started)
    session.flush()
    return change


def complete_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    outcome: str,
    notes: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Implementation ended (actual end: `at`, else now) with an outcome; the change goes to
    review. `notes` become a work note on the change."""
    now = moment(now)
    outcome = outcome.strip().lower()
    if outcome not in CHANGE_OUTCOMES:
        raise InvalidInput(
            _("outcome {outcome!r} is not one of: {outcomes}").format(
                outcome=outcome, outcomes=", ".join(CHANGE_OUTCOMES)
            )
        )
    check_text(notes, _("notes"))
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("complete changes"))
    ended = _instant(at, now, _("actual end"))
    if change.actual_start is not None and ended < change.actual_start:
        raise InvalidInput(
            _("the actual end {end} is before the actual start {start}").format(
                end=ended.isoformat(timespec="minutes"),
                start=change.actual_start.isoformat(timespec="minutes"),
            )
        )
    edit = Edit(session, actor, change, action="complete", now=now)
    move(edit, change, "review")
    edit.set("actual_end", ended)
    edit.set("outcome", outcome)
    if notes.strip():
        session.add(
            Comment(
                change_id=change.id,
                author_id=actor.id,
                kind="work_note",
                body=notes,
                created_at=now,
            )
        )
        edit.note(None, None, "work_note", action="comment.work_note")
    if outcome != "successful":
        notify(
            session,
            change.owner_id,
            actor,
            change,
            _("{number} ended {outcome}; it needs a post-implementation review").format(
                number=change.number, outcome=outcome
            ),
            now,
            kind="change",
        )
    session.flush()
    return change


def review_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    review_notes: str,
    lessons_learned: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """The post-implementation review: what happened, and the lessons learned."""
    now = moment(now)
    check_text(review_notes, _("review notes"), required=True)
    check_text(lessons_learned, _("lessons learned"), required=True)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("review changes"))
    if change.status != "review":
        raise TransitionRefused(
            _("{number} is {status}; a change is reviewed after it is implemented").format(
                number=change.number, status=change.status
            )
        )
    edit = Edit(session, actor, change, action="review", now=now)
    edit.set("review_notes", review_notes)
    edit.set("lessons_learned", lessons_learned)
    edit.set("reviewed_at", now)
    session.flush()
    return change


def needs_review(session: Session, change: Change) -> bool:
    return review_required(
        change.change_type,
        change.outcome,
        type_requires=bool(type_rules(session, change.change_type).get("review_required")),
    )


def close_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    resolve_problem: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Close a reviewed change; `resolve_problem` resolves the problem a successful change
    fixed (its known error)."""
    # Late import: tickets is the other half of the write path and imports much of it.
    from itsm_tui.desk.tickets import resolve_ticket

    now = moment(now)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("close changes"))
    if change.status == "review" and needs_review(session, change) and change.reviewed_at is None:
        why = (
            _("an emergency change")
            if change.change_type == EMERGENCY_CHANGE
            else _("a {outcome} change").format(outcome=change.outcome)
            if change.outcome != "successful"
            else _("{kind} on this desk").format(kind=a_change_of_type(change.change_type))
        )
        raise TransitionRefused(
            _(
                "{number} needs its post-implementation review before closing ({why}): "
                "record the review notes and lessons learned first"
            ).format(number=change.number, why=why)
        )
    edit = Edit(session, actor, change, action="close", now=now)
    move(edit, change, "closed")
    if resolve_problem:
        if change.problem_id is None:
            raise InvalidInput(_("{number} fixes no problem").format(number=change.number))
        if change.outcome != "successful":
            raise InvalidInput(
                _("{number} ended {outcome}; only a successful change resolves its problem").format(
                    number=change.number, outcome=change.outcome
                )
            )
        problem = session.get_one(Ticket, change.problem_id)
        if problem.is_open:
            resolve_ticket(
                session,
                actor,
                problem.number,
                code="fixed",
                notes=_("Fixed by {number}: {title}").format(
                    number=change.number, title=change.title
                ),
                now=now,
            )
    session.flush()
    return change


def cancel_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Withdraw a change that has not started, with a reason."""
    now = moment(now)
    check_text(reason, _("reason"), required=True, limit=10_000)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("cancel changes"))
    edit = Edit(session, actor, change, action="cancel", now=now, reason=reason)
    move(edit, change, "cancelled")
    session.flush()
    return change


def link_caused_incident(
    session: Session,
    actor: Agent,
    number: str,
    incident_number: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ChangeCausedIncident:
    """Record that the change caused an incident, on both: the change counts it against its
    first-time success when it began inside the review period; the incident names it."""
    now = moment(now)
    require(actor, "ticket.work", _("link incidents to changes"))
    change = load_change(session, number, expected_version)
    if change.actual_start is None:
        raise TransitionRefused(
            _("{number} has not started; only a change that ran can cause an incident").format(
                number=change.number
            )
        )
    incident = get_ticket(session, incident_number, for_update=True)
    if incident.type != INCIDENT:
        raise InvalidInput(_("{number} is not an incident").format(number=incident.number))
    if incident.opened_at < change.actual_start:
        raise InvalidInput(
            _("{incident} was opened before {number} started; it cannot be caused by it").format(
                incident=incident.number, number=change.number
            )
        )
    exists = session.get(ChangeCausedIncident, (change.id, incident.id))
    if exists is not None:
        raise InvalidInput(
            _("{incident} is already linked to {number}").format(
                incident=incident.number, number=change.number
            )
        )
    review_days = int(type_rules(session, change.change_type).get("review_days") or 0)
    link = ChangeCausedIncident(
        change_id=change.id,
        ticket_id=incident.id,
        linked_at=now,
        linked_by_id=actor.id,
        within_review=within_review(change.actual_end, incident.opened_at, review_days),
    )
    session.add(link)
    Edit(session, actor, change, action="link", now=now).note(
        "caused_incident", None, incident.number
    )
    if incident.change_id is None:
        Edit(session, actor, incident, action="link", now=now).set(
            "change_id", change.id, shown=change
        )
    session.flush()
    return link
