"""KPIs of the business facts (outages, surveys, complaints, time and budgets, changes) on
small hand-built stores, each answer worked out by hand in the comments; both databases.

The small desk (tests/factories.py) has no [desk] zone: periods are UTC days here (time
zones are tested on the default desk in test_kpi_tickets.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi import (
    AMBER,
    GREEN,
    NO_DATA,
    RED,
    Kpi,
    Period,
    cut_named,
    kpi_report,
)
from itsm_tui.data.models import (
    Budget,
    Change,
    ChangeCausedIncident,
    Complaint,
    Outage,
    Service,
    Survey,
    Team,
    Ticket,
    TimeEntry,
)
from itsm_tui.desk.errors import InvalidInput
from tests.factories import Desk

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), UTC)  # 43,200 minutes
AFTER = datetime(2026, 12, 5, tzinfo=UTC)


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def report(
    desk: Desk,
    period: Period = NOVEMBER,
    now: datetime = AFTER,
    *,
    team: str | None = None,
    service: str | None = None,
) -> dict[str, Kpi]:
    with desk.store.read() as session:
        cut = cut_named(session, team=team, service=service)
        return kpi_report(session, period, cut, now).by_key()


def service_id(session: Session, name: str) -> int:
    found = session.scalar(select(Service.id).where(Service.name == name))
    assert found is not None
    return found


def team_id(session: Session, name: str) -> int:
    found = session.scalar(select(Team.id).where(Team.name == name))
    assert found is not None
    return found


_numbers = iter(range(1, 10_000))


def ticket(
    session: Session, *, type: str = "incident", team: str = "Service Desk", **kw: object
) -> Ticket:
    number = next(_numbers)
    row = Ticket(
        number=f"{type[:3].upper()}{number:07d}",
        type=type,
        title="t",
        status=kw.pop("status", "closed"),
        is_open=kw.pop("is_open", False),
        impact=2,
        urgency=2,
        priority=kw.pop("priority", 3),
        team_id=team_id(session, team),
        opened_at=kw.pop("opened_at", at(10, 1)),
        updated_at=at(10, 1),
        **kw,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------
# Availability


def add_outage(session: Session, service: str, start: datetime, end: datetime | None) -> None:
    session.add(
        Outage(service_id=service_id(session, service), started_at=start, ended_at=end, notes="")
    )


def test_availability_clips_outages_at_the_period_edges_and_counts_overlaps_once(
    desk: Desk,
) -> None:
    with desk.store.write() as session:
        # Email: 60 min inside (from 23:00 the day before), 45 min of two overlapping
        # records (10:00–10:30 and 10:15–10:45), 30 min before the period ends: 135 min.
        add_outage(session, "Email", at(10, 31, 23), at(11, 1, 1))
        add_outage(session, "Email", at(11, 10, 10), at(11, 10, 10, 30))
        add_outage(session, "Email", at(11, 10, 10, 15), at(11, 10, 10, 45))
        add_outage(session, "Email", at(11, 30, 23, 30), at(12, 1, 0, 30))
        add_outage(session, "Email", at(10, 2), at(10, 3))  # before the period
        # VPN: still down, since 23:00 on the last day: 60 min inside.
        add_outage(session, "VPN", at(11, 30, 23), None)
    kpis = report(desk)
    a = kpis["availability"]
    services = a.detail["services"]
    assert services["Email"]["value"] == pytest.approx(100 * (1 - 135 / 43_200))  # 99.6875
    assert services["VPN"]["value"] == pytest.approx(100 * (1 - 60 / 43_200))  # 99.8611
    # Overall: 195 minutes of 2 × 43,200 service-minutes.
    assert a.value == pytest.approx(100 * (1 - 195 / 86_400))
    assert a.samples == 2
    # 99.9 % of 30 days allows 43.2 minutes a service: Email used 135, three times over.
    assert services["Email"]["allowed_minutes"] == pytest.approx(43.2)
    assert services["Email"]["used_minutes"] == pytest.approx(135)
    assert services["Email"]["exhausted"] is True
    assert services["Email"]["status"] == RED
    # VPN's own target is 99.95 %: 21.6 minutes allowed, 60 used (99.861 %: red).
    assert services["VPN"]["allowed_minutes"] == pytest.approx(21.6)
    assert services["VPN"]["status"] == RED
    # The whole desk against the desk file's 99.9 %: 86.4 minutes allowed, 195 used.
    assert a.detail["allowed_minutes"] == pytest.approx(86.4)
    assert a.target == 99.9
    assert a.status == RED


def test_error_budget_burn_rate_and_when_it_runs_out(desk: Desk) -> None:
    ten_days_in = at(11, 11)
    with desk.store.write() as session:
        # 28.8 minutes down in the first 10 of 30 days: two thirds of the 43.2 allowed.
        add_outage(session, "Email", at(11, 5, 10), at(11, 5, 10, 28) + timedelta(seconds=48))
    kpis = report(desk, now=ten_days_in, team="Service Desk")  # the team owns Email only
    a = kpis["availability"]
    assert a.samples == 1
    # Measured up to now: 28.8 of 14,400 minutes.
    assert a.value == pytest.approx(100 * (1 - 28.8 / 14_400))  # 99.8
    # 2/3 of the allowance in 1/3 of the period: burning at twice the sustainable pace.
    assert a.detail["burn_rate"] == pytest.approx(2.0)
    assert a.detail["used_percent"] == pytest.approx(200 / 3)
    # 14.4 minutes left at 28.8 per 10 days: gone 5 days from now.
    assert a.detail["runs_out_at"] == at(11, 16).isoformat()
    assert a.detail["exhausted"] is False
    # 99.8 % misses 99.9 % by twice the allowed failure: red, not amber.
    assert a.status == RED


def test_availability_is_amber_within_the_margin_of_the_allowed_downtime(desk: Desk) -> None:
    with desk.store.write() as session:
        # Email only (team cut): 47 minutes of 43,200 is 99.8912 %; the 99.9 % target
        # allows 43.2 minutes, the 10 % margin up to 47.52: amber.
        add_outage(session, "Email", at(11, 5, 10), at(11, 5, 10, 47))
    a = report(desk, team="Service Desk")["availability"]
    assert a.value == pytest.approx(100 * (1 - 47 / 43_200))
    assert a.status == AMBER


def test_no_outage_is_full_availability_and_no_service_is_no_data(desk: Desk) -> None:
    a = report(desk)["availability"]
    assert a.value == 100.0
    assert a.status == GREEN
    assert a.detail["burn_rate"] == 0.0
    # A period that has not started yet has measured nothing.
    future = Period(date(2027, 1, 1), date(2027, 1, 31), UTC)
    assert report(desk, future)["availability"].value is None
    with desk.store.write() as session:
        session.add(Team(name="Empty", tier=1, description=""))
    empty = report(desk, team="Empty")["availability"]
    assert empty.value is None and empty.status == NO_DATA


# ---------------------------------------------------------------------------
# Satisfaction and complaints


def test_csat_is_the_mean_rating_of_the_period_and_its_responses(desk: Desk) -> None:
    with desk.store.write() as session:
        for rating, when, team in (
            (5, at(11, 2), "Service Desk"),
            (4, at(11, 10), "Service Desk"),
            (3, at(11, 20), "Network"),
            (4, at(11, 30, 23, 59), "Network"),
            (1, at(12, 1), "Network"),  # after the period
            (2, at(10, 31, 23, 59), "Service Desk"),  # before it
        ):
            t = ticket(session, team=team, resolved_at=when - timedelta(hours=1))
            session.add(Survey(ticket_id=t.id, rating=rating, comment="", submitted_at=when))
    kpis = report(desk)
    c = kpis["csat"]
    assert (c.value, c.samples, c.target, c.status) == (4.0, 4, 4.0, GREEN)  # 16 / 4
    network = report(desk, team="Network")["csat"]
    # 7 / 2 = 3.5, below 4.0 × (1 − 10 %) = 3.6: red.
    assert (network.value, network.samples, network.status) == (3.5, 2, RED)
    # October's one survey, in the previous period (31 days before November 1).
    assert c.previous == 2.0


def test_complaints_fall_year_on_year_across_a_year_boundary(desk: Desk) -> None:
    holidays = Period(date(2026, 12, 20), date(2027, 1, 10), UTC)
    now = at(1, 20, year=2027)
    with desk.store.write() as session:
        t = ticket(session, team="Network")
        for when in (at(12, 20), at(12, 31, 23, 59), at(1, 1, year=2027), at(1, 10, 23, year=2027)):
            session.add(Complaint(ticket_id=t.id, received_at=when, summary="slow"))
        session.add(Complaint(received_at=at(1, 11, year=2027), summary="after"))
        # A year earlier: 5 in 2025-12-20 … 2026-01-10, one of them about no ticket.
        for when in (
            at(12, 20, year=2025),
            at(12, 25, year=2025),
            at(1, 1),
            at(1, 5),
        ):
            session.add(Complaint(ticket_id=t.id, received_at=when, summary="slow"))
        session.add(Complaint(received_at=at(1, 10, 12), summary="in general"))
        session.add(Complaint(received_at=at(12, 19, 23, year=2025), summary="before"))
    c = report(desk, holidays, now)["complaints"]
    # 4 against 5: a 20 % fall, exactly the target.
    assert c.detail == {"count": 4, "year_earlier": 5}
    assert c.value == pytest.approx(20.0)
    assert c.status == GREEN
    # The team's own: 4 against 4 (the general complaint names no ticket): no fall, red.
    network = report(desk, holidays, now, team="Network")["complaints"]
    assert network.detail == {"count": 4, "year_earlier": 4}
    assert network.value == 0.0
    assert network.status == RED


def test_complaints_without_a_year_earlier_are_no_data_not_a_fall(desk: Desk) -> None:
    with desk.store.write() as session:
        session.add(Complaint(received_at=at(11, 3), summary="x"))
    c = report(desk)["complaints"]
    assert c.value is None
    assert c.status == NO_DATA
    assert c.samples == 1


# ---------------------------------------------------------------------------
# Cost


def test_incident_cost_against_the_finest_budget_of_each_day(desk: Desk) -> None:
    with desk.store.write() as session:
        # 2026 at 1,000 a day, November broken out at 2,000 a day.
        session.add(
            Budget(
                category="incident",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                amount=Decimal("365000"),
            )
        )
        session.add(
            Budget(
                category="incident",
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                amount=Decimal("60000"),
            )
        )
        incident = ticket(session)
        request = ticket(session, type="request")
        for on, cost, when in (
            (incident, "30000", at(11, 3)),
            (incident, "24000", at(11, 30, 23)),
            (request, "5000", at(11, 4)),  # not an incident
            (incident, "7000", at(10, 31, 23)),  # October
        ):
            session.add(
                TimeEntry(ticket_id=on.id, minutes=60, cost=Decimal(cost), logged_at=when, note="")
            )
    c = report(desk)["incident_cost"]
    # 54,000 of 60,000: 90 %, the target.
    assert c.value == pytest.approx(90.0)
    assert c.detail["budget"] == pytest.approx(60_000)
    assert c.samples == 2
    assert c.status == GREEN
    # 31 October and 1 November: a day of the year (1,000) and a day of November (2,000);
    # 7,000 of 3,000 spent.
    edge = Period(date(2026, 10, 31), date(2026, 11, 1), UTC)
    e = report(desk, edge)["incident_cost"]
    assert e.detail["budget"] == pytest.approx(3_000)
    assert e.value == pytest.approx(700 / 3)
    assert e.status == RED
    # Half of November gone: the budget so far is half of it.
    half = report(desk, now=at(11, 16))["incident_cost"]
    assert half.detail["budget"] == pytest.approx(30_000)
    assert half.value == pytest.approx(100.0)
    assert half.status == RED  # past 90 % × 1.1 = 99 %
    # A team's cost is shown against the desk's budget, not judged.
    assert report(desk, team="Service Desk")["incident_cost"].status == "no target"


def test_incident_cost_without_a_budget_is_no_data(desk: Desk) -> None:
    c = report(desk)["incident_cost"]
    assert c.value is None and c.status == NO_DATA


# ---------------------------------------------------------------------------
# Changes


def test_change_first_time_success_excludes_changes_that_caused_incidents(desk: Desk) -> None:
    with desk.store.write() as session:
        network = team_id(session, "Network")
        changes = []
        for n, (outcome, closed, services) in enumerate(
            (
                ("successful", at(11, 2), ["VPN"]),
                ("successful", at(11, 3), ["Email"]),
                ("successful", at(11, 4), ["vpn"]),  # caused an incident below
                ("failed", at(11, 5), ["VPN", "Email"]),
                (None, at(11, 6), ["VPN"]),  # cancelled: no outcome, not counted
                ("successful", at(12, 1), ["VPN"]),  # closed after the period
                # Caused an incident long after its review period: still first time.
                ("successful", at(11, 7), ["Email"]),
            )
        ):
            change = Change(
                number=f"CHG{n:07d}",
                title="c",
                change_type="normal",
                status="closed",
                is_open=False,
                team_id=network,
                services=services,
                outcome=outcome,
                opened_at=at(10, 1),
                updated_at=closed,
                closed_at=closed,
            )
            session.add(change)
            changes.append(change)
        session.flush()
        caused = ticket(session)
        session.add(
            ChangeCausedIncident(change_id=changes[2].id, ticket_id=caused.id, linked_at=at(11, 5))
        )
        late = ticket(session)
        session.add(
            ChangeCausedIncident(
                change_id=changes[6].id,
                ticket_id=late.id,
                linked_at=at(11, 30),
                within_review=False,
            )
        )
    c = report(desk)["change_success"]
    # Three of five: 60 %.
    assert (c.value, c.samples) == (60.0, 5)
    assert c.detail == {"first_time": 3, "not_first_time": 2}
    assert c.status == RED
    # VPN's changes (named in any case): CHG0, CHG2 (caused an incident), CHG3: 1 of 3.
    vpn = report(desk, service="VPN")["change_success"]
    assert vpn.samples == 3
    assert vpn.value == pytest.approx(100 / 3)
    assert report(desk, team="Service Desk")["change_success"].value is None


# ---------------------------------------------------------------------------
# The report as a whole


NINE_AND_SLA = (
    "incident_response_mean",
    "incident_response_p90",
    "incident_resolution_mean",
    "incident_resolution_p90",
    "request_cycle",
    "change_success",
    "csat",
    "complaints",
    "tickets_per_agent_day",
    "incident_cost",
    "sla_response_met",
    "sla_resolution_met",
    "reopen_rate",
    "first_contact_resolution",
    "reassignments_per_ticket",
    "resolution_by_team",
)


def test_an_empty_period_is_no_data_never_a_made_up_zero(desk: Desk) -> None:
    kpis = report(desk)
    for key in NINE_AND_SLA:
        assert kpis[key].value is None, key
        assert kpis[key].status == NO_DATA, key
        assert kpis[key].previous is None, key
    # What is there is real: two services up all month, an empty backlog.
    assert kpis["availability"].value == 100.0
    assert kpis["backlog"].value == 0
    assert kpis["backlog"].detail["by_age"] == {"1-5": 0, "6-10": 0, "11-30": 0, ">30": 0}


def test_unknown_team_or_service_is_refused_by_name(desk: Desk) -> None:
    with desk.store.read() as session:
        with pytest.raises(InvalidInput, match="no team named 'Nobody'"):
            cut_named(session, team="Nobody")
        with pytest.raises(InvalidInput, match="no service named 'Fax'"):
            cut_named(session, service="Fax")
        cut = cut_named(session, team="network", service="vpn")
    assert (cut.team, cut.service) == ("Network", "VPN")


def test_amber_margin_comes_from_the_desk_file(desk: Desk) -> None:
    from itsm_tui.data.models import DeskSetting

    with desk.store.write() as session:
        add_outage(session, "Email", at(11, 5, 10), at(11, 5, 10, 47))
    assert report(desk, team="Service Desk")["availability"].status == AMBER
    with desk.store.write() as session:
        session.add(DeskSetting(key="kpi_targets", value={"amber_margin_percent": 5}))
    # 47 minutes is past 43.2 × 1.05 = 45.36: red with a 5 % margin.
    assert report(desk, team="Service Desk")["availability"].status == RED
