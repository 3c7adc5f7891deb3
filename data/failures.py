"""What a store's failure means for a person: its cause and the fix, in one line.

The drivers say "attempt to write a readonly database", "disk I/O error" or
"canceling statement due to lock timeout"; the desk says which store, why, and
what to do about it. Nothing here retries: each message ends a command whose
transaction was rolled back, so nothing was written.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from itsm_tui.data.store import LOCK_TIMEOUT_ENV, lock_timeout_seconds
from itsm_tui.i18n import _

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_BUSY = 5
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
# PostgreSQL SQLSTATEs.
_PG_LOCK_NOT_AVAILABLE = "55P03"
_PG_DISK_FULL = "53100"
_PG_READ_ONLY = "25006"
# Below this much free space, an I/O error on the store is most likely a full disk.
_NEARLY_FULL = 1 << 20

_RELATION = re.compile(r'relation "([^"]+)"')
_STATEMENT_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO|JOIN)\s+\"?(\w+)", re.IGNORECASE)


def explain(exc: BaseException, url: str) -> str | None:
    """The cause and fix of a store failure, or None when it is not one this knows."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return _explain_sqlite(code & 0xFF, _sqlite_path(url))
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return _explain_postgresql(sqlstate, orig, getattr(exc, "statement", None))
    return None


def _sqlite_path(url: str) -> Path | None:
    try:
        database = make_url(url).database
    except Exception:
        return None
    return Path(database) if database and database != ":memory:" else None


def _seconds() -> str:
    try:
        return f"{lock_timeout_seconds():g}"
    except ValueError:
        return "?"


def _explain_sqlite(code: int, path: Path | None) -> str | None:
    store = str(path) if path else _("the SQLite store")
    if code == _SQLITE_BUSY:
        return _(
            "waited {s} s for another process to finish writing to {store}; try again, "
            "or wait longer with {env}=SECONDS"
        ).format(s=_seconds(), store=store, env=LOCK_TIMEOUT_ENV)
    if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
        return _read_only(path, store)
    if code == _SQLITE_FULL:
        return _full(path, store)
    if code == _SQLITE_IOERR:
        if path is not None and _free_bytes(path) < _NEARLY_FULL:
            return _full(path, store)
        return _(
            "the disk holding {store} reported an I/O error; check the disk (dmesg, "
            "df) before trying again; nothing was written"
        ).format(store=store)
    return None


def _read_only(path: Path | None, store: str) -> str:
    if path is not None:
        folder = path.parent
        if _mounted_read_only(folder):
            return _(
                "{store} is on a file system mounted read-only; remount it read-write or "
                "move the store to a writable disk"
            ).format(store=store)
        if path.exists() and not os.access(path, os.W_OK):
            return _(
                "the store file {store} is read-only for you; make it writable "
                "(chmod u+w, or ask its owner) or use a store you can write"
            ).format(store=store)
        if not os.access(folder, os.W_OK | os.X_OK):
            return _(
                "the folder {folder} of the store is not writable for you, and SQLite "
                "writes its journal ({name}-wal, {name}-shm) beside the store; make the folder "
                "writable or move the store to one that is"
            ).format(folder=folder, name=path.name)
    return _(
        "{store} cannot be written (read-only file, folder or file system); make it "
        "writable or use a store you can write"
    ).format(store=store)


def _full(path: Path | None, store: str) -> str:
    return _(
        "the disk holding {store} is full; free some space there (df shows how much is "
        "left) and try again; nothing was written"
    ).format(store=store if path is None else str(path))


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return 1 << 62


def _mounted_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _explain_postgresql(sqlstate: str, orig: BaseException, statement: str | None) -> str | None:
    if sqlstate == _PG_LOCK_NOT_AVAILABLE:
        return _(
            "waited {s} s for a lock on {what} that another session holds; try again, "
            "or wait longer with {env}=SECONDS"
        ).format(s=_seconds(), what=_locked(orig, statement), env=LOCK_TIMEOUT_ENV)
    if sqlstate == _PG_DISK_FULL:
        return _(
            "the PostgreSQL server's disk is full; free space on the server and try "
            "again; nothing was written"
        )
    if sqlstate == _PG_READ_ONLY:
        return _(
            "the PostgreSQL server accepts no writes (a standby, or read-only "
            "transactions by default); point --db at the primary"
        )
    return None


def _locked(orig: BaseException, statement: str | None) -> str:
    """What the statement waited for: a row of a table, or a whole table."""
    diag = getattr(orig, "diag", None)
    context = getattr(diag, "context", None) or ""
    found = _RELATION.search(context)
    if found:
        if "tuple" in context:
            return _("a row of {table}").format(table=found.group(1))
        return _("the table {table}").format(table=found.group(1))
    found = _STATEMENT_TABLE.search(statement or "")
    if found:
        return _("the table {table}").format(table=found.group(1))
    return _("a table of the store")
