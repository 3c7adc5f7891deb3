"""The records a desk export carries beside its tickets, and their import.

- change: with its approvals, notes and the incidents it caused (the change success KPI
  counts a change with a caused incident inside its review period as not first time);
- outage: a service's downtime (availability, error budget);
- complaint: a requester's formal complaint (complaints year on year);
- budget: a period's incident budget (incident cost). Budgets are desk-file rows
  (`[budgets]`, applied by `itsm config apply`): they travel in the desk file. The
  export repeats them so its file alone is enough to compute every KPI; the import
  writes none (a second owner would fight the desk file) and counts those the desk
  file does not hold, for the summary to say so.

Changes come first in a file (tickets name their change), outages and complaints after
the tickets they name; a change's caused incidents and problem are linked at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Budget,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Comment,
    Complaint,
    KnowledgeArticle,
    Outage,
    Requester,
)
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.import_names import ImportNames
from itsm_tui.desk.records import check_email, check_text, raise_sequence_floor
from itsm_tui.domain.change_risk import RISK_LEVELS
from itsm_tui.domain.workflow import (
    CHANGE_OUTCOMES,
    CHANGE_TYPES,
    CHANGE_WORKFLOWS,
    COMMENT_KINDS,
    INCIDENT,
    PROBLEM,
)
from itsm_tui.i18n import _

CHANGE_PREFIX = "CHG"
_CHANGE_NUMBER = re.compile(r"CHG([0-9]+)")
ARTICLE_PREFIX = "KB"
_ARTICLE_NUMBER = re.compile(r"KB([0-9]+)")
ARTICLE_STATUSES = ("draft", "published")
APPROVAL_DECISIONS = ("pending", "approved", "rejected")
# Outage and complaint rows per bulk INSERT.
BATCH = 1000


@dataclass(frozen=True, kw_only=True)
class ApprovalRecord:
    approver: str
    decision: str = "pending"
    decided_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class CausedIncidentRecord:
    ticket: str
    linked_at: datetime
    linked_by: str | None = None
    # Inside the change's review period when linked: it spoils the first-time success.
    within_review: bool = True


@dataclass(frozen=True, kw_only=True)
class NoteRecord:
    kind: str
    body: str
    created_at: datetime
    author: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRecord:
    number: str
    title: str
    description: str = ""
    change_type: str
    category: str = ""
    status: str
    risk: str | None = None
    risk_score: int | None = None
    risk_answers: dict[str, Any] | None = None
    risk_reasons: list[Any] | None = None
    impact: int = 3
    services: list[Any] = field(default_factory=list)
    team: str | None = None
    owner: str | None = None
    requested_by: str | None = None
    problem: str | None = None
    implementer: str | None = None
    template: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    implementation_plan: str = ""
    backout_plan: str = ""
    test_plan: str = ""
    quorum: int = 1
    outcome: str | None = None
    review_notes: str = ""
    lessons_learned: str = ""
    schedule_overrides: list[Any] | None = None
    submitted_at: datetime | None = None
    authorized_at: datetime | None = None
    reviewed_at: datetime | None = None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    approvals: tuple[ApprovalRecord, ...] = ()
    caused_incidents: tuple[CausedIncidentRecord, ...] = ()
    notes: tuple[NoteRecord, ...] = ()
    # Where the record came from ("line 7"), for messages; not data.
    source: str = field(default="", compare=False)


@dataclass(frozen=True, kw_only=True)
class ArticleRecord:
    """A knowledge article: tickets name the article that solved them."""

    number: str
    title: str
    body: str = ""
    tags: list[Any] = field(default_factory=list)
    status: str = "draft"
    problem: str | None = None
    author: str | None = None
    views: int = 0
    helpful_yes: int = 0
    helpful_no: int = 0
    created_at: datetime
    updated_at: datetime
    source: str = field(default="", compare=False)


@dataclass(frozen=True, kw_only=True)
class OutageRecord:
    service: str
    ticket: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    notes: str = ""
    recorded_by: str | None = None
    # Where the record came from ("line 7"), for messages; not data.
    source: str = field(default="", compare=False)


@dataclass(frozen=True, kw_only=True)
class ComplaintRecord:
    ticket: str | None = None
    requester: str | None = None
    received_at: datetime
    summary: str = ""
    # Where the record came from ("line 7"), for messages; not data.
    source: str = field(default="", compare=False)


@dataclass(frozen=True, kw_only=True)
class BudgetRecord:
    category: str = "incident"
    period_start: date
    period_end: date
    amount: Decimal
    currency: str = "CNY"
    # Where the record came from ("line 7"), for messages; not data.
    source: str = field(default="", compare=False)


DeskRecord = ChangeRecord | ArticleRecord | OutageRecord | ComplaintRecord | BudgetRecord
# The `record` key of a line in a desk export, for each family.
RECORD_KINDS: dict[str, type[Any]] = {
    "change": ChangeRecord,
    "article": ArticleRecord,
    "outage": OutageRecord,
    "complaint": ComplaintRecord,
    "budget": BudgetRecord,
}


def check_change(record: ChangeRecord) -> None:
    if _CHANGE_NUMBER.fullmatch(record.number) is None:
        raise InvalidInput(
            _("change number {number!r} is not a desk number like CHG0000012").format(
                number=record.number
            )
        )
    if record.change_type not in CHANGE_TYPES:
        raise InvalidInput(
            _("unknown change type {kind!r}; use one of: {kinds}").format(
                kind=record.change_type, kinds=", ".join(CHANGE_TYPES)
            )
        )
    flow = CHANGE_WORKFLOWS[record.change_type]
    if record.status not in flow.statuses:
        raise InvalidInput(
            _("{status!r} is not a status of a {kind} change; statuses: {statuses}").format(
                status=record.status, kind=record.change_type, statuses=", ".join(flow.statuses)
            )
        )
    if record.outcome is not None and record.outcome not in CHANGE_OUTCOMES:
        raise InvalidInput(
            _("unknown outcome {outcome!r}; outcomes: {known}").format(
                outcome=record.outcome, known=", ".join(CHANGE_OUTCOMES)
            )
        )
    if record.risk is not None and record.risk not in RISK_LEVELS:
        raise InvalidInput(
            _("unknown risk {risk!r}; levels: {known}").format(
                risk=record.risk, known=", ".join(RISK_LEVELS)
            )
        )
    check_text(record.title, _("title"), required=True)
    for n, approval in enumerate(record.approvals, start=1):
        if approval.decision not in APPROVAL_DECISIONS:
            raise InvalidInput(
                _("approval {n}: decision {decision!r} is not one of {known}").format(
                    n=n, decision=approval.decision, known=", ".join(APPROVAL_DECISIONS)
                )
            )
    for n, note in enumerate(record.notes, start=1):
        if note.kind not in COMMENT_KINDS:
            raise InvalidInput(
                _("note {n}: kind {kind!r} is not one of {known}").format(
                    n=n, kind=note.kind, known=", ".join(COMMENT_KINDS)
                )
            )
        check_text(note.body, _("note {n}").format(n=n), required=True)


class DeskRecordWriter:
    """Writes the non-ticket records of one import, in the importer's transaction.

    `find_ticket(number)` is the importer's: a ticket of the file (already flushed) or
    of the desk, as (id, type); `names` resolves agents, teams and services."""

    def __init__(
        self,
        session: Session,
        names: ImportNames,
        find_ticket: Callable[[str], tuple[int, str, bool]],
    ) -> None:
        self.session = session
        self.names = names
        self.find_ticket = find_ticket
        self.changes = self.outages = self.complaints = self.budgets_not_on_desk = 0
        self.floors = {CHANGE_PREFIX: 0, ARTICLE_PREFIX: 0}
        self.articles = 0
        self.article_problems: list[tuple[int, str]] = []
        # Links to tickets a change names, resolved once every ticket is in: (change id,
        # number, record).
        self.change_links: list[tuple[int, ChangeRecord]] = []
        self.requesters: dict[str, int] = {}
        # Outages and complaints wait here for one bulk INSERT per table and batch.
        self.outage_rows: list[dict[str, Any]] = []
        self.complaint_rows: list[dict[str, Any]] = []

    def add(self, record: DeskRecord) -> None:
        if isinstance(record, ChangeRecord):
            self._change(record)
        elif isinstance(record, ArticleRecord):
            self._article(record)
        elif isinstance(record, OutageRecord):
            self._outage(record)
        elif isinstance(record, ComplaintRecord):
            self._complaint(record)
        else:
            self._budget(record)

    def _change(self, record: ChangeRecord) -> None:
        check_change(record)
        names = self.names
        taken = self.session.scalar(select(Change.id).where(Change.number == record.number))
        if taken is not None:
            raise InvalidInput(
                _("{number} is already on this desk; nothing was imported").format(
                    number=record.number
                )
            )
        values = {
            "number": record.number,
            "title": record.title,
            "description": record.description,
            "change_type": record.change_type,
            "category": record.category,
            "status": record.status,
            "is_open": CHANGE_WORKFLOWS[record.change_type].is_open(record.status),
            "risk": record.risk,
            "risk_score": record.risk_score,
            "risk_answers": record.risk_answers,
            "risk_reasons": record.risk_reasons,
            "impact": record.impact,
            "services": record.services,
            "team_id": names.team(record.team),
            "owner_id": names.agent(record.owner, _("owner")),
            "requested_by_id": names.agent(record.requested_by, _("requested_by")),
            "implementer_id": names.agent(record.implementer, _("implementer")),
            "problem_id": None,
            "template": record.template,
            "implementation_plan": record.implementation_plan,
            "backout_plan": record.backout_plan,
            "test_plan": record.test_plan,
            "quorum": record.quorum,
            "outcome": record.outcome,
            "review_notes": record.review_notes,
            "lessons_learned": record.lessons_learned,
            "schedule_overrides": record.schedule_overrides,
            "version": 1,
        }
        for name in (
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "submitted_at",
            "authorized_at",
            "reviewed_at",
            "opened_at",
            "updated_at",
            "closed_at",
        ):
            values[name] = getattr(record, name)
        table = Change.__table__
        change_id = self.session.execute(table.insert().returning(table.c.id), values).scalar_one()
        names.changes[record.number] = change_id
        if record.approvals:
            self.session.execute(
                ChangeApproval.__table__.insert(),
                [
                    {
                        "change_id": change_id,
                        "approver_id": names.agent(a.approver, _("approver")),
                        "decision": a.decision,
                        "decided_at": a.decided_at,
                        "comment": a.comment,
                    }
                    for a in record.approvals
                ],
            )
        if record.notes:
            rows = []
            for note in record.notes:
                author_id, author_name = names.author(note.author)
                rows.append(
                    {
                        "ticket_id": None,
                        "change_id": change_id,
                        "author_id": author_id,
                        "author_name": author_name,
                        "kind": note.kind,
                        "body": note.body,
                        "created_at": note.created_at,
                    }
                )
            self.session.execute(Comment.__table__.insert(), rows)
        for link in record.caused_incidents:
            names.agent(link.linked_by, _("linked_by"))
        if record.problem is not None or record.caused_incidents:
            self.change_links.append((change_id, record))
        match = _CHANGE_NUMBER.fullmatch(record.number)
        assert match is not None
        self.floors[CHANGE_PREFIX] = max(self.floors[CHANGE_PREFIX], int(match.group(1)))
        self.changes += 1

    def _article(self, record: ArticleRecord) -> None:
        match = _ARTICLE_NUMBER.fullmatch(record.number)
        if match is None:
            raise InvalidInput(
                _("article number {number!r} is not a desk number like KB0000012").format(
                    number=record.number
                )
            )
        if record.status not in ARTICLE_STATUSES:
            raise InvalidInput(
                _("article status {status!r} is not one of {known}").format(
                    status=record.status, known=", ".join(ARTICLE_STATUSES)
                )
            )
        check_text(record.title, _("title"), required=True)
        check_text(record.body, _("body"))
        if self.session.scalar(
            select(KnowledgeArticle.id).where(KnowledgeArticle.number == record.number)
        ):
            raise InvalidInput(
                _("{number} is already on this desk; nothing was imported").format(
                    number=record.number
                )
            )
        table = KnowledgeArticle.__table__
        article_id = self.session.execute(
            table.insert().returning(table.c.id),
            {
                "number": record.number,
                "title": record.title,
                "body": record.body,
                "tags": record.tags,
                "status": record.status,
                "problem_id": None,
                "author_id": self.names.agent(record.author, _("author")),
                "views": record.views,
                "helpful_yes": record.helpful_yes,
                "helpful_no": record.helpful_no,
                "created_at": record.created_at,
                "updated_at": record.updated_at,
                "version": 1,
            },
        ).scalar_one()
        self.names.articles[record.number] = article_id
        if record.problem is not None:
            self.article_problems.append((article_id, record.problem))
        self.floors[ARTICLE_PREFIX] = max(self.floors[ARTICLE_PREFIX], int(match.group(1)))
        self.articles += 1

    def _ticket(self, number: str | None, ticket_type: str | None = None) -> int | None:
        if number is None:
            return None
        ticket_id, found_type, _in_file = self.find_ticket(number)
        if ticket_type is not None and found_type != ticket_type:
            raise InvalidInput(
                _("{number} is a {found}, not a {wanted}").format(
                    number=number, found=found_type, wanted=ticket_type
                )
            )
        return ticket_id

    def _outage(self, record: OutageRecord) -> None:
        if record.ended_at is not None and record.ended_at < record.started_at:
            raise InvalidInput(_("the outage ends before it starts"))
        check_text(record.notes, _("notes"))
        self.outage_rows.append(
            {
                "service_id": self.names.service(record.service),
                "ticket_id": self._ticket(record.ticket),
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "notes": record.notes,
                "recorded_by_id": self.names.agent(record.recorded_by, _("recorded_by")),
            }
        )
        self.outages += 1
        if len(self.outage_rows) >= BATCH:
            self.flush()

    def _complaint(self, record: ComplaintRecord) -> None:
        check_text(record.summary, _("summary"))
        requester_id = None
        if record.requester is not None:
            email = check_email(record.requester)
            key = email.lower()
            if key not in self.requesters:
                found = self.session.scalar(
                    select(Requester.id).where(func.lower(Requester.email) == key)
                )
                if found is None:
                    table = Requester.__table__
                    found = self.session.execute(
                        table.insert().returning(table.c.id),
                        {"email": email, "name": "", "department": ""},
                    ).scalar_one()
                self.requesters[key] = found
            requester_id = self.requesters[key]
        self.complaint_rows.append(
            {
                "ticket_id": self._ticket(record.ticket),
                "requester_id": requester_id,
                "received_at": record.received_at,
                "summary": record.summary,
            }
        )
        self.complaints += 1
        if len(self.complaint_rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """The outages and complaints read so far, one INSERT per table."""
        if self.outage_rows:
            self.session.execute(Outage.__table__.insert(), self.outage_rows)
            self.outage_rows = []
        if self.complaint_rows:
            self.session.execute(Complaint.__table__.insert(), self.complaint_rows)
            self.complaint_rows = []

    def _budget(self, record: BudgetRecord) -> None:
        if record.period_end < record.period_start:
            raise InvalidInput(_("the budget's period ends before it starts"))
        held = self.session.execute(
            select(Budget.amount, Budget.currency).where(
                Budget.category == record.category,
                Budget.period_start == record.period_start,
                Budget.period_end == record.period_end,
            )
        ).first()
        if held is None or Decimal(held[0]) != record.amount or held[1] != record.currency:
            self.budgets_not_on_desk += 1

    def finish(self) -> None:
        """The changes' problems and caused incidents, now that every ticket is in."""
        self.flush()
        caused: list[dict[str, Any]] = []
        for change_id, record in self.change_links:
            if record.problem is not None:
                self.session.execute(
                    Change.__table__.update()
                    .where(Change.__table__.c.id == change_id)
                    .values(problem_id=self._ticket(record.problem, PROBLEM))
                )
            for link in record.caused_incidents:
                caused.append(
                    {
                        "change_id": change_id,
                        "ticket_id": self._ticket(link.ticket, INCIDENT),
                        "linked_at": link.linked_at,
                        "linked_by_id": self.names.agent(link.linked_by, _("linked_by")),
                        "within_review": link.within_review,
                    }
                )
        if caused:
            self.session.execute(ChangeCausedIncident.__table__.insert(), caused)
        table = KnowledgeArticle.__table__
        for article_id, problem in self.article_problems:
            self.session.execute(
                table.update()
                .where(table.c.id == article_id)
                .values(problem_id=self._ticket(problem, PROBLEM))
            )
        for prefix, floor in self.floors.items():
            if floor:
                raise_sequence_floor(self.session, prefix, floor)
