"""Loading rows in bulk: executemany on SQLite, COPY on PostgreSQL, and the index and
full-text upkeep set aside while a large load goes in."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from itsm_tui.data import search
from itsm_tui.data.models import Base
from itsm_tui.data.store import Store

# Tables the seeder writes rows into with ids it assigns itself.
HISTORY_TABLES = (
    "tickets",
    "comments",
    "audit_events",
    "sla_clocks",
    "surveys",
    "time_entries",
    "complaints",
    "outages",
    "changes",
    "change_approvals",
    "knowledge_articles",
    "budgets",
    "escalations",
    "notifications",
)
BIG_TABLES = (
    "tickets",
    "comments",
    "audit_events",
    "sla_clocks",
    "surveys",
    "time_entries",
    "escalations",
    "notifications",
)

T = TypeVar("T")

# Bound parameters per statement, at most: SQLite's default limit since 3.32 (a build
# with a lower one is asked for its own).
SQLITE_VARIABLES = 32_766


class _Overlap:
    """One thread that runs the writer's statements in the order they were handed over.

    SQLite's C code and psycopg's COPY release the GIL while they write, so the seed
    builds chunk N+1 on one core while chunk N goes in on the other. After a failure
    the remaining statements are skipped and every later hand-over raises that failure,
    so the seed stops with the database's own error instead of writing past it.
    (A plain thread, not concurrent.futures' pool: that imports `queue`, which a script
    in bench/ shadows with bench/queue.py.)
    """

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.last_commit: Future[Any] | None = None
        self._tasks: deque[tuple[Future[Any], Callable[[], Any]] | None] = deque()
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="seed-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        if self.error is not None:
            raise self.error
        future: Future[T] = Future()
        with self._ready:
            self._tasks.append((future, fn))
            self._ready.notify()
        return future

    def close(self) -> None:
        """Wait until every statement handed over has run (or been skipped)."""
        with self._ready:
            self._tasks.append(None)
            self._ready.notify()
        self._thread.join()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._tasks:
                    self._ready.wait()
                task = self._tasks.popleft()
            if task is None:
                return
            future, fn = task
            try:
                result = self._run(fn)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _run(self, fn: Callable[[], T]) -> T:
        if self.error is not None:
            raise self.error
        if self.stopping.is_set():
            raise RuntimeError("the seed stopped before this statement ran")
        try:
            return fn()
        except BaseException as error:
            self.error = error
            raise


class BulkWriter:
    """Bulk inserts through the raw DBAPI connection, one transaction per chunk.

    Inside `overlapped()` every statement runs on a writer thread, in order; the caller
    only waits for a result it asks for (`scalar`, `rows`) and, at each commit, for the
    transaction before (so at most two chunks' rows are held at once).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.is_sqlite
        self.conn = store.engine.raw_connection()
        self.cur = self.conn.cursor()
        self.counts: Counter[str] = Counter()
        self._replica = False
        self._overlap: _Overlap | None = None
        # Asked once, before a writer thread shares the connection.
        self._variables = (
            min(
                SQLITE_VARIABLES,
                self.conn.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER),
            )
            if self.sqlite
            else 0
        )

    @contextlib.contextmanager
    def overlapped(self) -> Iterator[None]:
        """Hand statements to a writer thread until the block ends; its failure is raised
        here (or at the next statement handed over), and the block waits for the last one."""
        overlap = self._overlap = _Overlap()
        try:
            yield
        except BaseException:
            overlap.stopping.set()
            raise
        finally:
            overlap.close()
            self._overlap = None
        if overlap.error is not None:
            raise overlap.error

    def _call(self, fn: Callable[[], T]) -> T:
        """Run now, or in order on the writer thread and wait for its answer."""
        if self._overlap is None:
            return fn()
        return self._overlap.submit(fn).result()

    def _hand_over(self, fn: Callable[[], Any]) -> None:
        """Run now, or queue it on the writer thread without waiting."""
        if self._overlap is None:
            fn()
        else:
            self._overlap.submit(fn)

    def begin(self) -> None:
        if self.sqlite:
            self._hand_over(lambda: self.cur.execute("BEGIN IMMEDIATE"))

    def commit(self) -> None:
        done = self.conn.commit if not self.sqlite else lambda: self.cur.execute("COMMIT")
        overlap = self._overlap
        if overlap is None:
            done()
            return
        previous, overlap.last_commit = overlap.last_commit, overlap.submit(done)
        if previous is not None:
            previous.result()

    def vacuum_analyze(self) -> None:
        """PostgreSQL: VACUUM as well as ANALYZE once the load is in. Rows written by COPY
        are not yet marked all-visible, so until autovacuum comes round every count (and
        keyset read) visits the table instead of answering from an index: the queue's
        counts took ~250 ms at a million tickets. VACUUM cannot run in a transaction."""
        driver = self.conn.driver_connection
        driver.autocommit = True
        try:
            self.cur.execute("VACUUM (ANALYZE)")
        finally:
            driver.autocommit = False

    def rollback(self) -> None:
        if self.sqlite:
            if self.conn.in_transaction:
                self.cur.execute("ROLLBACK")
        else:
            self.conn.rollback()

    def tune_for_load(self) -> None:
        if self.sqlite:
            # Rows reference each other by ids assigned here, so per-row FK lookups only
            # cost time; a crash mid-seed leaves a demo store to throw away anyway.
            self.cur.execute("PRAGMA foreign_keys=OFF")
            # Without WAL every page is written once instead of twice (WAL, then checkpoint).
            # Only possible when no other connection has the file open; else WAL it stays.
            self.cur.execute("PRAGMA journal_mode=DELETE")
            self.journal = str(self.scalar("PRAGMA journal_mode=MEMORY"))
            self.cur.execute("PRAGMA synchronous=OFF")
            self.cur.execute("PRAGMA threads=2")
            self.cur.execute("PRAGMA cache_size=-262144")
            self.cur.execute("PRAGMA temp_store=MEMORY")
        else:
            # Skipping the FK triggers halves a COPY; it needs superuser, so it is optional.
            try:
                self.cur.execute("SET session_replication_role = replica")
                self.conn.commit()
                self._replica = True
            except Exception:
                self.conn.rollback()

    def restore(self) -> None:
        try:
            if self.sqlite:
                self.cur.execute("PRAGMA journal_mode=WAL")
                self.cur.execute("PRAGMA foreign_keys=ON")
                self.cur.execute("PRAGMA synchronous=NORMAL")
                self.cur.execute("PRAGMA cache_size=-2000")
            elif self._replica:
                self.cur.execute("SET session_replication_role = origin")
                self.conn.commit()
        finally:
            self.cur.close()
            self.conn.close()

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        cur = self.cur
        if self.sqlite:
            row_marks = "(" + ", ".join("?" * len(columns)) + ")"
            per = max(1, self._variables // len(columns))

            def insert_rows() -> None:
                # Many rows per statement, not executemany: sqlite3 gives up the GIL
                # around each step, and a thread that must win it back once per row
                # waits on the generator's switch interval (executemany beside a busy
                # thread took 3 times as long in bench-style trials; this 1.5-2 times,
                # and alone it is faster).
                full = f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([row_marks] * per)
                for k in range(0, len(rows), per):
                    batch = rows[k : k + per]
                    sql = (
                        full
                        if len(batch) == per
                        else full[: full.index(" VALUES ") + 8]
                        + (", ".join([row_marks] * len(batch)))
                    )
                    cur.execute(sql, list(chain.from_iterable(batch)))

            self._hand_over(insert_rows)
        else:

            def copy_rows() -> None:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row)

            self._hand_over(copy_rows)
        self.counts[table] += len(rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self._hand_over(lambda: self.cur.execute(sql, params))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self._hand_over(lambda: self.cur.executemany(sql, rows))

    def scalar(self, sql: str) -> Any:
        def ask() -> Any:
            self.cur.execute(sql)
            row = self.cur.fetchone()
            return row[0] if row else None

        return self._call(ask)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        def ask() -> list[tuple[Any, ...]]:
            self.cur.execute(sql)
            return list(self.cur.fetchall())

        return self._call(ask)


def droppable_indexes(w: BulkWriter, adding: int) -> list[Any]:
    """Secondary indexes of the big tables that this load will at least double.

    Rebuilding such an index once costs less than maintaining it row by row. A store
    that `itsm init` just made already holds a few audit events, hence "double", not "empty".
    """
    out = []
    for name in BIG_TABLES:
        if int(w.scalar(f"SELECT COUNT(*) FROM {name}")) >= adding:
            continue
        # Asked through the loading connection: a new SQLite connection would switch the
        # file back to WAL in its connect hook.
        if w.sqlite:
            sql = f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{name}'"
        else:
            sql = f"SELECT indexname FROM pg_indexes WHERE tablename = '{name}'"
        present = {str(r[0]) for r in w.rows(sql)}
        for index in sorted(Base.metadata.tables[name].indexes, key=lambda ix: str(ix.name)):
            if index.name in present and not index.unique:
                out.append(index)
    return out


@dataclass
class SearchPause:
    """The full-text index upkeep taken away for a big load, and how to restore it."""

    drop: list[str]
    restore: list[str]


def pause_search(w: BulkWriter, adding: int) -> SearchPause | None:
    """Stop maintaining the full-text index row by row while a load at least doubles tickets.

    SQLite: the triggers of migration 0002 would update two FTS5 indexes per row; one
    rebuild at the end is several times cheaper. PostgreSQL: the GIN indexes are dropped
    like the other secondary indexes (the generated tsvector is still computed by COPY;
    it cannot be switched off, and the 1M benchmark shows what it costs).
    Each object is restored from its own definition as the store holds it.
    """
    if int(w.scalar("SELECT COUNT(*) FROM tickets")) >= adding:
        return None
    if w.sqlite:
        names = ", ".join(f"'{name}'" for name in search.SQLITE_TRIGGERS)
        triggers = w.rows(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
        )
        if not triggers:
            return None  # a store without search (older than revision 0002)
        fts, trgm = search.FTS_TABLE, search.TRIGRAM_TABLE
        return SearchPause(
            drop=[f"DROP TRIGGER {name}" for name, _sql in triggers],
            restore=[
                f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",
                f"INSERT INTO {trgm} ({trgm}) VALUES ('delete-all')",
                f"INSERT INTO {trgm} (rowid, title) "
                f"SELECT id, title || '{search.TITLE_PAD}' FROM tickets",
                *(str(sql) for _name, sql in triggers),
            ],
        )
    names = ", ".join(f"'{name}'" for name in search.PG_INDEXES)
    indexes = w.rows(
        "SELECT indexname, indexdef FROM pg_indexes "
        f"WHERE tablename = 'tickets' AND indexname IN ({names})"
    )
    if not indexes:
        return None
    return SearchPause(
        drop=[f"DROP INDEX {name}" for name, _def in indexes],
        restore=[str(definition) for _name, definition in indexes],
    )


def sync_pg_sequences(w: BulkWriter, tables: Iterable[str]) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move each past the highest id written."""
    for table in tables:
        seq = w.scalar(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        if seq:
            w.execute(
                f"SELECT setval('{seq}', (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
