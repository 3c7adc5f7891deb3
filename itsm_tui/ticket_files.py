"""Desk files: export the desk as JSON lines (or its tickets as CSV), and read them back.

Both formats carry the fields of `TicketRecord` (itsm_tui.desk.ticket_records) under
the same names and in the same order; docs/import-export.md describes each one.

- jsonl, format 2: a first line `{"format": "itsm-desk", "version": 2}`, then the
  desk's budgets and changes, its tickets (one JSON object per line, comments, SLA
  clocks, escalations, time entries, survey and reassignments nested), then its
  outages and complaints: everything `itsm kpi` reads. A line other than a ticket's
  says what it is (`"record": "change"`…). A file without the first line is format 1
  (tickets only, as exports before it wrote): it still imports.
- csv: RFC 4180 with a header row, one row per ticket; `comments` (the last
  column), `form_data` and the nested measures hold JSON; an empty cell is "no value".
  A spreadsheet holds one kind of row: changes, outages and complaints travel in jsonl.

Files must be opened with `newline=""`: text may hold carriage returns, which
universal-newline translation would otherwise change.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from itsm_tui.data.models import (
    Agent,
    CatalogueItem,
    Change,
    Comment,
    KnowledgeArticle,
    Requester,
    Service,
    Team,
    Ticket,
)
from itsm_tui.desk.desk_records import RECORD_KINDS, DeskRecord
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.imports import (
    REQUIRED_FIELDS,
    CommentRecord,
    ImportResult,
    TicketRecord,
    check_record,
    describe_record,
    import_tickets,
    located,
)
from itsm_tui.i18n import _
from itsm_tui.measure_files import TicketMeasures, agent_names, desk_records
from itsm_tui.record_json import field_from_json, from_json, json_value, time_from_json, to_json

FORMATS = ("jsonl", "csv")
# The first line of a jsonl desk file; a file without it is format 1 (tickets only).
FILE_FORMAT = "itsm-desk"
FILE_VERSION = 2
_NESTED = ("sla_clocks", "escalations", "time_entries", "survey", "reassignments")
# Every field of a ticket in file order; the CSV header. `source` is not data.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(TicketRecord) if f.name != "source")
COMMENT_KEYS = ("kind", "author", "body", "created_at")

# How each column is written and read. text: "" when absent; name: empty means none;
# time: ISO 8601 with a zone; object/comments: JSON.
_KINDS: dict[str, str] = {
    "number": "name",
    "type": "text",
    "title": "text",
    "description": "text",
    "status": "text",
    "impact": "int",
    "urgency": "int",
    "priority": "optional_int",
    "priority_overridden": "bool",
    "category": "text",
    "service": "name",
    "requester": "name",
    "requester_name": "text",
    "team": "name",
    "assignee": "name",
    "created_by": "name",
    "catalogue_item": "name",
    "form_data": "object",
    "approved_by": "name",
    "approved_at": "optional_time",
    "parent": "name",
    "problem": "name",
    "change": "name",
    "kb_article": "name",
    "is_major": "bool",
    "root_cause": "text",
    "workaround": "text",
    "known_error": "bool",
    "opened_at": "time",
    "updated_at": "optional_time",
    "first_response_at": "optional_time",
    "resolved_at": "optional_time",
    "closed_at": "optional_time",
    "promised_at": "optional_time",
    "resolution_code": "name",
    "resolution_notes": "name",
    "reopen_count": "int",
    "escalation_level": "int",
    "sla_clocks": "nested",
    "escalations": "nested",
    "time_entries": "nested",
    "survey": "nested",
    "reassignments": "nested",
    "comments": "comments",
}
assert set(_KINDS) == set(COLUMNS), "every TicketRecord field needs a file kind"

# Where a JSON line could be split by tools that treat these as line ends.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
# CSV cells hold whole descriptions and comment lists, far above csv's 128 KiB default.
_CSV_FIELD_LIMIT = 2**31 - 1


def _check_format(fmt: str) -> str:
    key = fmt.strip().lower()
    if key not in FORMATS:
        raise InvalidInput(
            _("unknown format {fmt!r}; use one of: {formats}").format(
                fmt=fmt, formats=", ".join(FORMATS)
            )
        )
    return key


# ---------------------------------------------------------------------------
# Export


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def record_to_dict(record: TicketRecord) -> dict[str, Any]:
    """The record as plain JSON values, keys in file order."""
    out: dict[str, Any] = {}
    for name in COLUMNS:
        value = getattr(record, name)
        if name == "comments":
            value = [
                {
                    "kind": c.kind,
                    "author": c.author,
                    "body": c.body,
                    "created_at": _iso(c.created_at),
                }
                for c in value
            ]
        elif isinstance(value, datetime):
            value = _iso(value)
        elif name in _NESTED:
            value = json_value(value)
        out[name] = value
    return out


def _json_line(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _LINE_BREAKS.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("comments", "form_data", *_NESTED):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _ticket_pages(session: Session, batch: int) -> Iterator[list[TicketRecord]]:
    """Tickets in id order, a page at a time (keyset paging: no OFFSET, no full table)."""
    # Configuration tables are small; a desk has hundreds of agents, not millions.
    agents = agent_names(session)
    measures = TicketMeasures(session, agents)
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    services = dict(session.execute(select(Service.id, Service.name)).all())
    items = dict(session.execute(select(CatalogueItem.id, CatalogueItem.code)).all())
    parent = aliased(Ticket)
    problem = aliased(Ticket)
    columns = [c for c in Ticket.__table__.c]
    stmt = (
        select(
            *columns,
            Requester.email,
            Requester.name,
            parent.number,
            problem.number,
            Change.number,
            KnowledgeArticle.number,
        )
        .outerjoin(Requester, Requester.id == Ticket.requester_id)
        .outerjoin(parent, parent.id == Ticket.parent_id)
        .outerjoin(problem, problem.id == Ticket.problem_id)
        .outerjoin(Change, Change.id == Ticket.change_id)
        .outerjoin(KnowledgeArticle, KnowledgeArticle.id == Ticket.kb_article_id)
        .order_by(Ticket.id)
        .limit(batch)
    )
    last_id = None
    while True:
        page_stmt = stmt if last_id is None else stmt.where(Ticket.id > last_id)
        rows = session.execute(page_stmt).all()
        if not rows:
            return
        last_id = rows[-1][0]
        ids = [row[0] for row in rows]
        comments: dict[int, list[CommentRecord]] = {}
        for ticket_id, author_id, author_name, kind, body, created_at in session.execute(
            select(
                Comment.ticket_id,
                Comment.author_id,
                Comment.author_name,
                Comment.kind,
                Comment.body,
                Comment.created_at,
            )
            .where(Comment.ticket_id.in_(ids))
            .order_by(Comment.ticket_id, Comment.id)
        ):
            comments.setdefault(ticket_id, []).append(
                CommentRecord(
                    kind=kind,
                    body=body,
                    created_at=created_at,
                    author=agents.get(author_id) if author_id is not None else author_name,
                )
            )
        measured = measures.page(ids)
        page = []
        for row in rows:
            t = dict(zip((c.name for c in columns), row[: len(columns)], strict=True))
            email, requester_name, parent_no, problem_no, change_no, article_no = row[
                len(columns) :
            ]
            page.append(
                TicketRecord(
                    number=t["number"],
                    type=t["type"],
                    title=t["title"],
                    description=t["description"],
                    status=t["status"],
                    impact=t["impact"],
                    urgency=t["urgency"],
                    priority=t["priority"],
                    priority_overridden=t["priority_overridden"],
                    category=t["category"],
                    service=services.get(t["service_id"]),
                    requester=email,
                    requester_name=requester_name or "",
                    team=teams.get(t["team_id"]),
                    assignee=agents.get(t["assignee_id"]),
                    created_by=agents.get(t["created_by_id"]),
                    catalogue_item=items.get(t["catalogue_item_id"]),
                    form_data=t["form_data"],
                    approved_by=agents.get(t["approved_by_id"]),
                    approved_at=t["approved_at"],
                    parent=parent_no,
                    problem=problem_no,
                    change=change_no,
                    kb_article=article_no,
                    is_major=t["is_major"],
                    root_cause=t["root_cause"],
                    workaround=t["workaround"],
                    known_error=t["known_error"],
                    opened_at=t["opened_at"],
                    updated_at=t["updated_at"],
                    first_response_at=t["first_response_at"],
                    resolved_at=t["resolved_at"],
                    closed_at=t["closed_at"],
                    promised_at=t["promised_at"],
                    resolution_code=t["resolution_code"],
                    resolution_notes=t["resolution_notes"],
                    reopen_count=t["reopen_count"],
                    escalation_level=t["escalation_level"],
                    comments=tuple(comments.get(t["id"], ())),
                    **measured.get(t["id"], {}),
                )
            )
        yield page


def export_tickets(session: Session, out: TextIO, fmt: str, *, batch: int = 1000) -> int:
    """Write the desk to `out` (jsonl: everything the KPIs read; csv: the tickets);
    returns how many tickets were written."""
    fmt = _check_format(fmt)
    writer = None
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
    else:
        out.write(_json_line({"format": FILE_FORMAT, "version": FILE_VERSION}) + "\n")
        _write_desk_records(session, out, "before", batch)
    count = 0
    for page in _ticket_pages(session, max(1, batch)):
        for record in page:
            data = record_to_dict(record)
            if writer is None:
                out.write(_json_line(data))
                out.write("\n")
            else:
                writer.writerow([_csv_cell(name, data[name]) for name in COLUMNS])
        count += len(page)
    if writer is None:
        _write_desk_records(session, out, "after", batch)
    return count


def _write_desk_records(session: Session, out: TextIO, part: str, batch: int) -> None:
    kinds = {cls: kind for kind, cls in RECORD_KINDS.items()}
    for record in desk_records(session, agent_names(session), part, max(1, batch)):
        out.write(_json_line({"record": kinds[type(record)], **to_json(record)}) + "\n")


# ---------------------------------------------------------------------------
# Reading


_time = time_from_json


def _too_deep() -> str:
    return _("JSON nested too deeply to read; a ticket's values nest a few levels at most")


def _from_json_text(value: str, name: str) -> Any:
    try:
        return json.loads(value)
    except RecursionError:
        raise InvalidInput(_("{name}: {problem}").format(name=name, problem=_too_deep())) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            _("{name} is not valid JSON ({error}); is the file cut off?").format(
                name=name, error=exc.msg
            )
        ) from None


def _value(kind: str, name: str, raw: object, from_csv: bool) -> Any:
    """One field of a file as the record's Python value."""
    if from_csv:
        assert isinstance(raw, str)
        if kind == "int" or kind == "optional_int":
            try:
                return int(raw.strip())
            except ValueError:
                raise InvalidInput(
                    _("{name} must be a whole number, not {value!r}").format(name=name, value=raw)
                ) from None
        if kind == "bool":
            flag = raw.strip().lower()
            if flag not in ("true", "false"):
                raise InvalidInput(
                    _("{name} must be true or false, not {value!r}").format(name=name, value=raw)
                )
            return flag == "true"
        if kind in ("object", "comments", "nested"):
            raw = _from_json_text(raw, name)
        elif kind in ("time", "optional_time"):
            return _time(raw, name)
        else:
            return raw
    if kind in ("text", "name"):
        if raw is None:
            return "" if kind == "text" else None
        if not isinstance(raw, str):
            raise InvalidInput(_("{name} must be text").format(name=name))
        return None if kind == "name" and raw == "" else raw
    if kind in ("int", "optional_int"):
        if raw is None and kind == "optional_int":
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidInput(
                _("{name} must be a whole number, not {value!r}").format(name=name, value=raw)
            )
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise InvalidInput(_("{name} must be true or false").format(name=name))
        return raw
    if kind in ("time", "optional_time"):
        if raw is None and kind == "optional_time":
            return None
        return _time(raw, name)
    if kind == "nested":
        return field_from_json(TicketRecord, name, raw, name)
    if kind == "object":
        if raw is not None and not isinstance(raw, dict):
            raise InvalidInput(_("{name} must be a JSON object").format(name=name))
        return raw
    # comments
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput(_("comments must be a list"))
    return tuple(_comment(item, n) for n, item in enumerate(raw, start=1))


def _comment(item: object, n: int) -> CommentRecord:
    with located(_("comment {n}").format(n=n)):
        if not isinstance(item, dict):
            raise InvalidInput(
                _("a comment must be an object with {keys}").format(keys=", ".join(COMMENT_KEYS))
            )
        unknown = sorted(set(item) - set(COMMENT_KEYS))
        if unknown:
            raise InvalidInput(
                _("unknown key {keys}; a comment has {known}").format(
                    keys=", ".join(unknown), known=", ".join(COMMENT_KEYS)
                )
            )
        missing = [k for k in ("kind", "body", "created_at") if item.get(k) is None]
        if missing:
            raise InvalidInput(_("missing {keys}").format(keys=", ".join(missing)))
        for key in ("kind", "body"):
            if not isinstance(item[key], str):
                raise InvalidInput(_("{key} must be text").format(key=key))
        author = item.get("author")
        if author is not None and not isinstance(author, str):
            raise InvalidInput(_("author must be text"))
        return CommentRecord(
            kind=item["kind"],
            body=item["body"],
            created_at=_time(item["created_at"], "created_at"),
            author=author or None,
        )


def record_from_mapping(data: Mapping[str, object], where: str, *, from_csv: bool) -> TicketRecord:
    """A checked record from one JSON object or one CSV row (all cells text)."""
    where = describe_record(where, data.get("number"))
    with located(where):
        unknown = sorted(set(data) - set(COLUMNS))
        if unknown:
            raise InvalidInput(
                _("unknown field {names}; fields: {known}").format(
                    names=", ".join(unknown), known=", ".join(COLUMNS)
                )
            )
        missing = [
            name for name in REQUIRED_FIELDS if data.get(name) is None or data.get(name) == ""
        ]
        if missing:
            raise InvalidInput(_("missing {names}").format(names=", ".join(missing)))
        values = {
            name: _value(_KINDS[name], name, raw, from_csv)
            for name, raw in data.items()
            # An empty cell is an absent value: the field takes its default.
            if not (from_csv and raw == "")
        }
        record = TicketRecord(**values, source=where)
        check_record(record)
    return record


def _read_jsonl(lines: Iterable[str]) -> Iterator[TicketRecord | DeskRecord]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = _("line {n}").format(n=number)
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                _(
                    "{where}: not a complete JSON object ({error} at column {col}); "
                    "is the file cut off?"
                ).format(where=where, error=exc.msg, col=exc.colno)
            ) from None
        except RecursionError:
            raise InvalidInput(
                _("{where}: {problem}").format(where=where, problem=_too_deep())
            ) from None
        if not isinstance(data, dict):
            raise InvalidInput(_("{where}: expected one JSON object per line").format(where=where))
        if "format" in data and "number" not in data:
            _check_header(data, where)
            continue
        kind = data.pop("record", "ticket")
        if kind == "ticket":
            yield record_from_mapping(data, where, from_csv=False)
        elif kind in RECORD_KINDS:
            with located(where):
                record = from_json(RECORD_KINDS[kind], data, kind)
            yield replace(record, source=where)
        else:
            raise InvalidInput(
                _("{where}: unknown record {kind!r}; records: {known}").format(
                    where=where, kind=kind, known=", ".join(["ticket", *RECORD_KINDS])
                )
            )


def _check_header(data: dict[str, Any], where: str) -> None:
    """The first line of a format 2 file: a later version is refused, not half-read."""
    version = data.get("version")
    if data.get("format") != FILE_FORMAT or not isinstance(version, int):
        raise InvalidInput(
            _("{where}: not an itsm desk file (its header names {header})").format(
                where=where, header=json.dumps(data, ensure_ascii=False)[:120]
            )
        )
    if version > FILE_VERSION:
        raise InvalidInput(
            _(
                "{where}: a desk file of version {version}; this itsm reads versions 1 to "
                "{known}: upgrade itsm to import it"
            ).format(where=where, version=version, known=FILE_VERSION)
        )


def _read_csv(lines: Iterable[str]) -> Iterator[TicketRecord]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(lines, strict=True)
    index = 0
    start = 1
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            return
        header = [h.strip() for h in header]
        unknown = sorted(set(header) - set(COLUMNS))
        duplicated = sorted({h for h in header if header.count(h) > 1})
        missing = [name for name in REQUIRED_FIELDS if name not in header]
        if unknown or duplicated or missing:
            problems = []
            if unknown:
                problems.append(_("unknown columns {names}").format(names=", ".join(unknown)))
            if duplicated:
                problems.append(_("repeated columns {names}").format(names=", ".join(duplicated)))
            if missing:
                problems.append(_("missing columns {names}").format(names=", ".join(missing)))
            raise InvalidInput(
                _("line 1 (the header): {problems}; columns: {known}").format(
                    problems="; ".join(problems), known=", ".join(COLUMNS)
                )
            )
        start = reader.line_num + 1
        for row in reader:
            where = _("record {n} (line {line})").format(n=index + 1, line=start)
            start = reader.line_num + 1
            if not row:
                continue
            index += 1
            if len(row) != len(header):
                raise InvalidInput(
                    _(
                        "{where}: {n} columns where the header has {m}; "
                        "is the row cut off or a quote unbalanced?"
                    ).format(where=where, n=len(row), m=len(header))
                )
            yield record_from_mapping(dict(zip(header, row, strict=True)), where, from_csv=True)
    except csv.Error as exc:
        raise InvalidInput(
            _("record {n} (line {line}): {error}; is the file cut off?").format(
                n=index + 1, line=start, error=exc
            )
        ) from None


def read_records(
    src: Iterable[str], fmt_hint: str | None = None
) -> Iterator[TicketRecord | DeskRecord]:
    """The records of a ticket file, one at a time; jsonl or csv is detected when not given.

    Raises `InvalidInput` naming the line (jsonl) or record and line (csv) of the
    first thing that is wrong: a cut-off line, a missing column, a bad time, a
    status the ticket's type does not have…
    """
    fmt = _check_format(fmt_hint) if fmt_hint else None
    head: list[str] = []
    rest = iter(src)
    for line in rest:
        if not head:
            # A byte-order mark from spreadsheet tools is not part of the data.
            line = line.removeprefix("\ufeff")
        head.append(line)
        if line.strip():
            break
    if not head or not head[-1].strip():
        return iter(())
    if fmt is None:
        fmt = "jsonl" if head[-1].lstrip().startswith("{") else "csv"
    lines = itertools.chain(head, rest)
    return _read_jsonl(lines) if fmt == "jsonl" else _read_csv(lines)


def import_file(
    session: Session,
    actor: Agent,
    src: TextIO,
    fmt_hint: str | None = None,
    *,
    now: datetime,
) -> ImportResult:
    """Read a ticket file and import it in the caller's transaction (what `itsm import` runs)."""
    return import_tickets(session, actor, read_records(src, fmt_hint), now=now)
