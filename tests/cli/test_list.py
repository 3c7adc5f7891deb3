"""`itsm ticket list`: filters, keyset paging, JSON, CSV and counts from the command line."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from itsm_tui.desk import create_ticket, resolve_ticket
from tests.cli.conftest import Itsm, assert_refused
from tests.factories import NOW, Desk


def _fill(desk: Desk) -> None:
    """Six tickets: priorities and ages chosen so queue order differs from creation order."""
    with desk.store.write() as s:
        alice = desk.actor(s, "alice")
        specs = [
            ("incident", 3, 3, 50, None),  # INC1 P4, oldest
            ("incident", 1, 1, 10, "bob"),  # INC2 P1
            ("incident", 2, 2, 40, None),  # INC3 P3
            ("request", 1, 2, 30, None),  # REQ1 P2
            ("incident", 1, 1, 20, None),  # INC4 P1, older than INC2
            ("problem", 2, 2, 5, None),  # PRB1 P3, newest
        ]
        for kind, impact, urgency, minutes_ago, assignee in specs:
            create_ticket(
                s,
                alice,
                type=kind,
                title=f"{kind} {impact}/{urgency}",
                impact=impact,
                urgency=urgency,
                assignee=assignee,
                opened_at=NOW - timedelta(minutes=minutes_ago),
                now=NOW,
            )
        resolve_ticket(s, alice, "INC0000003", code="fixed", notes="done", now=NOW)


def test_list_json_is_in_queue_order(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)
    numbers = [t["number"] for t in itsm.json("ticket", "list", "--open")]
    assert numbers == ["INC0000004", "INC0000002", "REQ0000001", "PRB0000001", "INC0000001"]
    everything = [t["number"] for t in itsm.json("ticket", "list")]
    assert everything == [
        "INC0000004",
        "INC0000002",
        "REQ0000001",
        "INC0000003",
        "PRB0000001",
        "INC0000001",
    ]


def test_list_filters(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)

    def numbers(*args: str) -> list[str]:
        return [t["number"] for t in itsm.json("ticket", "list", *args)]

    assert numbers("--priority", "P1") == ["INC0000004", "INC0000002"]
    assert numbers("--type", "incident", "--open") == ["INC0000004", "INC0000002", "INC0000001"]
    assert numbers("--assignee", "bob") == ["INC0000002"]
    assert numbers("--unassigned", "--open") == [
        "INC0000004",
        "REQ0000001",
        "PRB0000001",
        "INC0000001",
    ]
    assert numbers("--status", "resolved") == ["INC0000003"]
    assert numbers("--status", "resolved", "--status", "assigned") == ["INC0000002", "INC0000003"]
    assert numbers("--status", "resolved", "--open") == []
    assert numbers("--team", "service desk", "--priority", "2") == ["REQ0000001"]
    assert numbers("--team", "Network") == []
    assert itsm.ok("ticket", "list", "--open", "--count").stdout == "5\n"
    # Resolving an unassigned ticket gives it to whoever resolved it.
    assert itsm.ok("ticket", "list", "--mine", "--count").stdout == "1\n"
    assert itsm.ok("ticket", "list", "--mine", "--open", "--count").stdout == "0\n"


def test_list_pages_with_after(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)
    first = itsm.json("ticket", "list", "--limit", "4")
    second = itsm.json("ticket", "list", "--limit", "4", "--after", first[-1]["number"])
    whole = itsm.json("ticket", "list")
    assert [t["number"] for t in first + second] == [t["number"] for t in whole]
    result = itsm.ok("ticket", "list", "--limit", "4")
    assert result.stderr == f"more: --after {first[-1]['number']}\n"


def test_list_csv_has_a_header_and_one_row_per_ticket(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)
    rows = list(csv.DictReader(io.StringIO(itsm.ok("ticket", "list", "--open", "--csv").stdout)))
    assert [r["number"] for r in rows] == [
        "INC0000004",
        "INC0000002",
        "REQ0000001",
        "PRB0000001",
        "INC0000001",
    ]
    assert rows[1] == {
        **rows[1],
        "priority": "P1",
        "status": "assigned",
        "assignee": "bob",
        "service": "",
        "is_open": "true",
        "opened_at": "2026-11-24T09:20:00Z",
    }


def test_list_plain_is_a_table(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)
    lines = itsm.ok("ticket", "list", "--open").stdout.splitlines()
    assert lines[0].split() == ["NUMBER", "PRI", "STATUS", "OPENED", "TEAM", "ASSIGNEE", "TITLE"]
    assert lines[1].split()[:3] == ["INC0000004", "P1", "new"]


def test_list_refuses_unknown_names(itsm: Itsm, desk: Desk) -> None:
    _fill(desk)
    assert_refused(itsm("ticket", "list", "--status", "on_fire"), says="unknown status 'on_fire'")
    assert_refused(itsm("ticket", "list", "--team", "Nope"), says="unknown team 'Nope'")
    assert_refused(itsm("ticket", "list", "--assignee", "zed"), says="no agent 'zed'")
    assert_refused(itsm("ticket", "list", "--priority", "P9"), says="priority must be P1")
    assert_refused(itsm("ticket", "list", "--after", "INC0000099"), says="no ticket INC0000099")
