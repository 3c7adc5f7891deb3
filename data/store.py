"""Opening the desk store: engines for SQLite and PostgreSQL, sessions, migrations.

A desk command runs in one write transaction (`Store.write()`): everything it
does lands together or not at all. On SQLite the write transaction starts with
BEGIN IMMEDIATE so that two writers queue on the busy timeout instead of one of
them failing with "database is locked" when it upgrades a read lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import platformdirs
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

APP_NAME = "itsm-tui"
# How long a statement waits for a lock another session holds before it gives up with a
# message saying what it waited for: SQLite's busy timeout, PostgreSQL's lock_timeout.
LOCK_TIMEOUT_ENV = "ITSM_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 30.0


def lock_timeout_seconds() -> float:
    """ITSM_LOCK_TIMEOUT (seconds) if set, else 30 s."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86_400:
        raise ValueError(
            f"{LOCK_TIMEOUT_ENV} must be a number of seconds from 0.001 to 86400, not {text!r}"
        )
    return seconds


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_url() -> str:
    """ITSM_DB if set, else the embedded SQLite store in the user's data directory."""
    env = os.environ.get("ITSM_DB")
    if env:
        return env
    return sqlite_url(data_dir() / "desk.db")


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Take BEGIN away from pysqlite: we emit it ourselves (below), IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    timeout_ms = max(1, round(lock_timeout_seconds() * 1000))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": timeout_ms / 1000}, future=True
        )
        _configure_sqlite(engine, timeout_ms)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        # Without it a row held FOR UPDATE or a table locked by another session stalls a
        # command, the console's worker or a sweep for ever. A lock_timeout in the URL's
        # own options wins.
        options = str(parsed.query.get("options", ""))
        if "lock_timeout" not in options:
            options = f"{options} -c lock_timeout={timeout_ms}".strip()
        return create_engine(
            url, echo=echo, pool_pre_ping=True, future=True, connect_args={"options": options}
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql"
    )


@dataclass
class Store:
    """One desk store: an engine and the sessions of its readers and writers."""

    url: str
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        reader_engine = self.engine
        if not self.is_sqlite:
            # One snapshot per read, as SQLite's deferred transaction gives: the KPI
            # rollups are read in two statements (which days they cover, then their sums)
            # that must see the same refresh. Read-only, so never a serialization failure.
            reader_engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._reader = sessionmaker(reader_engine, expire_on_commit=False)
        writer_engine = self.engine
        if self.is_sqlite:
            writer_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)
        # The connection `change_marker` asks on SQLite (opened on first use).
        self._marker_lock = threading.Lock()
        self._marker_conn: sqlite3.Connection | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._writer.begin() as session:
            yield session

    def change_marker(self) -> object | None:
        """A value that is different from the last one whenever anything was committed to
        the store in between, by anyone (it may also differ with nothing changed; it never
        stays the same across a commit). A screen that polls compares it with the value it
        took before its last read: the same, and that read still holds (no need to count a
        million tickets again). None: this store cannot tell (in-memory SQLite, an error);
        read as before.

        SQLite: `PRAGMA data_version` on a connection of its own that never writes (the
        counter moves for commits of every other connection: this process's and others').
        PostgreSQL: the current snapshot as text (`xmin:xmax:running xids`): a writing
        transaction takes an xid (xmax moves) and leaves the running list when it commits,
        so each commit changes it; a read-only transaction takes no xid.
        """
        try:
            if self.is_sqlite:
                return self._sqlite_data_version()
            with self.engine.connect() as conn:
                return conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one()
        except (sqlite3.Error, SQLAlchemyError, OSError):
            return None

    def _sqlite_data_version(self) -> int | None:
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        with self._marker_lock:
            if self._marker_conn is None:
                # Read-only, on the file itself: never creates a store, never writes one.
                uri = f"file:{quote(str(Path(database).resolve()))}?mode=ro"
                self._marker_conn = sqlite3.connect(
                    uri, uri=True, check_same_thread=False, isolation_level=None
                )
            row = self._marker_conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])

    def start_sessions_with(self, info: dict[str, object]) -> None:
        """Every session opened from now on starts with `info` in its `Session.info`."""
        self._reader.configure(info=dict(info))
        self._writer.configure(info=dict(info))

    def upgrade(self) -> None:
        """Bring the schema up to the newest migration (a no-op when it is already there)."""
        from itsm_tui.data.migrate import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        with self._marker_lock:
            if self._marker_conn is not None:
                self._marker_conn.close()
                self._marker_conn = None
        self.engine.dispose()


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    store = Store(url or default_db_url())
    if upgrade:
        store.upgrade()
    return store
