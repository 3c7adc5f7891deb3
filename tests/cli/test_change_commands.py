"""`itsm change …`: a change from draft to closed, the CAB's vote, refusals and their codes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from itsm_tui.data.store import Store
from tests.change_desk import LOW, PLANS, build_change_desk, snapshot
from tests.cli.conftest import Itsm
from tests.factories import NOW


def iso(days: float = 0, hours: float = 0) -> str:
    return (NOW + timedelta(days=days, hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def itsm(store: Store) -> Itsm:
    return Itsm(build_change_desk(store).store)


def refused(itsm: Itsm, args: list[str], *, agent: str = "alice", code: int = 1, says: str) -> None:
    """Refused with one `itsm: …` line and exit `code`; the store is as it was."""
    before = snapshot(itsm.store)
    result = itsm(*args, agent=agent)
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("itsm: "), result.stderr
    assert says in lines[0], lines[0]
    assert snapshot(itsm.store) == before


def answers() -> list[str]:
    return [arg for q, a in LOW.items() for arg in ("--answer", f"{q}={a}")]


def test_a_normal_change_from_draft_to_closed(itsm: Itsm) -> None:
    created = itsm.json(
        "change",
        "create",
        "--title",
        "Upgrade mail relays",
        "--service",
        "Email",
        "--implementer",
        "nina",
        *[arg for k, v in PLANS.items() for arg in (f"--{k.replace('_', '-')}", v)],
    )
    number = created["number"]
    assert (created["status"], created["implementer"], created["version"]) == ("draft", "nina", 1)
    assert itsm.json("change", "submit", number)["status"] == "assessment"
    assessed = itsm.json("change", "assess", number, *answers())
    assert (assessed["risk"], assessed["risk_score"]) == ("low", 0)
    itsm.ok("change", "schedule", number, "--start", iso(4), "--end", iso(4, 2))
    sent = itsm.json("change", "submit", number)
    assert (sent["status"], sent["quorum"]) == ("authorization", 1)
    # carol's queue of votes shows it; her approval authorizes a low-risk change.
    waiting = itsm.json("change", "list", "--awaiting-me", agent="carol")
    assert [r["number"] for r in waiting] == [number]
    approved = itsm.json("change", "approve", number, "--comment", "Go.", agent="carol")
    assert (approved["status"], approved["approvals"][0]["comment"]) == ("scheduled", "Go.")
    assert itsm.json("change", "list", "--awaiting-me", agent="erin") == []
    itsm.ok("change", "start", number, "--at", iso(0), agent="nina")
    done = itsm.json(
        "change",
        "complete",
        number,
        "--outcome",
        "backed_out",
        "--notes",
        "Relay 2 refused the image.",
        agent="nina",
    )
    assert (done["status"], done["outcome"]) == ("review", "backed_out")
    refused(itsm, ["change", "close", number], says="needs its post-implementation review")
    itsm.ok(
        "change",
        "review",
        number,
        "--notes",
        "Image too large for relay 2.",
        "--lessons",
        "Check flash space first.",
    )
    closed = itsm.json("change", "close", number)
    assert (closed["status"], closed["succeeded_first_time"]) == ("closed", False)
    shown = itsm.ok("change", "show", number).stdout
    assert f"{number} closed (normal, version" in shown
    assert "carol" in shown and "Check flash space first." in shown


def test_a_standard_change_from_a_template(itsm: Itsm) -> None:
    made = itsm.json(
        "change",
        "create",
        "--type",
        "standard",
        "--template",
        "mail-restart",
        "--planned-start",
        iso(hours=1),
    )
    assert (made["title"], made["planned_end"]) == (
        "Rolling restart of the mail servers",
        iso(hours=2.5),
    )
    line = itsm.ok("change", "submit", made["number"]).stdout.strip()
    assert line == (
        f"{made['number']} scheduled (standard, version 2): Rolling restart of the mail servers"
    )


def test_refusals_exit_1_with_one_line_and_write_nothing(itsm: Itsm) -> None:
    number = itsm.json("change", "create", "--title", "Relays", "--service", "Email")["number"]
    refused(
        itsm,
        ["change", "start", number],
        says="is draft; a normal change moves from draft to: assessment, cancelled",
    )
    refused(
        itsm,
        ["change", "approve", number],
        agent="bob",
        says="votes on a normal change in authorization",
    )
    refused(
        itsm,
        ["change", "assess", number, "--answer", "outage=maybe"],
        says="outage: 'maybe' is not an answer",
    )
    refused(
        itsm,
        ["change", "create", "--type", "standard", "--template", "nope"],
        says="no change template 'nope'",
    )
    refused(itsm, ["change", "list", "--status", "done"], says="unknown status 'done'")
    refused(
        itsm,
        ["change", "update", number, "--title", "x", "--expect-version", "9"],
        code=3,
        says="changed since you loaded version 9",
    )


def test_a_schedule_conflict_names_the_clash_and_a_change_manager_overrides_it(
    itsm: Itsm,
) -> None:
    first = itsm.json(
        "change",
        "create",
        "--type",
        "standard",
        "--template",
        "mail-restart",
        "--planned-start",
        iso(4),
    )["number"]
    itsm.ok("change", "submit", first)
    second = itsm.json("change", "create", "--title", "Archive", "--service", "Email")["number"]
    window = ["--start", iso(4), "--end", iso(4, 1)]
    refused(itsm, ["change", "schedule", second, *window], says=f"conflicts: {first}")
    moved = itsm.json(
        "change", "schedule", second, *window, "--override", "Same night.", agent="mia"
    )
    assert moved["schedule_overrides"][0]["name"] == first


def test_usage_errors_exit_2(itsm: Itsm) -> None:
    result = itsm("change", "reject", "CHG0000001")
    assert result.exit_code == 2 and "--reason" in result.stderr
    result = itsm("change", "assess", "CHG0000001", "--answer", "no-equals-sign")
    assert result.exit_code == 2


def test_list_pages_by_number_and_filters(itsm: Itsm) -> None:
    numbers = [
        itsm.json("change", "create", "--title", f"Change {i}", "--service", service)["number"]
        for i, service in enumerate(["Email", "VPN", "Email"])
    ]
    first = itsm.ok("change", "list", "--limit", "2")
    assert [line.split()[0] for line in first.stdout.splitlines()] == numbers[:2]
    assert f"more: --after {numbers[1]}" in first.stderr
    rest = json.loads(itsm.ok("change", "list", "--after", numbers[1], "--json").stdout)
    assert [r["number"] for r in rest] == numbers[2:]
    vpn = itsm.json("change", "list", "--service", "vpn")
    assert [r["number"] for r in vpn] == [numbers[1]]
