"""Fuzzing the command line's options: every answer is an exit code people can rely on.

Hypothesis builds command lines from the desk's own commands and options, filled
with hostile values (numbers past 64 bits, dates past the calendar, bytes that
are not UTF-8, control characters, names with spaces). Whatever it builds, `itsm`
exits 0, 1, 2 or 3, never with "unexpected error", and a refused command leaves
the store exactly as it was.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import Itsm, snapshot

NUMBER = "<number>"
VALUE = "<value>"

# (the command with its positional arguments, the options it takes)
COMMANDS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (
        ("ticket", "create"),
        ("--type", "--title", "--impact", "--urgency", "--description", "--service",
         "--requester", "--category", "--team", "--assignee", "--item", "--field",
         "--opened-at"),
    ),
    (
        ("ticket", "update", NUMBER),
        ("--title", "--description", "--category", "--impact", "--urgency", "--service",
         "--requester", "--root-cause", "--workaround", "--expect-version"),
    ),
    (("ticket", "transition", NUMBER, VALUE), ("--note", "--expect-version")),
    (("ticket", "assign", NUMBER), ("--team", "--assignee", "--expect-version")),
    (("ticket", "comment", NUMBER, VALUE), ("--expect-version",)),
    (("ticket", "resolve", NUMBER), ("--code", "--notes", "--expect-version")),
    (("ticket", "reopen", NUMBER), ("--reason", "--expect-version")),
    (("ticket", "close", NUMBER), ("--expect-version",)),
    (("ticket", "priority", NUMBER, VALUE), ("--reason", "--expect-version")),
    (("ticket", "link", NUMBER), ("--parent", "--problem", "--change", "--article")),
    (("ticket", "log-time", NUMBER, VALUE), ("--note", "--at", "--expect-version")),
    (("ticket", "survey", NUMBER, VALUE), ("--comment", "--at", "--expect-version")),
    (
        ("ticket", "list"),
        ("--status", "--priority", "--type", "--team", "--assignee", "--limit", "--after"),
    ),
    (("ticket", "show", NUMBER), ()),
    (("outage", "record"), ("--service", "--start", "--end", "--ticket", "--notes")),
    (("complaint", "record"), ("--summary", "--ticket", "--requester", "--at")),
    (
        ("change", "create"),
        ("--title", "--type", "--impact", "--service", "--team", "--problem",
         "--planned-start", "--planned-end"),
    ),
    (("sla", "breaching"), ("--within", "--limit")),
    (("catalog", "list"), ("--search", "--category")),
    (("catalog", "request", VALUE),
     ("--field", "--title", "--description", "--requester", "--impact", "--urgency")),
    (("survey", "send", NUMBER), ()),
    (("survey", "record", VALUE), ("--rating", "--comment")),
]  # fmt: skip

HOSTILE = [
    "", " ", "-", "--", "0", "1", "2", "-1", "5", "999999",
    "9223372036854775808", "-9223372036854775809", "1" * 40, "1e400", "nan", "inf",
    "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-24T09:30:00",
    "2026-11-24T09:30:00Z", "2026-02-30T00:00:00Z", "1899-01-01T00:00:00Z",
    "caf\udce9", "\udcff\udcfe", "\ud800", "\x00", "a\x00b", "\x1b[2J\x1b]0;pwned\x07",
    "[bold]x[/]", "\u202eevil", "x" * 600, "P1", "P9", "incident", "request", "problem",
    "in_progress", "flying", "INC0000001", "INC0000002", "REQ9999999", "CHG0000001",
    "alice", "bob", "root", " Root", "ROOT", "Service Desk", "Network", "VPN",
    "ana@staff.example.com", "not-an-email", "model=X1", "=x", "30m", "1h30m", "-5m",
    "10001", "normal", "fixed",
]  # fmt: skip

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    words, options = draw(st.sampled_from(COMMANDS))
    # Mostly the ticket that exists, so the options reach the desk and the database.
    numbers = st.one_of(st.just("INC0000001"), st.just("INC0000001"), st.sampled_from(HOSTILE))
    argv = [draw(numbers) if w == NUMBER else draw(values) if w == VALUE else w for w in words]
    for option in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        argv += [option, draw(values)]
    if draw(st.booleans()) and words[-1] not in ("show", "breaching"):
        argv.append("--json")
    return argv


@pytest.fixture
def itsm_with_a_ticket(itsm: Itsm) -> Itsm:
    itsm.ok(
        "ticket", "create", "--type", "incident", "--title", "VPN down", "--impact", "2",
        "--urgency", "2",
    )  # fmt: skip
    return itsm


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=command_lines(), agent=st.sampled_from(["alice", "sam", "root"]))
# The command lines of issue 9 §6 that printed "unexpected error", always tried.
@example(
    ["ticket", "transition", "INC0000001", "assigned", "--expect-version", "9223372036854775808"],
    "alice",
)
@example(
    ["ticket", "update", "INC0000001", "--title", "x", "--expect-version", "-9223372036854775809"],
    "alice",
)
@example(
    [
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        "x",
        "--impact",
        "1",
        "--urgency",
        "1",
        "--opened-at",
        "9999-12-31T23:59:59-14:00",
    ],
    "alice",
)
@example(
    [
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        "x",
        "--impact",
        "1",
        "--urgency",
        "1",
        "--opened-at",
        "0001-01-01T00:00:00+14:00",
    ],
    "alice",
)
@example(["ticket", "update", "INC0000001", "--service", "caf\udce9"], "alice")
@example(["ticket", "list", "--team", "caf\udce9"], "alice")
@example(["ticket", "list"], " Root")
def test_any_command_line_gets_an_exit_code_and_a_refusal_writes_nothing(
    itsm_with_a_ticket: Itsm, argv: list[str], agent: str
) -> None:
    itsm = itsm_with_a_ticket
    before = snapshot(itsm.store)
    result = itsm(*argv, agent=agent)
    assert result.exit_code in (0, 1, 2, 3), (argv, result.exit_code, result.stderr)
    assert "unexpected error" not in result.stderr, (argv, result.stderr)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    if result.exit_code != 0:
        assert snapshot(itsm.store) == before, argv
        if result.exit_code in (1, 3):
            # A refusal is one line (usage errors are click's own several lines).
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("itsm: ")
