"""The change schedule on both databases: conflicts, impact, next free slot, calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from itsm_tui.data.change_schedule import (
    _calendar_statement,
    _held_statement,
    calendar,
    change_conflicts,
    find_conflicts,
    impacted_services,
    next_free_slot,
    outside_maintenance,
)
from itsm_tui.data.models import Agent, Change
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

SERVICES = ["Database", "Identity", "Email", "ERP", "HR", "Printing"]
# Email, ERP and HR ride on Identity, which rides on Database; Printing stands alone.
DEPENDENCIES = (
    ("Identity", "Database"),
    ("Email", "Identity"),
    ("ERP", "Identity"),
    ("HR", "ERP"),
)
SATURDAY_NIGHTS = MaintenanceSpec(
    "Saturday night",
    utc(2026, 12, 5, 14),
    utc(2026, 12, 5, 20),
    "FREQ=WEEKLY;BYDAY=SA",
    "UTC",
)


@pytest.fixture
def sched(desk):  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        ensure_services(session, SERVICES)
    return desk


def _setup(desk, scenario: Scenario) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        return install(session, scenario, now=NOW)


def _conflicts(desk, services, start, end, **kw):  # type: ignore[no-untyped-def]
    with desk.store.read() as session:
        return find_conflicts(session, services=services, start=start, end=end, **kw)


def test_impact_reaches_every_dependent_transitively(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(sched, Scenario(dependencies=DEPENDENCIES))
    with sched.store.read() as session:
        assert impacted_services(session, ["Database"]) == [
            "Database",
            "ERP",
            "Email",
            "HR",
            "Identity",
        ]
        assert impacted_services(session, ["ERP"]) == ["ERP", "HR"]
        assert impacted_services(session, ["Printing"]) == ["Printing"]


def test_freeze_on_a_dependent_service_holds_a_change_below_it(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            dependencies=DEPENDENCIES,
            freezes=(FreezeSpec("HR payroll run", utc(2026, 12, 10), utc(2026, 12, 11), ("HR",)),),
        ),
    )
    found = _conflicts(sched, ["Database"], utc(2026, 12, 10, 20), utc(2026, 12, 10, 22))
    assert [(c.kind, c.name, c.services) for c in found] == [("freeze", "HR payroll run", ("HR",))]
    assert "HR payroll run" in found[0].message and "HR" in found[0].message
    # Email does not reach HR: no conflict.
    assert _conflicts(sched, ["Email"], utc(2026, 12, 10, 20), utc(2026, 12, 10, 22)) == []


def test_freeze_naming_no_service_holds_every_service(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(sched, Scenario(freezes=(FreezeSpec("Holiday", utc(2026, 12, 24), utc(2026, 12, 27)),)))
    found = _conflicts(sched, ["Printing"], utc(2026, 12, 26, 23), utc(2026, 12, 27, 1))
    assert [(c.kind, c.name) for c in found] == [("freeze", "Holiday")]
    assert "all services" in found[0].message
    assert _conflicts(sched, ["Printing"], utc(2026, 12, 27), utc(2026, 12, 27, 1)) == []


def test_recurring_month_end_freeze_conflicts_on_each_month_end(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            freezes=(
                FreezeSpec(
                    "Month-end close",
                    utc(2026, 1, 31, 10),
                    utc(2026, 1, 31, 22),
                    ("ERP",),
                    "FREQ=MONTHLY;BYMONTHDAY=-1",
                    "UTC",
                ),
            )
        ),
    )
    found = _conflicts(sched, ["ERP"], utc(2027, 2, 28, 21), utc(2027, 3, 1, 1))
    assert [(c.name, c.starts_at, c.ends_at) for c in found] == [
        ("Month-end close", utc(2027, 2, 28, 10), utc(2027, 2, 28, 22))
    ]
    assert _conflicts(sched, ["ERP"], utc(2027, 3, 1, 10), utc(2027, 3, 1, 12)) == []


def test_changes_on_shared_or_dependent_services_conflict(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            dependencies=DEPENDENCIES,
            changes=(
                ChangeSpec("CHG0000001", ("Identity",), utc(2026, 12, 8, 20), utc(2026, 12, 8, 23)),
                ChangeSpec("CHG0000002", ("Printing",), utc(2026, 12, 8, 20), utc(2026, 12, 8, 23)),
                ChangeSpec(
                    "CHG0000003", ("Email",), utc(2026, 12, 8, 22), utc(2026, 12, 8, 23), "draft"
                ),
                ChangeSpec(
                    "CHG0000004", ("ERP",), utc(2026, 12, 8, 22), utc(2026, 12, 8, 23), "closed"
                ),
            ),
        ),
    )
    # Email rides on Identity: the Identity change conflicts; Printing is unrelated; a draft
    # holds no window yet; a closed change is history.
    found = _conflicts(sched, ["Email"], utc(2026, 12, 8, 22), utc(2026, 12, 9, 1))
    assert [(c.kind, c.name, c.services) for c in found] == [
        ("change", "CHG0000001", ("Identity",))
    ]
    assert "CHG0000001" in found[0].message and "scheduled" in found[0].message
    # And the other way round: a change below Identity reaches it.
    found = _conflicts(sched, ["Database"], utc(2026, 12, 8, 19), utc(2026, 12, 8, 21))
    assert [c.name for c in found] == ["CHG0000001"]
    # Touching windows do not overlap.
    assert _conflicts(sched, ["Identity"], utc(2026, 12, 8, 23), utc(2026, 12, 9, 1)) == []


def test_implementer_in_two_changes_at_once_conflicts(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            changes=(
                ChangeSpec(
                    "CHG0000001",
                    ("Printing",),
                    utc(2026, 12, 8, 20),
                    utc(2026, 12, 8, 23),
                    "implementing",
                    implementer="nina",
                ),
            ),
        ),
    )
    with sched.store.read() as session:
        nina = session.scalar(select(Agent.id).where(Agent.username == "nina"))
        bob = session.scalar(select(Agent.id).where(Agent.username == "bob"))
    found = _conflicts(
        sched, ["Email"], utc(2026, 12, 8, 22), utc(2026, 12, 9, 1), implementer_id=nina
    )
    assert [(c.kind, c.name) for c in found] == [("implementer", "CHG0000001")]
    assert "nina" in found[0].message
    assert (
        _conflicts(sched, ["Email"], utc(2026, 12, 8, 22), utc(2026, 12, 9), implementer_id=bob)
        == []
    )


def test_window_outside_maintenance_is_a_conflict_and_a_risk_fact(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(sched, Scenario(maintenance={"ERP": (SATURDAY_NIGHTS,)}))
    inside = (utc(2026, 12, 12, 15), utc(2026, 12, 12, 19))
    outside = (utc(2026, 12, 12, 19), utc(2026, 12, 12, 21))
    with sched.store.read() as session:
        assert outside_maintenance(session, ["ERP", "Printing"], *inside) == []
        assert outside_maintenance(session, ["ERP", "Printing"], *outside) == ["ERP"]
    found = _conflicts(sched, ["ERP"], *outside)
    assert [(c.kind, c.name) for c in found] == [("maintenance", "ERP")]
    assert "Saturday night" in found[0].message


def test_change_conflicts_leave_the_change_itself_out(sched) -> None:  # type: ignore[no-untyped-def]
    numbers = _setup(
        sched,
        Scenario(
            changes=(
                ChangeSpec("CHG0000001", ("ERP",), utc(2026, 12, 8, 20), utc(2026, 12, 8, 23)),
                ChangeSpec("CHG0000002", ("ERP",), utc(2026, 12, 8, 22), utc(2026, 12, 9, 1)),
            )
        ),
    )
    with sched.store.read() as session:
        first = session.get(Change, numbers["CHG0000001"])
        assert [c.name for c in change_conflicts(session, first)] == ["CHG0000002"]
        first.planned_start = first.planned_end = None
        assert change_conflicts(session, first) == []


def test_next_free_slot_skips_freezes_and_busy_windows_into_maintenance(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            dependencies=DEPENDENCIES,
            maintenance={"ERP": (SATURDAY_NIGHTS,)},
            freezes=(FreezeSpec("Close", utc(2026, 12, 12), utc(2026, 12, 13), ("HR",)),),
            changes=(
                ChangeSpec(
                    "CHG0000001", ("Identity",), utc(2026, 12, 19, 14), utc(2026, 12, 19, 17)
                ),
            ),
        ),
    )
    with sched.store.read() as session:
        # The 12th is frozen for HR (which rides on ERP); on the 19th Identity is busy until
        # 17:00, which leaves 17:00–20:00.
        slot = next_free_slot(
            session, services=["ERP"], duration=timedelta(hours=2), after=utc(2026, 12, 7)
        )
        assert slot == (utc(2026, 12, 19, 17), utc(2026, 12, 19, 19))
        assert find_conflicts(session, services=["ERP"], start=slot[0], end=slot[1]) == []
        # Four hours fit nowhere on the 19th: the 26th.
        slot = next_free_slot(
            session, services=["ERP"], duration=timedelta(hours=4), after=utc(2026, 12, 7)
        )
        assert slot == (utc(2026, 12, 26, 14), utc(2026, 12, 26, 18))
        # Longer than any maintenance window: none within the horizon.
        assert (
            next_free_slot(
                session, services=["ERP"], duration=timedelta(hours=7), after=utc(2026, 12, 7)
            )
            is None
        )
        # A service without maintenance windows: right away.
        after = utc(2026, 12, 7, 9, 17)
        assert next_free_slot(
            session, services=["Printing"], duration=timedelta(hours=1), after=after
        ) == (after, after + timedelta(hours=1))


def test_calendar_rows_mark_conflicts_freezes_and_maintenance(sched) -> None:  # type: ignore[no-untyped-def]
    _setup(
        sched,
        Scenario(
            dependencies=DEPENDENCIES,
            maintenance={"ERP": (SATURDAY_NIGHTS,)},
            freezes=(
                FreezeSpec("HR close", utc(2026, 12, 15), utc(2026, 12, 16), ("HR",)),
                FreezeSpec("Holiday", utc(2026, 12, 24), utc(2026, 12, 27)),
            ),
            changes=(
                ChangeSpec("CHG0000001", ("ERP",), utc(2026, 12, 12, 15), utc(2026, 12, 12, 17)),
                ChangeSpec(
                    "CHG0000002", ("ERP", "HR"), utc(2026, 12, 15, 1), utc(2026, 12, 15, 2), "draft"
                ),
                ChangeSpec(
                    "CHG0000003", ("ERP",), utc(2026, 12, 16), utc(2026, 12, 16, 2), "cancelled"
                ),
                # Starts in November, ends in December: on the calendar.
                ChangeSpec("CHG0000004", ("Printing",), utc(2026, 11, 30, 22), utc(2026, 12, 1, 2)),
            ),
        ),
    )
    with sched.store.read() as session:
        cal = calendar(session, start=utc(2026, 12, 1), end=utc(2027, 1, 1))
        rows = {r.service: r for r in cal.rows}
        assert list(rows) == sorted([*SERVICES, "VPN"])  # VPN: the small desk's own
        erp = rows["ERP"]
        assert [(c.number, c.in_conflict) for c in erp.changes] == [
            ("CHG0000001", False),
            ("CHG0000002", True),  # in the HR freeze, outside ERP's maintenance
        ]
        assert [c.number for c in rows["HR"].changes] == ["CHG0000002"]
        assert [c.number for c in rows["Printing"].changes] == ["CHG0000004"]
        # A freeze on HR holds ERP, Identity and Database (they reach HR), not Email.
        assert [f.name for f in erp.freezes] == ["HR close"]
        assert [f.name for f in rows["Database"].freezes] == ["HR close"]
        assert rows["Email"].freezes == ()
        assert [f.name for f in cal.freezes] == ["Holiday"]
        assert [m.starts_at.day for m in erp.maintenance] == [5, 12, 19, 26]
        assert rows["Printing"].maintenance == ()
        only = calendar(session, start=utc(2026, 12, 1), end=utc(2027, 1, 1), services=["HR"])
        assert [r.service for r in only.rows] == ["HR"]


def test_window_needs_time_zone_order_and_at_most_two_weeks(sched) -> None:  # type: ignore[no-untyped-def]
    with sched.store.read() as session:
        with pytest.raises(ValueError, match="end after"):
            find_conflicts(session, services=["ERP"], start=utc(2026, 12, 2), end=utc(2026, 12, 1))
        with pytest.raises(ValueError, match="at most 14 days"):
            find_conflicts(session, services=["ERP"], start=utc(2026, 12, 1), end=utc(2026, 12, 16))
        with pytest.raises(ValueError, match="time zone"):
            find_conflicts(
                session, services=["ERP"], start=datetime(2026, 12, 1), end=utc(2026, 12, 2)
            )


def test_longest_window_reaching_into_a_period_is_found(sched) -> None:  # type: ignore[no-untyped-def]
    # Fourteen days, from 13 days 23 hours before the calendar starts: its last hour shows.
    start = utc(2026, 12, 1) - timedelta(days=13, hours=23)
    _setup(
        sched,
        Scenario(changes=(ChangeSpec("CHG0000001", ("ERP",), start, start + timedelta(days=14)),)),
    )
    with sched.store.read() as session:
        cal = calendar(session, start=utc(2026, 12, 1), end=utc(2026, 12, 2), services=["ERP"])
        assert [c.number for c in cal.rows[0].changes] == ["CHG0000001"]
        found = find_conflicts(
            session, services=["ERP"], start=utc(2026, 12, 1), end=utc(2026, 12, 1, 1)
        )
        assert [c.name for c in found] == ["CHG0000001"]


def test_conflict_queries_read_an_index_range_not_the_table(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    # SQLite's plan is fixed by the schema; PostgreSQL's follows its statistics (bench/).
    with sqlite_store.read() as session:
        for stmt, index in (
            (_held_statement(utc(2026, 12, 1), utc(2026, 12, 2)), "ix_changes_board"),
            (_calendar_statement(utc(2026, 12, 1), utc(2027, 1, 1)), "ix_changes_planned"),
        ):
            compiled = stmt.compile(
                dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
            )
            plan = " ".join(
                str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
