"""Records as JSON objects: a ticket (and its detail: clocks, escalations, comments,
audit), a change, and the Breaching soon list; the shape `itsm` prints and exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, aliased, undefer

from itsm_tui.data import sla_standing
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    CatalogueItem,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Comment,
    Escalation,
    Requester,
    Service,
    SlaClock,
    Team,
    Ticket,
)
from itsm_tui.domain.priority import priority_label

# Keys of a ticket's JSON object, in the order they are printed (and the CSV columns).
TICKET_FIELDS = (
    "number",
    "type",
    "title",
    "description",
    "status",
    "priority",
    "impact",
    "urgency",
    "category",
    "service",
    "team",
    "assignee",
    "requester",
    "catalogue_item",
    "form_data",
    "opened_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "promised_at",
    "resolution_code",
    "resolution_notes",
    "reopen_count",
    "escalation_level",
    "is_open",
    "priority_overridden",
    "is_major",
    "parent",
    "problem",
    "change",
    "root_cause",
    "workaround",
    "known_error",
    "analysis",
    "version",
)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, e.g. 2026-11-24T09:30:00Z."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_Assignee = aliased(Agent, name="assignee_agent")
_Parent = aliased(Ticket, name="parent_ticket")
_Problem = aliased(Ticket, name="problem_ticket")


def _record_query() -> Select[Any]:
    """Tickets with the names of everything they point at, in one statement."""
    return (
        select(
            Ticket,
            Service.name,
            Team.name,
            _Assignee.username,
            Requester.email,
            CatalogueItem.code,
            _Parent.number,
            _Problem.number,
            Change.number,
        )
        .outerjoin(Service, Service.id == Ticket.service_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(_Assignee, _Assignee.id == Ticket.assignee_id)
        .outerjoin(Requester, Requester.id == Ticket.requester_id)
        .outerjoin(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
        .outerjoin(_Parent, _Parent.id == Ticket.parent_id)
        .outerjoin(_Problem, _Problem.id == Ticket.problem_id)
        .outerjoin(Change, Change.id == Ticket.change_id)
        # Deferred for stores before revision 0027; a record carries it.
        .options(undefer(Ticket.promised_at))
    )


def _as_record(row: Any) -> dict[str, Any]:
    t, service, team, assignee, requester, item, parent, problem, change = row
    return {
        "number": t.number,
        "type": t.type,
        "title": t.title,
        "description": t.description,
        "status": t.status,
        "priority": priority_label(t.priority),
        "impact": t.impact,
        "urgency": t.urgency,
        "category": t.category,
        "service": service,
        "team": team,
        "assignee": assignee,
        "requester": requester,
        "catalogue_item": item,
        "form_data": t.form_data,
        "opened_at": iso(t.opened_at),
        "updated_at": iso(t.updated_at),
        "first_response_at": iso(t.first_response_at),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "promised_at": iso(t.promised_at),
        "resolution_code": t.resolution_code,
        "resolution_notes": t.resolution_notes,
        "reopen_count": t.reopen_count,
        "escalation_level": t.escalation_level,
        "is_open": t.is_open,
        "priority_overridden": t.priority_overridden,
        "is_major": t.is_major,
        "parent": parent,
        "problem": problem,
        "change": change,
        "root_cause": t.root_cause,
        "workaround": t.workaround,
        "known_error": t.known_error,
        "analysis": t.analysis,
        "version": t.version,
    }


def ticket_records(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The JSON objects of these tickets, in the order of `ids` (one query)."""
    if not ids:
        return []
    # populate_existing: a ticket written earlier in this transaction reads as stored now.
    rows = session.execute(
        _record_query().where(Ticket.id.in_(list(ids))).execution_options(populate_existing=True)
    ).all()
    by_id = {row[0].id: _as_record(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def ticket_record(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The JSON object of one ticket (after a write: what the transaction will commit)."""
    session.flush()
    return ticket_records(session, [ticket.id])[0]


def ticket_detail(session: Session, number: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The ticket's object plus its SLA clocks (as of `now`), escalations, comments and
    audit trail, oldest first."""
    from itsm_tui.desk import sla
    from itsm_tui.desk.records import get_ticket, utcnow

    ticket = get_ticket(session, number)
    record = ticket_record(session, ticket)
    comments = session.execute(
        select(Comment, Agent.username)
        .outerjoin(Agent, Agent.id == Comment.author_id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    record["comments"] = [
        {
            "kind": c.kind,
            "author": username or c.author_name,
            "body": c.body,
            "created_at": iso(c.created_at),
        }
        for c, username in comments
    ]
    impersonator = aliased(Agent)
    events = session.execute(
        select(AuditEvent, Agent.username, impersonator.username)
        .outerjoin(Agent, Agent.id == AuditEvent.actor_id)
        .outerjoin(impersonator, impersonator.id == AuditEvent.impersonator_id)
        .where(AuditEvent.record_type == "ticket", AuditEvent.record_id == ticket.id)
        .order_by(AuditEvent.id)
    ).all()
    record["audit"] = [
        {
            "at": iso(e.at),
            "actor": username,
            # The administrator who acted as `actor` (itsm --as), or null.
            "impersonator": admin,
            "action": e.action,
            "field": e.field,
            "old": e.old_value,
            "new": e.new_value,
            "reason": e.reason,
            "version": e.record_version,
        }
        for e, username, admin in events
    ]
    at = now or utcnow()
    clocks = session.scalars(
        select(SlaClock)
        .where(SlaClock.ticket_id == ticket.id)
        .order_by(SlaClock.kind.desc())  # response first
    ).all()
    record["sla"] = [
        {k: iso(v) if isinstance(v, datetime) else v for k, v in sla.clock_view(c, at).items()}
        for c in clocks
    ]
    escalations = session.scalars(
        select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.id)
    ).all()
    clock_kind = {c.id: c.kind for c in clocks}
    record["escalations"] = [
        {
            "level": e.level,
            "kind": e.kind,
            "clock": clock_kind.get(e.clock_id),
            "at": iso(e.at),
            "rule": e.rule,
            "reason": e.reason,
            "actions": list(e.actions),
        }
        for e in escalations
    ]
    return record


def breaching_soon(
    session: Session, now: datetime, within: timedelta, *, limit: int = 100
) -> list[dict[str, Any]]:
    """Open tickets whose nearest clock falls due after now and by now + within, soonest
    first: the Breaching soon view's tickets (`sla_standing.breaching_within`, one range
    of ix_tickets_open_sla); an overdue ticket is breached, not breaching."""
    nearest = SlaClock.__table__.alias("nearest")
    rows = session.execute(
        select(
            nearest.c.kind,
            Ticket.sla_due_at.label("due_at"),
            Ticket.number,
            Ticket.title,
            Ticket.priority,
            Ticket.status,
            Team.name.label("team"),
            Agent.username.label("assignee"),
        )
        .join(
            nearest,
            and_(
                nearest.c.ticket_id == Ticket.id,
                nearest.c.due_at == Ticket.sla_due_at,
                nearest.c.state.in_(sla_standing.COUNTING),
                nearest.c.stopped_at.is_(None),
            ),
        )
        .outerjoin(Team, Team.id == Ticket.team_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(Ticket.is_open.is_(True), sla_standing.breaching_within(now, within))
        .order_by(Ticket.sla_due_at, Ticket.id, nearest.c.kind.desc())
        .limit(limit)
    ).all()
    out: list[dict[str, Any]] = []
    for r in rows:
        if out and out[-1]["number"] == r.number:
            continue  # both clocks due at the same instant: the ticket once (response first)
        out.append(
            {
                "number": r.number,
                "kind": r.kind,
                "due_at": iso(r.due_at),
                # Wall-clock time to the due instant.
                "due_in_minutes": round((r.due_at - now).total_seconds() / 60, 1),
                "priority": priority_label(r.priority),
                "status": r.status,
                "team": r.team,
                "assignee": r.assignee,
                "title": r.title,
            }
        )
    return out


def change_record(session: Session, change: Change) -> dict[str, Any]:
    """The JSON object of a change request: its fields, its CAB votes, the incidents it
    caused and whether it succeeded first time (None until it has an outcome)."""
    session.flush()

    def username(agent_id: int | None) -> str | None:
        agent = session.get(Agent, agent_id) if agent_id else None
        return agent.username if agent else None

    team = session.get(Team, change.team_id) if change.team_id else None
    problem = session.get(Ticket, change.problem_id) if change.problem_id else None
    votes = session.execute(
        select(ChangeApproval, Agent.username)
        .join(Agent, Agent.id == ChangeApproval.approver_id)
        .where(ChangeApproval.change_id == change.id)
        .order_by(ChangeApproval.decided_at.is_(None), ChangeApproval.decided_at, Agent.username)
    ).all()
    caused = session.execute(
        select(ChangeCausedIncident, Ticket.number, Ticket.opened_at)
        .join(Ticket, Ticket.id == ChangeCausedIncident.ticket_id)
        .where(ChangeCausedIncident.change_id == change.id)
        .order_by(Ticket.opened_at, Ticket.number)
    ).all()
    return {
        "number": change.number,
        "title": change.title,
        "description": change.description,
        "change_type": change.change_type,
        "category": change.category,
        "status": change.status,
        "risk": change.risk,
        "risk_score": change.risk_score,
        "risk_answers": change.risk_answers,
        "risk_reasons": list(change.risk_reasons or []),
        "impact": change.impact,
        "services": list(change.services or []),
        "team": team.name if team else None,
        "owner": username(change.owner_id),
        "requested_by": username(change.requested_by_id),
        "implementer": username(change.implementer_id),
        "template": change.template,
        "problem": problem.number if problem else None,
        "planned_start": iso(change.planned_start),
        "planned_end": iso(change.planned_end),
        "actual_start": iso(change.actual_start),
        "actual_end": iso(change.actual_end),
        "implementation_plan": change.implementation_plan,
        "backout_plan": change.backout_plan,
        "test_plan": change.test_plan,
        "quorum": change.quorum,
        "approved": sum(1 for vote, _name in votes if vote.decision == "approved"),
        "approvals": [
            {
                "approver": name,
                "decision": vote.decision,
                "decided_at": iso(vote.decided_at),
                "comment": vote.comment,
            }
            for vote, name in votes
        ],
        "schedule_overrides": list(change.schedule_overrides or []),
        "outcome": change.outcome,
        "review_notes": change.review_notes,
        "lessons_learned": change.lessons_learned,
        "caused_incidents": [
            {
                "number": number,
                "opened_at": iso(opened),
                "linked_at": iso(link.linked_at),
                "within_review": link.within_review,
            }
            for link, number, opened in caused
        ],
        # The stored judgement of each link is the KPI's (data/change_outcomes.py).
        "succeeded_first_time": None
        if change.outcome is None
        else change.outcome == "successful" and not any(link.within_review for link, *_ in caused),
        "submitted_at": iso(change.submitted_at),
        "authorized_at": iso(change.authorized_at),
        "reviewed_at": iso(change.reviewed_at),
        "opened_at": iso(change.opened_at),
        "updated_at": iso(change.updated_at),
        "closed_at": iso(change.closed_at),
        "is_open": change.is_open,
        "version": change.version,
    }
