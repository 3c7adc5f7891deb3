"""`itsm kpi`: the same figures as JSON, CSV, Markdown and a table; refusals in one line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from itsm_tui.data.models import Survey, Team, Ticket
from tests.cli.conftest import Itsm, assert_refused
from tests.factories import Desk


def add_surveys(desk: Desk, *ratings_at: tuple[int, datetime]) -> None:
    with desk.store.write() as session:
        team = session.scalar(select(Team.id).where(Team.name == "Service Desk"))
        for n, (rating, when) in enumerate(ratings_at):
            t = Ticket(
                number=f"INC{n + 1:07d}",
                type="incident",
                title="[bold]x[/] \x1b[31m",
                status="resolved",
                is_open=False,
                impact=2,
                urgency=2,
                priority=3,
                team_id=team,
                opened_at=when,
                updated_at=when,
                resolved_at=when,
            )
            session.add(t)
            session.flush()
            session.add(Survey(ticket_id=t.id, rating=rating, comment="", submitted_at=when))


def nov(day: int) -> datetime:
    return datetime(2026, 11, day, 12, tzinfo=UTC)


def test_json_has_one_entry_per_kpi_with_value_target_status_unit(itsm: Itsm, desk: Desk) -> None:
    # NOW is 24 November 09:30 UTC: --period 7d is 18–24 November; the previous, 11–17.
    add_surveys(desk, (5, nov(20)), (4, nov(21)), (2, nov(12)))
    doc = itsm.json("kpi", "--period", "7d")
    assert doc["period"]["from"] == "2026-11-18" and doc["period"]["to"] == "2026-11-24"
    assert doc["previous_period"]["from"] == "2026-11-11"
    csat = doc["kpis"]["csat"]
    assert csat["value"] == 4.5
    assert csat["target"] == 4.0
    assert csat["status"] == "green"
    assert csat["unit"] == "of 5"
    assert csat["samples"] == 2
    assert csat["previous"] == 2.0
    assert doc["kpis"]["incident_response_mean"]["value"] is None
    assert doc["kpis"]["incident_response_mean"]["status"] == "no data"
    assert doc["kpis"]["availability"]["detail"]["services"]["VPN"]["target"] == 99.95


def test_from_and_to_choose_the_days(itsm: Itsm, desk: Desk) -> None:
    add_surveys(desk, (5, nov(20)), (1, nov(12)))
    doc = itsm.json("kpi", "--from", "2026-11-12", "--to", "2026-11-12")
    assert doc["kpis"]["csat"]["value"] == 1.0
    assert doc["previous_period"] == {
        "from": "2026-11-11",
        "to": "2026-11-11",
        "start": "2026-11-11T00:00:00+00:00",
        "end": "2026-11-12T00:00:00+00:00",
    }


def test_csv_is_a_header_and_one_row_per_kpi(itsm: Itsm, desk: Desk) -> None:
    add_surveys(desk, (3, nov(20)))
    text = itsm.ok("kpi", "--period", "7d", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == [
        "key",
        "label",
        "value",
        "target",
        "status",
        "unit",
        "samples",
        "previous",
    ]
    by_key = {r["key"]: r for r in rows}
    assert by_key["csat"]["value"] == "3.0"
    assert by_key["csat"]["status"] == "red"
    assert by_key["csat"]["previous"] == ""
    assert by_key["request_cycle"]["value"] == ""
    assert by_key["request_cycle"]["status"] == "no data"
    assert len(rows) == len(itsm.json("kpi", "--period", "7d")["kpis"])


def test_markdown_and_table_show_the_same_figures(itsm: Itsm, desk: Desk) -> None:
    add_surveys(desk, (4, nov(20)), (5, nov(21)))
    md = itsm.ok("kpi", "--period", "7d", "--markdown", "--team", "service desk").stdout
    assert md.startswith("**team Service Desk, 2026-11-18 – 2026-11-24")
    assert "| Customer satisfaction (CSAT) | 4.50 / 5 | 4.00 / 5 | green |  | 2 |" in md
    table = itsm.ok("kpi", "--period", "7d").stdout
    line = next(x for x in table.splitlines() if x.startswith("Customer satisfaction"))
    assert line.split() == [
        "Customer",
        "satisfaction",
        "(CSAT)",
        "4.50",
        "/",
        "5",
        "4.00",
        "/",
        "5",
        "green",
        "2",
    ]
    assert "[bold]" not in table and "\x1b" not in table


def test_bad_options_are_refused_in_one_line(itsm: Itsm) -> None:
    assert_refused(itsm("kpi", "--period", "month"), says="a period is today, quarter, year")
    assert_refused(itsm("kpi", "--from", "2026-11-01"), says="--from and --to go together")
    assert_refused(
        itsm("kpi", "--period", "7d", "--from", "2026-11-01", "--to", "2026-11-02"),
        says="not both",
    )
    assert_refused(itsm("kpi", "--from", "2026-11-02", "--to", "2026-11-01"), says="ends")
    assert_refused(itsm("kpi", "--team", "Nobody"), says="no team named 'Nobody'")
    assert_refused(itsm("kpi", "--service", "Fax"), says="no service named 'Fax'")
    usage = itsm("kpi", "--from", "yesterday", "--to", "2026-11-01")
    assert usage.exit_code == 2
    assert "is not a date such as 2026-11-24" in usage.stderr
