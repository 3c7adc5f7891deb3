"""`itsm outage|complaint|change|import|export|seed|demo` from the command line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from itsm_tui.data.inbox import unread_count
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    NotificationRead,
    Team,
    Ticket,
)
from itsm_tui.data.seed.reads import FEWEST_UNREAD, MOST_UNREAD
from itsm_tui.data.store import open_store, sqlite_url
from tests.cli.conftest import NOW, NOW_ISO, Itsm, assert_refused, snapshot
from tests.desk_files import exported_ticket, ticket_lines


def _incident(itsm: Itsm) -> None:
    itsm.ok("ticket", "create", "--type", "incident", "--title", "VPN down", "--impact", "1",
            "--urgency", "1", "--service", "VPN")  # fmt: skip


def test_outage_record(itsm: Itsm) -> None:
    _incident(itsm)
    outage = itsm.json(
        "outage", "record", "--service", "vpn", "--start", "2026-11-24T08:00:00Z", "--end",
        "2026-11-24T10:00:00+01:00", "--ticket", "INC0000001", "--notes", "ISP",
    )  # fmt: skip
    assert outage == {
        "id": outage["id"],
        "service": "VPN",
        "started_at": "2026-11-24T08:00:00Z",
        "ended_at": "2026-11-24T09:00:00Z",
        "ticket": "INC0000001",
        "notes": "ISP",
    }


def test_outage_refusals_write_nothing(itsm: Itsm) -> None:
    before = snapshot(itsm.store)
    assert_refused(
        itsm("outage", "record", "--service", "VPN", "--start", "2026-11-24T08:00:00"),
        says="has no time zone; add one",
    )
    assert_refused(
        itsm("outage", "record", "--service", "VPN", "--start", "2026-11-24T08:00:00Z",
             "--end", "2026-11-24T07:00:00Z"),
        says="an outage must end after it starts",
    )  # fmt: skip
    assert_refused(
        itsm("outage", "record", "--service", "Fax", "--start", "2026-11-24T08:00:00Z"),
        says="unknown service 'Fax'",
    )
    assert snapshot(itsm.store) == before


def test_complaint_record(itsm: Itsm) -> None:
    _incident(itsm)
    complaint = itsm.json(
        "complaint", "record", "--summary", "Nobody called back", "--ticket", "INC0000001"
    )
    assert complaint == {
        "id": complaint["id"],
        "ticket": "INC0000001",
        "received_at": NOW_ISO,
        "summary": "Nobody called back",
    }
    assert_refused(itsm("complaint", "record", "--summary", " "), says="summary must not be empty")


def test_change_create(itsm: Itsm) -> None:
    change = itsm.json(
        "change", "create", "--title", "Upgrade VPN firmware", "--type", "normal", "--service",
        "VPN", "--service", "email", "--impact", "2", "--planned-start", "2026-11-28T22:00:00Z",
        "--planned-end", "2026-11-28T23:00:00Z", "--backout-plan", "Reflash 4.1",
    )  # fmt: skip
    assert change == {
        **change,
        "number": "CHG0000001",
        "title": "Upgrade VPN firmware",
        "change_type": "normal",
        "status": "draft",
        "services": ["VPN", "Email"],
        "impact": 2,
        "team": "Service Desk",
        "owner": "alice",
        "planned_start": "2026-11-28T22:00:00Z",
        "planned_end": "2026-11-28T23:00:00Z",
        "backout_plan": "Reflash 4.1",
        "opened_at": NOW_ISO,
        "version": 1,
    }


def test_change_refusals(itsm: Itsm) -> None:
    before = snapshot(itsm.store)
    assert_refused(
        itsm("change", "create", "--title", "x", "--type", "yolo"), says="unknown change type"
    )
    assert_refused(
        itsm("change", "create", "--title", "x", agent="carol"), says="carol cannot raise changes"
    )
    assert snapshot(itsm.store) == before


# ---------------------------------------------------------------------------
# export / import (tests/store/test_transfer.py tests the formats; these test the commands)


def test_export_to_stdout_and_to_a_file(itsm: Itsm, tmp_path: Path) -> None:
    _incident(itsm)
    _incident(itsm)
    result = itsm.ok("export", "--format", "jsonl")
    lines = ticket_lines(result.stdout)
    assert [json.loads(line)["number"] for line in lines] == ["INC0000001", "INC0000002"]
    assert result.stderr == "exported 2 tickets\n"
    target = tmp_path / "tickets.csv"
    itsm.ok("export", "--format", "csv", "--output", str(target))
    assert target.read_text(encoding="utf-8").startswith("number,")
    assert not (tmp_path / "tickets.csv.partial").exists()


def test_import_renumbered_records_then_refuse_a_bad_file(itsm: Itsm, tmp_path: Path) -> None:
    _incident(itsm)
    exported = exported_ticket(itsm.ok("export").stdout)
    exported["number"] = ""  # an empty number: imported under a new one
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(exported) + "\n", encoding="utf-8")
    summary = itsm.json("import", str(good), agent="root")
    assert summary["tickets"] == 1
    with itsm.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2

    before = snapshot(itsm.store)
    assert_refused(itsm("import", str(good)), says="alice cannot import tickets")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(exported) + "\n" + '{"number": "X"\n', encoding="utf-8")
    assert_refused(itsm("import", str(bad), agent="root"), says="line 2")
    result = itsm("import", "-", agent="root", input=json.dumps({**exported, "impact": 9}))
    assert_refused(result, says="line 1")
    assert snapshot(itsm.store) == before


# ---------------------------------------------------------------------------
# seed / demo


def test_seed_adds_history_as_an_admin_only(itsm: Itsm) -> None:
    before = snapshot(itsm.store)
    assert_refused(itsm("seed", "--tickets", "10"), says="alice cannot seed the store")
    assert snapshot(itsm.store) == before
    result = itsm.ok("seed", "--tickets", "25", "--days", "5", "--seed", "7", agent="root")
    assert result.stdout.startswith("Seeded 25 tickets over 5 days")
    with itsm.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 25
    # Seeded tickets are ordinary tickets: the list and show read them.
    first = itsm.json("ticket", "list", "--limit", "1")[0]
    assert itsm.json("ticket", "show", first["number"])["number"] == first["number"]


def test_demo_builds_a_fresh_store_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from itsm_tui.cli import cli

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    argv = ["--as", "demo-admin", "--now", NOW_ISO, "demo", "--tickets", "300"]
    for _ in range(2):  # the second run starts again from nothing
        result = CliRunner().invoke(cli, argv, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        assert "300 tickets" in result.stdout
        assert "Desk: IT Service Desk" in result.stdout
        assert "Signed in as demo-admin" in result.stdout
    path = tmp_path / "itsm-tui" / "demo.db"
    store = open_store(sqlite_url(path))
    try:
        with store.read() as s:
            assert s.scalar(select(func.count()).select_from(Ticket)) == 300
            # Whoever opens the demo works in the first line, with tickets of their own,
            # so "My tickets" and "My team" have something in them.
            me = s.scalars(select(Agent).where(Agent.username == "demo-admin")).one()
            first_line = s.scalars(select(Team).order_by(Team.tier, Team.id)).first()
            assert first_line is not None and me.team_id == first_line.id
            assert s.scalar(select(func.count()).where(Ticket.assignee_id == me.id)) > 0
            assert (
                s.scalar(
                    select(func.count()).where(
                        AuditEvent.record_type == "agent",
                        AuditEvent.record_id == me.id,
                        AuditEvent.action == "agent.update",
                        AuditEvent.field == "team",
                    )
                )
                == 1
            )
            # They have kept up with the team's notices as the seeded agents have: a read
            # mark within the last day (a few hours back, earlier on a quiet day) leaves a
            # handful unread, and no receipt per notice.
            mark = me.notices_read_through
            assert mark is not None
            assert NOW - timedelta(days=1) <= mark < NOW
            assert unread_count(s, me.id, me.team_id, NOW, read_through=mark) >= min(
                FEWEST_UNREAD,
                unread_count(s, me.id, me.team_id, NOW, read_through=NOW - timedelta(days=1)),
            )
            unread = unread_count(s, me.id, me.team_id, NOW, read_through=mark)
            assert unread <= MOST_UNREAD
            assert unread < unread_count(s, me.id, me.team_id, NOW)
            assert s.scalar(select(func.count()).select_from(NotificationRead)) == 0
    finally:
        store.dispose()
