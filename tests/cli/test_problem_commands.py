"""`itsm problem …`: from incidents to a known error and a resolution that closes them,
the recurring suggestions, and refusals that write nothing."""

from __future__ import annotations

from datetime import timedelta

from tests.cli.conftest import Itsm, assert_refused, snapshot
from tests.factories import NOW


def _incident(itsm: Itsm, title: str = "VPN drops every hour", days_ago: float = 0) -> str:
    opened = (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return itsm.json(
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        title,
        "--impact",
        "2",
        "--urgency",
        "3",
        "--service",
        "VPN",
        "--opened-at",
        opened,
    )["number"]


def test_problem_from_create_to_resolved_incidents(itsm: Itsm) -> None:
    a, b = _incident(itsm), _incident(itsm)
    created = itsm.json("problem", "create", a)
    number = created["number"]
    assert created["incident_count"] == 1 and created["type"] == "problem"
    linked = itsm.json("problem", "link", number, b)
    assert sorted(i["number"] for i in linked["incidents"]) == sorted([a, b])
    rca = itsm.json(
        "problem",
        "rca",
        number,
        "--root-cause",
        "Gateway rekey bug",
        "--why",
        "tunnel drops",
        "--why",
        "rekey fails",
    )
    assert rca["analysis"] == {"method": "five_whys", "whys": ["tunnel drops", "rekey fails"]}
    assert rca["status"] == "investigating"
    shown = itsm.ok("problem", "show", number).stdout
    assert "  1. tunnel drops" in shown and "Incidents   2 (2 open)" in shown
    known = itsm.json("problem", "known-error", number, "--workaround", "Reconnect")
    assert known["known_error"] is True and known["status"] == "known_error"
    listed = itsm.json("problem", "list", "--known-errors")
    assert [(r["number"], r["incidents"]) for r in listed] == [(number, 2)]
    done = itsm.json("problem", "resolve", number, "--notes", "Firmware 9.1", "--incidents", a)
    assert done["status"] == "resolved"
    by_number = {i["number"]: i for i in done["incidents"]}
    assert by_number[a]["status"] == "resolved" and by_number[b]["is_open"] is True
    assert itsm.json("problem", "list") == []
    assert [r["number"] for r in itsm.json("problem", "list", "--all")] == [number]
    detail = itsm.json("ticket", "show", a)
    assert detail["resolution_notes"] == f"{number} is resolved: Firmware 9.1"
    # A second problem, its incidents all resolved with it.
    c, d = _incident(itsm), _incident(itsm)
    second = itsm.json("problem", "create", c, d)["number"]
    done = itsm.json("problem", "resolve", second, "--notes", "Patched", "--incidents", "all")
    assert [i["status"] for i in done["incidents"]] == ["resolved", "resolved"]


def test_refusals_write_nothing(itsm: Itsm) -> None:
    a = _incident(itsm)
    number = itsm.json("problem", "create", a)["number"]
    other = _incident(itsm)
    before = snapshot(itsm.store)
    assert_refused(itsm("problem", "create", a), says=f"{a} is already linked to {number}")
    assert_refused(itsm("problem", "show", a), says=f"{a} is not a problem")
    assert_refused(itsm("problem", "known-error", number), says="give --workaround or --withdraw")
    assert_refused(
        itsm("problem", "rca", number, "--root-cause", "x", "--why", "a", "--analysis", "b"),
        says="not both",
    )
    assert_refused(
        itsm("problem", "resolve", number, "--notes", "Fixed", "--incidents", f"{a},{other}"),
        says=f"{other} is not linked to {number}",
    )
    assert_refused(itsm("problem", "link", number, "INC9999999"), says="no ticket INC9999999")
    assert snapshot(itsm.store) == before


def test_suggest_lists_recurring_incidents(itsm: Itsm) -> None:
    recurring = [_incident(itsm, days_ago=d) for d in (1, 3, 5)]
    _incident(itsm, "Laptop screen flickers", days_ago=2)
    found = itsm.json("problem", "suggest")
    assert [(c["service"], c["size"], c["incidents"]) for c in found] == [
        ("VPN", 3, list(reversed(recurring)))
    ]
    assert itsm.json("problem", "suggest", "--window-days", "1") == []
    assert "3 × VPN drops every hour  [VPN, " in itsm.ok("problem", "suggest").stdout
    itsm.ok("problem", "create", *recurring)
    assert (
        itsm.ok("problem", "suggest").stdout.strip() == "No recurring incidents without a problem."
    )
