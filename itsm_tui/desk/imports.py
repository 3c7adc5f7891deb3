"""Importing tickets with their history: validated in full, written in bulk, all-or-nothing.

The reading of files lives in `itsm_tui.ticket_files`, the record and its checks in
`itsm_tui.desk.ticket_records`; this module is the write side. `import_tickets` writes
nothing outside the caller's transaction: a file with one bad record imports nothing.

Number rule: a record keeps its number when the number is in this desk's format
for its type (`INC0001234` for an incident…) and no ticket on the desk has it; a
number in that format that is already taken is an error naming both (re-running
an import is refused rather than silently merged). A record without a number, or
with one in another tool's format, gets the next number of the desk; its original
number stays in the audit event and still works in the file's links.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    Comment,
    NumberSequence,
    Requester,
    Ticket,
)
from itsm_tui.desk.desk_records import DeskRecord, DeskRecordWriter
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.identity import impersonator_id
from itsm_tui.desk.import_names import ImportNames
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    Edit,
    as_utc,
    check_email,
    priority_matrix,
    raise_sequence_floor,
    require,
)
from itsm_tui.desk.sla import refresh_sla_due
from itsm_tui.desk.ticket_measures import MeasureWriter, measure_times
from itsm_tui.desk.ticket_records import (
    REQUIRED_FIELDS,
    CommentRecord,
    TicketRecord,
    check_record,
    describe_record,
    desk_number,
    located,
)
from itsm_tui.domain.priority import priority_for, priority_label
from itsm_tui.domain.workflow import (
    INCIDENT,
    NUMBER_PREFIX,
    PROBLEM,
    format_number,
    workflow_for,
)
from itsm_tui.i18n import _

__all__ = [
    "IMPORT_BATCH",
    "IMPORT_PERMISSION",
    "REQUIRED_FIELDS",
    "CommentRecord",
    "ImportResult",
    "TicketRecord",
    "check_record",
    "describe_record",
    "import_tickets",
    "located",
]

IMPORT_PERMISSION = "ticket.import"
# Rows per bulk INSERT: large enough that round trips do not dominate, small enough
# that one batch of records and their comments stays a few megabytes.
IMPORT_BATCH = 1000


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    tickets: int
    comments: int
    requesters_created: int
    # (original number or "", number on this desk) for every record that got a new number.
    renumbered: tuple[tuple[str, str], ...]
    sla_clocks: int = 0
    time_entries: int = 0
    surveys: int = 0
    escalations: int = 0
    changes: int = 0
    articles: int = 0
    outages: int = 0
    complaints: int = 0
    # Budgets are desk-file rows (`[budgets]`): an export's budget lines the desk's own
    # budgets do not match, left for the desk file to settle.
    budgets_not_on_desk: int = 0


# ---------------------------------------------------------------------------
# The import


@dataclass
class _Pending:
    """A validated record with the store's ids resolved, waiting for its batch."""

    record: TicketRecord
    where: str
    number: str
    values: dict[str, Any]
    requester: str | None
    comment_authors: list[tuple[int | None, str | None]]


@dataclass
class _Link:
    ticket_id: int
    ticket_type: str
    parent: str | None
    problem: str | None
    where: str


def _reserve_numbers(session: Session, prefix: str, count: int) -> int:
    """Take `count` numbers of a prefix in one statement; returns the last one taken."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(NumberSequence)
        .values(prefix=prefix, last_value=count)
        .on_conflict_do_update(
            index_elements=[NumberSequence.prefix],
            set_={"last_value": NumberSequence.last_value + count},
        )
        .returning(NumberSequence.last_value)
    )
    return int(session.execute(stmt).scalar_one())


class _Importer:
    def __init__(self, session: Session, actor: Agent, now: datetime, batch: int) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.batch_size = batch
        self.names = ImportNames(session)
        self.measures = MeasureWriter(session, self.names.agent)
        self.others = DeskRecordWriter(session, self.names, self._find)
        self.matrix = priority_matrix(session)
        self.pending: list[_Pending] = []
        # Every number the file used → (ticket id, type), for links; and where it was seen.
        self.by_number: dict[str, tuple[int, str]] = {}
        self.seen: dict[str, str] = {}
        self.requesters: dict[str, int] = {}
        self.links: list[_Link] = []
        self.floors: dict[str, int] = {}
        # (ticket id, prefix, original number) of records that get a new number at the end.
        self.placeholders: list[tuple[int, str, str]] = []
        self.tickets = 0
        self.comments = 0
        self.requesters_created = 0

    # -- one record --------------------------------------------------------

    def add(self, record: TicketRecord | DeskRecord, index: int) -> None:
        where = record.source
        if not isinstance(record, TicketRecord):
            # Outages and complaints name tickets read before them: those go in first.
            self.flush()
            with located(where or _("record {n}").format(n=index)):
                self.others.add(record)
            return
        if not where:
            where = describe_record(_("record {n}").format(n=index), record.number)
        with located(where):
            check_record(record)
            self._check_future(record)
            self.pending.append(self._resolve(record, where))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def _check_future(self, record: TicketRecord) -> None:
        limit = self.now + CLOCK_SKEW
        times = [
            ("opened_at", record.opened_at),
            ("updated_at", record.updated_at),
            ("first_response_at", record.first_response_at),
            ("resolved_at", record.resolved_at),
            ("closed_at", record.closed_at),
            ("approved_at", record.approved_at),
        ] + [(_("comment {n}").format(n=n), c.created_at) for n, c in enumerate(record.comments, 1)]
        times += measure_times(record)
        for what, at in times:
            if at is not None and at > limit:
                raise InvalidInput(
                    _("{what} {at} is in the future").format(what=what, at=at.isoformat())
                )

    def _resolve(self, record: TicketRecord, where: str) -> _Pending:
        names = self.names
        number = record.number
        if number is not None:
            if number in self.seen:
                raise InvalidInput(
                    _("number {number} appears twice in the file (first at {first})").format(
                        number=number, first=self.seen[number]
                    )
                )
            self.seen[number] = where
        sequence = desk_number(number, record.type)
        if sequence is not None:
            assert number is not None
            prefix = NUMBER_PREFIX[record.type]
            self.floors[prefix] = max(self.floors.get(prefix, 0), sequence)
            stored = number
        else:
            # Unique within any concurrent transaction; replaced by a desk number at the end.
            stored = "~" + secrets.token_hex(7)
        times = [
            t
            for t in (
                record.opened_at,
                record.first_response_at,
                record.resolved_at,
                record.closed_at,
                record.approved_at,
            )
            if t is not None
        ] + [c.created_at for c in record.comments]
        priority = record.priority
        if priority is None:
            priority = priority_for(record.impact, record.urgency, self.matrix)
        values: dict[str, Any] = {
            "number": stored,
            "type": record.type,
            "title": record.title,
            "description": record.description,
            "status": record.status,
            "is_open": workflow_for(record.type).is_open(record.status),
            "impact": record.impact,
            "urgency": record.urgency,
            "priority": priority,
            "priority_overridden": record.priority_overridden,
            "category": record.category,
            "service_id": names.service(record.service),
            "requester_id": None,
            "team_id": names.team(record.team),
            "assignee_id": names.agent(record.assignee, _("assignee")),
            "created_by_id": names.agent(record.created_by, _("created_by")),
            "catalogue_item_id": names.item(record.catalogue_item),
            "form_data": record.form_data,
            "approved_by_id": names.agent(record.approved_by, _("approved_by")),
            "approved_at": record.approved_at,
            "parent_id": None,
            "problem_id": None,
            "change_id": names.change(record.change),
            "kb_article_id": names.article(record.kb_article),
            "is_major": record.is_major,
            "root_cause": record.root_cause,
            "workaround": record.workaround,
            "known_error": record.known_error,
            "opened_at": record.opened_at,
            "updated_at": record.updated_at or max(times),
            "first_response_at": record.first_response_at,
            "resolved_at": record.resolved_at,
            "closed_at": record.closed_at,
            "promised_at": record.promised_at,
            "resolution_code": record.resolution_code,
            "resolution_notes": record.resolution_notes,
            "reopen_count": record.reopen_count,
            "escalation_level": record.escalation_level,
            "version": 1,
        }
        requester = check_email(record.requester) if record.requester is not None else None
        self.measures.check_names(record)
        authors = [names.author(c.author) for c in record.comments]
        return _Pending(record, where, stored, values, requester, authors)

    # -- one batch ---------------------------------------------------------

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self._refuse_taken_numbers(batch)
        self._resolve_requesters(batch)
        # A plain executemany, then the ids by number (unique, indexed): on SQLite this is
        # twice as fast as INSERT … RETURNING with the rows' order kept.
        self.session.execute(Ticket.__table__.insert(), [p.values for p in batch])
        id_of = dict(
            self.session.execute(
                select(Ticket.number, Ticket.id).where(Ticket.number.in_([p.number for p in batch]))
            ).all()
        )
        ids = [id_of[p.number] for p in batch]
        comment_rows: list[dict[str, Any]] = []
        audit_rows: list[dict[str, Any]] = []
        for ticket_id, p in zip(ids, batch, strict=True):
            record = p.record
            if record.number is not None:
                self.by_number[record.number] = (ticket_id, record.type)
            if p.number.startswith("~"):
                self.placeholders.append(
                    (ticket_id, NUMBER_PREFIX[record.type], record.number or "")
                )
            if record.parent is not None or record.problem is not None:
                self.links.append(
                    _Link(ticket_id, record.type, record.parent, record.problem, p.where)
                )
            for comment, (author_id, author_name) in zip(
                record.comments, p.comment_authors, strict=True
            ):
                comment_rows.append(
                    {
                        "ticket_id": ticket_id,
                        "change_id": None,
                        "author_id": author_id,
                        "author_name": author_name,
                        "kind": comment.kind,
                        "body": comment.body,
                        "created_at": comment.created_at,
                    }
                )
            audit_rows.append(self._audit_row(ticket_id, p))
        if comment_rows:
            self.session.execute(Comment.__table__.insert(), comment_rows)
        self.session.execute(AuditEvent.__table__.insert(), audit_rows)
        written = [(ticket_id, p.number, p.record) for ticket_id, p in zip(ids, batch, strict=True)]
        moves = self.measures.write(written)
        if moves:
            self.session.execute(AuditEvent.__table__.insert(), moves)
        # The queue's SLA sort key follows the clocks just written (one UPDATE).
        refresh_sla_due(self.session, [t for t, _n, record in written if record.sla_clocks])
        self.tickets += len(batch)
        self.comments += len(comment_rows)

    def _refuse_taken_numbers(self, batch: list[_Pending]) -> None:
        kept = {p.number: p for p in batch if not p.number.startswith("~")}
        if not kept:
            return
        taken = self.session.scalars(
            select(Ticket.number).where(Ticket.number.in_(list(kept))).order_by(Ticket.number)
        ).first()
        if taken is not None:
            raise InvalidInput(
                _(
                    "{where}: {number} is already on this desk; nothing was imported. Remove "
                    "the record, or empty its number to import it under a new one"
                ).format(where=kept[taken].where, number=taken)
            )

    def _resolve_requesters(self, batch: list[_Pending]) -> None:
        wanted = {p.requester.lower(): p.requester for p in batch if p.requester is not None}
        missing = [key for key in wanted if key not in self.requesters]
        if missing:
            for id_, email in self.session.execute(
                select(Requester.id, func.lower(Requester.email)).where(
                    func.lower(Requester.email).in_(missing)
                )
            ):
                self.requesters[email] = id_
            new = [key for key in missing if key not in self.requesters]
            if new:
                display = {
                    p.requester.lower(): p.record.requester_name
                    for p in batch
                    if p.requester is not None
                }
                table = Requester.__table__
                created = (
                    self.session.execute(
                        table.insert().returning(table.c.id, sort_by_parameter_order=True),
                        [{"email": wanted[k], "name": display[k], "department": ""} for k in new],
                    )
                    .scalars()
                    .all()
                )
                self.requesters.update(zip(new, created, strict=True))
                self.requesters_created += len(new)
        for p in batch:
            if p.requester is not None:
                p.values["requester_id"] = self.requesters[p.requester.lower()]

    def _audit_row(self, ticket_id: int, p: _Pending) -> dict[str, Any]:
        record = p.record
        summary: dict[str, Any] = {
            "type": record.type,
            "status": record.status,
            "priority": priority_label(p.values["priority"]),
            "team": record.team,
            "assignee": record.assignee,
            "service": record.service,
            "comments": len(record.comments),
        }
        if p.number.startswith("~"):
            summary["original_number"] = record.number
        row = {
            "at": self.now,
            "actor_id": self.actor.id,
            "record_type": "ticket",
            "record_id": ticket_id,
            "record_number": p.number,
            "action": "import",
            "field": None,
            "old_value": None,
            "new_value": json.dumps(summary, ensure_ascii=False),
            "record_version": 1,
            "reason": None,
        }
        admin_id = impersonator_id(self.session)
        if admin_id is not None:
            # Written in bulk, past the flush that stamps the ORM's audit events; named
            # only when set, so an import works on a store of an older revision too.
            row["impersonator_id"] = admin_id
        return row

    # -- after the last record ---------------------------------------------

    def finish(self) -> ImportResult:
        self.flush()
        self._link()
        self.others.finish()
        for prefix, floor in sorted(self.floors.items()):
            raise_sequence_floor(self.session, prefix, floor)
        renumbered = self._renumber()
        return ImportResult(
            tickets=self.tickets,
            comments=self.comments,
            requesters_created=self.requesters_created,
            renumbered=renumbered,
            sla_clocks=self.measures.clocks,
            time_entries=self.measures.time_entries,
            surveys=self.measures.surveys,
            escalations=self.measures.escalations,
            changes=self.others.changes,
            articles=self.others.articles,
            outages=self.others.outages,
            complaints=self.others.complaints,
            budgets_not_on_desk=self.others.budgets_not_on_desk,
        )

    def _find(self, number: str) -> tuple[int, str, bool]:
        """A linked ticket: one of this file's records, else one already on the desk."""
        if number in self.by_number:
            id_, ticket_type = self.by_number[number]
            return id_, ticket_type, True
        row = self.session.execute(
            select(Ticket.id, Ticket.type).where(Ticket.number == number.strip().upper())
        ).first()
        if row is None:
            raise InvalidInput(
                _("links to {number}, which is neither in the file nor on this desk").format(
                    number=number
                )
            )
        return row[0], row[1], False

    def _link(self) -> None:
        if not self.links:
            return
        rows: list[dict[str, Any]] = []
        parents: dict[int, int] = {}
        majors_in_file: set[int] = set()
        majors_on_desk: set[int] = set()
        for link in self.links:
            parent_id = problem_id = None
            with located(link.where):
                if link.parent is not None:
                    parent_id, parent_type, in_file = self._find(link.parent)
                    if parent_type != INCIDENT:
                        raise InvalidInput(
                            _("its parent {number} is not an incident").format(number=link.parent)
                        )
                    if parent_id == link.ticket_id:
                        raise InvalidInput(_("a ticket cannot be its own parent"))
                    parents[link.ticket_id] = parent_id
                    (majors_in_file if in_file else majors_on_desk).add(parent_id)
                if link.problem is not None:
                    problem_id, problem_type, _in_file = self._find(link.problem)
                    if problem_type != PROBLEM:
                        raise InvalidInput(
                            _("{number} is not a problem").format(number=link.problem)
                        )
            rows.append({"b_id": link.ticket_id, "b_parent": parent_id, "b_problem": problem_id})
        self._refuse_parent_loops(parents)
        table = Ticket.__table__
        self.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(parent_id=bindparam("b_parent"), problem_id=bindparam("b_problem")),
            rows,
        )
        if majors_in_file:
            # A parent is a major incident: the desk's link_ticket keeps the same rule.
            self.session.execute(
                update(table).where(table.c.id.in_(majors_in_file)).values(is_major=True)
            )
        for major in self.session.scalars(
            select(Ticket).where(Ticket.id.in_(majors_on_desk), Ticket.is_major.is_(False))
        ):
            Edit(self.session, self.actor, major, action="link", now=self.now).set("is_major", True)
        self.session.flush()

    def _refuse_parent_loops(self, parents: dict[int, int]) -> None:
        # Tickets already on the desk cannot point at imported ones, so a loop is in the file.
        where = {link.ticket_id: link.where for link in self.links}
        cleared: set[int] = set()
        for start in parents:
            path: list[int] = []
            node: int | None = start
            while node is not None and node in parents and node not in cleared:
                if node in path:
                    raise InvalidInput(
                        _("{where}: its parents form a loop").format(where=where[start])
                    )
                path.append(node)
                node = parents.get(node)
            cleared.update(path)

    def _renumber(self) -> tuple[tuple[str, str], ...]:
        if not self.placeholders:
            return ()
        by_prefix: dict[str, list[tuple[int, str]]] = {}
        for ticket_id, prefix, original in self.placeholders:
            by_prefix.setdefault(prefix, []).append((ticket_id, original))
        ticket_rows: list[dict[str, Any]] = []
        renumbered: list[tuple[str, str]] = []
        for prefix, tickets in by_prefix.items():
            last = _reserve_numbers(self.session, prefix, len(tickets))
            first = last - len(tickets) + 1
            for offset, (ticket_id, original) in enumerate(tickets):
                number = format_number(prefix, first + offset)
                ticket_rows.append({"b_id": ticket_id, "b_number": number})
                renumbered.append((original, number))
        tickets_table = Ticket.__table__
        self.session.execute(
            update(tickets_table)
            .where(tickets_table.c.id == bindparam("b_id"))
            .values(number=bindparam("b_number")),
            ticket_rows,
        )
        audit = AuditEvent.__table__
        self.session.execute(
            update(audit)
            .where(
                # The import event and the reassignments the file carried: every event of
                # a ticket this import created.
                audit.c.record_type == "ticket",
                audit.c.record_id == bindparam("b_id"),
            )
            .values(record_number=bindparam("b_number")),
            ticket_rows,
        )
        return tuple(renumbered)


def import_tickets(
    session: Session,
    actor: Agent,
    records: Iterable[TicketRecord | DeskRecord],
    *,
    now: datetime,
    batch: int = IMPORT_BATCH,
) -> ImportResult:
    """Write the records as tickets with their comments, in the caller's one transaction.

    Validates every record in full and refuses the whole import with the first bad
    record's location and problem: the caller's transaction then rolls back and the
    desk is exactly as before. Admins only.
    """
    now = as_utc(now, _("now"))
    require(actor, IMPORT_PERMISSION, _("import tickets"))
    # Our bulk statements bypass the session: anything the caller added goes first.
    session.flush()
    importer = _Importer(session, actor, now, max(1, batch))
    for index, record in enumerate(records, start=1):
        importer.add(record, index)
    return importer.finish()
