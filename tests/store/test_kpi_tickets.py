"""KPIs of tickets and their SLA clocks, through the desk's own write path on the default
desk (Asia/Shanghai, UTC+8): pauses, reopenings, local days, a year boundary, the
backlog and what nears breach; every answer worked out by hand; both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi import GREEN, NO_DATA, RED, Kpi, Period, cut_named, kpi_report
from itsm_tui.data.models import Agent, Team, Ticket
from itsm_tui.data.store import Store
from itsm_tui.desk import (
    assign_ticket,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
)
from itsm_tui.desk.records import get_agent
from tests.conftest import BACKENDS
from tests.sla_desk import SHANGHAI, create, desk_store, local, run_sweep


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


def act(store: Store, fn: Callable[..., Any], *args: Any, actor: str = "tia", **kwargs: Any) -> Any:
    with store.write() as session:
        return fn(session, get_agent(session, actor), *args, **kwargs)


def move(store: Store, number: str, status: str, at: datetime) -> None:
    act(store, transition_ticket, number, status, now=at)


def resolve(store: Store, number: str, at: datetime) -> None:
    act(store, resolve_ticket, number, code="fixed", notes="done", now=at)


def p1(store: Store, at: datetime, **kwargs: Any) -> str:
    """A P1 incident: 15 and 120 minutes on the 24x7 calendar."""
    return create(store, at, impact=1, urgency=1, **kwargs)


def day(y: int, m: int, d: int) -> Period:
    return Period(date(y, m, d), date(y, m, d), SHANGHAI)


def report(
    store: Store, period: Period, now: datetime, *, team: str | None = None
) -> dict[str, Kpi]:
    with store.read() as session:
        return kpi_report(session, period, cut_named(session, team=team), now).by_key()


def test_response_and_resolution_are_clock_time_with_pauses_left_out(sla_store: Store) -> None:
    first = p1(sla_store, local(2026, 11, 24, 10, 0))
    move(sla_store, first, "in_progress", local(2026, 11, 24, 10, 5))  # responded: 5 min
    move(sla_store, first, "pending", local(2026, 11, 24, 10, 30))
    move(sla_store, first, "in_progress", local(2026, 11, 24, 11, 0))  # 30 min paused
    resolve(sla_store, first, local(2026, 11, 24, 11, 30))  # 90 − 30 = 60 min
    second = p1(sla_store, local(2026, 11, 24, 14, 0))
    move(sla_store, second, "in_progress", local(2026, 11, 24, 14, 25))  # 25 min: breached
    resolve(sla_store, second, local(2026, 11, 24, 14, 50))  # 50 min
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 25, 9, 0))

    response_mean, response_p90 = kpis["incident_response_mean"], kpis["incident_response_p90"]
    assert (response_mean.value, response_mean.samples) == (15.0, 2)  # (5 + 25) / 2
    assert response_p90.value == 25.0  # rank ⌈0.9 × 2⌉ = 2
    assert (response_mean.status, response_p90.status) == (GREEN, RED)
    resolution_mean = kpis["incident_resolution_mean"]
    assert resolution_mean.value == 55.0  # (60 + 50) / 2
    assert kpis["incident_resolution_p90"].value == 60.0
    assert resolution_mean.target == 120
    # One of two response clocks met; both resolution clocks.
    assert kpis["sla_response_met"].value == 50.0
    assert kpis["sla_response_met"].detail == {"met": 1, "breached": 1}
    assert kpis["sla_resolution_met"].value == 100.0
    assert kpis["resolution_by_team"].detail["teams"] == {
        "Service Desk": {"mean_minutes": 55.0, "incidents": 2}
    }


def test_p90_is_the_nearest_rank_and_other_priorities_are_beside_it(sla_store: Store) -> None:
    # Ten P1 incidents answered after 1, 2, … 10 minutes; one P3 after 40 minutes.
    for minutes in range(1, 11):
        opened = local(2026, 11, 24, 10, 0) + timedelta(minutes=20 * minutes)
        number = p1(sla_store, opened)
        move(sla_store, number, "in_progress", opened + timedelta(minutes=minutes))
    p3 = create(sla_store, local(2026, 11, 24, 14, 0), impact=2, urgency=2)
    move(sla_store, p3, "in_progress", local(2026, 11, 24, 14, 40))
    # Cancelled after 3 minutes: its clocks measured nothing, in no figure.
    cancelled = p1(sla_store, local(2026, 11, 24, 16, 0))
    move(sla_store, cancelled, "cancelled", local(2026, 11, 24, 16, 3))
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 25, 9, 0))
    mean, p90 = kpis["incident_response_mean"], kpis["incident_response_p90"]
    assert (mean.value, p90.value, p90.samples) == (5.5, 9.0, 10)  # 9th of 10
    assert mean.detail["by_priority"]["P3"] == {"mean": 40.0, "p90": 40.0, "samples": 1}
    everything = mean.detail["all_incidents"]
    assert everything["samples"] == 11
    assert everything["mean"] == pytest.approx(95 / 11)  # (55 + 40) / 11
    assert everything["p90"] == 10.0  # rank 10 of 11
    assert kpis["sla_response_met"].samples == 11
    # No resolution yet: no data, not zero.
    assert kpis["incident_resolution_mean"].value is None
    assert kpis["incident_resolution_mean"].status == NO_DATA


def test_every_priority_is_measured_and_only_incidents_count_in_resolution_by_team(
    sla_store: Store,
) -> None:
    # A P4 incident answered after 30 minutes and resolved after 50 (working hours of a
    # Tuesday); a request resolved by the same team is in neither figure.
    p4 = create(sla_store, local(2026, 11, 24, 10, 0), impact=3, urgency=3)
    move(sla_store, p4, "in_progress", local(2026, 11, 24, 10, 30))
    resolve(sla_store, p4, local(2026, 11, 24, 10, 50))
    request = create(sla_store, local(2026, 11, 24, 10, 0), impact=3, urgency=3, type="request")
    move(sla_store, request, "fulfilling", local(2026, 11, 24, 10, 1))
    resolve(sla_store, request, local(2026, 11, 24, 10, 5))
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 25, 9, 0))
    response = kpis["incident_response_mean"]
    assert response.value is None  # no P1 incident: the judged figure has no data
    assert response.detail["by_priority"] == {"P4": {"mean": 30.0, "p90": 30.0, "samples": 1}}
    resolution = kpis["incident_resolution_mean"].detail["by_priority"]
    assert resolution == {"P4": {"mean": 50.0, "p90": 50.0, "samples": 1}}
    assert kpis["resolution_by_team"].detail["teams"] == {
        "Service Desk": {"mean_minutes": 50.0, "incidents": 1}
    }


def test_a_reopened_ticket_counts_once_at_its_last_resolution_with_earlier_time_kept(
    sla_store: Store,
) -> None:
    number = p1(sla_store, local(2026, 11, 24, 10, 0))
    move(sla_store, number, "in_progress", local(2026, 11, 24, 10, 5))
    resolve(sla_store, number, local(2026, 11, 24, 10, 40))  # 40 min
    act(sla_store, reopen_ticket, number, reason="back again", now=local(2026, 11, 25, 9, 0))
    resolve(sla_store, number, local(2026, 11, 25, 9, 30))  # 40 + 30; the night not counted
    now = local(2026, 11, 26, 9, 0)
    tuesday = report(sla_store, day(2026, 11, 24), now)
    assert tuesday["incident_resolution_mean"].value is None
    assert tuesday["incident_response_mean"].value == 5.0  # the response stands where it was
    assert tuesday["reopen_rate"].value is None
    wednesday = report(sla_store, day(2026, 11, 25), now)
    assert wednesday["incident_resolution_mean"].value == 70.0
    assert wednesday["incident_resolution_mean"].samples == 1
    assert wednesday["reopen_rate"].value == 100.0
    assert wednesday["first_contact_resolution"].value == 0.0
    # Wednesday's previous period is Tuesday.
    assert wednesday["incident_response_mean"].previous == 5.0


def test_a_missed_target_counts_on_the_day_it_breached_not_when_the_clock_stopped(
    sla_store: Store,
) -> None:
    late = p1(sla_store, local(2026, 11, 24, 23, 0))  # response due 23:15
    run_sweep(sla_store, local(2026, 11, 24, 23, 20))
    move(sla_store, late, "in_progress", local(2026, 11, 25, 0, 30))
    # Still open at 01:00 and breached: its resolution clock's miss is Wednesday's too.
    p1(sla_store, local(2026, 11, 24, 22, 0))  # resolution due 00:00
    run_sweep(sla_store, local(2026, 11, 25, 0, 40))
    now = local(2026, 11, 25, 1, 0)
    tuesday = report(sla_store, day(2026, 11, 24), now)
    # Tuesday: the 23:15 response miss of `late`, and `open_late`'s of 22:15.
    assert tuesday["sla_response_met"].detail == {"met": 0, "breached": 2}
    assert tuesday["sla_resolution_met"].value is None
    wednesday = report(sla_store, day(2026, 11, 25), now)
    assert wednesday["sla_response_met"].value is None  # stopped Wednesday, missed Tuesday
    assert wednesday["sla_resolution_met"].detail == {"met": 0, "breached": 1}


def test_periods_are_local_days_of_the_desk(sla_store: Store) -> None:
    # 00:30 on 1 December in Shanghai is 16:30 on 30 November in UTC.
    number = p1(sla_store, local(2026, 12, 1, 0, 30))
    resolve(sla_store, number, local(2026, 12, 1, 1, 0))
    now = local(2026, 12, 2, 9, 0)
    assert report(sla_store, day(2026, 12, 1), now)["incident_resolution_mean"].value == 30.0
    assert report(sla_store, day(2026, 11, 30), now)["incident_resolution_mean"].value is None
    utc_day = Period(date(2026, 11, 30), date(2026, 11, 30), UTC)
    with sla_store.read() as session:
        in_utc = kpi_report(session, utc_day, cut_named(session), now).by_key()
    assert in_utc["incident_resolution_mean"].value == 30.0


def test_an_unfinished_period_is_measured_up_to_now(sla_store: Store) -> None:
    number = p1(sla_store, local(2026, 11, 24, 10, 0))
    resolve(sla_store, number, local(2026, 11, 24, 10, 20))
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 24, 10, 10))
    assert kpis["incident_resolution_mean"].value is None  # resolved after "now"
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 24, 10, 30))
    assert kpis["incident_resolution_mean"].value == 20.0


# ---------------------------------------------------------------------------
# Requests and productivity: ticket timestamps, hand-built


def add_resolved(
    session: Session,
    *,
    type: str,
    opened: datetime,
    resolved: datetime,
    assignee: str | None = None,
    team: str = "Service Desk",
    promised: datetime | None = None,
) -> None:
    count = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
    team_id = session.scalar(select(Team.id).where(Team.name == team))
    agent_id = session.scalar(select(Agent.id).where(Agent.username == assignee))
    session.add(
        Ticket(
            number=f"{type[:3].upper()}9{count + 1:06d}",
            type=type,
            title="t",
            status="fulfilled" if type == "request" else "resolved",
            is_open=False,
            impact=3,
            urgency=3,
            priority=4,
            team_id=team_id,
            assignee_id=agent_id,
            opened_at=opened,
            updated_at=resolved,
            resolved_at=resolved,
            promised_at=promised,
        )
    )
    session.flush()


def test_request_cycle_across_a_year_boundary_is_wall_clock_time(sla_store: Store) -> None:
    with sla_store.write() as session:
        # 23:00 on New Year's Eve to 00:20 on New Year's Day (local): 80 minutes.
        add_resolved(
            session,
            type="request",
            opened=local(2026, 12, 31, 23, 0),
            resolved=local(2027, 1, 1, 0, 20),
        )
        add_resolved(
            session,
            type="request",
            opened=local(2027, 1, 2, 10, 0),
            resolved=local(2027, 1, 2, 10, 40),
        )
        # An incident is not a request.
        add_resolved(
            session,
            type="incident",
            opened=local(2027, 1, 2, 10, 0),
            resolved=local(2027, 1, 2, 18, 0),
        )
    now = local(2027, 1, 6, 9, 0)
    span = Period(date(2026, 12, 30), date(2027, 1, 5), SHANGHAI)
    cycle = report(sla_store, span, now)["request_cycle"]
    assert (cycle.value, cycle.samples, cycle.target) == (60.0, 2, 30)
    assert cycle.status == RED
    december = Period(date(2026, 12, 30), date(2026, 12, 31), SHANGHAI)
    assert report(sla_store, december, now)["request_cycle"].value is None


def test_each_request_is_compared_with_its_own_delivery_standard(sla_store: Store) -> None:
    with sla_store.write() as session:
        opened = local(2027, 1, 4, 10, 0)
        # Kept (to the minute), missed by a minute, and one without a catalogue promise.
        add_resolved(
            session, type="request", opened=opened, resolved=local(2027, 1, 4, 11, 0),
            promised=local(2027, 1, 4, 11, 0),
        )  # fmt: skip
        add_resolved(
            session, type="request", opened=opened, resolved=local(2027, 1, 4, 12, 1),
            promised=local(2027, 1, 4, 12, 0),
        )  # fmt: skip
        add_resolved(session, type="request", opened=opened, resolved=local(2027, 1, 4, 13, 0))
    now = local(2027, 1, 6, 9, 0)
    cycle = report(sla_store, Period(date(2027, 1, 4), date(2027, 1, 5), SHANGHAI), now)[
        "request_cycle"
    ]
    assert cycle.samples == 3
    assert cycle.detail == {
        "within_standard_percent": 50.0,
        "with_standard": 2,
        "within_standard": 1,
    }


def test_tickets_per_agent_per_working_day_follows_the_desk_calendar(sla_store: Store) -> None:
    # 5–11 October 2026: the 5th–7th are holidays, the 10th (a Saturday) a make-up
    # working day: 8, 9 and 10 October, three working days.
    with sla_store.write() as session:
        for n in range(45):
            resolved = local(2026, 10, 8, 10, 0) + timedelta(minutes=n)
            add_resolved(
                session,
                type="incident",
                opened=resolved - timedelta(hours=1),
                resolved=resolved,
                assignee="tia" if n < 30 else "eve",
                team="Service Desk" if n < 30 else "Desktop Support",
            )
        # Nobody held it: handled by no agent.
        add_resolved(
            session,
            type="incident",
            opened=local(2026, 10, 9, 9, 0),
            resolved=local(2026, 10, 9, 10, 0),
        )
    week = Period(date(2026, 10, 5), date(2026, 10, 11), SHANGHAI)
    now = local(2026, 10, 20, 9, 0)
    kpi = report(sla_store, week, now)["tickets_per_agent_day"]
    assert kpi.detail == {"handled": 45, "agents": 2, "working_days": 3}
    assert kpi.value == 7.5  # 45 / (2 × 3)
    assert kpi.status == RED  # below 10 × 0.9
    tia = report(sla_store, week, now, team="Service Desk")["tickets_per_agent_day"]
    assert tia.value == 10.0  # 30 / (1 × 3)
    assert tia.status == GREEN


# ---------------------------------------------------------------------------
# Operations


def test_backlog_nearing_breach_and_breaches_today(sla_store: Store) -> None:
    now = local(2026, 11, 24, 10, 0)  # a Tuesday
    # P1 response clocks (15 min, 24x7) at 10, 12 and 14 minutes: 67 %, 80 %, 93 %.
    p1(sla_store, now - timedelta(minutes=10), team="Desktop Support")
    p1(sla_store, now - timedelta(minutes=12))
    p1(sla_store, now - timedelta(minutes=14))
    # Opened at 08:00: response due 08:15, resolution due 10:00 (now): both breached today.
    p1(sla_store, local(2026, 11, 24, 8, 0))
    # Problems opened 8 and 40 days ago (P4 and P3): their response clocks breached then.
    create(sla_store, now, impact=3, urgency=3, type="problem", opened_at=now - timedelta(days=8))
    create(sla_store, now, impact=2, urgency=2, type="problem", opened_at=now - timedelta(days=40))
    before = report(sla_store, day(2026, 11, 24), now)["backlog"]
    assert before.value == 6
    assert before.detail["by_priority"] == {"P1": 4, "P3": 1, "P4": 1}
    assert before.detail["by_age"] == {"1-5": 4, "6-10": 1, "11-30": 0, ">30": 1}
    # Desktop Support's own: the one P1 at 67 %.
    team = report(sla_store, day(2026, 11, 24), now, team="Desktop Support")
    assert team["backlog"].value == 1
    assert team["nearing_breach"].detail["bands"] == {"50-75": 1, "75-90": 0, ">90": 0}
    # The sweep records the breaches (and its rules raise the old problems' priorities).
    swept = run_sweep(sla_store, now)
    kpis = report(sla_store, day(2026, 11, 24), now)
    assert kpis["backlog"].value == 6
    nearing = kpis["nearing_breach"]
    assert nearing.detail["bands"] == {"50-75": 1, "75-90": 1, ">90": 1}
    assert nearing.value == 3
    assert kpis["breaches_today"].value == 2
    assert kpis["escalations_today"].value == len(swept.escalated)


def test_nearing_breach_is_exact_at_a_band_edge_to_the_microsecond(sla_store: Store) -> None:
    now = local(2026, 11, 24, 10, 0)
    # P1 response clocks (15 min, 24x7) started a hair either side of 75 % and 90 % of
    # their target: SQL's difference of instants is rounded to the millisecond, so these
    # are counted by walking their calendar, not by the whole-second table.
    p1(sla_store, now - timedelta(minutes=11, seconds=15))  # 75 % exactly
    p1(sla_store, now - timedelta(minutes=11, seconds=14, microseconds=999_600))  # below 75 %
    p1(sla_store, now - timedelta(minutes=13, seconds=30, microseconds=400))  # past 90 %
    p1(sla_store, now - timedelta(minutes=13, seconds=29, microseconds=999_600))  # below 90 %
    nearing = report(sla_store, day(2026, 11, 24), now)["nearing_breach"]
    assert nearing.detail["bands"] == {"50-75": 1, "75-90": 2, ">90": 1}


def test_reassignments_and_first_contact_resolution(sla_store: Store) -> None:
    start = local(2026, 11, 24, 10, 0)
    kept = create(sla_store, start, impact=2, urgency=2)
    act(sla_store, assign_ticket, kept, assignee="tia", now=start + timedelta(minutes=1))
    resolve(sla_store, kept, start + timedelta(minutes=30))
    moved = create(sla_store, start, impact=2, urgency=2)
    act(sla_store, assign_ticket, moved, assignee="tia", now=start + timedelta(minutes=1))
    # To another team and agent in one move: one reassignment.
    act(
        sla_store,
        assign_ticket,
        moved,
        team="Desktop Support",
        assignee="eve",
        actor="sue",
        now=start + timedelta(minutes=5),
    )
    resolve(sla_store, moved, start + timedelta(minutes=30))
    again = create(sla_store, start, impact=2, urgency=2)
    act(sla_store, assign_ticket, again, assignee="tia", now=start + timedelta(minutes=1))
    resolve(sla_store, again, start + timedelta(minutes=10))
    act(sla_store, reopen_ticket, again, reason="no", now=start + timedelta(minutes=20))
    resolve(sla_store, again, start + timedelta(minutes=30))
    kpis = report(sla_store, day(2026, 11, 24), local(2026, 11, 25, 9, 0))
    assert kpis["first_contact_resolution"].value == pytest.approx(100 / 3)  # `kept` only
    assert kpis["first_contact_resolution"].samples == 3
    assert kpis["reassignments_per_ticket"].value == pytest.approx(1 / 3)
    assert kpis["reopen_rate"].value == pytest.approx(100 / 3)
    assert kpis["reopen_rate"].status == "no target"
