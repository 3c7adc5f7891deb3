"""Desk file format 2: versioned, each record family checked with the line named, a
refused file writes nothing, budgets left to the desk file."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui.data.models import Budget, Change, Outage, SlaClock, Survey, Ticket, TimeEntry
from itsm_tui.data.store import Store
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.imports import ImportResult, import_tickets
from itsm_tui.ticket_files import read_records
from tests.factories import NOW, Desk

HEADER = {"format": "itsm-desk", "version": 2}
TICKET: dict[str, Any] = {
    "number": "INC0000042",
    "type": "incident",
    "title": "VPN down",
    "status": "resolved",
    "impact": 2,
    "urgency": 2,
    "service": "VPN",
    "assignee": "bob",
    "opened_at": "2026-11-20T09:00:00Z",
    "first_response_at": "2026-11-20T09:05:00Z",
    "resolved_at": "2026-11-20T10:00:00Z",
    "sla_clocks": [
        {
            "kind": "response",
            "target_minutes": 15,
            "started_at": "2026-11-20T09:00:00Z",
            "state": "met",
            "spent_seconds": 300,
            "stopped_at": "2026-11-20T09:05:00Z",
        }
    ],
    "time_entries": [
        {"agent": "bob", "minutes": 45, "cost": "37.50", "logged_at": "2026-11-20T10:00:00Z"}
    ],
    "survey": {"rating": 4, "submitted_at": "2026-11-21T08:00:00Z"},
}
CHANGE: dict[str, Any] = {
    "record": "change",
    "number": "CHG0000007",
    "title": "Replace the VPN gateway",
    "change_type": "normal",
    "status": "closed",
    "outcome": "successful",
    "opened_at": "2026-11-01T09:00:00Z",
    "updated_at": "2026-11-19T09:00:00Z",
    "closed_at": "2026-11-19T09:00:00Z",
    "caused_incidents": [
        {"ticket": "INC0000042", "linked_at": "2026-11-20T11:00:00Z", "within_review": True}
    ],
}
OUTAGE = {
    "record": "outage",
    "service": "VPN",
    "ticket": "INC0000042",
    "started_at": "2026-11-20T09:00:00Z",
    "ended_at": "2026-11-20T09:50:00Z",
}
BUDGET = {
    "record": "budget",
    "period_start": "2026-11-01",
    "period_end": "2026-11-30",
    "amount": "1000.00",
}


def file_of(*lines: dict[str, Any]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def load(desk: Desk, text: str) -> ImportResult:
    with desk.store.write() as session:
        return import_tickets(
            session,
            desk.actor(session, "root"),
            read_records(io.StringIO(text, newline="")),
            now=NOW,
        )


def counts(store: Store) -> tuple[int, ...]:
    with store.read() as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Ticket, SlaClock, TimeEntry, Survey, Change, Outage, Budget)
        )


def test_a_whole_file_imports_every_family_and_leaves_budgets_to_the_desk_file(
    desk: Desk,
) -> None:
    before = counts(desk.store)
    result = load(desk, file_of(HEADER, BUDGET, CHANGE, TICKET, OUTAGE))
    assert (result.tickets, result.sla_clocks, result.time_entries, result.surveys) == (1, 1, 1, 1)
    assert (result.changes, result.outages, result.budgets_not_on_desk) == (1, 1, 1)
    after = counts(desk.store)
    # Budgets are the desk file's: none written.
    assert after[-1] == before[-1]
    with desk.store.read() as s:
        cost = s.scalar(select(TimeEntry.cost))
        assert str(cost) in ("37.50", "37.5")
        change = s.scalars(select(Change).where(Change.number == "CHG0000007")).one()
        assert change.outcome == "successful" and not change.is_open
        spent = s.scalar(
            select(SlaClock.spent_seconds).join(Ticket).where(Ticket.number == "INC0000042")
        )
        assert spent == 300


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (
            [{"format": "itsm-desk", "version": 3}, TICKET],
            r"line 1: a desk file of version 3; this itsm reads versions 1 to 2",
        ),
        (
            [HEADER, {**TICKET, "sla_clocks": [{**TICKET["sla_clocks"][0], "state": "asleep"}]}],
            r"line 2 \(INC0000042\): SLA clock 1 state 'asleep' is not one of",
        ),
        (
            [HEADER, {**TICKET, "time_entries": [{**TICKET["time_entries"][0], "cost": 37.5}]}],
            r"line 2 \(INC0000042\): time_entries 1 cost must be an amount written as text",
        ),
        (
            [HEADER, {**TICKET, "survey": {"rating": 9, "submitted_at": "2026-11-21T08:00:00Z"}}],
            r"line 2 \(INC0000042\): survey rating 9 must be 1 to 5",
        ),
        (
            [HEADER, TICKET, {**OUTAGE, "service": "Teleporter"}],
            r"line 3: unknown service 'Teleporter'",
        ),
        (
            [HEADER, CHANGE, {**TICKET, "number": "INC0000043"}],
            r"links to INC0000042, which is neither in the file nor on this desk",
        ),
        (
            [HEADER, {**CHANGE, "outcome": "meh"}],
            r"line 2: unknown outcome 'meh'",
        ),
        (
            [HEADER, {"record": "rumour", "text": "x"}],
            r"line 2: unknown record 'rumour'; records: ticket, change",
        ),
    ],
    ids=[
        "later-version",
        "clock-state",
        "cost-as-float",
        "rating",
        "outage-service",
        "caused-incident-dangling",
        "change-outcome",
        "unknown-record",
    ],
)
def test_a_bad_line_names_itself_and_imports_nothing(
    desk: Desk, lines: list[dict[str, Any]], says: str
) -> None:
    before = counts(desk.store)
    with pytest.raises(InvalidInput, match=says):
        load(desk, file_of(*lines))
    assert counts(desk.store) == before


def test_a_change_already_on_the_desk_refuses_the_file(desk: Desk) -> None:
    load(desk, file_of(HEADER, CHANGE, TICKET))
    before = counts(desk.store)
    with pytest.raises(InvalidInput, match=r"line 2: CHG0000007 is already on this desk"):
        load(desk, file_of(HEADER, CHANGE))
    assert counts(desk.store) == before


def test_a_format_1_file_still_imports_its_tickets_without_clocks(desk: Desk) -> None:
    old = {k: v for k, v in TICKET.items() if k not in ("sla_clocks", "time_entries", "survey")}
    result = load(desk, file_of(old))
    assert (result.tickets, result.sla_clocks) == (1, 0)
