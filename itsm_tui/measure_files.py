"""What a desk export reads from the store besides the tickets' own columns.

- `ticket_measures`: for one page of tickets, their SLA clocks, escalations, time
  entries, surveys and reassignments (one query per table over the page's ids);
- `desk_records`: budgets, changes, outages and complaints, each table read by keyset
  pages (id order, no OFFSET), so a file of any size streams in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    REASSIGNMENT_EVENT,
    Agent,
    AuditEvent,
    Budget,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Comment,
    Complaint,
    Escalation,
    KnowledgeArticle,
    Outage,
    Requester,
    Service,
    SlaClock,
    SlaPolicy,
    Survey,
    Team,
    Ticket,
    TimeEntry,
)
from itsm_tui.desk.desk_records import (
    ApprovalRecord,
    ArticleRecord,
    BudgetRecord,
    CausedIncidentRecord,
    ChangeRecord,
    ComplaintRecord,
    DeskRecord,
    NoteRecord,
    OutageRecord,
)
from itsm_tui.desk.ticket_measures import (
    ClockRecord,
    EscalationRecord,
    ReassignmentRecord,
    SurveyRecord,
    TimeEntryRecord,
)


class TicketMeasures:
    """The measures of a page of tickets, by ticket id."""

    def __init__(self, session: Session, agents: dict[int, str]) -> None:
        self.session = session
        self.agents = agents
        self.policies = dict(session.execute(select(SlaPolicy.id, SlaPolicy.name)).all())

    def page(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """ticket id → {"sla_clocks": (…), "escalations": (…), "time_entries": (…),
        "survey": …, "reassignments": (…)}, each only where the ticket has some."""
        out: dict[int, dict[str, Any]] = {}

        def put(ticket_id: int, key: str, item: Any) -> None:
            out.setdefault(ticket_id, {}).setdefault(key, []).append(item)

        s = self.session
        kinds: dict[int, str] = {}
        for c in s.scalars(
            select(SlaClock).where(SlaClock.ticket_id.in_(ids)).order_by(SlaClock.id)
        ):
            kinds[c.id] = c.kind
            put(
                c.ticket_id,
                "sla_clocks",
                ClockRecord(
                    kind=c.kind,
                    policy=self.policies.get(c.policy_id) if c.policy_id else None,
                    target_minutes=c.target_minutes,
                    started_at=c.started_at,
                    due_at=c.due_at,
                    state=c.state,
                    running_since=c.running_since,
                    paused_at=c.paused_at,
                    paused_seconds=c.paused_seconds,
                    spent_seconds=c.spent_seconds,
                    stopped_at=c.stopped_at,
                    breached_at=c.breached_at,
                    fired_percent=c.fired_percent,
                    warnings_fired=c.warnings_fired,
                    next_event_at=c.next_event_at,
                    escalation_level=c.escalation_level,
                ),
            )
        for e in s.scalars(
            select(Escalation).where(Escalation.ticket_id.in_(ids)).order_by(Escalation.id)
        ):
            put(
                e.ticket_id,
                "escalations",
                EscalationRecord(
                    clock=kinds.get(e.clock_id) if e.clock_id else None,
                    kind=e.kind,
                    level=e.level,
                    at=e.at,
                    rule=e.rule,
                    reason=e.reason,
                    actions=list(e.actions or []),
                ),
            )
        for t in s.scalars(
            select(TimeEntry).where(TimeEntry.ticket_id.in_(ids)).order_by(TimeEntry.id)
        ):
            put(
                t.ticket_id,
                "time_entries",
                TimeEntryRecord(
                    agent=self.agents.get(t.agent_id) if t.agent_id else None,
                    minutes=t.minutes,
                    cost=Decimal(t.cost).quantize(Decimal("0.01")),
                    logged_at=t.logged_at,
                    note=t.note,
                ),
            )
        for v in s.scalars(select(Survey).where(Survey.ticket_id.in_(ids))):
            out.setdefault(v.ticket_id, {})["survey"] = SurveyRecord(
                rating=v.rating, comment=v.comment, submitted_at=v.submitted_at
            )
        for a in s.execute(
            select(
                AuditEvent.record_id,
                AuditEvent.at,
                AuditEvent.field,
                AuditEvent.old_value,
                AuditEvent.new_value,
                AuditEvent.actor_id,
                AuditEvent.action,
                AuditEvent.record_version,
            )
            .where(text(REASSIGNMENT_EVENT), AuditEvent.record_id.in_(ids))
            .order_by(AuditEvent.id)
        ):
            put(
                a.record_id,
                "reassignments",
                ReassignmentRecord(
                    at=a.at,
                    field=a.field,
                    old=a.old_value,
                    new=a.new_value,
                    by=self.agents.get(a.actor_id) if a.actor_id else None,
                    action=a.action,
                    version=a.record_version,
                ),
            )
        for values in out.values():
            for key, items in values.items():
                if isinstance(items, list):
                    values[key] = tuple(items)
        return out


def _pages(session: Session, stmt: Any, key: Any, batch: int) -> Iterator[list[Any]]:
    """Rows of `stmt` in `key` order, `batch` at a time (keyset: WHERE key > last)."""
    last = None
    while True:
        page_stmt = stmt.order_by(key).limit(batch)
        if last is not None:
            page_stmt = page_stmt.where(key > last)
        rows = session.scalars(page_stmt).all()
        if not rows:
            return
        last = getattr(rows[-1], key.key)
        yield list(rows)


def desk_records(
    session: Session, agents: dict[int, str], part: str, batch: int = 1000
) -> Iterator[DeskRecord]:
    """`part` "before" the tickets (budgets, changes) or "after" them (outages, complaints)."""
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    if part == "before":
        for b in session.scalars(select(Budget).order_by(Budget.id)):
            yield BudgetRecord(
                category=b.category,
                period_start=b.period_start,
                period_end=b.period_end,
                amount=Decimal(b.amount).quantize(Decimal("0.01")),
                currency=b.currency,
            )
        for page in _pages(session, select(Change), Change.id, batch):
            yield from _changes(session, page, agents, teams)
        for page in _pages(session, select(KnowledgeArticle), KnowledgeArticle.id, batch):
            problems = _numbers(session, [a.problem_id for a in page])
            for a in page:
                yield ArticleRecord(
                    number=a.number,
                    title=a.title,
                    body=a.body,
                    tags=list(a.tags or []),
                    status=a.status,
                    problem=problems.get(a.problem_id) if a.problem_id else None,
                    author=agents.get(a.author_id) if a.author_id else None,
                    views=a.views,
                    helpful_yes=a.helpful_yes,
                    helpful_no=a.helpful_no,
                    created_at=a.created_at,
                    updated_at=a.updated_at,
                )
        return
    services = dict(session.execute(select(Service.id, Service.name)).all())
    for page in _pages(session, select(Outage), Outage.id, batch):
        numbers = _numbers(session, [o.ticket_id for o in page])
        for o in page:
            yield OutageRecord(
                service=services[o.service_id],
                ticket=numbers.get(o.ticket_id),
                started_at=o.started_at,
                ended_at=o.ended_at,
                notes=o.notes,
                recorded_by=agents.get(o.recorded_by_id) if o.recorded_by_id else None,
            )
    for page in _pages(session, select(Complaint), Complaint.id, batch):
        numbers = _numbers(session, [c.ticket_id for c in page])
        emails = dict(
            session.execute(
                select(Requester.id, Requester.email).where(
                    Requester.id.in_({c.requester_id for c in page if c.requester_id})
                )
            ).all()
        )
        for c in page:
            yield ComplaintRecord(
                ticket=numbers.get(c.ticket_id),
                requester=emails.get(c.requester_id),
                received_at=c.received_at,
                summary=c.summary,
            )


def _numbers(session: Session, ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(wanted))).all()
    )


def _changes(
    session: Session, page: list[Change], agents: dict[int, str], teams: dict[int, str]
) -> Iterator[ChangeRecord]:
    ids = [c.id for c in page]
    approvals: dict[int, list[ApprovalRecord]] = {}
    for a in session.scalars(
        select(ChangeApproval).where(ChangeApproval.change_id.in_(ids)).order_by(ChangeApproval.id)
    ):
        approvals.setdefault(a.change_id, []).append(
            ApprovalRecord(
                approver=agents[a.approver_id],
                decision=a.decision,
                decided_at=a.decided_at,
                comment=a.comment,
            )
        )
    caused: dict[int, list[CausedIncidentRecord]] = {}
    for change_id, number, linked_at, by, within in session.execute(
        select(
            ChangeCausedIncident.change_id,
            Ticket.number,
            ChangeCausedIncident.linked_at,
            ChangeCausedIncident.linked_by_id,
            ChangeCausedIncident.within_review,
        )
        .join(Ticket, Ticket.id == ChangeCausedIncident.ticket_id)
        .where(ChangeCausedIncident.change_id.in_(ids))
        .order_by(ChangeCausedIncident.change_id, Ticket.id)
    ):
        caused.setdefault(change_id, []).append(
            CausedIncidentRecord(
                ticket=number,
                linked_at=linked_at,
                linked_by=agents.get(by) if by else None,
                within_review=bool(within),
            )
        )
    notes: dict[int, list[NoteRecord]] = {}
    for n in session.scalars(
        select(Comment).where(Comment.change_id.in_(ids)).order_by(Comment.id)
    ):
        assert n.change_id is not None
        notes.setdefault(n.change_id, []).append(
            NoteRecord(
                kind=n.kind,
                body=n.body,
                created_at=n.created_at,
                author=agents.get(n.author_id) if n.author_id else n.author_name,
            )
        )
    problems = _numbers(session, [c.problem_id for c in page])
    for c in page:
        yield ChangeRecord(
            number=c.number,
            title=c.title,
            description=c.description,
            change_type=c.change_type,
            category=c.category,
            status=c.status,
            risk=c.risk,
            risk_score=c.risk_score,
            risk_answers=c.risk_answers,
            risk_reasons=c.risk_reasons,
            impact=c.impact,
            services=list(c.services or []),
            team=teams.get(c.team_id) if c.team_id else None,
            owner=agents.get(c.owner_id) if c.owner_id else None,
            requested_by=agents.get(c.requested_by_id) if c.requested_by_id else None,
            problem=problems.get(c.problem_id) if c.problem_id else None,
            implementer=agents.get(c.implementer_id) if c.implementer_id else None,
            template=c.template,
            planned_start=c.planned_start,
            planned_end=c.planned_end,
            actual_start=c.actual_start,
            actual_end=c.actual_end,
            implementation_plan=c.implementation_plan,
            backout_plan=c.backout_plan,
            test_plan=c.test_plan,
            quorum=c.quorum,
            outcome=c.outcome,
            review_notes=c.review_notes,
            lessons_learned=c.lessons_learned,
            schedule_overrides=c.schedule_overrides,
            submitted_at=c.submitted_at,
            authorized_at=c.authorized_at,
            reviewed_at=c.reviewed_at,
            opened_at=c.opened_at,
            updated_at=c.updated_at,
            closed_at=c.closed_at,
            approvals=tuple(approvals.get(c.id, ())),
            caused_incidents=tuple(caused.get(c.id, ())),
            notes=tuple(notes.get(c.id, ())),
        )


def agent_names(session: Session) -> dict[int, str]:
    # Configuration-sized: a desk has hundreds of agents, not millions.
    return dict(session.execute(select(Agent.id, Agent.username)).all())
