"""`itsm config show` then `itsm config apply --dry-run` plans no change on every desk the
product itself makes: a new one, a seeded one, a demo-sized one and one that imported tickets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk.setup import seat_in_first_line
from tests.cli.conftest import Itsm
from tests.conftest import _db_counter
from tests.factories import NOW

UNCHANGED = "Nothing to change: the store already matches"


def round_trip(itsm: Itsm, tmp_path: Path, name: str = "shown.toml") -> str:
    """Show the desk, plan the file shown; returns the file."""
    shown = itsm.ok("config", "show").stdout
    path = tmp_path / name
    path.write_text(shown, encoding="utf-8")
    dry = itsm.ok("config", "apply", str(path), "--dry-run", agent="root").stdout
    assert dry.startswith(UNCHANGED), dry
    return shown


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


def test_a_new_desk_round_trips(store: Store, tmp_path: Path) -> None:
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    round_trip(itsm, tmp_path)


def test_a_seeded_desk_round_trips_with_monthly_budgets_inside_the_year(
    store: Store, tmp_path: Path
) -> None:
    # The case (30 tickets over 10 days), then a history across a new year: the
    # seeder's monthly budgets break the default desk's yearly one down, January included.
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    itsm.ok("seed", "--tickets", "30", "--days", "10")
    round_trip(itsm, tmp_path, "ten_days.toml")
    itsm.ok("seed", "--tickets", "200", "--days", "400", "--seed", "2")
    shown = round_trip(itsm, tmp_path, "a_year.toml")
    for period in ("2026", "2026-01", "2026-02", "2026-11", "2025-12"):
        assert f'period = "{period}"' in shown, period


def test_a_demo_sized_desk_round_trips(store: Store, tmp_path: Path) -> None:
    # As `itsm demo` builds it: whoever opens it seated in the first line, 120 days of history.
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    with store.write() as session:
        seat_in_first_line(session, "root", now=NOW)
    itsm.ok("seed", "--tickets", "600", "--days", "120", "--seed", "1")
    round_trip(itsm, tmp_path)


def test_a_desk_that_imported_tickets_round_trips(
    store: Store, other_store: Store, tmp_path: Path
) -> None:
    source = Itsm(store, agent="root")
    source.ok("init")
    for title, impact in (("VPN down", "1"), ("Printer jam", "3"), ("Mail slow", "2")):
        source.ok(
            "ticket", "create", "--type", "incident", "--title", title, "--impact", impact,
            "--urgency", "2",
        )  # fmt: skip
    source.ok("ticket", "transition", "INC0000002", "in_progress")
    exported = tmp_path / "tickets.jsonl"
    source.ok("export", "--output", str(exported))

    target = Itsm(other_store, agent="root")
    target.ok("init")
    desk_file = tmp_path / "source.toml"
    desk_file.write_text(source.ok("config", "show").stdout, encoding="utf-8")
    target.ok("config", "apply", str(desk_file))
    assert target.json("import", str(exported))["tickets"] == 3
    round_trip(target, tmp_path)


def test_the_dry_run_says_which_open_due_times_move_and_apply_moves_them(
    store: Store, tmp_path: Path
) -> None:
    # A P2 incident opened Tuesday 17:30 in Shanghai is due for resolution on Wednesday at
    # 18:00 (half an hour on Tuesday, 7.5 h on Wednesday); Wednesday becomes a holiday.
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    itsm.ok(
        "ticket", "create", "--type", "incident", "--title", "Printer on fire", "--impact", "1",
        "--urgency", "2",
    )  # fmt: skip
    shown = itsm.ok("config", "show").stdout
    assert "2026-10-07]" in shown
    path = tmp_path / "holiday.toml"
    path.write_text(shown.replace("2026-10-07]", "2026-10-07, 2026-11-25]", 1), encoding="utf-8")
    moved = (
        "1 open due times move (all later), the most by 1d: INC0000001 due 2026-11-25 10:00 → "
        "2026-11-26 10:00 UTC"
    )
    dry = itsm.ok("config", "apply", str(path), "--dry-run").stdout.splitlines()
    assert dry[-3:] == [
        moved,
        "0 to create, 1 to update, 0 to remove, 0 to deactivate",
        "Dry run: nothing was written.",
    ]
    assert moved in itsm.ok("config", "apply", str(path)).stdout
    clocks = itsm.json("ticket", "show", "INC0000001")["sla"]
    assert {c["kind"]: c["due_at"] for c in clocks} == {
        "response": "2026-11-24T10:00:00Z",
        "resolution": "2026-11-26T10:00:00Z",
    }
    assert itsm.ok("config", "apply", str(path), "--dry-run").stdout.startswith(UNCHANGED)
