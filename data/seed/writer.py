"""Loading rows in bulk: many rows per INSERT on SQLite, COPY on PostgreSQL, and the index
and full-text upkeep set aside while a large load goes in."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from itsm_tui.data import search
from itsm_tui.data.models import Base
from itsm_tui.data.seed.writer_process import (
    WriterProcess,
    insert_rows,
    stamp_mark,
    variables_limit,
)
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

# A SQLite connection tuned for a load. Rows reference each other by ids the seed
# assigns, so per-row FK lookups only cost time; a crash mid-seed leaves a demo store to
# throw away anyway. The journal mode is set apart (see tune_for_load).
SQLITE_LOAD_PRAGMAS = (
    "PRAGMA foreign_keys=OFF",
    "PRAGMA synchronous=OFF",
    "PRAGMA threads=2",
    "PRAGMA cache_size=-262144",
    "PRAGMA temp_store=MEMORY",
)


class _Overlap:
    """One thread that runs the writer's statements in the order they were handed over
    (PostgreSQL, and a SQLite store without a file; a SQLite file gets a process).

    psycopg's COPY releases the GIL while it writes, so the seed builds chunk N+1 on one
    core while chunk N goes in on the other. After a failure
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


def _stamped(row: tuple[Any, ...], at: list[int], text: Callable[[int], str]) -> tuple[Any, ...]:
    out = list(row)
    for i in at:
        if out[i] is not None:
            out[i] = text(out[i])
    return tuple(out)


class BulkWriter:
    """Bulk inserts through the raw DBAPI connection, one transaction per chunk.

    Inside `overlapped()` every statement runs on a writer process (SQLite) or thread
    (PostgreSQL), in order; the caller only waits for a result it asks for (`scalar`,
    `rows`) and, at each commit, for the transaction before (so at most two chunks' rows
    are held at once).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sqlite = store.is_sqlite
        self.conn = store.engine.raw_connection()
        self.cur = self.conn.cursor()
        self.counts: Counter[str] = Counter()
        self._replica = False
        self._overlap: _Overlap | None = None
        self._process: WriterProcess | None = None
        self._variables = variables_limit(self.conn.driver_connection) if self.sqlite else 0
        database = store.engine.url.database if self.sqlite else None
        self._stamp: tuple[int, Callable[[int], str]] | None = None
        self._file = database if database and database != ":memory:" else None

    @property
    def in_a_process(self) -> bool:
        """Whether `overlapped()` hands statements to a writer process (a SQLite file)."""
        return self.sqlite and self._file is not None

    @contextlib.contextmanager
    def overlapped(self) -> Iterator[None]:
        """Hand statements to a writer process or thread until the block ends; its failure
        is raised here (or at the next statement handed over), and the block waits for the
        last one."""
        if self.in_a_process:
            with self._writer_process():
                yield
            return
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

    @contextlib.contextmanager
    def _writer_process(self) -> Iterator[None]:
        # This connection stays idle meanwhile: no transaction, no statement left open
        # (a reader's lock would keep the child from committing).
        if self.conn.in_transaction:
            raise RuntimeError("the seed's writer process needs no transaction open here")
        self.cur.close()
        self.cur = self.conn.cursor()
        timeout = float(self.scalar("PRAGMA busy_timeout") or 0) / 1000
        self.cur.close()
        self.cur = self.conn.cursor()
        pragmas = [*SQLITE_LOAD_PRAGMAS, f"PRAGMA journal_mode={self.journal}"]
        process = self._process = WriterProcess(str(self._file), pragmas, timeout)
        try:
            yield
        except BaseException:
            process.close(finish=False)
            raise
        else:
            process.close(finish=True)
        finally:
            self._process = None

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
        if self._process is not None:
            self._process.add(("sql", "BEGIN IMMEDIATE", ()))
        elif self.sqlite:
            self._hand_over(lambda: self.cur.execute("BEGIN IMMEDIATE"))

    def commit(self) -> None:
        if self._process is not None:
            self._process.commit()
            return
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
            for pragma in SQLITE_LOAD_PRAGMAS:
                self.cur.execute(pragma)
            # Without WAL every page is written once instead of twice (WAL, then checkpoint).
            # Only possible when no other connection has the file open; else WAL it stays.
            self.cur.execute("PRAGMA journal_mode=DELETE")
            self.journal = str(self.scalar("PRAGMA journal_mode=MEMORY"))
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

    def stamp_seconds(self, epoch: datetime, text: Callable[[int], str]) -> None:
        """Columns named `stamped` in `insert` hold whole seconds after `epoch` (a UTC
        instant), which `text` turns into the stored text."""
        self._stamp = (int(epoch.replace(tzinfo=UTC).timestamp()), text)

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
        stamped: Collection[str] = (),
    ) -> None:
        """Rows in columns' order. A `stamped` column holds seconds (see stamp_seconds) or
        None: the writer process has SQLite format them, off the generating core; without
        one they are formatted here."""
        if not rows:
            return
        cols = ", ".join(columns)
        cur = self.cur
        if stamped:
            if self._stamp is None:
                raise RuntimeError("stamped columns need stamp_seconds first")
            epoch, text = self._stamp
            at = [i for i, column in enumerate(columns) if column in stamped]
            if self._process is not None:
                mark = stamp_mark(epoch)
                marks = tuple(mark if column in stamped else "?" for column in columns)
                self._process.add(("insert", table, tuple(columns), rows, marks))
                self.counts[table] += len(rows)
                return
            rows = [_stamped(row, at, text) for row in rows]
        if self._process is not None:
            self._process.add(("insert", table, tuple(columns), rows, None))
        elif self.sqlite:
            variables = self._variables
            self._hand_over(lambda: insert_rows(cur, table, columns, rows, variables))
        else:

            def copy_rows() -> None:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in rows:
                        write(row)

            self._hand_over(copy_rows)
        self.counts[table] += len(rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._process is not None:
            self._process.add(("sql", sql, tuple(params)))
            return
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self._hand_over(lambda: self.cur.execute(sql, params))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self._process is not None:
            self._process.add(("many", sql, rows))
            return
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self._hand_over(lambda: self.cur.executemany(sql, rows))

    def scalar(self, sql: str) -> Any:
        if self._process is not None:
            found = self._process.ask(sql)
            return found[0][0] if found else None

        def ask() -> Any:
            self.cur.execute(sql)
            row = self.cur.fetchone()
            return row[0] if row else None

        return self._call(ask)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._process is not None:
            return self._process.ask(sql)

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
