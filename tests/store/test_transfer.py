"""Moving tickets out and in: exports round-trip without loss, and a bad file imports nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data.models import (
    AuditEvent,
    Comment,
    NumberSequence,
    Requester,
    Ticket,
)
from itsm_tui.data.store import Store
from itsm_tui.desk.errors import InvalidInput, PermissionDenied
from itsm_tui.desk.imports import TicketRecord, import_tickets
from itsm_tui.desk.records import raise_sequence_floor
from itsm_tui.ticket_files import COLUMNS, export_tickets, import_file, read_records
from tests.desk_files import ticket_lines
from tests.factories import NOW, Desk

T0 = NOW - timedelta(days=3)


def at(minutes: int) -> Any:
    return T0 + timedelta(minutes=minutes)


def write(desk: Desk, username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one desk function as `username` in its own transaction, at a fixed time."""
    with desk.store.write() as session:
        return fn(session, desk.actor(session, username), *args, **kwargs)


def build_history(desk: Desk) -> dict[str, str]:
    """Tickets of every type through most of their lives, at fixed times."""
    n: dict[str, str] = {}
    n["worked"] = write(
        desk,
        "alice",
        d.create_ticket,
        type="incident",
        title="VPN drops every hour",
        description="Since Monday.\nUsers in 上海 affected — 😞",
        impact=2,
        urgency=1,
        category="network",
        service="VPN",
        requester="Ann.Lee@example.com",
        now=at(0),
    ).number
    write(desk, "alice", d.assign_ticket, n["worked"], assignee="bob", now=at(5))
    write(desk, "bob", d.add_comment, n["worked"], "Looking at it", now=at(10))
    write(desk, "bob", d.add_comment, n["worked"], "gateway log", kind="work_note", now=at(12))
    write(desk, "bob", d.transition_ticket, n["worked"], "pending", now=at(20))
    write(desk, "bob", d.transition_ticket, n["worked"], "in_progress", now=at(40))
    write(desk, "bob", d.resolve_ticket, n["worked"], code="fixed", notes="MTU", now=at(60))
    write(desk, "alice", d.reopen_ticket, n["worked"], reason="back again", now=at(90))
    write(desk, "bob", d.resolve_ticket, n["worked"], code="workaround", notes="v2", now=at(120))
    write(desk, "bob", d.close_ticket, n["worked"], now=at(200))

    n["request"] = write(
        desk,
        "alice",
        d.create_ticket,
        type="request",
        title="Laptop for new hire",
        impact=3,
        urgency=2,
        catalogue_item="laptop",
        form_data={"model": "X1 Carbon"},
        requester="hr@example.com",
        now=at(1),
    ).number
    write(desk, "sam", d.transition_ticket, n["request"], "approved", now=at(30))
    write(desk, "alice", d.transition_ticket, n["request"], "fulfilling", now=at(31))
    write(desk, "alice", d.resolve_ticket, n["request"], code="fulfilled", notes="sent", now=at(99))

    n["child"] = write(
        desk,
        "alice",
        d.create_ticket,
        type="incident",
        title="Mail slow",
        impact=2,
        urgency=2,
        service="Email",
        now=at(2),
    ).number
    n["major"] = write(
        desk,
        "alice",
        d.create_ticket,
        type="incident",
        title="Mail down",
        impact=1,
        urgency=1,
        service="Email",
        now=at(3),
    ).number
    # Linked forwards: the problem and the parent were opened after the child.
    n["problem"] = write(
        desk,
        "alice",
        d.create_ticket,
        type="problem",
        title="Mail queue",
        impact=2,
        urgency=2,
        now=at(4),
    ).number
    write(
        desk, "alice", d.link_ticket, n["child"], parent=n["major"], problem=n["problem"], now=at(6)
    )
    write(desk, "alice", d.transition_ticket, n["problem"], "investigating", now=at(7))
    write(
        desk,
        "alice",
        d.update_ticket,
        n["problem"],
        root_cause="disk full",
        workaround="purge [bold]spool[/]",
        known_error=True,
        now=at(8),
    )
    write(desk, "sam", d.override_priority, n["child"], 1, reason="CEO affected", now=at(9))

    n["cancelled"] = write(
        desk,
        "bob",
        d.create_ticket,
        type="incident",
        title="Duplicate",
        impact=3,
        urgency=3,
        opened_at=at(-60),
        now=at(11),
    ).number
    write(desk, "bob", d.transition_ticket, n["cancelled"], "cancelled", note="dup", now=at(13))

    n["open"] = write(
        desk,
        "nina",
        d.create_ticket,
        type="incident",
        title="\x1b[31mred\x1b[0m [/]",
        impact=3,
        urgency=1,
        team="Network",
        assignee="nina",
        now=at(14),
    ).number
    return n


def export_text(store: Store, fmt: str, *, batch: int = 1000) -> str:
    out = io.StringIO(newline="")
    with store.read() as session:
        export_tickets(session, out, fmt, batch=batch)
    return out.getvalue()


def import_text(desk: Desk, text: str, fmt: str | None = None, *, batch: int = 1000) -> Any:
    with desk.store.write() as session:
        return import_tickets(
            session,
            desk.actor(session, "root"),
            read_records(io.StringIO(text, newline=""), fmt),
            now=NOW,
            batch=batch,
        )


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything a refused import must leave untouched."""
    with store.read() as s:
        tickets = s.execute(
            select(Ticket.number, Ticket.status, Ticket.version, Ticket.is_major).order_by(
                Ticket.id
            )
        ).all()
        counts = tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (Ticket, Comment, AuditEvent, Requester)
        )
        sequences = s.execute(
            select(NumberSequence.prefix, NumberSequence.last_value).order_by(NumberSequence.prefix)
        ).all()
    return tuple(map(tuple, tickets)), counts, tuple(map(tuple, sequences))


def tickets_with_comments(store: Store) -> dict[str, tuple[Ticket, list[tuple[Any, ...]]]]:
    with store.read() as s:
        out = {}
        for t in s.scalars(select(Ticket).order_by(Ticket.id)):
            comments = s.execute(
                select(Comment.kind, Comment.body, Comment.created_at, Comment.author_id)
                .where(Comment.ticket_id == t.id)
                .order_by(Comment.id)
            ).all()
            _ = (t.team, t.assignee, t.service, t.requester, t.parent, t.problem)
            out[t.number] = (t, [tuple(c) for c in comments])
        return out


# --- round trip -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_import_export_is_identical(desk: Desk, fresh_desk: Desk, fmt: str) -> None:
    build_history(desk)
    first = export_text(desk.store, fmt)
    result = import_text(fresh_desk, first)  # the format is detected
    assert result.tickets == 7
    assert result.renumbered == ()
    second = export_text(fresh_desk.store, fmt)
    assert second == first
    # Paging must not change a byte: a page of 2 against one page of all.
    assert export_text(fresh_desk.store, fmt, batch=2) == first


def test_round_trip_keeps_times_statuses_texts_and_comments(desk: Desk, fresh_desk: Desk) -> None:
    numbers = build_history(desk)
    import_text(fresh_desk, export_text(desk.store, "jsonl"), batch=3)
    before = tickets_with_comments(desk.store)
    after = tickets_with_comments(fresh_desk.store)
    assert list(after) == list(before)
    for number, (old, old_comments) in before.items():
        new, new_comments = after[number]
        for name in (
            "type", "title", "description", "status", "is_open", "impact", "urgency",
            "priority", "priority_overridden", "category", "opened_at", "updated_at",
            "first_response_at", "resolved_at", "closed_at", "resolution_code",
            "resolution_notes", "reopen_count", "root_cause", "workaround", "known_error",
            "is_major", "form_data", "approved_at",
        ):  # fmt: skip
            assert getattr(new, name) == getattr(old, name), (number, name)
        assert (new.team and new.team.name) == (old.team and old.team.name)
        assert (new.assignee and new.assignee.username) == (old.assignee and old.assignee.username)
        assert (new.parent and new.parent.number) == (old.parent and old.parent.number)
        assert (new.problem and new.problem.number) == (old.problem and old.problem.number)
        # Same texts and times; authors are the same agents (ids agree: same desk build).
        assert new_comments == old_comments
        assert new.version == 1
    worked, _comments = after[numbers["worked"]]
    assert (worked.opened_at, worked.first_response_at) == (at(0), at(10))
    assert (worked.resolved_at, worked.closed_at) == (at(120), at(200))
    assert (worked.status, worked.reopen_count, worked.priority) == ("closed", 1, 2)
    assert worked.requester.email == "Ann.Lee@example.com"
    assert [c[0] for c in after[numbers["worked"]][1]] == [
        "reply",
        "work_note",
        "work_note",
    ]
    child, _ = after[numbers["child"]]
    assert (child.priority, child.priority_overridden) == (1, True)
    assert after[numbers["major"]][0].is_major


def test_import_audits_each_ticket_and_later_creates_number_above_it(
    desk: Desk, fresh_desk: Desk
) -> None:
    build_history(desk)
    with fresh_desk.store.write() as session:
        # The fresh desk already has a ticket, so the import does not start at 1.
        d.create_ticket(
            session, desk.actor(session, "alice"), type="incident", title="local",
            impact=3, urgency=3, now=NOW,
        )  # fmt: skip
    text = export_text(desk.store, "jsonl")
    # The local INC0000001 collides with the file's INC0000001: drop that record.
    lines = [line for line in ticket_lines(text) if '"INC0000001"' not in line]
    result = import_text(fresh_desk, "\n".join(lines) + "\n")
    assert result.tickets == 6
    with fresh_desk.store.read() as s:
        events = s.execute(
            select(AuditEvent.record_number, AuditEvent.record_version, AuditEvent.actor_id)
            .where(AuditEvent.action == "import")
            .order_by(AuditEvent.id)
        ).all()
        root_id = desk.actor(s, "root").id
    assert [e[0] for e in events] == [json.loads(line)["number"] for line in lines]
    assert {(e[1], e[2]) for e in events} == {(1, root_id)}
    later = write(
        fresh_desk, "alice", d.create_ticket, type="incident", title="after import",
        impact=3, urgency=3, now=NOW,
    )  # fmt: skip
    highest = max(int(json.loads(line)["number"][3:]) for line in lines if "INC" in line)
    assert int(later.number[3:]) == highest + 1


def test_foreign_numbers_authors_and_links_are_kept_through_a_renumbering(
    desk: Desk,
) -> None:
    old_tool = [
        {
            "number": "OLD-17",
            "type": "problem",
            "title": "Printers",
            "status": "investigating",
            "impact": 2,
            "urgency": 2,
            "opened_at": "2025-01-02T08:00:00+08:00",
        },
        {
            "number": "OLD-18",
            "type": "incident",
            "title": "Printer jam",
            "status": "closed",
            "impact": 3,
            "urgency": 3,
            "problem": "OLD-17",
            "team": "service desk",
            "assignee": "ALICE",
            "requester": "pat@example.com",
            "requester_name": "Pat",
            "opened_at": "2025-01-02T09:00:00Z",
            "first_response_at": "2025-01-02T09:05:00Z",
            "resolved_at": "2025-01-02T10:00:00Z",
            "closed_at": "2025-01-03T10:00:00Z",
            "resolution_code": "fixed",
            "resolution_notes": "cleared",
            "comments": [
                {
                    "kind": "reply",
                    "author": "Old Helpdesk Bot",
                    "body": "Ticket received",
                    "created_at": "2025-01-02T09:05:00Z",
                },
                {
                    "kind": "work_note",
                    "author": "bob",
                    "body": "cleared the tray",
                    "created_at": "2025-01-02T09:30:00Z",
                },
            ],
        },
        {
            "type": "incident",
            "title": "No number",
            "status": "new",
            "impact": 3,
            "urgency": 3,
            "opened_at": "2025-01-04T09:00:00Z",
        },
    ]
    text = "".join(json.dumps(r) + "\n" for r in old_tool)
    result = import_text(desk, text)
    assert result.renumbered == (
        ("OLD-17", "PRB0000001"),
        ("OLD-18", "INC0000001"),
        ("", "INC0000002"),
    )
    assert (result.comments, result.requesters_created) == (2, 1)
    with desk.store.read() as s:
        jam = s.scalars(select(Ticket).where(Ticket.number == "INC0000001")).one()
        assert jam.problem.number == "PRB0000001"
        assert (jam.team.name, jam.assignee.username, jam.requester.name) == (
            "Service Desk",
            "alice",
            "Pat",
        )
        # Without a priority in the file, the desk's matrix decides it.
        assert jam.priority == 4
        authors = s.execute(
            select(Comment.author_id, Comment.author_name)
            .where(Comment.ticket_id == jam.id)
            .order_by(Comment.id)
        ).all()
        assert authors == [(None, "Old Helpdesk Bot"), (desk.actor(s, "bob").id, None)]
        audit = s.scalars(
            select(AuditEvent.new_value).where(AuditEvent.record_number == "INC0000001")
        ).one()
        assert json.loads(audit)["original_number"] == "OLD-18"
        problem = s.scalars(select(Ticket).where(Ticket.number == "PRB0000001")).one()
        assert problem.opened_at.isoformat() == "2025-01-02T00:00:00+00:00"
    # The renumbered tickets took their numbers from the sequence.
    later = write(
        desk, "alice", d.create_ticket, type="incident", title="next", impact=3, urgency=3,
        now=NOW,
    )  # fmt: skip
    assert later.number == "INC0000003"


def test_importing_a_file_twice_is_refused_naming_the_number(desk: Desk, fresh_desk: Desk) -> None:
    build_history(desk)
    text = export_text(desk.store, "jsonl")
    import_text(fresh_desk, text)
    before = snapshot(fresh_desk.store)
    with pytest.raises(InvalidInput, match=r"line 2 \(INC0000001\): INC0000001 is already on"):
        import_text(fresh_desk, text)
    assert snapshot(fresh_desk.store) == before


def test_a_number_twice_in_one_file_is_refused(desk: Desk) -> None:
    line = json.dumps(
        {"number": "INC0000009", "type": "incident", "title": "a", "status": "new",
         "impact": 3, "urgency": 3, "opened_at": "2026-01-01T00:00:00Z"}
    )  # fmt: skip
    before = snapshot(desk.store)
    with pytest.raises(InvalidInput, match=r"line 2 .*appears twice in the file \(first at line 1"):
        import_text(desk, line + "\n" + line + "\n")
    assert snapshot(desk.store) == before


def test_only_admins_import(desk: Desk) -> None:
    with desk.store.write() as session, pytest.raises(PermissionDenied, match="admin"):
        import_tickets(session, desk.actor(session, "sam"), [], now=NOW)


def test_import_file_reads_and_imports_in_one_call(desk: Desk, fresh_desk: Desk) -> None:
    build_history(desk)
    text = export_text(desk.store, "csv")
    with fresh_desk.store.write() as session:
        result = import_file(
            session, desk.actor(session, "root"), io.StringIO(text, newline=""), now=NOW
        )
    assert result.tickets == 7
    assert export_text(fresh_desk.store, "csv") == text


# --- bad files import nothing ----------------------------------------------------------


def _cut_last_line(text: str) -> str:
    return text[: len(text) - 40]


def _garbage_line(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines.insert(2, "this is not json\n")
    return "".join(lines)


def _edit_line(index: int, **changes: Any) -> Callable[[str], str]:
    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        record = json.loads(lines[index])
        record.update(changes)
        lines[index] = json.dumps(record, ensure_ascii=False) + "\n"
        return "".join(lines)

    return edit


BAD_JSONL = [
    pytest.param(_cut_last_line, r"line 7: not a complete JSON object .*cut off", id="cut-off"),
    pytest.param(_garbage_line, r"line 3: not a complete JSON object", id="garbage"),
    pytest.param(
        _edit_line(3, opened_at="2026-02-30T10:00:00Z"),
        r"line 4 \(INC\d+\): opened_at '2026-02-30T10:00:00Z' is not a time",
        id="bad-timestamp",
    ),
    pytest.param(
        _edit_line(3, closed_at="2026-11-20T10:00:00"),
        r"line 4 \(INC\d+\): closed_at .* has no time zone",
        id="no-zone",
    ),
    pytest.param(
        _edit_line(5, team="Plumbing"),
        r"line 6 \(INC\d+\): unknown team 'Plumbing'; teams: Network, Service Desk",
        id="unknown-team",
    ),
    pytest.param(
        _edit_line(6, assignee="mallory"),
        r"line 7 \(INC\d+\): assignee 'mallory' is not an agent of this desk",
        id="unknown-assignee",
    ),
    pytest.param(
        _edit_line(1, status="investigating"),
        r"line 2 \(REQ\d+\): 'investigating' is not a status of a service request",
        id="status-not-of-type",
    ),
    pytest.param(
        _edit_line(0, first_response_at="2026-11-20T00:00:00Z"),
        r"line 1 \(INC\d+\): first_response_at .* is before opened_at",
        id="times-out-of-order",
    ),
    pytest.param(
        _edit_line(2, impact=5),
        r"line 3 \(INC\d+\): impact must be 1 \(high\), 2 \(medium\) or 3 \(low\), not 5",
        id="impact-out-of-range",
    ),
    pytest.param(
        _edit_line(2, priority=0),
        r"line 3 \(INC\d+\): priority must be 1, 2, 3 or 4",
        id="priority-out-of-range",
    ),
    pytest.param(
        _edit_line(6, titel="typo"),
        r"line 7 \(INC\d+\): unknown field titel",
        id="unknown-field",
    ),
    pytest.param(
        _edit_line(0, comments=[{"kind": "shout", "body": "x", "created_at": "2026-11-21T00:00Z"}]),
        r"line 1 \(INC\d+\): comment 1: a comment is a reply or a work_note, not 'shout'",
        id="bad-comment",
    ),
    pytest.param(
        _edit_line(4, problem="PRB0999999"),
        r"line 5 \(PRB\d+\): a problem cannot be linked to another problem",
        id="problem-on-problem",
    ),
    pytest.param(
        _edit_line(2, problem="PRB0999999"),
        r"line 3 \(INC\d+\): links to PRB0999999, which is neither in the file nor on this desk",
        id="dangling-link",
    ),
    pytest.param(
        _edit_line(6, opened_at="2027-01-01T00:00:00Z"),
        r"line 7 \(INC\d+\): opened_at 2027-01-01T00:00:00\+00:00 is in the future",
        id="future",
    ),
]


@pytest.mark.parametrize(("damage", "message"), BAD_JSONL)
def test_a_bad_jsonl_file_imports_nothing_and_names_the_line(
    desk: Desk, fresh_desk: Desk, damage: Callable[[str], str], message: str
) -> None:
    build_history(desk)
    # Lines counted in a format 1 file (tickets only, no header): such files still import.
    text = damage("".join(line + "\n" for line in ticket_lines(export_text(desk.store, "jsonl"))))
    # Something is on the fresh desk already: it must be exactly as it was afterwards.
    with fresh_desk.store.write() as session:
        raise_sequence_floor(session, "PRB", 100)
        d.create_ticket(
            session, desk.actor(session, "alice"), type="problem", title="keep me", impact=3,
            urgency=3, now=NOW,
        )  # fmt: skip
    before = snapshot(fresh_desk.store)
    with pytest.raises(InvalidInput, match=message):
        # Batches of 2: earlier batches are already written when the bad record comes.
        import_text(fresh_desk, text, batch=2)
    assert snapshot(fresh_desk.store) == before


def _csv_rows(text: str) -> list[str]:
    return text.split("\r\n")


BAD_CSV = [
    pytest.param(
        lambda t: t[: len(t) - 30],
        r"record 7 \(line 9\)( \(INC\d+\))?: .*cut off",
        id="cut-inside-last-row",
    ),
    pytest.param(
        lambda t: "\r\n".join(
            r if i != 3 else r.rsplit(",", 5)[0] for i, r in enumerate(_csv_rows(t))
        ),
        r"record 3 \(line 5\): 39 columns where the header has 44",
        id="missing-columns",
    ),
    pytest.param(
        lambda t: t.replace(",urgency,", ",urgence,", 1),
        r"line 1 \(the header\): unknown columns urgence; missing columns urgency",
        id="bad-header",
    ),
    pytest.param(
        lambda t: t.replace("+00:00", "+25:00", 1),
        r"record 1 \(line 2\) \(INC0000001\): opened_at .* is not a time",
        id="bad-timestamp",
    ),
    pytest.param(
        lambda t: t.replace(",false,", ",maybe,", 1),
        r"record 1 \(line 2\) \(INC0000001\): priority_overridden must be true or false",
        id="bad-flag",
    ),
]


@pytest.mark.parametrize(("damage", "message"), BAD_CSV)
def test_a_bad_csv_file_imports_nothing_and_names_the_record(
    desk: Desk, fresh_desk: Desk, damage: Callable[[str], str], message: str
) -> None:
    build_history(desk)
    text = damage(export_text(desk.store, "csv"))
    before = snapshot(fresh_desk.store)
    with pytest.raises(InvalidInput, match=message):
        import_text(fresh_desk, text, batch=2)
    assert snapshot(fresh_desk.store) == before


def test_csv_columns_are_documented_and_comments_come_last() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "import-export.md").read_text(encoding="utf-8")
    assert COLUMNS[-1] == "comments"
    for column in COLUMNS:
        assert f"`{column}`" in doc, column


def test_records_from_code_are_checked_like_records_from_files(desk: Desk) -> None:
    record = TicketRecord(
        type="incident",
        title="ok",
        status="resolved",
        impact=3,
        urgency=3,
        opened_at=NOW,
    )
    message = r"record 1: a resolved ticket needs resolved_at"
    with pytest.raises(InvalidInput, match=message), desk.store.write() as session:
        import_tickets(session, desk.actor(session, "root"), [record], now=NOW)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown format 'xml'; use one of: jsonl, csv"):
        read_records(io.StringIO("{}"), "xml")
