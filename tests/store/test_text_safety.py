"""User text is data: markup, escapes, controls and any script survive store, export and import."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data.models import AuditEvent, Comment, Ticket
from itsm_tui.data.store import Store
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.imports import CommentRecord, TicketRecord, import_tickets
from itsm_tui.desk.records import MAX_TITLE, get_ticket
from itsm_tui.ticket_files import export_tickets, read_records
from tests.factories import NOW, Desk

# Every C0 control character but NUL, and DEL: the terminal would act on them if shown raw.
CONTROLS = "".join(chr(c) for c in range(0x01, 0x20)) + "\x7f"
BIG = ("Zeile mit Text, 0123456789 [b]x[/] \x1b[1m\n" * 3000)[:100_000]
BIG_CJK_EMOJI = ("服务台工单🚀👩🏽‍💻" * 10_000)[:100_000]

# Any text the desk can store: NUL and lone surrogates are refused (tested below).
_chars = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
TITLES = st.text(_chars, min_size=1, max_size=MAX_TITLE).filter(lambda s: s.strip() != "")
DESCRIPTIONS = st.text(_chars, max_size=2000)
BODIES = st.text(_chars, min_size=1, max_size=2000).filter(lambda s: s.strip() != "")


def exported(store: Store, fmt: str) -> tuple[str, dict[str, TicketRecord]]:
    out = io.StringIO(newline="")
    with store.read() as session:
        count = export_tickets(session, out, fmt)
    text = out.getvalue()
    records = {r.number or "": r for r in read_records(io.StringIO(text, newline=""), fmt)}
    assert len(records) == count
    return text, records


@settings(
    max_examples=30,
    deadline=None,
    # One store for all examples (a fresh ticket each): building a store per example is slow.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=TITLES, description=DESCRIPTIONS, body=BODIES)
@example(title="[bold red]x[/]", description="[/]", body="[link=file:///etc/passwd]x[/link] [/]")
@example(title="\x1b[31mred\x1b[0m", description="\x1b]0;title\x07", body="\x1b[2J\x1b[H\x1bc")
@example(title="ctl" + CONTROLS, description=CONTROLS, body="x" + CONTROLS + "\r\n\r")
@example(title="big", description=BIG, body=BIG_CJK_EMOJI)
@example(
    title="服务台 工单 🚀👩🏽‍💻🇨🇳", description="日本語 한국어 👍🏿", body="表情 😀\u2028\u2029\x85"
)
@example(title="\u0301", description="\u0308\u20dd a\u0301", body="\u0301\u0301\u0301")
@example(title="שלום עולם", description="مرحبا \u202e evil \u202c", body="\u200f\u202bRTL\u202c")
def test_text_comes_back_byte_for_byte_through_desk_export_and_import(
    desk: Desk, fresh_desk: Desk, title: str, description: str, body: str
) -> None:
    with desk.store.write() as session:
        ticket = d.create_ticket(
            session,
            desk.actor(session, "alice"),
            type="incident",
            title=title,
            description=description,
            impact=3,
            urgency=3,
            now=NOW,
        )
        number = ticket.number
        d.add_comment(session, desk.actor(session, "bob"), number, body, now=NOW)
        d.add_comment(session, desk.actor(session, "bob"), number, body, kind="work_note", now=NOW)

    with desk.store.read() as session:
        stored = get_ticket(session, number)
        bodies = session.scalars(
            select(Comment.body).where(Comment.ticket_id == stored.id).order_by(Comment.id)
        ).all()
        assert (stored.title, stored.description, bodies) == (title, description, [body, body])

    jsonl, from_jsonl = exported(desk.store, "jsonl")
    csv_text, from_csv = exported(desk.store, "csv")
    # Whatever the text holds, a jsonl file has exactly one line per ticket (after its
    # header line; this desk has no changes, outages or complaints).
    assert jsonl.count("\n") == len(jsonl.splitlines()) == len(from_jsonl) + 1
    record = from_jsonl[number]
    assert from_csv[number] == record
    assert (record.title, record.description) == (title, description)
    assert [c.body for c in record.comments] == [body, body]
    assert csv_text.count("\r\n") >= len(from_csv)

    with fresh_desk.store.write() as session:
        import_tickets(session, fresh_desk.actor(session, "root"), [record], now=NOW)
    with fresh_desk.store.read() as session:
        imported = get_ticket(session, number)
        bodies = session.scalars(
            select(Comment.body).where(Comment.ticket_id == imported.id).order_by(Comment.id)
        ).all()
        assert (imported.title, imported.description, bodies) == (title, description, [body, body])
    _, again = exported(fresh_desk.store, "jsonl")
    assert again[number] == record


@pytest.mark.parametrize("field", ["title", "description"])
def test_nul_in_a_ticket_is_refused_with_a_clear_error(desk: Desk, field: str) -> None:
    fields = {"title": "ok", "description": ""}
    fields[field] = "before\x00after"
    with desk.store.write() as session, pytest.raises(InvalidInput) as refused:
        d.create_ticket(
            session, desk.actor(session, "alice"), type="incident", impact=3, urgency=3,
            now=NOW, **fields,
        )  # fmt: skip
    assert refused.value.message == f"{field} contains a NUL character, which cannot be stored"
    with desk.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_nul_in_a_comment_is_refused_and_nothing_is_written(desk: Desk) -> None:
    with desk.store.write() as session:
        number = d.create_ticket(
            session, desk.actor(session, "alice"), type="incident", title="t", impact=3,
            urgency=3, now=NOW,
        ).number  # fmt: skip
    with desk.store.write() as session, pytest.raises(InvalidInput, match="NUL character"):
        d.add_comment(session, desk.actor(session, "bob"), number, "a\x00b", now=NOW)
    with desk.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 0
        assert get_ticket(session, number).version == 1


def test_nul_in_an_import_is_refused_naming_the_record(desk: Desk) -> None:
    good = TicketRecord(
        type="incident", title="fine", status="new", impact=3, urgency=3, opened_at=NOW
    )
    bad = TicketRecord(
        type="incident",
        title="fine too",
        status="new",
        impact=3,
        urgency=3,
        opened_at=NOW,
        comments=(CommentRecord(kind="reply", body="x\x00y", created_at=NOW),),
    )
    with desk.store.write() as session, pytest.raises(InvalidInput) as refused:
        import_tickets(session, desk.actor(session, "root"), [good, bad], now=NOW)
    assert refused.value.message == (
        "record 2: comment 1: comment contains a NUL character, which cannot be stored"
    )
    with desk.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_nul_escaped_in_a_jsonl_file_is_refused_naming_the_line() -> None:
    line = (
        '{"type":"incident","title":"a\\u0000b","status":"new","impact":3,"urgency":3,'
        '"opened_at":"2026-11-24T09:30:00Z"}\n'
    )
    with pytest.raises(InvalidInput, match=r"^line 2: title contains a NUL character"):
        list(read_records(io.StringIO("\n" + line)))


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb"])
def test_lone_surrogates_are_refused_as_not_unicode_text(desk: Desk, text: str) -> None:
    with desk.store.write() as session, pytest.raises(InvalidInput) as refused:
        d.create_ticket(
            session, desk.actor(session, "alice"), type="incident", title="t", impact=3,
            urgency=3, description=text, now=NOW,
        )  # fmt: skip
    message = "description contains characters that are not valid Unicode text"
    assert refused.value.message == message
    line = json.dumps(
        {"type": "incident", "title": text, "status": "new", "impact": 3, "urgency": 3,
         "opened_at": "2026-11-24T09:30:00Z"}
    )  # fmt: skip
    with pytest.raises(
        InvalidInput, match=r"^line 1: title contains characters that are not valid"
    ):
        list(read_records(io.StringIO(line)))
