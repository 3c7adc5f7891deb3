"""Copying a SQLite desk store while the desk works, and putting such a copy back.

A backup is SQLite's online backup API run as one step: the copy is the snapshot of
a single read transaction, so it holds every transaction committed before it began
and none of the half-done ones, while agents and the escalator go on writing (in WAL
mode readers never block writers). `VACUUM INTO` gives the same snapshot and
compacts, which buys nothing here (0.1 % of a seeded store's pages are free); it was
no faster (2.9 GB at a million tickets on a shared 2-core machine at load 9-11,
bench/backup.py: the backup API 27-42 s and 6-10 s of CPU, VACUUM INTO 87-99 s with
two writers going). The backup API also works the other way: a restore writes the
checked copy into the store's own file under the store's lock, where VACUUM INTO
only ever writes a new file.

A restore never trusts the file it is given: it copies it beside the store, checks
the copy (SQLite's integrity check, a schema revision this version knows), brings
an older revision up to date, and only then writes it into the store, under an
exclusive lock, after keeping the replaced store aside. A store another connection
has open (a console, the escalator) is refused: their next write would land on a
desk that changed under them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from itsm_tui.data.migrate import alembic_config, head_revision
from itsm_tui.data.store import lock_timeout_seconds, open_store, sqlite_url
from itsm_tui.i18n import _

# How long a restore waits for a passing lock before it calls the store in use: an
# idle connection keeps WAL mode on for good, so waiting longer would not help.
IN_USE_WAIT_S = 2.0


class BackupRefused(Exception):
    """A backup or restore that was not done; nothing was written. The message says why."""


@dataclass(frozen=True)
class CopyFacts:
    """What a desk store file holds, as far as a backup or restore needs to know."""

    revision: str
    tickets: int
    bytes: int


@dataclass(frozen=True)
class BackupSummary:
    store: Path
    copy: Path
    facts: CopyFacts
    seconds: float


@dataclass(frozen=True)
class RestoreSummary:
    store: Path
    copy: Path
    facts: CopyFacts
    # The revision the copy had, when the restore brought it up to this version's.
    upgraded_from: str | None
    # Where the replaced store was kept; None when there was none.
    kept_aside: Path | None
    seconds: float


def backup_store(store: Path, target: Path) -> BackupSummary:
    """Copy the store at `store` into the new file `target`, consistently, and check it."""
    started = time.perf_counter()
    if not store.is_file():
        raise BackupRefused(_("there is no store at {path}").format(path=store))
    if target.is_dir():
        raise BackupRefused(_("{path} is a directory; name a new file in it").format(path=target))
    if target.exists() or target.is_symlink():
        raise BackupRefused(
            _("{path} already exists; a backup never overwrites a file, name a new one").format(
                path=target
            )
        )
    if not target.parent.is_dir():
        raise BackupRefused(_("there is no directory {path}").format(path=target.parent))
    with _staging(target, like=store) as partial:
        with contextlib.closing(_open_read_only(store)) as source:
            _copy(source, partial, what=store)
        facts = _check(partial, what=store)
        _durable(partial)
        if target.exists():  # created meanwhile: still never overwrite it
            raise BackupRefused(
                _("{path} appeared while the backup ran; nothing was written").format(path=target)
            )
        partial.rename(target)
        _sync_directory(target.parent)
    return BackupSummary(store, target, facts, time.perf_counter() - started)


def inspect_copy(copy: Path) -> CopyFacts:
    """What a backup holds (schema revision, tickets), read without touching the store.

    Quick: no integrity check, which takes minutes on a big store and which a restore
    runs anyway, on its own staged copy."""
    if not copy.is_file():
        raise BackupRefused(_("there is no file {path}").format(path=copy))
    with contextlib.closing(_open_read_only(copy)) as conn:
        return _facts(conn, copy, integrity=False)


def restore_store(copy: Path, store: Path, *, now: datetime) -> RestoreSummary:
    """Put the backup `copy` in place of the store at `store`, keeping the replaced one aside.

    Checked before anything changes: the copy is a readable SQLite file that passes its
    integrity check and carries a schema revision this version knows, and the store is
    not open anywhere else. An older revision is upgraded on the staged copy, so the
    store itself only ever receives a checked, current desk.
    """
    started = time.perf_counter()
    if not copy.is_file():
        raise BackupRefused(_("there is no file {path}").format(path=copy))
    if store.exists() and store.samefile(copy):
        raise BackupRefused(_("{path} is the store itself").format(path=copy))
    if not store.parent.is_dir():
        raise BackupRefused(_("there is no directory {path}").format(path=store.parent))
    orphan = Path(f"{store}-wal")
    if not store.exists() and orphan.exists():
        # SQLite would replay it into the restored store on the first open.
        raise BackupRefused(
            _("{path} is left without its store; move it away and restore again").format(
                path=orphan
            )
        )
    kept = store.with_name(f"{store.name}.before-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    if store.exists() and kept.exists():
        raise BackupRefused(
            _("{path} already exists; wait a second and restore again").format(path=kept)
        )
    with _staging(store, like=store if store.exists() else copy) as staged:
        with contextlib.closing(_open_read_only(copy)) as source:
            _copy(source, staged, what=copy)
        facts = _check(staged, what=copy)
        upgraded_from = None
        if facts.revision != head_revision():
            upgraded_from = facts.revision
            _upgrade(staged)
            facts = _check(staged, what=copy)
        if store.exists():
            _replace_contents(store, staged, kept)
        else:
            _durable(staged)
            staged.rename(store)
            _sync_directory(store.parent)
            kept = None
    return RestoreSummary(store, copy, facts, upgraded_from, kept, time.perf_counter() - started)


# ---------------------------------------------------------------------------
# Steps


@contextlib.contextmanager
def _staging(beside: Path, *, like: Path) -> Iterator[Path]:
    """A new file next to `beside` (same file system, so a rename is atomic) with the
    permissions of `like`: a copy of the desk is no more readable than the desk.
    Removed afterwards unless it was renamed into place."""
    path = beside.with_name(f".{beside.name}.partial-{os.getpid()}")
    mode = stat.S_IMODE(like.stat().st_mode) if like.exists() else 0o600
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        os.chmod(path, mode)  # the umask may have taken bits off
    except FileExistsError:
        raise BackupRefused(
            _(
                "{path} is left from a backup or restore that is still running or crashed; "
                "remove it if none is running"
            ).format(path=path)
        ) from None
    except OSError as exc:
        raise BackupRefused(
            _("cannot write {path}: {why}").format(path=path, why=exc.strerror)
        ) from None
    try:
        yield path
    finally:
        for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


def _open_read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: a backup never writes to what it copies (no checkpoint, no recovery).
    # Quoted from the file system's bytes: a name that is not UTF-8 still names the file.
    uri = f"file:{quote(os.fsencode(path.resolve()))}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=lock_timeout_seconds(), isolation_level=None)


def _copy(source: sqlite3.Connection, target: Path, *, what: Path) -> None:
    """Every page of `source` into `target` in one step: one read transaction, one snapshot.

    Done in steps, the backup API restarts whenever another connection writes between
    two of them, which on a working desk could go on for ever."""
    try:
        with contextlib.closing(sqlite3.connect(target, isolation_level=None)) as dest:
            source.backup(dest, pages=-1)
            # One self-contained file: no -wal beside it to forget when it is moved.
            dest.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(_not_a_store(what, exc)) from None


def _check(path: Path, *, what: Path) -> CopyFacts:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        return _facts(conn, what)


def _facts(conn: sqlite3.Connection, what: Path, *, integrity: bool = True) -> CopyFacts:
    """Integrity, revision and size of a store file, or why it is not one this version takes."""
    try:
        problems = ["ok"]
        if integrity:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(10)")]
        if problems != ["ok"]:
            raise BackupRefused(
                _("{path} fails SQLite's integrity check ({problem}); nothing was written").format(
                    path=what, problem=problems[0]
                )
            )
        has_revision = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        row = None
        if has_revision:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None or not row[0]:
            raise BackupRefused(
                _("{path} is not an itsm desk store (it has no schema revision)").format(path=what)
            )
        revision = row[0]
        _require_known(revision, what)
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(_not_a_store(what, exc)) from None
    return CopyFacts(revision=revision, tickets=tickets, bytes=pages * page_size)


def _require_known(revision: str, what: Path) -> None:
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            _(
                "{path} is at schema revision {revision}, which this version of itsm does not "
                "know (it knows up to {head}); use the newer itsm that wrote it"
            ).format(path=what, revision=revision, head=head_revision())
        )


def _not_a_store(path: Path, exc: sqlite3.DatabaseError) -> str:
    why = str(exc).strip() or type(exc).__name__
    return _("{path} is not a readable SQLite store ({why}); nothing was written").format(
        path=path, why=why
    )


def _unreadable_store(store: Path, exc: sqlite3.Error) -> str:
    # A store too broken to lock is not overwritten blindly: the admin moves it away.
    return _(
        "the store {path} is not a readable SQLite file ({why}); move it away and restore "
        "again; nothing was changed"
    ).format(path=store, why=str(exc).strip() or type(exc).__name__)


def _upgrade(staged: Path) -> None:
    """The desk's own migrations, run on the staged copy (they switch it to WAL mode)."""
    store = open_store(sqlite_url(staged))
    store.dispose()
    with contextlib.closing(sqlite3.connect(staged, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def _replace_contents(store: Path, staged: Path, kept: Path) -> None:
    """Write `staged` into the store file itself, under an exclusive lock.

    Into the file, not a rename over it: a process that opens the store while this runs
    waits on the lock and then reads the restored desk, never an unlinked old file."""
    try:
        live = sqlite3.connect(store, timeout=IN_USE_WAIT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupRefused(_unreadable_store(store, exc)) from None
    with contextlib.closing(live):
        try:
            # Leaving WAL mode needs the only connection to the store: this is the test
            # that no console or escalator has it open, and it folds the WAL into the file.
            mode = live.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise BackupRefused(
                    _(
                        "the store {path} is in use (a console, the escalator or another itsm "
                        "command has it open); stop them and restore again; nothing was changed"
                    ).format(path=store)
                ) from None
            raise BackupRefused(_unreadable_store(store, exc)) from None
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(_unreadable_store(store, exc)) from None
        if mode != "delete":
            raise BackupRefused(
                _("the store {path} cannot leave {mode} mode; nothing was changed").format(
                    path=store, mode=mode
                )
            )
        # Held from here until the connection closes: nobody reads or writes in between.
        live.execute("PRAGMA locking_mode=EXCLUSIVE")
        live.execute("BEGIN EXCLUSIVE")
        live.execute("COMMIT")
        try:
            with _staging(kept, like=store) as keeping:
                with contextlib.closing(sqlite3.connect(keeping, isolation_level=None)) as aside:
                    live.backup(aside, pages=-1)
                    aside.execute("PRAGMA journal_mode=DELETE")
                _durable(keeping)
                keeping.rename(kept)
            with contextlib.closing(sqlite3.connect(staged, isolation_level=None)) as source:
                source.backup(live, pages=-1)
        finally:
            live.execute("PRAGMA journal_mode=WAL")
    _sync_directory(store.parent)


def _durable(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(directory: Path) -> None:
    # The rename itself survives a power cut only once the directory is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
