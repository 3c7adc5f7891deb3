"""Hostile input gets a clear answer: one line, the right exit code, and nothing written.

Each family of issue 9 §6 has its tests here: numbers and dates out of range,
text that is not UTF-8, nesting thousands deep, locks held by another session,
stores that cannot be written, inactive agents and acting as someone else.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text, update

from itsm_tui.data.models import Agent
from itsm_tui.data.store import Store
from tests.cli.conftest import Itsm, assert_refused, snapshot
from tests.desk_files import exported_ticket
from tests.factories import NOW, Desk


def _incident(itsm: Itsm, **extra: str) -> dict:
    args = ["ticket", "create", "--type", "incident", "--title", "VPN drops every hour"]
    args += ["--impact", "2", "--urgency", "2"]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    return itsm.json(*args)


def _refused_and_unchanged(itsm: Itsm, *args: str, code: int = 1, says: str = "", **kw) -> str:
    before = snapshot(itsm.store)
    line = assert_refused(itsm(*args, **kw), code, says=says)
    assert "unexpected error" not in line
    assert snapshot(itsm.store) == before
    return line


# ---------------------------------------------------------------------------
# Numbers and dates out of range


@pytest.mark.parametrize(
    "version", ["9223372036854775808", "-9223372036854775809", "2147483648", "0", "-1"]
)
def test_a_version_no_record_can_have_is_a_usage_error(itsm: Itsm, version: str) -> None:
    _incident(itsm)
    result = itsm("ticket", "transition", "INC0000001", "assigned", "--expect-version", version)
    assert result.exit_code == 2, result.stderr
    assert "--expect-version" in result.stderr and "range" in result.stderr
    assert "unexpected error" not in result.stderr


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59-14:00",  # past datetime's last instant once in UTC
        "0001-01-01T00:00:00+14:00",  # before its first
        "9999-12-31T23:59:59Z",
        "1899-12-31T23:59:59Z",
    ],
)
def test_dates_outside_the_years_the_desk_keeps_are_refused(itsm: Itsm, moment: str) -> None:
    _refused_and_unchanged(
        itsm,
        "ticket", "create", "--type", "incident", "--title", "x", "--impact", "1",
        "--urgency", "1", "--opened-at", moment,
        says=f"opened-at {moment.replace('Z', '+00:00')} is out of range: the desk keeps "
        "times from 1900 to 8999",
    )  # fmt: skip
    _refused_and_unchanged(itsm, "--now", moment, "ticket", "list", says="--now")
    _refused_and_unchanged(
        itsm, "outage", "record", "--service", "VPN", "--start", moment, says="out of range"
    )


def test_an_import_with_a_date_out_of_range_names_the_line(itsm: Itsm, tmp_path: Path) -> None:
    _incident(itsm)
    record = exported_ticket(itsm.ok("export").stdout)
    record["number"] = ""
    good = json.dumps(record)
    bad = json.dumps({**record, "opened_at": "0001-01-01T00:00:00+14:00"})
    path = tmp_path / "tickets.jsonl"
    path.write_text(f"{good}\n{bad}\n", encoding="utf-8")
    line = _refused_and_unchanged(itsm, "import", str(path), agent="root")
    assert f"{path}: line 2" in line and "out of range" in line


# ---------------------------------------------------------------------------
# Text that is not UTF-8

# What Python makes of the byte 0xE9 in an argument (`--service $'caf\xe9'`).
LATIN1_CAFE = "caf\udce9"


def test_an_argument_that_is_not_utf8_is_named_with_its_byte(itsm: Itsm) -> None:
    _incident(itsm)
    line = _refused_and_unchanged(
        itsm, "ticket", "update", "INC0000001", "--service", LATIN1_CAFE, says="--service"
    )
    assert "'caf\\xe9': byte 0xE9 at column 4 is not UTF-8" in line
    assert "Latin-1" in line
    _refused_and_unchanged(
        itsm, "ticket", "comment", "INC0000001", LATIN1_CAFE, says="BODY 'caf\\xe9'"
    )
    _refused_and_unchanged(itsm, "ticket", "list", "--status", LATIN1_CAFE, says="--status")
    _refused_and_unchanged(itsm, "ticket", "list", agent=LATIN1_CAFE, says="--as 'caf\\xe9'")


def test_a_file_name_that_is_not_utf8_still_imports(itsm: Itsm, tmp_path: Path) -> None:
    # File names are the file system's business: any bytes are a valid name.
    _incident(itsm)
    record = {**exported_ticket(itsm.ok("export").stdout), "number": ""}
    path = tmp_path / f"{LATIN1_CAFE}.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert itsm.json("import", str(path), agent="root")["tickets"] == 1


@pytest.fixture
def exported(itsm: Itsm) -> str:
    _incident(itsm)
    record = {**exported_ticket(itsm.ok("export").stdout), "number": "", "title": "Café au lait"}
    return json.dumps(record, ensure_ascii=False)


@pytest.mark.parametrize(
    ("encode", "says"),
    [
        (lambda t: t.encode("utf-16"), "{file} is UTF-16 text; save it as UTF-8"),
        (lambda t: t.encode("utf-16-le"), "{file} is UTF-16 text; save it as UTF-8"),
        (
            lambda t: t.encode("latin-1"),
            "{file}: line 1: byte 0xE9 at column {column} is not UTF-8 (the text looks like "
            "Latin-1 or Windows-1252); save the file as UTF-8",
        ),
        (
            lambda t: (t + "\n" + t + "\n").encode() + t.encode("latin-1") + b"\n",
            "{file}: line 3: byte 0xE9",
        ),
    ],
    ids=["utf-16", "utf-16-no-mark", "latin-1", "bad-byte-on-line-3"],
)
def test_an_import_file_that_is_not_utf8_names_file_line_and_byte(
    itsm: Itsm, exported: str, tmp_path: Path, encode, says: str
) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(encode(exported))
    column = exported.index("é") + 1
    _refused_and_unchanged(
        itsm, "import", str(path), agent="root", says=says.format(file=path, column=column)
    )


def test_a_bad_byte_on_standard_input_says_standard_input(itsm: Itsm, exported: str) -> None:
    data = (exported + "\n").encode("latin-1")
    _refused_and_unchanged(
        itsm, "import", "-", agent="root", input=data, says="standard input: line 1: byte 0xE9"
    )


def test_a_utf8_file_with_a_byte_order_mark_imports(
    itsm: Itsm, exported: str, tmp_path: Path
) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + exported.encode() + b"\n")
    assert itsm.json("import", str(path), agent="root")["tickets"] == 1


# ---------------------------------------------------------------------------
# Nesting thousands deep


def test_a_json_line_nested_thousands_deep_is_refused(itsm: Itsm, tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    _refused_and_unchanged(
        itsm, "import", str(path), agent="root", says="line 1: JSON nested too deeply to read"
    )


def test_form_answers_nested_deeper_than_a_form_are_refused(
    itsm: Itsm, exported: str, tmp_path: Path
) -> None:
    answers: dict = {"leaf": "x"}
    for _ in range(40):
        answers = {"nested": answers}
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps({**json.loads(exported), "form_data": answers}) + "\n")
    _refused_and_unchanged(
        itsm, "import", str(path), agent="root", says="form_data nests deeper than 32 levels"
    )


@pytest.mark.parametrize(
    "value",
    ["[" * 50_000 + "]" * 50_000, "{a = " * 5_000 + "1" + "}" * 5_000],
    ids=["arrays", "inline-tables"],
)
def test_a_desk_file_nested_thousands_deep_is_refused(
    itsm: Itsm, tmp_path: Path, value: str
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(f'[desk]\nname = "x"\n\ndeep = {value}\n', encoding="utf-8")
    _desk_file_refused(itsm, path, "deep.toml:4: arrays or tables nested too deeply to read\n")


def _desk_file_refused(itsm: Itsm, path: Path, stderr: str) -> None:
    # Desk-file errors are the one exception to "itsm: …": each is `file:line: …`.
    before = snapshot(itsm.store)
    result = itsm("config", "apply", str(path), agent="root")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", stderr)
    assert snapshot(itsm.store) == before


def test_a_desk_file_that_is_not_utf8_names_its_line(itsm: Itsm, tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_bytes(b'[desk]\nname = "Caf\xe9"\n')
    _desk_file_refused(
        itsm,
        path,
        "desk.toml:2: byte 0xE9 at column 12 is not UTF-8 "
        "(the text looks like Latin-1 or Windows-1252)\n",
    )


# ---------------------------------------------------------------------------
# Locks another session holds


@contextmanager
def _held(desk: Desk, statement: str) -> Iterator[None]:
    """Another session holding a lock until the block ends."""
    if desk.store.is_sqlite:
        database = desk.store.engine.url.database
        assert database is not None
        other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with desk.store.engine.connect() as other:
        other.execute(text(statement))
        try:
            yield
        finally:
            other.rollback()


def test_a_held_row_or_table_is_waited_for_a_bounded_time_and_named(
    itsm: Itsm, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    _incident(itsm)
    monkeypatch.setenv("ITSM_LOCK_TIMEOUT", "0.3")
    update_title = ("ticket", "update", "INC0000001", "--title", "Renamed")
    with _held(desk, "SELECT id FROM tickets WHERE number = 'INC0000001' FOR UPDATE"):
        line = _refused_and_unchanged(itsm, *update_title, says="waited 0.3 s for ")
    if desk.store.is_sqlite:
        assert "another process to finish writing to" in line
    else:
        assert "a lock on a row of tickets that another session holds" in line
        # Nothing reads the table while it is locked: compare before and after.
        before = snapshot(itsm.store)
        with _held(desk, "LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"):
            line = assert_refused(itsm("ticket", "list"), says="waited 0.3 s for ")
        assert snapshot(itsm.store) == before
        assert "a lock on the table tickets" in line
    assert "ITSM_LOCK_TIMEOUT=SECONDS" in line
    # Once the other session lets go, the same command goes through.
    assert itsm.json(*update_title)["title"] == "Renamed"


def test_a_lock_timeout_that_is_not_a_number_is_refused(
    itsm: Itsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITSM_LOCK_TIMEOUT", "forever")
    _refused_and_unchanged(
        itsm, "ticket", "list", says="ITSM_LOCK_TIMEOUT must be a number of seconds"
    )


# ---------------------------------------------------------------------------
# Stores that cannot be written


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """`path` unwritable even for root: chmod for a user, the immutable flag for root."""
    import os
    import subprocess

    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        assert not os.access(path, os.W_OK)
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def _without_journal(store: Store) -> Path:
    """The store file, its WAL folded back in and removed, as after the last writer left."""
    store.dispose()
    database = store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    Path(f"{database}-wal").unlink(missing_ok=True)
    Path(f"{database}-shm").unlink(missing_ok=True)
    return Path(database)


def test_a_read_only_store_file_says_so_and_how_to_fix_it(sqlite_store: Store) -> None:
    from tests.factories import build_desk

    itsm = Itsm(build_desk(sqlite_store).store)
    _incident(itsm)
    path = _without_journal(itsm.store)
    with _read_only(path):
        # Reading works; a write is refused with the cause and the fix.
        assert itsm.json("ticket", "show", "INC0000001")["number"] == "INC0000001"
        line = assert_refused(itsm("ticket", "update", "INC0000001", "--title", "New"))
    assert f"the store file {path} is read-only for you; make it writable" in line
    assert "readonly database" not in line
    assert itsm.json("ticket", "show", "INC0000001")["title"] == "VPN drops every hour"


def test_a_read_only_store_folder_says_sqlite_needs_to_write_beside_it(
    sqlite_store: Store,
) -> None:
    from tests.factories import build_desk

    itsm = Itsm(build_desk(sqlite_store).store)
    path = _without_journal(itsm.store)
    with _read_only(path.parent):
        line = assert_refused(itsm("ticket", "list"))
    assert f"the folder {path.parent} of the store is not writable for you" in line
    assert f"({path.name}-wal, {path.name}-shm)" in line


def test_a_full_disk_says_the_disk_is_full_and_writes_nothing(sqlite_store: Store) -> None:
    from tests.factories import build_desk

    itsm = Itsm(build_desk(sqlite_store).store)
    before = snapshot(itsm.store)

    # SQLite's answer on a full disk (SQLITE_FULL), produced by a file that may not grow.
    def no_room(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", no_room)
    try:
        result = itsm(
            "ticket", "create", "--type", "incident", "--title", "x", "--impact", "1",
            "--urgency", "1", "--description", "log line\n" * 100_000,
        )  # fmt: skip
    finally:
        event.remove(Engine, "connect", no_room)
    line = assert_refused(result)
    assert f"the disk holding {itsm.store.engine.url.database} is full; free some space" in line
    assert "nothing was written" in line
    assert snapshot(itsm.store) == before


# ---------------------------------------------------------------------------
# Inactive agents


def _deactivate(store: Store, username: str) -> None:
    with store.write() as session:
        session.execute(update(Agent).where(Agent.username == username).values(active=False))


@pytest.mark.parametrize(
    "command",
    [
        ("ticket", "list"),
        ("ticket", "show", "INC0000001"),
        ("config", "show"),
        ("export",),
        ("sla", "breaching"),
        ("ticket", "comment", "INC0000001", "still here"),
    ],
)
def test_an_inactive_agent_can_no_longer_use_the_desk(itsm: Itsm, command: tuple) -> None:
    _incident(itsm)
    _deactivate(itsm.store, "bob")
    _refused_and_unchanged(
        itsm, *command, agent="bob", says="agent bob is inactive and can no longer use the desk"
    )


def test_an_admin_cannot_act_as_an_inactive_agent(itsm: Itsm) -> None:
    _deactivate(itsm.store, "bob")
    _refused_and_unchanged(itsm, "ticket", "list", agent="bob", login="root", says="inactive")


# ---------------------------------------------------------------------------
# Acting as another agent


@pytest.mark.parametrize("name", [" Root", "root ", "ro\u200bot", "root\n", "-root", "ROOT!"])
def test_a_malformed_agent_name_is_refused(itsm: Itsm, name: str) -> None:
    # Not folded to `root`: a name is exactly the user name, or refused.
    _refused_and_unchanged(itsm, "ticket", "list", agent=name, login="root", says="user name")


def test_only_an_admin_can_act_as_another_agent(itsm: Itsm) -> None:
    _incident(itsm)
    line = _refused_and_unchanged(
        itsm, "ticket", "comment", "INC0000001", "as bob", agent="bob", login="alice"
    )
    assert "only an active administrator can act as another agent" in line
    assert "your login alice" in line
    # A login that is no agent at all cannot use --as either.
    _refused_and_unchanged(itsm, "ticket", "list", agent="bob", login="mallory", says="mallory")


def test_an_admin_acting_as_another_agent_is_audited_with_both_names(itsm: Itsm) -> None:
    _incident(itsm)
    done = itsm("ticket", "comment", "INC0000001", "Called the user", agent="bob", login="root")
    assert done.exit_code == 0, done.stderr
    audit = itsm.json("ticket", "show", "INC0000001")["audit"]
    assert (audit[0]["actor"], audit[0]["impersonator"]) == ("alice", None)
    assert {(e["actor"], e["impersonator"]) for e in audit[1:]} == {("bob", "root")}
    shown = itsm.ok("ticket", "show", "INC0000001").stdout
    assert "bob (impersonated by root) comment" in shown


def test_acting_as_yourself_is_not_an_impersonation(itsm: Itsm) -> None:
    _incident(itsm, assignee="bob")
    itsm.ok("ticket", "comment", "INC0000001", "On it", agent="bob", login="bob")
    audit = itsm.json("ticket", "show", "INC0000001")["audit"]
    assert audit[-1]["actor"] == "bob" and audit[-1]["impersonator"] is None


def test_a_store_opened_by_the_console_carries_the_impersonation(
    itsm: Itsm,
) -> None:
    """Sessions the console opens on its own (thread workers) name the admin too."""
    from itsm_tui.desk import add_comment
    from itsm_tui.desk.identity import resolve_acting, session_marks
    from itsm_tui.desk.records import get_agent

    _incident(itsm)
    with itsm.store.read() as session:
        who = resolve_acting(session, login="root", acting_as="bob")
    itsm.store.start_sessions_with(session_marks(who))
    done = threading.Event()

    def worker() -> None:
        with itsm.store.write() as session:
            add_comment(
                session, get_agent(session, "bob"), "INC0000001", "From the console", now=NOW
            )
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert done.is_set()
    audit = itsm.json("ticket", "show", "INC0000001")["audit"]
    assert (audit[-1]["actor"], audit[-1]["impersonator"]) == ("bob", "root")


# ---------------------------------------------------------------------------
# The small things


def test_export_counts_in_words_that_agree(itsm: Itsm) -> None:
    _incident(itsm)
    assert itsm.ok("export").stderr == "exported 1 ticket\n"
    _incident(itsm)
    assert itsm.ok("export").stderr == "exported 2 tickets\n"


def test_a_status_the_type_lacks_is_refused_with_its_article(itsm: Itsm) -> None:
    _incident(itsm)
    _refused_and_unchanged(
        itsm, "ticket", "transition", "INC0000001", "flying",
        says="'flying' is not a status of an incident; statuses: new,",
    )  # fmt: skip
