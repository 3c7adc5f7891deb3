"""A ticket as import and export files carry it, and every check that needs no store.

`TicketRecord` is the one definition of what a ticket in an import or an export
carries: names instead of ids, numbers instead of links. The write side is
`itsm_tui.desk.imports`, the file formats `itsm_tui.ticket_files`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itsm_tui.data.models import Ticket
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import (
    MAX_TEXT,
    MAX_TITLE,
    as_utc,
    check_email,
    check_level,
    check_text,
)
from itsm_tui.desk.ticket_measures import (
    ClockRecord,
    EscalationRecord,
    ReassignmentRecord,
    SurveyRecord,
    TimeEntryRecord,
    check_measures,
)
from itsm_tui.domain.priority import PRIORITIES
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

# Column widths of the store (data/models/) that user text must fit.
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
    # The catalogue item's delivery standard, met or not (a promise: may lie ahead).
    promised_at: datetime | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = None
    reopen_count: int = 0
    escalation_level: int = 0
    # What the KPIs read besides the ticket's columns (itsm_tui.desk.ticket_measures);
    # absent from files of format 1, whose tickets import without clocks.
    sla_clocks: tuple[ClockRecord, ...] = ()
    escalations: tuple[EscalationRecord, ...] = ()
    time_entries: tuple[TimeEntryRecord, ...] = ()
    survey: SurveyRecord | None = None
    reassignments: tuple[ReassignmentRecord, ...] = ()
    comments: tuple[CommentRecord, ...] = ()
    source: str = field(default="", compare=False)


REQUIRED_FIELDS = ("type", "title", "status", "impact", "urgency", "opened_at")


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
    check_measures(record)
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
        ("promised_at", record.promised_at),
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
