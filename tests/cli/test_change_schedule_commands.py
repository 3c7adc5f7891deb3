"""`itsm change conflicts|next-slot|calendar`: text, --json, refusals."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Itsm, assert_refused
from tests.factories import NOW
from tests.store.schedule_scenarios import (
    ChangeSpec,
    FreezeSpec,
    MaintenanceSpec,
    Scenario,
    ensure_services,
    install,
    utc,
)

SCENARIO = Scenario(
    dependencies=(("ERP", "Database"),),
    maintenance={
        "ERP": (
            MaintenanceSpec(
                "Saturday night",
                utc(2026, 12, 5, 14),
                utc(2026, 12, 5, 20),
                "FREQ=WEEKLY;BYDAY=SA",
                "UTC",
            ),
        )
    },
    freezes=(
        FreezeSpec("ERP close", utc(2026, 12, 12), utc(2026, 12, 13), ("ERP",)),
        FreezeSpec("Holiday", utc(2026, 12, 24), utc(2026, 12, 27)),
    ),
    changes=(
        # On the Database ERP rides on, during the ERP freeze.
        ChangeSpec(
            "CHG0000001",
            ("Database",),
            utc(2026, 12, 12, 15),
            utc(2026, 12, 12, 17),
            implementer="nina",
            title="Patch the database",
        ),
        ChangeSpec("CHG0000002", ("ERP",), utc(2026, 12, 19, 14), utc(2026, 12, 19, 16)),
        ChangeSpec("CHG0000003", ("ERP",), None, None, "draft"),  # type: ignore[arg-type]
    ),
)


@pytest.fixture
def sched(itsm: Itsm) -> Itsm:
    with itsm.store.write() as session:
        ensure_services(session, ["Database", "ERP"])
        install(session, SCENARIO, now=NOW)
    return itsm


def test_conflicts_of_a_change_name_what_they_clash_with(sched: Itsm) -> None:
    data = sched.json("change", "conflicts", "chg0000001")
    assert data["number"] == "CHG0000001"
    assert data["planned_start"] == "2026-12-12T15:00:00+00:00"
    assert [(c["kind"], c["name"], c["services"]) for c in data["conflicts"]] == [
        ("freeze", "ERP close", ["ERP"])
    ]
    text = sched.ok("change", "conflicts", "CHG0000001").stdout.splitlines()
    assert text[0] == "CHG0000001 2026-12-12 15:00–17:00 UTC: conflicts: 1"
    assert text[1].split()[:3] == ["freeze", "freeze", "window"]
    assert "'ERP close' on ERP" in text[1]
    out = sched.ok("change", "conflicts", "CHG0000002").stdout
    assert out == "CHG0000002 2026-12-19 14:00–16:00 UTC: no conflicts\n"
    assert sched.ok("change", "conflicts", "CHG0000003").stdout == (
        "CHG0000003 has no planned window yet\n"
    )
    assert_refused(sched("change", "conflicts", "CHG0000099"), says="CHG0000099")


def test_next_slot_finds_the_earliest_free_maintenance_window(sched: Itsm) -> None:
    data = sched.json(
        "change",
        "next-slot",
        "--service",
        "ERP",
        "--duration",
        "2h",
        "--after",
        "2026-12-07T00:00Z",
    )
    # The 12th is frozen for ERP; on the 19th CHG0000002 holds 14:00–16:00.
    assert (data["starts_at"], data["ends_at"]) == (
        "2026-12-19T16:00:00+00:00",
        "2026-12-19T18:00:00+00:00",
    )
    assert data["services"] == ["ERP"] and data["duration_minutes"] == 120
    out = sched.ok(
        "change",
        "next-slot",
        "--service",
        "ERP",
        "--duration",
        "5h",
        "--after",
        "2026-12-07T00:00Z",
    ).stdout
    # Five hours fit no earlier Saturday: the 19th is taken, the 26th is in the Holiday.
    assert out == "2027-01-02 14:00–19:00 UTC\n"
    # Without --after: from now (NOW is 09:30), on a service with no windows: at once.
    assert (
        sched.json("change", "next-slot", "--service", "Email", "--duration", "30m")["starts_at"]
        == "2026-11-24T09:30:00+00:00"
    )
    # The implementer is busy on the 12th on CHG0000001 (Email itself is free).
    data = sched.json(
        "change",
        "next-slot",
        "--service",
        "Email",
        "--duration",
        "3h",
        "--after",
        "2026-12-12T14:00Z",
        "--implementer",
        "nina",
    )
    assert data["starts_at"] == "2026-12-12T17:00:00+00:00"
    none = sched.ok(
        "change", "next-slot", "--service", "ERP", "--duration", "7h", "--within-days", "30"
    ).stdout
    assert none.startswith("no free window of 7h within 30 days after 2026-11-24 09:30")


def test_next_slot_refusals(sched: Itsm) -> None:
    assert_refused(
        sched(
            "change",
            "next-slot",
            "--service",
            "ERP",
            "--duration",
            "2h",
            "--after",
            "2026-12-07T00:00",
        ),
        says="has no time zone",
    )
    assert_refused(
        sched("change", "next-slot", "--service", "Payroll", "--duration", "2h"), says="Payroll"
    )
    assert_refused(
        sched("change", "next-slot", "--service", "ERP", "--duration", "0m"),
        says="longer than zero",
    )
    assert_refused(
        sched("change", "next-slot", "--service", "ERP", "--duration", "400h"),
        says="at most 14 days",
    )
    assert sched("change", "next-slot", "--service", "ERP", "--duration", "soon").exit_code == 2


def test_calendar_shows_windows_per_service_with_conflicts_marked(sched: Itsm) -> None:
    data = sched.json("change", "calendar", "--from", "2026-12-01", "--to", "2027-01-01")
    assert data["from"] == "2026-12-01T00:00:00+00:00"
    assert [f["name"] for f in data["freezes"]] == ["Holiday"]
    rows = {r["service"]: r for r in data["services"]}
    assert [(c["number"], c["in_conflict"]) for c in rows["Database"]["changes"]] == [
        ("CHG0000001", True)
    ]
    assert [(c["number"], c["in_conflict"]) for c in rows["ERP"]["changes"]] == [
        ("CHG0000002", False)
    ]
    # ERP's freeze holds the database below it too.
    assert [f["name"] for f in rows["Database"]["freezes"]] == ["ERP close"]
    assert len(rows["ERP"]["maintenance"]) == 4
    text = sched.ok(
        "change", "calendar", "--from", "2026-12-01", "--to", "2027-01-01", "--service", "Database"
    ).stdout.splitlines()
    assert text == [
        "Changes 2026-12-01 00:00–2027-01-01 00:00 UTC",
        "  freeze (all services) Holiday: 2026-12-24 00:00–2026-12-27 00:00 UTC",
        "Database",
        "    freeze ERP close: 2026-12-12 00:00–2026-12-13 00:00 UTC",
        "  ! CHG0000001  2026-12-12 15:00–17:00 UTC  scheduled · normal · —  Patch the database",
    ]


def test_calendar_refusals(sched: Itsm) -> None:
    assert_refused(
        sched("change", "calendar", "--from", "2026-12-10", "--to", "2026-12-01"), says="--to"
    )
    assert_refused(
        sched("change", "calendar", "--from", "2026-01-01", "--to", "2028-01-01"), says="366 days"
    )
    assert_refused(sched("change", "calendar", "--service", "Payroll"), says="Payroll")
