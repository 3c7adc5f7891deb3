"""SLA clocks through the write path, on SQLite and PostgreSQL: start, pause, meet, stop,
reopen, re-target and what `clock_view` shows.

The desk is the shipped default desk (tests/sla_desk.py). Its business calendar is
Asia/Shanghai Mon–Fri 09:00–12:00 and 13:30–18:00; every expected instant below is
worked out by hand in that calendar, not computed with the code under test.
Tuesday 2026-11-24 is a working day; 2026-11-28/29 is a weekend; no holidays fall
between 2026-11-23 and 2026-12-04.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, Escalation, SlaClock
from itsm_tui.data.store import Store
from itsm_tui.desk import (
    add_comment,
    override_priority,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.desk.sla import clock_view, remaining
from tests.conftest import BACKENDS
from tests.sla_desk import (
    build_sla_desk,
    clocks,
    create,
    desk_store,
    desk_text,
    local,
    run_sweep,
    set_response_met_by,
    ticket,
)

# Tuesday 2026-11-24, 09:30 in Shanghai (01:30 UTC).
TUE_0930 = local(2026, 11, 24, 9, 30)

REQUEST_FORM = {"system": "ERP", "access_level": "read", "justification": "month-end close"}


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Like `store` (each backend in turn), with the default desk and agents in it."""
    yield from desk_store(request, tmp_path)


def act(store: Store, fn: Callable[..., Any], *args: Any, actor: str = "tia", **kwargs: Any) -> Any:
    """Call one write-path function as `actor` in its own transaction."""
    with store.write() as session:
        return fn(session, get_agent(session, actor), *args, **kwargs)


def move(store: Store, number: str, status: str, at: datetime, actor: str = "tia") -> None:
    act(store, transition_ticket, number, status, now=at, actor=actor)


def resolve(store: Store, number: str, at: datetime) -> None:
    act(store, resolve_ticket, number, code="fixed", notes="replaced the cable", now=at)


def p3(store: Store, at: datetime = TUE_0930, **kwargs: Any) -> str:
    """A P3 incident (impact 2, urgency 2): response 240, resolution 1350 business minutes."""
    return create(store, at, impact=2, urgency=2, **kwargs)


# ---------------------------------------------------------------------------
# Starting


def test_p1_incident_starts_15_and_120_minute_clocks_around_the_clock(sla_store: Store) -> None:
    # Saturday 23:50: closed time on the business calendar, but P1 runs on 24x7.
    opened = local(2026, 11, 28, 23, 50)
    number = create(sla_store, opened, impact=1, urgency=1)
    got = clocks(sla_store, number)
    assert set(got) == {"response", "resolution"}
    response, resolution = got["response"], got["resolution"]
    assert response.policy.name == resolution.policy.name == "P1 incident"
    assert (response.target_minutes, resolution.target_minutes) == (15, 120)
    assert response.started_at == resolution.started_at == opened
    assert response.state == resolution.state == "running"
    assert response.due_at == local(2026, 11, 29, 0, 5)
    assert resolution.due_at == local(2026, 11, 29, 1, 50)
    # The first event of each is its 50% warning: 7.5 and 60 minutes in.
    assert response.next_event_at == opened + timedelta(minutes=7, seconds=30)
    assert resolution.next_event_at == local(2026, 11, 29, 0, 50)


@pytest.mark.parametrize(
    ("opened", "response_due", "resolution_due"),
    [
        # Tuesday morning: 150 min to lunch, 90 after it; three days later at the same time.
        (TUE_0930, local(2026, 11, 24, 15, 0), local(2026, 11, 27, 9, 30)),
        # 11:00: one hour before lunch, the rest after 13:30.
        (local(2026, 11, 24, 11, 0), local(2026, 11, 24, 16, 30), local(2026, 11, 27, 11, 0)),
        # Opened during lunch: counting starts at 13:30.
        (local(2026, 11, 24, 12, 30), local(2026, 11, 24, 17, 30), local(2026, 11, 27, 12, 0)),
        # Friday 17:30: 30 minutes on Friday, the rest from Monday 09:00 (over the weekend).
        (local(2026, 11, 27, 17, 30), local(2026, 11, 30, 14, 0), local(2026, 12, 2, 17, 30)),
        # Saturday: nothing counts before Monday 09:00; three full days end Wednesday 18:00.
        (local(2026, 11, 28, 10, 0), local(2026, 11, 30, 14, 30), local(2026, 12, 2, 18, 0)),
        # Tuesday 20:00 (overnight): counting starts Wednesday 09:00.
        (local(2026, 11, 24, 20, 0), local(2026, 11, 25, 14, 30), local(2026, 11, 27, 18, 0)),
    ],
    ids=["tue-0930", "before-lunch", "in-lunch", "fri-1730", "saturday", "overnight"],
)
def test_p3_incident_due_times_are_in_business_time(
    sla_store: Store, opened: datetime, response_due: datetime, resolution_due: datetime
) -> None:
    number = p3(sla_store, opened)
    got = clocks(sla_store, number)
    assert got["response"].policy.name == "P3 incident"
    assert (got["response"].target_minutes, got["resolution"].target_minutes) == (240, 1350)
    assert got["response"].started_at == opened
    assert got["response"].due_at == response_due
    assert got["resolution"].due_at == resolution_due


def test_target_that_uses_up_a_day_is_due_at_closing_time_not_next_morning(
    sla_store: Store,
) -> None:
    # P4 (impact 2, urgency 3): response 450 minutes = exactly one business day.
    number = create(sla_store, local(2026, 11, 24, 9, 0), impact=2, urgency=3)
    got = clocks(sla_store, number)
    assert got["response"].policy.name == "P4 incident"
    assert got["response"].due_at == local(2026, 11, 24, 18, 0)


def test_lowest_rank_among_matching_policies_starts_the_clocks(store: Store) -> None:
    vpn_policy = """
[[sla_policies]]
name = "VPN incidents"
rank = 5
calendar = "24x7"
response_minutes = 10
resolution_minutes = 60
[sla_policies.match]
types = ["incident"]
services = ["VPN and Remote Access"]

[[sla_policies]]
name = "Printing incidents"
rank = 500
calendar = "24x7"
response_minutes = 1
resolution_minutes = 2
[sla_policies.match]
types = ["incident"]
services = ["Printing"]
"""
    build_sla_desk(store, desk_text() + vpn_policy)
    vpn = p3(store, service="VPN and Remote Access")
    printing = p3(store, service="Printing")
    plain = p3(store)
    vpn_clocks, print_clocks = clocks(store, vpn), clocks(store, printing)
    assert vpn_clocks["response"].policy.name == "VPN incidents"  # rank 5 beats rank 30
    assert vpn_clocks["response"].due_at == TUE_0930 + timedelta(minutes=10)
    assert vpn_clocks["resolution"].due_at == TUE_0930 + timedelta(minutes=60)
    assert print_clocks["response"].policy.name == "P3 incident"  # rank 30 beats rank 500
    assert clocks(store, plain)["resolution"].policy.name == "P3 incident"


def test_policy_without_a_resolution_target_starts_only_a_response_clock(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=2, urgency=2, type="problem")
    got = clocks(sla_store, number)
    assert set(got) == {"response"}
    assert got["response"].policy.name == "Problem"
    assert got["response"].due_at == local(2026, 11, 25, 9, 30)  # one business day


def test_no_matching_policy_starts_no_clocks_and_the_ticket_works_normally(store: Store) -> None:
    text = desk_text()
    start = text.index('[[sla_policies]]\nname = "Problem"')
    end = text.index("# ----", start)
    build_sla_desk(store, text[:start] + text[end:])
    number = create(store, TUE_0930, impact=2, urgency=2, type="problem")
    assert clocks(store, number) == {}
    move(store, number, "investigating", local(2026, 11, 24, 10, 0))
    act(store, add_comment, number, "Looking into it", kind="reply", now=local(2026, 11, 24, 10))
    act(store, update_ticket, number, urgency=1, now=local(2026, 11, 24, 10, 30))
    resolve(store, number, local(2026, 11, 24, 11, 0))
    act(store, reopen_ticket, number, reason="came back", now=local(2026, 11, 25, 9, 0))
    for day in range(1, 30):
        assert run_sweep(store, TUE_0930 + timedelta(days=day)).empty
    assert clocks(store, number) == {}
    assert ticket(store, number).first_response_at == local(2026, 11, 24, 10, 0)


# ---------------------------------------------------------------------------
# Pausing


def _paused_once(store: Store) -> str:
    """P3 assigned at Tue 09:30, pending 10:30–14:30 (150 business minutes over lunch)."""
    number = p3(store, assignee="tia")
    move(store, number, "pending", local(2026, 11, 24, 10, 30))
    move(store, number, "assigned", local(2026, 11, 24, 14, 30))
    return number


def test_pending_pauses_both_clocks(sla_store: Store) -> None:
    number = p3(sla_store, assignee="tia")
    paused_at = local(2026, 11, 24, 10, 30)
    move(sla_store, number, "pending", paused_at)
    for clock in clocks(sla_store, number).values():
        assert clock.state == "paused"
        assert clock.paused_at == paused_at
        assert clock.running_since is None
        assert clock.spent_seconds == 3600
        assert clock.due_at is None
        assert clock.next_event_at is None  # the sweep cannot see it
    # While paused, no time counts, however long it lasts.
    for later in (paused_at, local(2026, 11, 24, 17, 0), local(2026, 11, 30, 16, 0)):
        got = clocks(sla_store, number)
        assert clock_view(got["response"], later)["elapsed_percent"] == 25.0  # 60 / 240
        assert clock_view(got["resolution"], later)["elapsed_percent"] == 4.4  # 60 / 1350
        assert remaining(got["resolution"], later) == timedelta(minutes=1290)


def test_leaving_pending_moves_due_times_by_exactly_the_paused_business_time(
    sla_store: Store,
) -> None:
    number = _paused_once(sla_store)
    got = clocks(sla_store, number)
    # Unpaused: response Tue 15:00, resolution Fri 09:30. Paused 150 business minutes.
    assert got["response"].state == got["resolution"].state == "running"
    assert got["response"].running_since == local(2026, 11, 24, 14, 30)
    assert got["response"].due_at == local(2026, 11, 24, 17, 30)
    assert got["resolution"].due_at == local(2026, 11, 27, 12, 0)
    assert got["response"].paused_seconds == got["resolution"].paused_seconds == 150 * 60
    assert clock_view(got["resolution"], local(2026, 11, 24, 14, 30))["paused_minutes"] == 150


def test_paused_minutes_add_up_and_a_night_paused_counts_only_working_minutes(
    sla_store: Store,
) -> None:
    number = _paused_once(sla_store)
    # Second pause from Tuesday 17:00 to Wednesday 09:30: 60 + 30 working minutes.
    move(sla_store, number, "pending", local(2026, 11, 24, 17, 0))
    move(sla_store, number, "assigned", local(2026, 11, 25, 9, 30))
    # Third pause from Wednesday 11:00 to Monday 09:00 (over a weekend): Wed 60 + 270,
    # Thu 450, Fri 450 = 1230 working minutes.
    move(sla_store, number, "pending", local(2026, 11, 25, 11, 0))
    move(sla_store, number, "assigned", local(2026, 11, 30, 9, 0))
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.paused_seconds == (150 + 90 + 1230) * 60
    # Spent: 60 + 150 (14:30–17:00) + 90 (Wed 09:30–11:00) = 300 of 1350; 1050 left from
    # Monday 09:00: Mon 450, Tue 450, Wed 150 → Wednesday 2026-12-02 11:30.
    assert resolution.spent_seconds == 300 * 60
    assert resolution.due_at == local(2026, 12, 2, 11, 30)
    view = clock_view(resolution, local(2026, 11, 30, 9, 0))
    assert view["paused_minutes"] == 1470
    assert view["elapsed_percent"] == 22.2  # 300 / 1350


# ---------------------------------------------------------------------------
# What meets the response clock


def test_first_public_reply_meets_the_response_clock(sla_store: Store) -> None:
    number = p3(sla_store)
    replied = local(2026, 11, 24, 10, 15)
    act(sla_store, add_comment, number, "We are on it", kind="reply", now=replied)
    act(
        sla_store,
        add_comment,
        number,
        "Still on it",
        kind="reply",
        now=replied + timedelta(hours=1),
    )
    got = clocks(sla_store, number)
    assert got["response"].state == "met"
    assert got["response"].stopped_at == replied  # the first reply, not the second
    assert got["response"].spent_seconds == 45 * 60
    assert got["response"].next_event_at is None
    assert ticket(sla_store, number).first_response_at == replied
    assert got["resolution"].state == "running"  # only the response clock stops
    assert got["resolution"].due_at == local(2026, 11, 27, 9, 30)


def test_work_note_does_not_meet_the_response_clock(sla_store: Store) -> None:
    number = p3(sla_store)
    act(sla_store, add_comment, number, "internal", kind="work_note", now=local(2026, 11, 24, 10))
    got = clocks(sla_store, number)
    assert got["response"].state == "running"
    assert got["response"].stopped_at is None
    assert got["response"].due_at == local(2026, 11, 24, 15, 0)
    assert ticket(sla_store, number).first_response_at is None


def test_moving_to_in_progress_meets_the_response_clock(sla_store: Store) -> None:
    number = p3(sla_store)
    started = local(2026, 11, 24, 11, 0)
    move(sla_store, number, "in_progress", started)
    got = clocks(sla_store, number)
    assert (got["response"].state, got["response"].stopped_at) == ("met", started)
    assert got["resolution"].state == "running"
    assert ticket(sla_store, number).first_response_at == started


def test_in_progress_does_not_meet_the_response_clock_when_the_desk_counts_replies_only(
    sla_store: Store,
) -> None:
    set_response_met_by(sla_store, "reply")
    number = p3(sla_store)
    move(sla_store, number, "in_progress", local(2026, 11, 24, 11, 0))
    assert clocks(sla_store, number)["response"].state == "running"
    assert ticket(sla_store, number).first_response_at is None
    replied = local(2026, 11, 24, 14, 0)
    act(sla_store, add_comment, number, "Found it", kind="reply", now=replied)
    response = clocks(sla_store, number)["response"]
    assert (response.state, response.stopped_at) == ("met", replied)


def test_reply_after_the_response_target_stops_the_clock_as_breached(sla_store: Store) -> None:
    number = p3(sla_store)
    run_sweep(sla_store, local(2026, 11, 24, 15, 0))  # the sweep records the breach at 15:00
    act(sla_store, add_comment, number, "Sorry", kind="reply", now=local(2026, 11, 24, 16))
    response = clocks(sla_store, number)["response"]
    assert response.state == "breached"
    assert response.breached_at == local(2026, 11, 24, 15, 0)
    assert response.stopped_at == local(2026, 11, 24, 16, 0)
    assert response.next_event_at is None


# ---------------------------------------------------------------------------
# Resolution, reopen, cancel


def test_resolving_in_time_stops_both_clocks_as_met(sla_store: Store) -> None:
    number = p3(sla_store)
    resolved = local(2026, 11, 24, 14, 0)
    resolve(sla_store, number, resolved)
    got = clocks(sla_store, number)
    for clock in got.values():
        assert (clock.state, clock.stopped_at, clock.next_event_at) == ("met", resolved, None)
    # A resolution is also the first response: 150 + 30 minutes.
    assert got["response"].spent_seconds == got["resolution"].spent_seconds == 180 * 60
    assert ticket(sla_store, number).first_response_at == resolved
    assert remaining(got["resolution"], resolved) is None


def test_resolving_late_stops_the_resolution_clock_as_breached(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=1, urgency=1)  # P1: 120 minutes, 24x7
    run_sweep(sla_store, TUE_0930 + timedelta(minutes=120))
    resolve(sla_store, number, TUE_0930 + timedelta(minutes=200))
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.state == "breached"
    assert resolution.breached_at == TUE_0930 + timedelta(minutes=120)
    assert resolution.stopped_at == TUE_0930 + timedelta(minutes=200)
    assert resolution.spent_seconds == 200 * 60


def test_reopen_resumes_resolution_with_time_spent_kept_then_resolve_again(
    sla_store: Store,
) -> None:
    number = p3(sla_store)
    resolve(sla_store, number, local(2026, 11, 24, 14, 0))  # 180 minutes spent
    reopened = local(2026, 11, 26, 10, 0)  # Thursday
    act(sla_store, reopen_ticket, number, reason="it came back", now=reopened)
    got = clocks(sla_store, number)
    resolution = got["resolution"]
    assert resolution.state == "running"
    assert resolution.stopped_at is None
    assert resolution.running_since == reopened
    assert resolution.spent_seconds == 180 * 60
    # 1170 minutes left from Thursday 10:00: Thu 390, Fri 450, Mon 330 → Monday 16:00.
    assert resolution.due_at == local(2026, 11, 30, 16, 0)
    assert remaining(resolution, reopened) == timedelta(minutes=1170)
    # The response was given: reopening does not restart it.
    assert (got["response"].state, got["response"].stopped_at) == (
        "met",
        local(2026, 11, 24, 14, 0),
    )
    # The time the ticket sat resolved (Tue 14:00 – Thu 10:00) never counted.
    assert clock_view(resolution, reopened)["elapsed_percent"] == 13.3  # 180 / 1350

    resolved_again = local(2026, 11, 27, 10, 0)  # Friday: 390 + 60 more minutes
    resolve(sla_store, number, resolved_again)
    resolution = clocks(sla_store, number)["resolution"]
    assert (resolution.state, resolution.stopped_at) == ("met", resolved_again)
    assert resolution.spent_seconds == (180 + 390 + 60) * 60
    assert clock_view(resolution, local(2026, 12, 30))["elapsed_percent"] == 46.7  # 630 / 1350


def test_reopened_ticket_resolved_after_its_remaining_time_is_breached(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=1, urgency=1)  # P1: 120 min, 24x7
    resolve(sla_store, number, TUE_0930 + timedelta(minutes=100))
    reopened = TUE_0930 + timedelta(hours=5)
    act(sla_store, reopen_ticket, number, reason="again", now=reopened)
    assert clocks(sla_store, number)["resolution"].due_at == reopened + timedelta(minutes=20)
    resolve(sla_store, number, reopened + timedelta(minutes=30))
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.state == "breached"
    assert resolution.spent_seconds == 130 * 60


def test_cancelled_incident_leaves_its_running_clocks_cancelled(sla_store: Store) -> None:
    number = p3(sla_store)
    move(sla_store, number, "in_progress", local(2026, 11, 24, 10, 0))  # response met
    cancelled = local(2026, 11, 24, 11, 0)
    move(sla_store, number, "cancelled", cancelled)
    got = clocks(sla_store, number)
    assert got["response"].state == "met"  # what was met stays met
    assert (got["resolution"].state, got["resolution"].stopped_at) == ("cancelled", cancelled)
    assert got["resolution"].next_event_at is None
    # Neither met nor missed: no sweep ever breaches it.
    assert run_sweep(sla_store, local(2026, 12, 30)).empty
    assert clocks(sla_store, number)["resolution"].breached_at is None


def test_rejected_request_leaves_its_clocks_cancelled(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=3, urgency=3, type="request")
    move(sla_store, number, "awaiting_approval", local(2026, 11, 24, 10, 0))
    rejected = local(2026, 11, 24, 11, 0)
    move(sla_store, number, "rejected", rejected, actor="sue")
    for clock in clocks(sla_store, number).values():
        assert clock.policy.name == "Service request"
        assert (clock.state, clock.stopped_at, clock.breached_at) == ("cancelled", rejected, None)
    assert run_sweep(sla_store, local(2026, 12, 30)).empty


def test_request_awaiting_approval_pauses_and_approval_resumes(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=3, urgency=3, type="request")
    move(sla_store, number, "awaiting_approval", local(2026, 11, 24, 9, 40))
    move(sla_store, number, "approved", local(2026, 11, 25, 9, 40), actor="sue")
    response = clocks(sla_store, number)["response"]
    assert response.state == "running"
    assert response.spent_seconds == 10 * 60
    assert response.due_at == local(2026, 11, 25, 10, 0)  # 20 of 30 minutes left


# ---------------------------------------------------------------------------
# Re-targeting after a priority change


def _retarget_events(store: Store, number: str) -> list[tuple[str | None, ...]]:
    with store.read() as session:
        t = get_ticket(session, number)
        rows = session.execute(
            select(AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value, AuditEvent.reason)
            .where(AuditEvent.record_id == t.id, AuditEvent.action == "sla.retarget")
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def test_impact_or_urgency_change_retargets_running_clocks_keeping_time_spent(
    sla_store: Store,
) -> None:
    number = p3(sla_store)
    act(sla_store, add_comment, number, "Hello", kind="reply", now=local(2026, 11, 24, 10, 0))
    changed = local(2026, 11, 24, 11, 30)  # 120 minutes of resolution spent
    act(sla_store, update_ticket, number, urgency=1, now=changed)  # impact 2, urgency 1 → P2
    got = clocks(sla_store, number)
    resolution = got["resolution"]
    assert resolution.policy.name == "P2 incident"
    assert resolution.target_minutes == 480
    assert resolution.spent_seconds == 120 * 60
    assert resolution.running_since == changed
    # 360 minutes left from 11:30: 30 before lunch, 270 in the afternoon, 60 on Wednesday.
    assert resolution.due_at == local(2026, 11, 25, 10, 0)
    # 120 of 480 spent: the 50% warning (240) is 120 business minutes away.
    assert resolution.next_event_at == local(2026, 11, 24, 15, 0)
    # The stopped response clock keeps its policy.
    assert got["response"].policy.name == "P3 incident"
    assert got["response"].target_minutes == 240
    assert _retarget_events(sla_store, number) == [
        ("sla.resolution", "P3 incident: 1350 min", "P2 incident: 480 min (P2)", None)
    ]


def test_supervisor_override_retargets_to_the_new_calendar_and_audits_the_reason(
    sla_store: Store,
) -> None:
    number = p3(sla_store)
    changed = local(2026, 11, 24, 10, 30)  # 60 business minutes spent on each clock
    act(
        sla_store,
        override_priority,
        number,
        1,
        reason="CEO's laptop",
        now=changed,
        actor="sue",
    )
    got = clocks(sla_store, number)
    for clock in got.values():
        assert clock.policy.name == "P1 incident"
        assert clock.spent_seconds == 60 * 60
    # P1 runs on 24x7: 60 more minutes of 120 → 11:30; the response (15) is already late.
    assert got["resolution"].due_at == local(2026, 11, 24, 11, 30)
    assert got["response"].target_minutes == 15
    assert got["response"].next_event_at <= changed  # due at once: the next sweep fires it
    assert _retarget_events(sla_store, number) == [
        ("sla.resolution", "P3 incident: 1350 min", "P1 incident: 120 min (P1)", "CEO's laptop"),
        ("sla.response", "P3 incident: 240 min", "P1 incident: 15 min (P1)", "CEO's laptop"),
    ]
    # On 24x7 the lunch break no longer pauses anything.
    assert clock_view(got["resolution"], local(2026, 11, 24, 12, 30))["elapsed_percent"] == 150.0


def test_priority_change_while_paused_retargets_and_keeps_the_clock_paused(
    sla_store: Store,
) -> None:
    number = p3(sla_store, assignee="tia")
    move(sla_store, number, "pending", local(2026, 11, 24, 10, 30))
    act(sla_store, update_ticket, number, impact=1, now=local(2026, 11, 24, 11, 0))  # P2
    resolution = clocks(sla_store, number)["resolution"]
    assert (resolution.state, resolution.target_minutes, resolution.due_at) == ("paused", 480, None)
    move(sla_store, number, "assigned", local(2026, 11, 24, 14, 0))
    resolution = clocks(sla_store, number)["resolution"]
    # 60 spent, 420 left from 14:00: 240 on Tuesday, 180 on Wednesday morning.
    assert resolution.due_at == local(2026, 11, 25, 12, 0)


# ---------------------------------------------------------------------------
# clock_view


def test_clock_view_shows_elapsed_percent_and_state(sla_store: Store) -> None:
    opened = local(2026, 11, 24, 2, 0)  # P1 at 02:00 on 24x7
    number = create(sla_store, opened, impact=1, urgency=1)
    response = clocks(sla_store, number)["response"]
    view = clock_view(response, opened + timedelta(minutes=6))
    assert view == {
        "kind": "response",
        "policy": "P1 incident",
        "target_minutes": 15,
        "started_at": opened,
        "due_at": opened + timedelta(minutes=15),
        "paused_minutes": 0,
        "elapsed_percent": 40.0,
        "state": "running",
        "breached_at": None,
        "stopped_at": None,
    }
    assert remaining(response, opened + timedelta(minutes=6)) == timedelta(minutes=9)
    run_sweep(sla_store, opened + timedelta(minutes=20))
    response = clocks(sla_store, number)["response"]
    view = clock_view(response, opened + timedelta(minutes=20))
    assert view["state"] == "breached"
    assert view["breached_at"] == opened + timedelta(minutes=15)
    assert view["elapsed_percent"] == 133.3
    assert remaining(response, opened + timedelta(minutes=20)) == timedelta(minutes=-5)
    act(sla_store, add_comment, number, "here", kind="reply", now=opened + timedelta(minutes=21))
    view = clock_view(clocks(sla_store, number)["response"], opened + timedelta(hours=9))
    assert (view["state"], view["elapsed_percent"]) == ("breached", 140.0)
    assert view["stopped_at"] == opened + timedelta(minutes=21)


def test_clock_rows_stay_one_per_kind_through_a_whole_life(sla_store: Store) -> None:
    number = _paused_once(sla_store)
    resolve(sla_store, number, local(2026, 11, 25, 10, 0))
    act(sla_store, reopen_ticket, number, reason="again", now=local(2026, 11, 26, 10, 0))
    act(sla_store, update_ticket, number, urgency=1, now=local(2026, 11, 26, 11, 0))
    with sla_store.read() as session:
        kinds = session.execute(
            select(SlaClock.kind, func.count()).group_by(SlaClock.kind).order_by(SlaClock.kind)
        ).all()
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    assert [tuple(k) for k in kinds] == [("resolution", 1), ("response", 1)]


# ---------------------------------------------------------------------------
# Bugs found by this suite (kept apart so each can be fixed on its own)


def test_request_opened_awaiting_approval_starts_with_its_clocks_paused(sla_store: Store) -> None:
    """The "Service request" policy pauses in awaiting_approval. A request for a catalogue
    item that needs approval is *created* in that status; its clocks must not count
    until it is approved."""
    number = create(
        sla_store,
        TUE_0930,
        impact=3,
        urgency=3,
        type="request",
        catalogue_item="access-request",
        form_data=REQUEST_FORM,
    )
    assert ticket(sla_store, number).status == "awaiting_approval"
    got = clocks(sla_store, number)
    assert got["response"].state == "paused"
    assert got["response"].next_event_at is None
    approved = local(2026, 11, 25, 9, 30)  # a whole business day later
    move(sla_store, number, "approved", approved, actor="sue")
    got = clocks(sla_store, number)
    assert got["response"].spent_seconds == 0
    assert got["response"].due_at == approved + timedelta(minutes=30)
    assert got["resolution"].due_at == local(2026, 11, 26, 9, 30)


def test_clock_stopped_late_before_any_sweep_records_the_breach_at_its_due_time(
    sla_store: Store,
) -> None:
    """A target that ran out at 15:00 breached at 15:00, whether or not a sweep ran
    before the late reply: the same history must give the same breached_at."""
    number = p3(sla_store)
    act(sla_store, add_comment, number, "Sorry", kind="reply", now=local(2026, 11, 24, 16, 0))
    response = clocks(sla_store, number)["response"]
    assert response.state == "breached"
    assert response.breached_at == local(2026, 11, 24, 15, 0)


def test_resolving_from_pending_counts_the_last_pause_in_paused_minutes(sla_store: Store) -> None:
    """Paused 10:30–14:30 (150 business minutes), then resolved straight from pending:
    the clock's paused time must include that pause."""
    number = p3(sla_store, assignee="tia")
    move(sla_store, number, "pending", local(2026, 11, 24, 10, 30))
    resolve(sla_store, number, local(2026, 11, 24, 14, 30))
    resolution = clocks(sla_store, number)["resolution"]
    assert (resolution.state, resolution.spent_seconds) == ("met", 60 * 60)
    assert resolution.paused_seconds == 150 * 60
    assert clock_view(resolution, local(2026, 11, 24, 14, 30))["paused_minutes"] == 150
