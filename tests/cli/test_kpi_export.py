"""The export carries everything `itsm kpi` reads: a seeded desk moved to an empty store
through `config show` + `export` / `config apply` + `import` gives the same KPIs, and
each KPI computed by hand from the export file (plain Python) equals the report's."""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.domain.workflow import workflow_for
from tests.cli.conftest import Itsm
from tests.conftest import _db_counter
from tests.factories import NOW

TICKETS = 400
DAYS = 400  # the year's period starts in 2025: it crosses a year boundary


@pytest.fixture
def other_store(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A second migrated, empty store on the same database as `store`."""
    if store.is_sqlite:
        url = sqlite_url(tmp_path / "other.db")
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create_database(f"itsm_other_{os.getpid()}_{next(_db_counter)}")
    other = open_store(url)
    try:
        yield other
    finally:
        other.dispose()


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> tuple[Itsm, Path, Path]:
    """A seeded desk; its desk file and its export."""
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    itsm.ok("seed", "--tickets", str(TICKETS), "--days", str(DAYS))
    desk_file = tmp_path / "desk.toml"
    desk_file.write_text(itsm.ok("config", "show").stdout, encoding="utf-8")
    export = tmp_path / "desk.jsonl"
    itsm.ok("export", "--output", str(export))
    return itsm, desk_file, export


def kpis(itsm: Itsm, period: str) -> dict[str, Any]:
    doc = itsm.json("kpi", "--period", period)
    return {"period": doc["period"], "kpis": doc["kpis"]}


def test_a_desk_moved_by_its_desk_file_and_export_gives_the_same_kpis(
    seeded: tuple[Itsm, Path, Path], other_store: Store, tmp_path: Path
) -> None:
    itsm, desk_file, export = seeded
    moved = Itsm(other_store, agent="root")
    moved.ok("init")
    moved.ok("config", "apply", str(desk_file))
    summary = moved.json("import", str(export))
    assert summary["tickets"] == TICKETS
    assert summary["budgets_not_on_desk"] == 0
    for family in ("sla_clocks", "time_entries", "surveys", "changes", "outages"):
        assert summary[family] > 0, family
    for period in ("30d", "365d"):
        before, after = kpis(itsm, period), kpis(moved, period)
        assert after == before, period
    year = kpis(itsm, "365d")["kpis"]
    # Not equal by both being empty: every family had something to measure.
    for key in (
        "availability",
        "incident_response_mean",
        "incident_resolution_mean",
        "sla_response_met",
        "request_cycle",
        "change_success",
        "csat",
        "incident_cost",
        "reassignments_per_ticket",
        "backlog",
    ):
        assert year[key]["samples"], key
    # And the moved desk exports the same file, byte for byte.
    again = tmp_path / "again.jsonl"
    moved.ok("export", "--output", str(again))
    assert again.read_bytes() == export.read_bytes()


# ---------------------------------------------------------------------------
# By hand


def read_export(path: Path) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    tickets: list[dict[str, Any]] = []
    others: dict[str, list[dict[str, Any]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        header = json.loads(f.readline())
        assert header == {"format": "itsm-desk", "version": 2}
        for line in f:
            data = json.loads(line)
            kind = data.pop("record", "ticket")
            if kind == "ticket":
                tickets.append(data)
            else:
                others.setdefault(kind, []).append(data)
    return tickets, others


def t(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def nearest_rank_p90(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def test_each_kpi_computed_by_hand_from_the_export_equals_the_report(
    seeded: tuple[Itsm, Path, Path],
) -> None:
    itsm, desk_file, export = seeded
    doc = itsm.json("kpi", "--period", "365d")
    report, period = doc["kpis"], doc["period"]
    start = datetime.fromisoformat(period["start"])
    end = min(datetime.fromisoformat(period["end"]), NOW)
    tickets, others = read_export(export)

    def inside(value: str | None, lo: datetime = start, hi: datetime = end) -> bool:
        at = t(value)
        return at is not None and lo <= at < hi

    def close(key: str, value: float | None, samples: int | None = None) -> None:
        got = report[key]
        if value is None:
            assert got["value"] is None, key
        else:
            assert got["value"] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        if samples is not None:
            assert got["samples"] == samples, key

    # CSAT: surveys submitted in the period.
    ratings = [
        k["survey"]["rating"]
        for k in tickets
        if k["survey"] and inside(k["survey"]["submitted_at"])
    ]
    close("csat", mean(ratings), len(ratings))

    # Response and resolution of P1 incidents: the clocks' counted time, stopped met or
    # breached in the period.
    for kind in ("response", "resolution"):
        minutes = [
            c["spent_seconds"] / 60
            for k in tickets
            if k["type"] == "incident" and k["priority"] == 1
            for c in k["sla_clocks"]
            if c["kind"] == kind and c["state"] in ("met", "breached") and inside(c["stopped_at"])
        ]
        close(f"incident_{kind}_mean", mean(minutes), len(minutes))
        close(f"incident_{kind}_p90", nearest_rank_p90(minutes), len(minutes))
        # SLA compliance: met when stopped in the period, missed when breached in it.
        clocks = [c for k in tickets for c in k["sla_clocks"] if c["kind"] == kind]
        met = sum(c["state"] == "met" and inside(c["stopped_at"]) for c in clocks)
        missed = sum(c["state"] == "breached" and inside(c["breached_at"]) for c in clocks)
        close(f"sla_{kind}_met", pct(met, met + missed), met + missed)

    resolved = [k for k in tickets if inside(k["resolved_at"])]
    # Requests: wall-clock minutes from submission to fulfilment.
    cycles = [
        (t(k["resolved_at"]) - t(k["opened_at"])).total_seconds() / 60  # type: ignore[operator]
        for k in resolved
        if k["type"] == "request"
    ]
    assert report["request_cycle"]["samples"] == len(cycles)
    assert report["request_cycle"]["value"] == pytest.approx(mean(cycles), rel=1e-6)

    # Change first-time success: closed in the period with an outcome; successful and no
    # incident it caused inside its review period.
    changes = [c for c in others["change"] if c["outcome"] and inside(c["closed_at"])]
    good = [
        c
        for c in changes
        if c["outcome"] == "successful"
        and not any(i["within_review"] for i in c["caused_incidents"])
    ]
    close("change_success", pct(len(good), len(changes)), len(changes))

    # Complaints against the same days a year earlier.
    complaints = others.get("complaint", [])
    now_count = sum(inside(c["received_at"]) for c in complaints)
    year_start = start.replace(year=start.year - 1)
    year_end = year_start + (end - start)
    before = sum(inside(c["received_at"], year_start, year_end) for c in complaints)
    close("complaints", None if before == 0 else 100 * (before - now_count) / before, now_count)

    # Incident cost against the budget: each local day (the desk file's zone) takes its
    # share of the shortest budget covering it (Shanghai keeps no daylight saving: a local
    # day is 24 hours from the period's start).
    zone = ZoneInfo(tomllib.loads(desk_file.read_text(encoding="utf-8"))["desk"]["timezone"])
    incident_numbers = {k["number"] for k in tickets if k["type"] == "incident"}
    entries = [
        Decimal(e["cost"])
        for k in tickets
        if k["number"] in incident_numbers
        for e in k["time_entries"]
        if inside(e["logged_at"])
    ]
    budgets = others["budget"]
    budget = 0.0
    day_start = start
    while day_start < end:
        local_day: date = day_start.astimezone(zone).date()
        covering = [
            b
            for b in budgets
            if b["category"] == "incident"
            and date.fromisoformat(b["period_start"])
            <= local_day
            <= date.fromisoformat(b["period_end"])
        ]
        if covering:
            b = min(
                covering,
                key=lambda b: (
                    (
                        date.fromisoformat(b["period_end"]) - date.fromisoformat(b["period_start"])
                    ).days
                ),
            )
            days = (
                date.fromisoformat(b["period_end"]) - date.fromisoformat(b["period_start"])
            ).days + 1
            part = (min(day_start + timedelta(days=1), end) - day_start) / timedelta(days=1)
            budget += float(Decimal(b["amount"])) / days * part
        day_start += timedelta(days=1)
    assert report["incident_cost"]["samples"] == len(entries)
    assert report["incident_cost"]["detail"]["cost"] == pytest.approx(float(sum(entries)))
    assert report["incident_cost"]["value"] == pytest.approx(100 * float(sum(entries)) / budget)

    # Reopen rate, reassignments per ticket (each version once) and first-contact
    # resolution (incidents neither reopened, escalated nor reassigned).
    reopened = sum(k["reopen_count"] > 0 for k in resolved)
    close("reopen_rate", pct(reopened, len(resolved)), len(resolved))
    moves = sum(len({m["version"] for m in k["reassignments"]}) for k in resolved)
    close("reassignments_per_ticket", moves / len(resolved), len(resolved))
    incidents = [k for k in resolved if k["type"] == "incident"]
    first_contact = [
        k
        for k in incidents
        if k["reopen_count"] == 0 and k["escalation_level"] == 0 and not k["reassignments"]
    ]
    close("first_contact_resolution", pct(len(first_contact), len(incidents)), len(incidents))

    # Tickets per agent per working day: handled = resolved with an assignee.
    handled = [k for k in resolved if k["assignee"]]
    detail = report["tickets_per_agent_day"]["detail"]
    assert (detail["handled"], detail["agents"]) == (
        len(handled),
        len({k["assignee"] for k in handled}),
    )

    # Mean time to resolve per team: the incidents' resolution clocks stopped in the period.
    by_team: dict[str, list[int]] = {}
    for k in tickets:
        for c in k["sla_clocks"]:
            if (
                k["type"] == "incident"
                and c["kind"] == "resolution"
                and c["state"] in ("met", "breached")
                and inside(c["stopped_at"])
            ):
                by_team.setdefault(k["team"] or "(no team)", []).append(c["spent_seconds"])
    teams = report["resolution_by_team"]["detail"]["teams"]
    assert set(teams) == set(by_team)
    for team, spent in by_team.items():
        assert teams[team]["incidents"] == len(spent), team
        assert teams[team]["mean_minutes"] == pytest.approx(sum(spent) / len(spent) / 60), team

    # Breaches and escalations since the desk's local midnight.
    midnight = datetime.combine(NOW.astimezone(zone).date(), datetime.min.time(), zone)
    breaches = sum(
        c["state"] != "cancelled" and inside(c["breached_at"], midnight, NOW + timedelta(0, 1))
        for k in tickets
        for c in k["sla_clocks"]
    )
    escalations = sum(
        e["kind"] == "escalation" and inside(e["at"], midnight, NOW + timedelta(0, 1))
        for k in tickets
        for e in k["escalations"]
    )
    close("breaches_today", breaches)
    close("escalations_today", escalations)

    # Open backlog right now, by the workflows' open statuses.
    backlog = sum(workflow_for(k["type"]).is_open(k["status"]) for k in tickets)
    close("backlog", backlog, backlog)

    # Availability: each service's merged outage time inside the period; the desk file
    # says how many services there are.
    services = tomllib.loads(desk_file.read_text(encoding="utf-8"))["services"]
    elapsed = (end - start).total_seconds()
    total_down = 0.0
    for service in services:
        spans = sorted(
            (max(t(o["started_at"]), start), min(t(o["ended_at"]) or end, end))  # type: ignore[type-var]
            for o in others.get("outage", [])
            if o["service"] == service["name"]
            and t(o["started_at"]) < end  # type: ignore[operator]
            and (o["ended_at"] is None or t(o["ended_at"]) > start)  # type: ignore[operator]
        )
        down, reach = 0.0, None
        for lo, hi in spans:
            if reach is None or lo > reach:
                down += (hi - lo).total_seconds()
                reach = hi
            elif hi > reach:
                down += (hi - reach).total_seconds()
                reach = hi
        total_down += down
        shown = report["availability"]["detail"]["services"][service["name"]]
        assert shown["value"] == pytest.approx(100 * (1 - down / elapsed)), service["name"]
    close("availability", 100 * (1 - total_down / (len(services) * elapsed)), len(services))
