"""The queue's filter line: quoted values, one clear line for a bad term, completion."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from itsm_tui.data.directory import DeskDirectory
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.screens.queue_filter import (
    FilterSuggester,
    apply_filter_text,
    describe,
    quoted,
    split_terms,
)

DIRECTORY = DeskDirectory(
    agent_id=1,
    team_id=1,
    agent_active=True,
    teams={"Service Desk": 1, "Network": 2, "Identity and Access": 3},
    agents={"alice": 11, "bob": 12},
    services={"Corporate Network and Wi-Fi": 21, "Email": 22, 'Bob\'s "best" printer': 23},
    desk_name=None,
)
OPEN = QueueQuery(TicketFilter(open_only=True))


def filtered(text: str) -> QueueQuery:
    return apply_filter_text(OPEN, text, DIRECTORY)[0]


def test_values_with_spaces_are_quoted_either_way() -> None:
    assert filtered('team:"Service Desk"').filters.team_id == 1
    assert filtered("team:'identity and access'").filters.team_id == 3
    assert filtered('service:"Corporate Network and Wi-Fi" team:Network').service_id == 21
    assert filtered("team:Network").filters.team_id == 2


def test_escaped_quotes_inside_a_quoted_value() -> None:
    assert filtered(r'service:"Bob\'s \"best\" printer"').service_id == 23
    assert filtered(r"service:'Bob\'s \"best\" printer'").service_id == 23
    # Written back, the value reads as the line takes it.
    written = quoted('Bob\'s "best" printer')
    assert written == r'"Bob' + "'" + r's \"best\" printer"'
    assert filtered(f"service:{written}").service_id == 23


def test_sla_states_and_the_other_keys() -> None:
    query, chosen = apply_filter_text(
        OPEN, "sla:Warned status:in_progress priority:p2 type:incident assignee:bob", DIRECTORY
    )
    assert query.sla_state == "warned"
    assert query.filters == TicketFilter(
        open_only=True, statuses=("in_progress",), priority=2, type="incident", assignee_id=12
    )
    assert (
        describe(chosen) == "sla:Warned status:in_progress priority:p2 type:incident assignee:bob"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('team:"Service Desk', "the quote after team: is not closed"),
        ('team:"Service"Desk', "put a space after the closing quote of team:"),
        ("team:Service_Desk", "no team named 'Service_Desk'; did you mean team:\"Service Desk\"?"),
        ("team:Service", "no team named 'Service'; did you mean team:\"Service Desk\"?"),
        ("team:Nowhere", "no team named 'Nowhere'"),
        ("sla:late", "no SLA state 'late'; use breached, warned, running, paused"),
        ("status:new status:assigned", "status: is given twice"),
        ('"Service Desk"', "write filters as key:value"),
        ("colour:red", "write filters as key:value"),
        ("team:", "write filters as key:value"),
    ],
)
def test_a_bad_term_gets_one_line_that_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        filtered(text)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_terms_remember_where_they_start_and_how_they_were_quoted() -> None:
    terms = split_terms("status:new  team:'Service Desk' x")
    assert [(t.key, t.value, t.start, t.quote) for t in terms] == [
        ("status", "new", 0, ""),
        ("team", "Service Desk", 12, "'"),
        ("", "x", 32, ""),
    ]
    last = split_terms('team:"Serv', lenient=True)[-1]
    assert (last.value, last.closed) == ("Serv", False)


def completion(text: str) -> tuple[str | None, str | None]:
    suggester = FilterSuggester()
    suggester.directory = DIRECTORY
    shown = suggester.complete(text)
    return shown, suggester.accepted.get(shown) if shown else None


def test_completion_continues_keys_and_values_and_quotes_when_taken() -> None:
    assert completion("as") == ("assignee:", None)
    assert completion("status:new te") == ("status:new team:", None)
    assert completion("team:serv") == ("team:service Desk", 'team:"Service Desk"')
    assert completion('team:"ident') == ('team:"identity and Access"', 'team:"Identity and Access"')
    assert completion("sla:b") == ("sla:breached", "sla:breached")
    assert completion("priority:p") == ("priority:p1", "priority:P1")
    assert completion("status:in_p") == ("status:in_progress", "status:in_progress")
    assert completion("assignee:b") == ("assignee:bob", "assignee:bob")
    # Nothing to add: a complete value, an unknown key, a closed quote, a trailing space.
    assert completion("team:Network") == (None, None)
    assert completion("colour:r") == (None, None)
    assert completion('team:"Network"') == (None, None)
    assert completion("team:Network ") == (None, None)


def test_completion_waits_for_the_directory() -> None:
    suggester = FilterSuggester()
    assert suggester.complete("team:N") is None
    assert suggester.complete("type:inc") == "type:incident"
    suggester.directory = DIRECTORY
    assert suggester.complete("team:N") == "team:Network"


def test_resolved_and_opened_take_local_days_of_the_desk() -> None:
    nov = filtered("resolved:2026-11-01..2026-11-30")
    assert (nov.resolved_since, nov.resolved_until) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    shanghai = replace(DIRECTORY, zone=ZoneInfo("Asia/Shanghai"))
    day = apply_filter_text(OPEN, "opened:2026-11-24 type:incident", shanghai)[0]
    assert (day.opened_since, day.opened_until) == (
        datetime(2026, 11, 23, 16, tzinfo=UTC),
        datetime(2026, 11, 24, 16, tzinfo=UTC),
    )
    assert day.resolved_since is None and day.filters.type == "incident"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("resolved:yesterday", "resolved: takes days as 2026-11-01..2026-11-30"),
        ("opened:2026-11-01..", "opened: takes days as"),
        ("opened:2026-11-30..2026-11-01", "opened: the last day 2026-11-01 is before the first"),
    ],
)
def test_a_bad_day_range_is_one_line_naming_the_term(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        filtered(text)
