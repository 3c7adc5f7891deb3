"""Importing tickets with their history: validated in full, written in bulk, all-or-nothing.

The reading of files lives in `itsm_tui.ticket_files`; this module is the write side
and owns `TicketRecord`, the one definition of what a ticket in an import or an
export carries. `import_tickets` writes nothing outside the caller's transaction:
a file with one bad record imports nothing.

Number rule: a record keeps its number when the number is in this desk's format
for its type (`INC0001234` for an incident…) and no ticket on the desk has it; a
number in that format that is already taken is an error naming both (re-running
an import is refused rather than silently merged). A record without a number, or
with one in another tool's format, gets the next number of the desk; its original
number stays in the audit event and still works in the file's links.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    CatalogueItem,
    Change,
    Comment,
    KnowledgeArticle,
    NumberSequence,
    Requester,
    Service,
    Team,
    Ticket,
)
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.identity import impersonator_id
from itsm_tui.desk.records import (
    CLOCK_SKEW,
    MAX_TEXT,
    MAX_TITLE,
    Edit,
    as_utc,
    check_email,
    check_level,
    check_text,
    priority_matrix,
    raise_sequence_floor,
    require,
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
    format_number,
    workflow_for,
)
from itsm_tui.i18n import _

IMPORT_PERMISSION = "ticket.import"
# Rows per bulk INSERT: large enough that round trips do not dominate, small enough
# that one batch of records and their comments stays a few megabytes.
IMPORT_BATCH = 1000
# Column widths of the store (data/models.py) that user text must fit.
MAX_NAME = 200
MAX_CATEGORY = 80
# Form answers are a few levels deep (a list of choices, a table of rows); far below
# the depth at which Python's JSON encoder and the views' walks run out of stack.
MAX_JSON_DEPTH = 32
_NUMBER_RE = re.compile(r"([A-Z]+)([0-9]+)")
# Statuses that end a ticket without resolving it: they carry a closed time.
_CLOSING = frozenset({"closed", "cancelled", "rejected"})


@dataclass(frozen=True, kw_only=True)
class CommentRecord:
    """One reply or work note of an imported or exported ticket."""

    kind: str
    body: str
    created_at: datetime
    # An agent's username, or the name of someone who is not an agent of this desk.
    author: str | None = None


@dataclass(frozen=True, kw_only=True)
class TicketRecord:
    """A ticket as files carry it: names instead of ids, numbers instead of links.

    The field order is the column order of the CSV format and the key order of
    the JSON lines format; `comments` is last. `source` says where the record
    came from ("line 7") for error messages and is not part of the data.
    """

    number: str | None = None
    type: str
    title: str
    description: str = ""
    status: str
    impact: int
    urgency: int
    # None: derived from impact and urgency by the desk's matrix.
    priority: int | None = None
    priority_overridden: bool = False
    category: str = ""
    service: str | None = None
    requester: str | None = None
    requester_name: str = ""
    team: str | None = None
    assignee: str | None = None
    created_by: str | None = None
    catalogue_item: str | None = None
    form_data: dict[str, Any] | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    parent: str | None = None
    problem: str | None = None
    change: str | None = None
    kb_article: str | None = None
    is_major: bool = False
    root_cause: str = ""
    workaround: str = ""
    known_error: bool = False
    opened_at: datetime
    # None: the latest of the record's other times.
    updated_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = None
    reopen_count: int = 0
    escalation_level: int = 0
    comments: tuple[CommentRecord, ...] = ()
    source: str = field(default="", compare=False)


REQUIRED_FIELDS = ("type", "title", "status", "impact", "urgency", "opened_at")


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    tickets: int
    comments: int
    requesters_created: int
    # (original number or "", number on this desk) for every record that got a new number.
    renumbered: tuple[tuple[str, str], ...]


# ---------------------------------------------------------------------------
# Checks that need no database


@contextmanager
def located(where: str) -> Iterator[None]:
    """Prefix any refusal raised inside with the record it is about."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput(
            _("{where}: {problem}").format(where=where, problem=exc.message)
        ) from None


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(_("{what} must be a time").format(what=what))
    return as_utc(value, what)


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            _("{what} must be a whole number of 0 or more, not {value!r}").format(
                what=what, value=value
            )
        )
    return value


def _flag(value: object, what: str) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(_("{what} must be true or false").format(what=what))


def _check_json_text(value: object, what: str, depth: int = 0) -> None:
    """Form answers are JSON: every string in them must be storable text too."""
    if depth > MAX_JSON_DEPTH:
        # Every reader of the answers (the detail view, the export) walks them recursively.
        raise InvalidInput(
            _("{what} nests deeper than {limit} levels").format(what=what, limit=MAX_JSON_DEPTH)
        )
    if isinstance(value, str):
        check_text(value, what)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, what)
            _check_json_text(item, what, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_text(item, what, depth + 1)


def _text(
    value: object,
    what: Callable[[], str],
    *,
    required: bool = False,
    limit: int = MAX_TEXT,
) -> None:
    """check_text, with the label translated only for a refusal: imports check millions."""
    if (
        isinstance(value, str)
        and len(value) <= limit
        and "\x00" not in value
        and (not required or (not value.isspace() and value != ""))
        and (value.isascii() or _encodes(value))
    ):
        return
    check_text(value, what(), required=required, limit=limit)


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_record(record: TicketRecord) -> None:
    """Everything about one record that can be checked without the store."""
    if record.type not in TICKET_TYPES:
        raise InvalidInput(
            _("unknown ticket type {type!r}; use one of: {types}").format(
                type=record.type, types=", ".join(TICKET_TYPES)
            )
        )
    flow = workflow_for(record.type)
    if record.status not in flow.statuses:
        raise InvalidInput(
            _("{status!r} is not a status of {a_type}; statuses: {statuses}").format(
                status=record.status,
                a_type=a_ticket_of_type(record.type),
                statuses=", ".join(flow.statuses),
            )
        )
    if record.number is not None:
        _text(record.number, lambda: _("number"), required=True, limit=64)
    _text(record.title, lambda: _("title"), required=True, limit=MAX_TITLE)
    _text(record.description, lambda: _("description"))
    _text(record.category, lambda: _("category"), limit=MAX_CATEGORY)
    _text(record.root_cause, lambda: _("root cause"))
    _text(record.workaround, lambda: _("workaround"))
    _text(record.requester_name, lambda: _("requester name"), limit=MAX_NAME)
    for what, name in (
        (lambda: _("service"), record.service),
        (lambda: _("team"), record.team),
        (lambda: _("assignee"), record.assignee),
        (lambda: _("created by"), record.created_by),
        (lambda: _("catalogue item"), record.catalogue_item),
        (lambda: _("approved by"), record.approved_by),
        (lambda: _("parent"), record.parent),
        (lambda: _("problem"), record.problem),
        (lambda: _("change"), record.change),
        (lambda: _("knowledge article"), record.kb_article),
    ):
        if name is not None:
            _text(name, what, required=True, limit=MAX_NAME)
    if record.requester is not None:
        check_email(record.requester)
    if record.impact not in (1, 2, 3) or isinstance(record.impact, bool):
        check_level(record.impact, _("impact"))
    if record.urgency not in (1, 2, 3) or isinstance(record.urgency, bool):
        check_level(record.urgency, _("urgency"))
    if record.priority is not None and (
        isinstance(record.priority, bool) or record.priority not in PRIORITIES
    ):
        raise InvalidInput(
            _("priority must be 1, 2, 3 or 4 (P1–P4), not {p!r}").format(p=record.priority)
        )
    _flag(record.priority_overridden, "priority_overridden")
    _flag(record.is_major, "is_major")
    _flag(record.known_error, "known_error")
    _count(record.reopen_count, "reopen_count")
    _count(record.escalation_level, "escalation_level")
    if record.resolution_code is not None and record.resolution_code not in RESOLUTION_CODES:
        raise InvalidInput(
            _("unknown resolution code {code!r}; codes: {codes}").format(
                code=record.resolution_code, codes=", ".join(RESOLUTION_CODES)
            )
        )
    if record.resolution_notes is not None:
        _text(record.resolution_notes, lambda: _("resolution notes"))
    if record.form_data is not None:
        if not isinstance(record.form_data, dict):
            raise InvalidInput(_("form_data must be an object of form answers"))
        _check_json_text(record.form_data, _("form_data"))
    if record.type != REQUEST and (record.catalogue_item or record.form_data):
        raise InvalidInput(_("only service requests have a catalogue item and form answers"))
    if record.type != PROBLEM and (record.root_cause or record.workaround or record.known_error):
        raise InvalidInput(_("root cause, workaround and known error belong to problems"))
    if record.parent is not None and record.type != INCIDENT:
        raise InvalidInput(_("only an incident can have a parent"))
    if record.problem is not None and record.type == PROBLEM:
        raise InvalidInput(_("a problem cannot be linked to another problem"))
    _check_times(record)
    for n, comment in enumerate(record.comments, start=1):
        try:
            _check_comment(comment)
        except InvalidInput as exc:
            raise InvalidInput(
                _("comment {n}: {problem}").format(n=n, problem=exc.message)
            ) from None


def _check_times(record: TicketRecord) -> None:
    opened = _aware(record.opened_at, "opened_at")
    for what, value in (
        ("updated_at", record.updated_at),
        ("approved_at", record.approved_at),
    ):
        if value is not None:
            _aware(value, what)
    # The lifecycle in order: each present time is no earlier than the ones before it.
    previous_name, previous = "opened_at", opened
    for name, value in (
        ("first_response_at", record.first_response_at),
        ("resolved_at", record.resolved_at),
        ("closed_at", record.closed_at),
    ):
        if value is None:
            continue
        at = _aware(value, name)
        if at < previous:
            raise InvalidInput(
                _("{name} {at} is before {previous_name} {previous}").format(
                    name=name,
                    at=at.isoformat(),
                    previous_name=previous_name,
                    previous=previous.isoformat(),
                )
            )
        previous_name, previous = name, at
    flow = workflow_for(record.type)
    if flow.is_open(record.status):
        if record.resolved_at is not None or record.closed_at is not None:
            raise InvalidInput(
                _("{status} is an open status, so resolved_at and closed_at must be empty").format(
                    status=record.status
                )
            )
    elif record.status == flow.resolved and record.resolved_at is None:
        raise InvalidInput(_("a {status} ticket needs resolved_at").format(status=record.status))
    elif record.status in _CLOSING and record.closed_at is None:
        raise InvalidInput(_("a {status} ticket needs closed_at").format(status=record.status))


def _check_comment(comment: CommentRecord) -> None:
    if comment.kind not in COMMENT_KINDS:
        raise InvalidInput(
            _("a comment is a reply or a work_note, not {kind!r}").format(kind=comment.kind)
        )
    _text(comment.body, lambda: _("comment"), required=True)
    if comment.author is not None:
        _text(comment.author, lambda: _("comment author"), required=True, limit=MAX_NAME)
    _aware(comment.created_at, "created_at")


def describe_record(where: str, number: object) -> str:
    """ "line 7 (INC0000042)": where a record is, and its number when it has one."""
    if isinstance(number, str) and number.strip():
        return _("{where} ({number})").format(where=where, number=number.strip())
    return where


def desk_number(number: str | None, ticket_type: str) -> int | None:
    """The sequence value of `number` if it is in this desk's format for the type, else None."""
    if number is None:
        return None
    match = _NUMBER_RE.fullmatch(number)
    if match is None or match.group(1) != NUMBER_PREFIX[ticket_type]:
        return None
    value = int(match.group(2))
    if value < 1 or format_number(match.group(1), value) != number:
        return None
    if len(number) > Ticket.__table__.c.number.type.length:
        return None
    return value


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


class _Names:
    """The desk's teams, agents, services… by the names files use, loaded once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.teams = {
            name.lower(): (id_, name) for id_, name in session.execute(select(Team.id, Team.name))
        }
        self.services = {
            name.lower(): (id_, name)
            for id_, name in session.execute(select(Service.id, Service.name))
        }
        # Historical tickets may name items since retired: inactive items count too.
        self.items = {
            code.lower(): (id_, code)
            for id_, code in session.execute(select(CatalogueItem.id, CatalogueItem.code))
        }
        agents = session.execute(select(Agent.id, Agent.username)).all()
        self.agents_exact = {username: id_ for id_, username in agents}
        self.agents = {username.lower(): id_ for id_, username in agents}
        self.changes: dict[str, int | None] = {}
        self.articles: dict[str, int | None] = {}

    @staticmethod
    def _known(names: Iterable[str], limit: int = 12) -> str:
        names = sorted(names)
        shown = ", ".join(names[:limit])
        return (shown + (", …" if len(names) > limit else "")) or "—"

    def team(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self.teams.get(name.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown team {name!r}; teams: {known}; add it in the desk file first").format(
                    name=name, known=self._known(n for _, n in self.teams.values())
                )
            )
        return found[0]

    def service(self, name: str | None) -> int | None:
        if name is None:
            return None
        found = self.services.get(name.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown service {name!r}; services: {known}").format(
                    name=name, known=self._known(n for _, n in self.services.values())
                )
            )
        return found[0]

    def item(self, code: str | None) -> int | None:
        if code is None:
            return None
        found = self.items.get(code.strip().lower())
        if found is None:
            raise InvalidInput(
                _("unknown catalogue item {code!r}; items: {known}").format(
                    code=code, known=self._known(c for _, c in self.items.values())
                )
            )
        return found[0]

    def agent(self, username: str | None, what: str) -> int | None:
        if username is None:
            return None
        found = self.agents_exact.get(username.strip())
        if found is None:
            found = self.agents.get(username.strip().lower())
        if found is None:
            raise InvalidInput(
                _(
                    "{what} {name!r} is not an agent of this desk; add the agent in the "
                    "desk file or leave the field empty"
                ).format(what=what, name=username)
            )
        return found

    def author(self, name: str | None) -> tuple[int | None, str | None]:
        """An agent when the name is exactly a username; otherwise kept as a name."""
        if name is None:
            return None, None
        found = self.agents_exact.get(name)
        return (found, None) if found is not None else (None, name)

    def _numbered(
        self,
        cache: dict[str, int | None],
        model: type[Change] | type[KnowledgeArticle],
        number: str,
    ) -> int | None:
        key = number.strip().upper()
        if key not in cache:
            cache[key] = self.session.scalar(select(model.id).where(model.number == key))
        return cache[key]

    def change(self, number: str | None) -> int | None:
        if number is None:
            return None
        found = self._numbered(self.changes, Change, number)
        if found is None:
            raise InvalidInput(_("no change {number} on this desk").format(number=number))
        return found

    def article(self, number: str | None) -> int | None:
        if number is None:
            return None
        found = self._numbered(self.articles, KnowledgeArticle, number)
        if found is None:
            raise InvalidInput(
                _("no knowledge article {number} on this desk").format(number=number)
            )
        return found


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
        self.names = _Names(session)
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

    def add(self, record: TicketRecord, index: int) -> None:
        where = record.source
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
            "resolution_code": record.resolution_code,
            "resolution_notes": record.resolution_notes,
            "reopen_count": record.reopen_count,
            "escalation_level": record.escalation_level,
            "version": 1,
        }
        requester = check_email(record.requester) if record.requester is not None else None
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
        for prefix, floor in sorted(self.floors.items()):
            raise_sequence_floor(self.session, prefix, floor)
        renumbered = self._renumber()
        return ImportResult(
            tickets=self.tickets,
            comments=self.comments,
            requesters_created=self.requesters_created,
            renumbered=renumbered,
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
                audit.c.record_type == "ticket",
                audit.c.record_id == bindparam("b_id"),
                audit.c.action == "import",
            )
            .values(record_number=bindparam("b_number")),
            ticket_rows,
        )
        return tuple(renumbered)


def import_tickets(
    session: Session,
    actor: Agent,
    records: Iterable[TicketRecord],
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
