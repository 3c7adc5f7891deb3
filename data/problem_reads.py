"""The reads of problem management: a problem with its incidents, changes and articles,
and the list of problems (open first, known errors marked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from itsm_tui.data.models import Agent, Change, KnowledgeArticle, Service, Ticket
from itsm_tui.data.record_json import iso, ticket_record

# The detail lists at most this many incidents; the count says how many there are.
INCIDENTS_SHOWN = 500


@dataclass(frozen=True)
class LinkedIncident:
    """An incident linked to a problem, as the detail and the cascade show it."""

    number: str
    title: str
    status: str
    priority: int
    assignee: str | None
    is_open: bool


def linked_incidents(
    session: Session, problem: Ticket, *, limit: int = INCIDENTS_SHOWN
) -> list[LinkedIncident]:
    """The problem's incidents, open ones first, then newest (on ix_tickets_problem)."""
    rows = session.execute(
        select(
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.priority,
            Agent.username,
            Ticket.is_open,
        )
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(Ticket.problem_id == problem.id)
        .order_by(Ticket.is_open.desc(), Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(limit)
    ).all()
    return [LinkedIncident(*row) for row in rows]


def incident_counts(session: Session, problem: Ticket) -> tuple[int, int]:
    """(all, open) incidents linked to the problem."""
    total, still_open = session.execute(
        select(func.count(), func.count().filter(Ticket.is_open.is_(True))).where(
            Ticket.problem_id == problem.id
        )
    ).one()
    return int(total), int(still_open or 0)


def changes_of(session: Session, problem: Ticket) -> list[Change]:
    return list(
        session.scalars(select(Change).where(Change.problem_id == problem.id).order_by(Change.id))
    )


def articles_of(session: Session, problem: Ticket) -> list[KnowledgeArticle]:
    return list(
        session.scalars(
            select(KnowledgeArticle)
            .where(KnowledgeArticle.problem_id == problem.id)
            .order_by(KnowledgeArticle.id)
        )
    )


def problem_detail(session: Session, problem: Ticket) -> dict[str, Any]:
    """The problem's JSON object with its incidents, changes and articles."""
    record = ticket_record(session, problem)
    total, still_open = incident_counts(session, problem)
    record["incident_count"] = total
    record["open_incident_count"] = still_open
    record["incidents"] = [
        {
            "number": i.number,
            "title": i.title,
            "status": i.status,
            "priority": f"P{i.priority}",
            "assignee": i.assignee,
            "is_open": i.is_open,
        }
        for i in linked_incidents(session, problem)
    ]
    record["changes"] = [
        {"number": c.number, "title": c.title, "status": c.status, "outcome": c.outcome}
        for c in changes_of(session, problem)
    ]
    record["articles"] = [
        {"number": a.number, "title": a.title, "status": a.status}
        for a in articles_of(session, problem)
    ]
    return record


@dataclass(frozen=True)
class ProblemRow:
    """One line of the problem list."""

    number: str
    priority: int
    status: str
    known_error: bool
    title: str
    service: str | None
    assignee: str | None
    incidents: int
    opened_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "priority": f"P{self.priority}",
            "status": self.status,
            "known_error": self.known_error,
            "title": self.title,
            "service": self.service,
            "assignee": self.assignee,
            "incidents": self.incidents,
            "opened_at": iso(self.opened_at),
        }


def problem_list(
    session: Session,
    *,
    open_only: bool = True,
    known_errors_only: bool = False,
    limit: int = 200,
    after: tuple[int, datetime, int] | None = None,
) -> list[ProblemRow]:
    """Problems by priority then age (open ones unless `open_only` is off), each with how
    many incidents it holds; keyset paging with `after` = (priority, opened_at, id)."""
    linked = aliased(Ticket)
    counted = (
        select(func.count())
        .where(linked.problem_id == Ticket.id)
        .correlate(Ticket)
        .scalar_subquery()
    )
    query = (
        select(
            Ticket.number,
            Ticket.priority,
            Ticket.status,
            Ticket.known_error,
            Ticket.title,
            Service.name,
            Agent.username,
            counted,
            Ticket.opened_at,
        )
        .outerjoin(Service, Service.id == Ticket.service_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(Ticket.type == "problem")
        .order_by(Ticket.priority, Ticket.opened_at, Ticket.id)
        .limit(limit)
    )
    if open_only:
        query = query.where(Ticket.is_open.is_(True))
    if known_errors_only:
        query = query.where(Ticket.known_error.is_(True))
    if after is not None:
        priority, opened_at, ticket_id = after
        query = query.where(
            (Ticket.priority > priority)
            | ((Ticket.priority == priority) & (Ticket.opened_at > opened_at))
            | (
                (Ticket.priority == priority)
                & (Ticket.opened_at == opened_at)
                & (Ticket.id > ticket_id)
            )
        )
    return [ProblemRow(*row) for row in session.execute(query)]
