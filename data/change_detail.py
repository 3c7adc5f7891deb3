"""One change as its own screen reads it: fields, people, approvals, caused incidents, impact.

Read in one short session by the change detail screen's worker; every value is plain
(names, not ids), so the screen draws it without touching the store again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from itsm_tui.data.change_schedule import Conflict, change_conflicts, impacted_services
from itsm_tui.data.models import Agent, ChangeApproval, ChangeCausedIncident, Team, Ticket
from itsm_tui.desk.records import get_change


@dataclass(frozen=True)
class ApprovalRow:
    """One CAB member's vote (pending until decided)."""

    approver: str
    approver_name: str
    decision: str
    decided_at: datetime | None
    comment: str


@dataclass(frozen=True)
class CausedIncidentRow:
    number: str
    title: str
    status: str
    linked_at: datetime


@dataclass(frozen=True)
class ChangeDetail:
    id: int
    number: str
    title: str
    description: str
    change_type: str
    category: str
    status: str
    version: int
    risk: str | None
    risk_score: int | None
    # [{"source", "rule"/"question", "level", "text"}], highest first (as the desk wrote it).
    risk_reasons: tuple[dict[str, Any], ...]
    risk_answers: dict[str, str]
    impact: int
    services: tuple[str, ...]
    # The services and every service riding on them (transitively), the services first.
    impacted: tuple[str, ...]
    team: str | None
    owner: str | None
    requester: str | None
    implementer: str | None
    template: str | None
    problem: str | None
    problem_title: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    implementation_plan: str
    backout_plan: str
    test_plan: str
    quorum: int
    outcome: str | None
    review_notes: str
    lessons_learned: str
    schedule_overrides: tuple[dict[str, Any], ...]
    submitted_at: datetime | None
    authorized_at: datetime | None
    reviewed_at: datetime | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    approvals: tuple[ApprovalRow, ...] = ()
    caused_incidents: tuple[CausedIncidentRow, ...] = ()
    conflicts: tuple[Conflict, ...] = field(default=())

    @property
    def approved_count(self) -> int:
        return sum(1 for a in self.approvals if a.decision == "approved")


def _username(session: Session, agent_id: int | None) -> str | None:
    if agent_id is None:
        return None
    return session.scalars(select(Agent.username).where(Agent.id == agent_id)).first()


def change_detail(session: Session, number: str) -> ChangeDetail:
    """The change `number` (NotFound when the desk has none) with everything its screen shows."""
    change = get_change(session, number)
    approver = aliased(Agent)
    approvals = tuple(
        ApprovalRow(
            approver=username,
            approver_name=display or "",
            decision=a.decision,
            decided_at=a.decided_at,
            comment=a.comment or "",
        )
        for a, username, display in session.execute(
            select(ChangeApproval, approver.username, approver.display_name)
            .join(approver, approver.id == ChangeApproval.approver_id)
            .where(ChangeApproval.change_id == change.id)
            .order_by(
                ChangeApproval.decided_at.is_(None), ChangeApproval.decided_at, approver.username
            )
        )
    )
    caused = tuple(
        CausedIncidentRow(number=num, title=title, status=status, linked_at=linked_at)
        for num, title, status, linked_at in session.execute(
            select(Ticket.number, Ticket.title, Ticket.status, ChangeCausedIncident.linked_at)
            .join(Ticket, Ticket.id == ChangeCausedIncident.ticket_id)
            .where(ChangeCausedIncident.change_id == change.id)
            .order_by(ChangeCausedIncident.linked_at, Ticket.number)
        )
    )
    problem = (
        session.execute(
            select(Ticket.number, Ticket.title).where(Ticket.id == change.problem_id)
        ).first()
        if change.problem_id
        else None
    )
    team = (
        session.scalars(select(Team.name).where(Team.id == change.team_id)).first()
        if change.team_id
        else None
    )
    services = tuple(str(s) for s in change.services or ())
    impacted = tuple(impacted_services(session, list(services))) if services else ()
    # A finished change clashes with nothing any more: its window is history.
    conflicts = tuple(change_conflicts(session, change)) if change.is_open else ()
    return ChangeDetail(
        id=change.id,
        number=change.number,
        title=change.title,
        description=change.description or "",
        change_type=change.change_type,
        category=change.category or "",
        status=change.status,
        version=change.version,
        risk=change.risk,
        risk_score=change.risk_score,
        risk_reasons=tuple(r for r in change.risk_reasons or () if isinstance(r, dict)),
        risk_answers={str(k): str(v) for k, v in (change.risk_answers or {}).items()},
        impact=change.impact,
        services=services,
        impacted=impacted,
        team=team,
        owner=_username(session, change.owner_id),
        requester=_username(session, change.requested_by_id),
        implementer=_username(session, change.implementer_id),
        template=change.template,
        problem=problem[0] if problem else None,
        problem_title=problem[1] if problem else None,
        planned_start=change.planned_start,
        planned_end=change.planned_end,
        actual_start=change.actual_start,
        actual_end=change.actual_end,
        implementation_plan=change.implementation_plan or "",
        backout_plan=change.backout_plan or "",
        test_plan=change.test_plan or "",
        quorum=change.quorum,
        outcome=change.outcome,
        review_notes=change.review_notes or "",
        lessons_learned=change.lessons_learned or "",
        schedule_overrides=tuple(o for o in change.schedule_overrides or () if isinstance(o, dict)),
        submitted_at=change.submitted_at,
        authorized_at=change.authorized_at,
        reviewed_at=change.reviewed_at,
        opened_at=change.opened_at,
        updated_at=change.updated_at,
        closed_at=change.closed_at,
        approvals=approvals,
        caused_incidents=caused,
        conflicts=conflicts,
    )
