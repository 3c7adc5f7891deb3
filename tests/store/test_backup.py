"""Online backup and checked restore of a SQLite desk (data/backup.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select

from itsm_tui.data.backup import BackupRefused, backup_store, inspect_copy, restore_store
from itsm_tui.data.migrate import alembic_config, head_revision
from itsm_tui.data.models import Ticket
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from tests.factories import NOW, Desk, build_desk

WRITERS = 4


@pytest.fixture
def desk(sqlite_template: Path, tmp_path: Path) -> Iterator[Desk]:
    """A small desk alone in its directory, so a test sees every file a restore leaves."""
    path = tmp_path / "desk" / "desk.db"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    store = open_store(sqlite_url(path))
    try:
        yield build_desk(store)
    finally:
        store.dispose()


def store_path(store: Store) -> Path:
    return Path(store.url.removeprefix("sqlite:///"))


def create(store: Store, title: str) -> str:
    with store.write() as s:
        ticket = create_ticket(
            s, get_agent(s, "alice"), type="incident", title=title, impact=3, urgency=3, now=NOW
        )
        return ticket.number


def numbers_in(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT number FROM tickets ORDER BY number")]


def integrity(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_backup_during_a_stream_of_writes_holds_every_ticket_committed_before_it(
    desk: Desk, tmp_path: Path
) -> None:
    committed: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        i = 0
        try:
            while not stop.is_set():
                number = create(desk.store, f"writer {w} ticket {i}")
                i += 1
                with lock:
                    committed.append(number)
                    if len(committed) >= 40:
                        enough.set()
        except BaseException as exc:  # asserted on below
            errors.append(exc)
            enough.set()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        assert enough.wait(60), "the writers did not get going"
        with lock:
            before = set(committed)
        summary = backup_store(store_path(desk.store), tmp_path / "copy.db")
        with lock:
            after_backup = len(committed)
        # The writers were never held up for long: they go on committing after the copy.
        while True:
            with lock:
                if len(committed) >= after_backup + 20 or errors:
                    break
            enough.clear()
            enough.wait(60)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    in_copy = numbers_in(tmp_path / "copy.db")
    assert before <= set(in_copy)
    assert set(in_copy) <= set(committed)  # nothing half-written
    assert integrity(tmp_path / "copy.db") == ["ok"]
    assert summary.facts.tickets == len(in_copy)
    assert summary.facts.revision == head_revision()
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        # One snapshot: the number sequence and the tickets agree.
        (last,) = conn.execute(
            "SELECT last_value FROM number_sequences WHERE prefix = 'INC'"
        ).fetchone()
    assert max(in_copy) == f"INC{last:07d}"


def test_backup_leaves_out_a_transaction_still_open_and_does_not_wait_for_it(
    desk: Desk, tmp_path: Path
) -> None:
    first = create(desk.store, "committed before")
    with desk.store.write() as s:
        create_ticket(
            s, get_agent(s, "bob"), type="incident", title="in flight", impact=3, urgency=3, now=NOW
        )
        s.flush()
        # The writer holds its transaction (and SQLite's write lock) while the copy is made.
        backup_store(store_path(desk.store), tmp_path / "copy.db")
    assert numbers_in(tmp_path / "copy.db") == [first]
    with desk.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2


def test_backup_is_one_file_with_the_stores_permissions(desk: Desk, tmp_path: Path) -> None:
    create(desk.store, "one")
    source = store_path(desk.store)
    source.chmod(0o600)
    backup_store(source, tmp_path / "copy.db")
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not [n for n in files_in(tmp_path) if n.startswith("copy.db") and n != "copy.db"]
    assert not [n for n in files_in(tmp_path) if ".partial-" in n]


def test_backup_refuses_to_overwrite_a_file(desk: Desk, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_text("last week's backup")
    with pytest.raises(BackupRefused, match="already exists"):
        backup_store(store_path(desk.store), target)
    assert target.read_text() == "last week's backup"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "there is no store"),
        (b"id,title\n1,not a database at all\n" * 100, "not a readable SQLite store"),
    ],
)
def test_backup_of_what_is_not_a_store_writes_nothing(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    source = tmp_path / "store" / "desk.db"
    source.parent.mkdir()
    if content is not None:
        source.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BackupRefused, match=says):
        backup_store(source, out / "copy.db")
    assert files_in(out) == set()
    assert files_in(source.parent) == ({"desk.db"} if content is not None else set())


# ---------------------------------------------------------------------------
# Restore


@pytest.fixture
def backed_up(desk: Desk, tmp_path: Path) -> Iterator[tuple[Desk, Path, list[str]]]:
    """A desk with two tickets, its backup, then a third ticket the backup does not have."""
    kept = [create(desk.store, "kept one"), create(desk.store, "kept two")]
    copy = tmp_path / "backups" / "desk-copy.db"
    copy.parent.mkdir()
    backup_store(store_path(desk.store), copy)
    create(desk.store, "after the backup")
    yield desk, copy, kept


def test_restore_puts_the_backup_back_and_keeps_the_replaced_store_aside(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, kept = backed_up
    live = store_path(desk.store)
    desk.store.dispose()  # the desk is stopped for a restore
    summary = restore_store(copy, live, now=NOW)

    assert numbers_in(live) == kept
    assert summary.kept_aside == live.with_name("desk.db.before-restore-20261124T093000Z")
    assert numbers_in(summary.kept_aside) == [*kept, "INC0000003"]
    assert integrity(summary.kept_aside) == ["ok"]
    assert summary.upgraded_from is None
    assert summary.facts.tickets == 2
    with sqlite3.connect(live) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not [n for n in files_in(live.parent) if ".partial-" in n]
    # The restored desk works: numbering goes on from the restored sequence.
    again = open_store(sqlite_url(live))
    try:
        assert create(again, "after the restore") == "INC0000003"
    finally:
        again.dispose()


def test_restore_onto_a_machine_without_a_store_creates_it(
    backed_up: tuple[Desk, Path, list[str]], tmp_path: Path
) -> None:
    _desk, copy, kept = backed_up
    fresh = tmp_path / "new-machine" / "desk.db"
    fresh.parent.mkdir()
    summary = restore_store(copy, fresh, now=NOW)
    assert summary.kept_aside is None
    assert numbers_in(fresh) == kept
    assert files_in(fresh.parent) == {"desk.db"}


def test_restore_upgrades_a_backup_of_an_older_revision(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, kept = backed_up
    old = open_store(sqlite_url(copy), upgrade=False)
    command.downgrade(alembic_config(old.engine), "0005")
    old.dispose()
    assert inspect_copy(copy).revision == "0005"
    live = store_path(desk.store)
    desk.store.dispose()
    summary = restore_store(copy, live, now=NOW)
    assert summary.upgraded_from == "0005"
    assert summary.facts.revision == head_revision()
    assert inspect_copy(live).revision == head_revision()
    assert numbers_in(live) == kept


def _refused_restore_changes_nothing(desk: Desk, copy: Path, says: str) -> None:
    live = store_path(desk.store)
    desk.store.dispose()
    before = digest(live)
    listing = files_in(live.parent)
    with pytest.raises(BackupRefused, match=says):
        restore_store(copy, live, now=NOW)
    assert digest(live) == before
    assert files_in(live.parent) == listing


def test_restore_refuses_a_backup_of_a_newer_version(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, _kept = backed_up
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    _refused_restore_changes_nothing(desk, copy, "schema revision 0099, which this version")


def test_restore_refuses_a_corrupt_backup(backed_up: tuple[Desk, Path, list[str]]) -> None:
    desk, copy, _kept = backed_up
    with sqlite3.connect(copy) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'tickets'"
        ).fetchone()
    data = bytearray(copy.read_bytes())
    start = (root - 1) * page_size
    data[start + 8 : start + page_size] = b"\xa5" * (page_size - 8)  # the table's page, scribbled
    copy.write_bytes(bytes(data))
    _refused_restore_changes_nothing(desk, copy, "integrity check|not a readable SQLite store")


def test_restore_refuses_a_file_that_is_not_a_store(desk: Desk, tmp_path: Path) -> None:
    text = tmp_path / "tickets.csv"
    text.write_text("number,title\nINC0000001,VPN down\n" * 200)
    _refused_restore_changes_nothing(desk, text, "not a readable SQLite store")


def test_restore_refuses_a_sqlite_file_without_a_desk(desk: Desk, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY)")
    _refused_restore_changes_nothing(desk, other, "not an itsm desk store")


def test_restore_refuses_while_the_store_is_open_elsewhere(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, _kept = backed_up
    live = store_path(desk.store)
    console = open_store(sqlite_url(live))  # a console left open: its pool holds a connection
    try:
        with console.read() as s:
            s.scalar(select(func.count()).select_from(Ticket))
        before = digest(live) if not Path(f"{live}-wal").exists() else None
        listing = files_in(live.parent)
        with pytest.raises(BackupRefused, match="is in use"):
            restore_store(copy, live, now=NOW)
        assert files_in(live.parent) == listing
        if before is not None:
            assert digest(live) == before
        # The console's desk is the one it had, and it still writes.
        assert create(console, "still here") == "INC0000004"
    finally:
        console.dispose()


def test_restore_refuses_the_store_itself(desk: Desk) -> None:
    live = store_path(desk.store)
    _refused_restore_changes_nothing(desk, live, "is the store itself")


def test_restore_twice_in_one_second_refuses_the_second(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, _kept = backed_up
    live = store_path(desk.store)
    desk.store.dispose()
    restore_store(copy, live, now=NOW)
    with pytest.raises(BackupRefused, match="already exists"):
        # The same instant on a clock in another zone: the name is in UTC.
        restore_store(copy, live, now=NOW.astimezone(timezone(timedelta(hours=8))))
    restore_store(copy, live, now=NOW + timedelta(seconds=1))


def test_restore_refuses_to_create_a_store_beside_a_leftover_wal(
    backed_up: tuple[Desk, Path, list[str]], tmp_path: Path
) -> None:
    _desk, copy, _kept = backed_up
    fresh = tmp_path / "new-machine" / "desk.db"
    fresh.parent.mkdir()
    Path(f"{fresh}-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    with pytest.raises(BackupRefused, match="left without its store"):
        restore_store(copy, fresh, now=NOW)
    assert files_in(fresh.parent) == {"desk.db-wal"}


def test_backup_and_restore_take_file_names_that_are_not_utf8(desk: Desk, tmp_path: Path) -> None:
    first = create(desk.store, "one")
    # As a shell passes $'caf\xe9.db' from a Latin-1 directory listing.
    copy = tmp_path / os.fsdecode(b"caf\xe9.db")
    backup_store(store_path(desk.store), copy)
    assert inspect_copy(copy).tickets == 1
    live = store_path(desk.store)
    desk.store.dispose()
    restore_store(copy, live, now=NOW)
    assert numbers_in(live) == [first]


def test_backup_into_a_directory_names_it(desk: Desk, tmp_path: Path) -> None:
    with pytest.raises(BackupRefused, match="is a directory"):
        backup_store(store_path(desk.store), tmp_path)


def test_inspecting_a_backup_is_quick_and_leaves_the_integrity_check_to_the_restore(
    backed_up: tuple[Desk, Path, list[str]],
) -> None:
    desk, copy, kept = backed_up
    _index_out_of_step(copy)
    facts = inspect_copy(copy)
    assert (facts.revision, facts.tickets) == (head_revision(), len(kept))
    _refused_restore_changes_nothing(desk, copy, "integrity check")


def _index_out_of_step(path: Path) -> None:
    """Change a ticket's closed_at behind the back of ix_tickets_closed_at: every page
    still reads, only the integrity check finds the index entry that no row matches."""
    index = "ix_tickets_closed_at"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA writable_schema=ON")
        row = conn.execute("SELECT * FROM sqlite_master WHERE name = ?", (index,)).fetchone()
        conn.execute("DELETE FROM sqlite_master WHERE name = ?", (index,))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("UPDATE tickets SET closed_at = '2000-01-01 00:00:00' WHERE id = 1")
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", row)
