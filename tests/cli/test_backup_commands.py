"""`itsm backup` and `itsm restore`: a SQLite desk copied and put back, refusals in one line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from itsm_tui.data.migrate import head_revision
from tests.cli.conftest import Itsm, assert_refused, snapshot


def store_file(itsm: Itsm) -> Path:
    return Path(itsm.store.url.removeprefix("sqlite:///"))


def titles(itsm: Itsm) -> list[str]:
    return [t["title"] for t in itsm.json("ticket", "list")]


def create(itsm: Itsm, title: str) -> None:
    itsm.ok(
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        title,
        "--impact",
        "3",
        "--urgency",
        "3",
    )


def test_backup_copies_a_sqlite_desk_and_points_postgresql_to_pg_dump(
    itsm: Itsm, tmp_path: Path
) -> None:
    create(itsm, "Printer on fire")
    target = tmp_path / "backups" / "desk-copy.db"
    target.parent.mkdir()
    if not itsm.store.is_sqlite:
        assert_refused(itsm("backup", str(target)), says="pg_dump")
        assert_refused(itsm("restore", str(target), "--yes"), says="pg_restore")
        assert list(target.parent.iterdir()) == []
        return
    done = itsm.json("backup", str(target))
    assert done["backup"] == str(target)
    assert done["tickets"] == 1
    assert done["revision"] == head_revision()
    assert done["integrity"] == "ok"
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT title FROM tickets").fetchall() == [("Printer on fire",)]
    again = itsm("backup", str(target))
    assert_refused(again, says="already exists")


def test_backup_says_what_it_wrote(itsm_sqlite: Itsm, tmp_path: Path) -> None:
    result = itsm_sqlite.ok("backup", str(tmp_path / "copy.db"))
    assert result.stdout.startswith(
        f"Backed up {store_file(itsm_sqlite)} to {tmp_path / 'copy.db'}"
    )
    assert "0 tickets" in result.stdout and "integrity ok" in result.stdout


def test_restore_round_trip_keeps_the_replaced_desk_aside(
    itsm_sqlite: Itsm, tmp_path: Path
) -> None:
    itsm = itsm_sqlite
    create(itsm, "Before the backup")
    itsm.ok("backup", str(tmp_path / "copy.db"))
    create(itsm, "After the backup")
    done = itsm.json("restore", str(tmp_path / "copy.db"), "--yes")
    assert titles(itsm) == ["Before the backup"]
    kept = Path(done["kept_aside"])
    assert kept.name == "desk.db.before-restore-20261124T093000Z"
    with sqlite3.connect(kept) as conn:
        assert {r[0] for r in conn.execute("SELECT title FROM tickets")} == {
            "Before the backup",
            "After the backup",
        }
    assert done["tickets"] == 1 and done["upgraded_from"] is None


def test_restore_in_a_script_needs_yes_and_changes_nothing_without_it(
    itsm_sqlite: Itsm, tmp_path: Path
) -> None:
    itsm = itsm_sqlite
    itsm.ok("backup", str(tmp_path / "copy.db"))
    create(itsm, "Typed after the backup")
    before = snapshot(itsm.store)
    assert_refused(itsm("restore", str(tmp_path / "copy.db")), says="--yes")
    assert snapshot(itsm.store) == before


@pytest.mark.parametrize(("answer", "restored"), [("n\n", False), ("y\n", True)])
def test_restore_at_a_terminal_asks_first(
    itsm_sqlite: Itsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, restored: bool
) -> None:
    from itsm_tui.cli import backup as backup_commands

    itsm = itsm_sqlite
    itsm.ok("backup", str(tmp_path / "copy.db"))
    create(itsm, "Typed after the backup")
    monkeypatch.setattr(backup_commands, "stdin_is_terminal", lambda: True)
    result = itsm("restore", str(tmp_path / "copy.db"), input=answer)
    assert "0 tickets" in result.stdout  # the question says what would come back
    if restored:
        assert result.exit_code == 0, result.stderr
        assert titles(itsm) == []
    else:
        assert result.exit_code == 1
        assert result.stderr.strip() == "itsm: nothing was restored"
        assert titles(itsm) == ["Typed after the backup"]


def _corrupt(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'tickets'"
        ).fetchone()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start + 8 : start + page_size] = b"\x5a" * (page_size - 8)
    path.write_bytes(bytes(data))


def _newer(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")


def _not_sqlite(path: Path) -> None:
    path.write_text('{"number": "INC0000001", "title": "VPN down"}\n' * 300)


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (_corrupt, "integrity check"),
        (_newer, "schema revision 0999"),
        (_not_sqlite, "not a readable SQLite store"),
    ],
)
def test_restore_refuses_a_bad_backup_in_one_line_and_changes_nothing(
    itsm_sqlite: Itsm,
    tmp_path: Path,
    spoil,
    says: str,  # type: ignore[no-untyped-def]
) -> None:
    itsm = itsm_sqlite
    create(itsm, "Keep me")
    copy = tmp_path / "copy.db"
    itsm.ok("backup", str(copy))
    spoil(copy)
    before = snapshot(itsm.store)
    listing = sorted(p.name for p in store_file(itsm).parent.iterdir())
    line = assert_refused(itsm("restore", str(copy), "--yes"), says=says)
    assert "unexpected error" not in line
    assert snapshot(itsm.store) == before
    assert sorted(p.name for p in store_file(itsm).parent.iterdir()) == listing


def test_restore_refuses_while_a_console_has_the_store_open(
    itsm_sqlite: Itsm, tmp_path: Path
) -> None:
    itsm = itsm_sqlite
    itsm.ok("backup", str(tmp_path / "copy.db"))
    create(itsm, "Typed after the backup")
    from itsm_tui.data.store import open_store

    console = open_store(itsm.store.url)
    try:
        with console.read() as s:
            s.connection()  # the console's pool now holds an open connection
            result = itsm("restore", str(tmp_path / "copy.db"), "--yes")
    finally:
        console.dispose()
    assert_refused(result, says="is in use")
    assert titles(itsm) == ["Typed after the backup"]


def test_backup_json_is_one_object(itsm_sqlite: Itsm, tmp_path: Path) -> None:
    result = itsm_sqlite.ok("backup", str(tmp_path / "copy.db"), "--json")
    assert set(json.loads(result.stdout)) == {
        "store",
        "backup",
        "tickets",
        "bytes",
        "revision",
        "integrity",
        "seconds",
    }
