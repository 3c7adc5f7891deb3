"""`itsm ticket …` on both databases: what each command writes and prints."""

from __future__ import annotations

import json

import pytest

from itsm_tui.cli import output as cli_output
from itsm_tui.data.record_json import TICKET_FIELDS
from tests.cli.conftest import NOW_ISO, Itsm, assert_refused, snapshot


def _incident(itsm: Itsm, title: str = "VPN drops every hour", **extra: str) -> dict:
    args = ["ticket", "create", "--type", "incident", "--title", title]
    args += ["--impact", extra.pop("impact", "2"), "--urgency", extra.pop("urgency", "2")]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    return itsm.json(*args)


def test_create_prints_the_ticket_as_json_with_every_field(itsm: Itsm) -> None:
    ticket = itsm.json(
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        "VPN drops every hour",
        "--description",
        "Since the update",
        "--impact",
        "1",
        "--urgency",
        "2",
        "--service",
        "vpn",
        "--requester",
        "wei@example.com",
        "--category",
        "network",
        "--assignee",
        "bob",
    )
    assert list(ticket) == list(TICKET_FIELDS)
    assert ticket == {
        **ticket,
        "number": "INC0000001",
        "type": "incident",
        "title": "VPN drops every hour",
        "description": "Since the update",
        "status": "assigned",
        "priority": "P2",
        "impact": 1,
        "urgency": 2,
        "category": "network",
        "service": "VPN",
        "team": "Service Desk",
        "assignee": "bob",
        "requester": "wei@example.com",
        "opened_at": NOW_ISO,
        "updated_at": NOW_ISO,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "resolution_code": None,
        "resolution_notes": None,
        "reopen_count": 0,
        "escalation_level": 0,
        "is_open": True,
        "priority_overridden": False,
        "parent": None,
        "problem": None,
        "change": None,
        "version": 1,
    }
    assert NOW_ISO == "2026-11-24T09:30:00Z"


def test_create_without_json_prints_a_readable_view(itsm: Itsm) -> None:
    result = itsm.ok(
        "ticket", "create", "--type", "problem", "--title", "Disk fills", "--impact", "2",
        "--urgency", "3",
    )  # fmt: skip
    first = result.stdout.splitlines()[0]
    assert first.split() == ["PRB0000001", "P4", "new", "Disk", "fills"]


def test_create_a_request_from_the_catalogue_with_form_answers(itsm: Itsm) -> None:
    ticket = itsm.json(
        "ticket", "create", "--type", "request", "--title", "Laptop for Wei", "--impact", "3",
        "--urgency", "3", "--item", "laptop", "--field", "model=X1 Carbon",
    )  # fmt: skip
    assert ticket["number"] == "REQ0000001"
    assert ticket["status"] == "awaiting_approval"
    assert ticket["catalogue_item"] == "laptop"
    assert ticket["form_data"] == {"model": "X1 Carbon"}


def test_opened_at_takes_a_zone_and_a_naive_time_is_refused(itsm: Itsm) -> None:
    ticket = _incident(itsm, opened_at="2026-11-24T16:00:00+08:00")
    assert ticket["opened_at"] == "2026-11-24T08:00:00Z"
    before = snapshot(itsm.store)
    result = itsm(
        "ticket", "create", "--type", "incident", "--title", "x", "--impact", "1", "--urgency",
        "1", "--opened-at", "2026-11-24T08:00:00",
    )  # fmt: skip
    assert_refused(result, says="add one")
    assert snapshot(itsm.store) == before


def test_show_json_adds_comments_and_audit_oldest_first(itsm: Itsm) -> None:
    _incident(itsm)
    itsm.ok("ticket", "comment", "INC0000001", "We are looking at it")
    itsm.ok("ticket", "transition", "INC0000001", "in_progress", "--note", "Started")
    detail = itsm.json("ticket", "show", "inc0000001")
    assert detail["status"] == "in_progress"
    assert detail["version"] == 3
    assert detail["comments"] == [
        {"kind": "reply", "author": "alice", "body": "We are looking at it", "created_at": NOW_ISO},
        {"kind": "work_note", "author": "alice", "body": "Started", "created_at": NOW_ISO},
    ]
    actions = [(e["action"], e["field"]) for e in detail["audit"]]
    assert actions[0] == ("create", None)
    assert ("transition", "status") in actions
    status_event = next(e for e in detail["audit"] if e["field"] == "status")
    assert status_event == {
        "at": NOW_ISO,
        "actor": "alice",
        "impersonator": None,
        "action": "transition",
        "field": "status",
        "old": "new",
        "new": "in_progress",
        "reason": None,
        "version": status_event["version"],
    }
    assert [e["version"] for e in detail["audit"]] == sorted(e["version"] for e in detail["audit"])


HOSTILE = "Printer [bold red]on fire[/] \x1b[2J\x1b]0;pwned\x07 \u202eevil\r\x9b31m done"


def test_json_carries_user_text_exactly(itsm: Itsm) -> None:
    _incident(itsm, title=HOSTILE, description=HOSTILE + "\nsecond line\tand a tab")
    result = itsm.ok("ticket", "show", "INC0000001", "--json")
    # Nothing a terminal would act on is written raw, yet the parsed text is exact.
    for raw in ("\x1b", "\x07", "\u202e", "\x9b", "\r"):
        assert raw not in result.stdout
    detail = json.loads(result.stdout)
    assert detail["title"] == HOSTILE
    assert detail["description"] == HOSTILE + "\nsecond line\tand a tab"


def test_plain_text_to_a_terminal_shows_control_characters_as_escapes(
    itsm: Itsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    _incident(itsm, title=HOSTILE, description="line one\nline\ttwo")
    monkeypatch.setattr(cli_output, "stdout_is_terminal", lambda: True)
    shown = itsm.ok("ticket", "show", "INC0000001").stdout
    for raw in ("\x1b", "\x07", "\u202e", "\x9b", "\r"):
        assert raw not in shown
    assert "[bold red]on fire[/]" in shown  # markup is text, never interpreted
    assert "\\x1b[2J" in shown and "\\u202eevil" in shown and "\\x9b31m" in shown
    assert "line one\nline\ttwo" in shown  # newlines and tabs stay


def test_plain_text_into_a_pipe_is_literal(itsm: Itsm) -> None:
    _incident(itsm, title=HOSTILE)
    shown = itsm.ok("ticket", "show", "INC0000001").stdout
    assert HOSTILE in shown


def test_transition_assign_comment_resolve_reopen_close(itsm: Itsm) -> None:
    _incident(itsm)
    t = itsm.json("ticket", "assign", "INC0000001", "--assignee", "bob")
    assert (t["assignee"], t["status"], t["version"]) == ("bob", "assigned", 2)
    t = itsm.json("ticket", "assign", "INC0000001", "--take", "--expect-version", "2")
    assert t["assignee"] == "alice"
    t = itsm.json("ticket", "transition", "INC0000001", "in_progress", "--expect-version", "3")
    assert (t["status"], t["first_response_at"]) == ("in_progress", NOW_ISO)
    t = itsm.json("ticket", "comment", "INC0000001", "Rebooted the concentrator", "--work-note")
    assert t["version"] == 5
    t = itsm.json("ticket", "resolve", "INC0000001", "--code", "fixed", "--notes", "Rebooted")
    assert (t["status"], t["is_open"], t["resolution_code"]) == ("resolved", False, "fixed")
    assert t["resolved_at"] == NOW_ISO
    t = itsm.json("ticket", "reopen", "INC0000001", "--reason", "Dropped again")
    assert (t["status"], t["reopen_count"], t["resolved_at"]) == ("in_progress", 1, None)
    itsm.ok("ticket", "resolve", "INC0000001", "--code", "fixed", "--notes", "Firmware")
    t = itsm.json("ticket", "close", "INC0000001")
    assert (t["status"], t["closed_at"]) == ("closed", NOW_ISO)
    line = itsm.ok("ticket", "show", "INC0000001").stdout
    assert "closed" in line


def test_comment_body_dash_reads_standard_input(itsm: Itsm) -> None:
    _incident(itsm)
    result = itsm("ticket", "comment", "INC0000001", "-", input="pasted\nlog\r\n")
    assert result.exit_code == 0, result.stderr
    detail = itsm.json("ticket", "show", "INC0000001")
    assert detail["comments"][0]["body"] == "pasted\nlog\r\n"


def test_update_rederives_priority_and_supervisor_overrides_it(itsm: Itsm) -> None:
    _incident(itsm)
    t = itsm.json("ticket", "update", "INC0000001", "--impact", "1", "--urgency", "1")
    assert t["priority"] == "P1"
    t = itsm.json(
        "ticket", "priority", "INC0000001", "p3", "--reason", "Only a test lab", agent="sam"
    )
    assert (t["priority"], t["priority_overridden"]) == ("P3", True)
    audit = itsm.json("ticket", "show", "INC0000001")["audit"]
    override = next(e for e in audit if e["action"] == "priority.override")
    assert (override["actor"], override["reason"]) == ("sam", "Only a test lab")


def test_link_to_a_problem(itsm: Itsm) -> None:
    _incident(itsm)
    itsm.ok("ticket", "create", "--type", "problem", "--title", "Root", "--impact", "2",
            "--urgency", "2")  # fmt: skip
    t = itsm.json("ticket", "link", "INC0000001", "--problem", "PRB0000001")
    assert t["problem"] == "PRB0000001"


def test_log_time_and_survey(itsm: Itsm) -> None:
    _incident(itsm)
    logged = itsm.json("ticket", "log-time", "INC0000001", "45", "--note", "remote session")
    assert logged["minutes"] == 45
    assert logged["cost"] == "45.00"  # alice costs 60 an hour
    assert logged["ticket"]["version"] == 2
    itsm.ok("ticket", "resolve", "INC0000001", "--code", "fixed", "--notes", "done")
    survey = itsm.json("ticket", "survey", "INC0000001", "5", "--comment", "quick")
    assert (survey["rating"], survey["submitted_at"]) == (5, NOW_ISO)


# ---------------------------------------------------------------------------
# Refusals: exit 1, one line, nothing written


@pytest.mark.parametrize(
    ("args", "agent", "says"),
    [
        (["--impact", "9"], "alice", "impact must be 1 (high), 2 (medium) or 3 (low), not 9"),
        (["--service", "Fax"], "alice", "unknown service 'Fax'; services: Email, VPN"),
        (["--title", "   "], "alice", "title must not be empty"),
        (["--requester", "not-an-address"], "alice", "is not an e-mail address"),
        (["--type", "chore"], "alice", "unknown ticket type 'chore'"),
        ([], "mallory", "mallory is not an agent on this desk"),
    ],
    ids=["impact-9", "unknown-service", "empty-title", "bad-requester", "bad-type", "no-agent"],
)
def test_refused_create_writes_nothing(itsm: Itsm, args: list[str], agent: str, says: str) -> None:
    _incident(itsm)
    before = snapshot(itsm.store)
    base = {"--type": "incident", "--title": "Broken", "--impact": "2", "--urgency": "2"}
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value
    argv = ["ticket", "create", *[x for kv in base.items() for x in kv]]
    assert_refused(itsm(*argv, agent=agent), says=says)
    assert snapshot(itsm.store) == before


def test_refused_transition_says_what_is_allowed(itsm: Itsm) -> None:
    _incident(itsm)
    before = snapshot(itsm.store)
    line = assert_refused(itsm("ticket", "transition", "INC0000001", "closed", "--note", "x"))
    assert line == (
        "itsm: INC0000001 cannot move from new to closed; from new it can go to: "
        "assigned, in_progress, pending, resolved, cancelled"
    )
    assert snapshot(itsm.store) == before


def test_priority_override_needs_a_supervisor(itsm: Itsm) -> None:
    _incident(itsm)
    before = snapshot(itsm.store)
    result = itsm("ticket", "priority", "INC0000001", "P1", "--reason", "VIP")
    assert_refused(result, says="alice cannot override a priority: that needs the role")
    assert snapshot(itsm.store) == before


def test_unknown_ticket_and_bad_priority_are_refused(itsm: Itsm) -> None:
    _incident(itsm)
    assert_refused(itsm("ticket", "show", "INC0000099"), says="no ticket INC0000099")
    assert_refused(
        itsm("ticket", "priority", "INC0000001", "P7", "--reason", "x", agent="sam"),
        says="priority must be P1, P2, P3 or P4, not P7",
    )


def test_a_message_with_user_text_stays_one_safe_line(itsm: Itsm) -> None:
    before = snapshot(itsm.store)
    result = itsm("ticket", "create", "--type", "incident", "--title", "x", "--impact", "1",
                  "--urgency", "1", "--service", "Fax\nmachine\x1b[31m")  # fmt: skip
    line = assert_refused(result, says="unknown service")
    assert "\x1b" not in line
    assert snapshot(itsm.store) == before


# ---------------------------------------------------------------------------
# Conflicts: exit 3


@pytest.mark.parametrize(
    "command",
    [
        ["transition", "INC0000001", "in_progress"],
        ["update", "INC0000001", "--title", "Mine"],
        ["assign", "INC0000001", "--take"],
        ["comment", "INC0000001", "me too"],
        ["log-time", "INC0000001", "10"],
        ["priority", "INC0000001", "P1", "--reason", "x"],
    ],
    ids=lambda c: c[0],
)
def test_stale_expect_version_is_a_conflict_naming_who_changed_what(
    itsm: Itsm, command: list[str]
) -> None:
    _incident(itsm)
    itsm.ok("ticket", "update", "INC0000001", "--title", "Theirs", agent="bob")
    before = snapshot(itsm.store)
    result = itsm("ticket", *command, "--expect-version", "1", agent="sam")
    line = assert_refused(result, 3, says="INC0000001 changed since you loaded version 1")
    assert "bob set title VPN drops every hour → Theirs" in line
    assert snapshot(itsm.store) == before


def test_current_expect_version_is_accepted(itsm: Itsm) -> None:
    _incident(itsm)
    t = itsm.json("ticket", "update", "INC0000001", "--title", "New", "--expect-version", "1")
    assert (t["title"], t["version"]) == ("New", 2)


# ---------------------------------------------------------------------------
# Usage: exit 2, click's own message


@pytest.mark.parametrize(
    "argv",
    [
        ["ticket", "create", "--type", "incident", "--impact", "1", "--urgency", "1"],
        ["ticket", "create", "--type", "incident", "--title", "x", "--impact", "high",
         "--urgency", "1"],
        ["ticket", "create", "--type", "incident", "--title", "x", "--impact", "1",
         "--urgency", "1", "--opened-at", "yesterday"],
        ["ticket", "frobnicate"],
        ["ticket", "show"],
        ["ticket", "list", "--json", "--csv"],
        ["ticket", "list", "--limit", "0"],
        ["ticket", "assign", "INC0000001", "--take", "--unassign"],
        ["ticket", "create", "--type", "request", "--title", "x", "--impact", "1",
         "--urgency", "1", "--field", "no-equals-sign"],
        ["export", "--format", "xml"],
    ],
    ids=["missing-title", "impact-not-int", "bad-date", "unknown-command", "missing-number",
         "json-and-csv", "limit-0", "take-and-unassign", "bad-field", "bad-format"],
)  # fmt: skip
def test_usage_errors_exit_2(itsm_sqlite: Itsm, argv: list[str]) -> None:
    before = snapshot(itsm_sqlite.store)
    result = itsm_sqlite(*argv)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "Error" in result.stderr
    assert snapshot(itsm_sqlite.store) == before
