"""The seed's writer process on SQLite: a second connection, in a child process, that runs
the loading statements in the order they were handed over while this process generates
the next chunk.

A writer *thread* cannot overlap the two: Python's sqlite3 holds the GIL while it binds
parameters, so the generator and the inserts took turns on one core. The child has an
interpreter and a connection of its own, so rows generated here are inserted there, on
the other core. Rows cross a pipe in marshal's format: both ends are the same
interpreter, and for rows of text and numbers it is three times as fast as pickle (a
chunk of 331,000 rows: 0.18 s against 0.53 s), a fraction of what binding them costs.

The child runs as `python -I writer_process.py` and imports only the standard library:
no fork of a process that may hold threads and locks, nothing of the application to
import again. Protocol, one length-prefixed message at a time (marshal, or pickle for
what marshal cannot carry, such as an exception): the set-up, then batches
(lists of operations); each batch gets one reply, ("ok", the last query's rows) or
("error", the exception). After an error the child runs nothing more and answers every
batch with that error. An empty message, or the end of the pipe when this process dies,
rolls back what is not committed and ends the child.
"""

from __future__ import annotations

import contextlib
import marshal
import pickle
import signal
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Sequence
from itertools import chain
from typing import IO, Any

# Bound parameters per statement, at most: SQLite's default limit since 3.32 (a build
# with a lower one is asked for its own).
SQLITE_VARIABLES = 32_766

# Payload size and format (marshal or pickle).
_HEADER = struct.Struct("<QB")
_MARSHAL, _PICKLE = 0, 1
# How long the child may take to roll back and close once told to stop, before it is
# killed: a rollback of one chunk takes well under a second.
STOP_SECONDS = 60.0

Operation = tuple[Any, ...]


def variables_limit(conn: sqlite3.Connection) -> int:
    return min(SQLITE_VARIABLES, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def insert_rows(
    cur: sqlite3.Cursor,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    variables: int,
    marks: Sequence[str] | None = None,
) -> None:
    """Many rows per INSERT statement, up to the variable limit: fewer statements to
    step than executemany's one per row (0.67 s against 0.80 s for 300,000 comments).

    `marks`, one per column, replaces a column's plain `?` with an expression of it
    (see `stamp_mark`)."""
    cols = ", ".join(columns)
    row_marks = "(" + ", ".join(marks or "?" * len(columns)) + ")"
    per = max(1, variables // len(columns))
    head = f"INSERT INTO {table} ({cols}) VALUES "
    full = head + ", ".join([row_marks] * per)
    for k in range(0, len(rows), per):
        batch = rows[k : k + per]
        sql = full if len(batch) == per else head + ", ".join([row_marks] * len(batch))
        cur.execute(sql, list(chain.from_iterable(batch)))


def stamp_mark(epoch: int) -> str:
    """A column bound as whole seconds after `epoch`, stored as the text SQLAlchemy
    writes for a UTC datetime ('2026-11-24 09:30:00.000000'; NULL stays NULL). SQLite
    formats it in the writer process, on the core the generator does not use."""
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', ? + {int(epoch)}, 'unixepoch')"


def _send(stream: IO[bytes], message: Any) -> None:
    try:
        data, form = marshal.dumps(message), _MARSHAL
    except ValueError:
        data, form = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL), _PICKLE
    stream.write(_HEADER.pack(len(data), form))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size, form = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return marshal.loads(data) if form == _MARSHAL else pickle.loads(data)


class WriterProcess:
    """This side of the writer process: hands operations over in order, one batch per
    transaction, and waits only for an answer it asks for (`ask`) and, at each commit,
    for the transaction before (so at most two chunks' rows are in flight)."""

    def __init__(self, path: str, pragmas: Sequence[str], timeout: float) -> None:
        self.error: BaseException | None = None
        self._batch: list[Operation] = []
        self._unanswered = 0
        self._child = subprocess.Popen(
            [sys.executable, "-I", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self._to, self._from = self._child.stdin, self._child.stdout
        self._post({"path": path, "pragmas": list(pragmas), "timeout": timeout})

    def add(self, operation: Operation) -> None:
        if self.error is not None:
            raise self.error
        self._batch.append(operation)

    def commit(self) -> None:
        self.add(("sql", "COMMIT", ()))
        self._flush()
        while self._unanswered > 1:
            self._answer()

    def ask(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query, run after everything handed over before it."""
        self.add(("rows", sql))
        self._flush()
        rows: list[tuple[Any, ...]] = []
        while self._unanswered:
            rows = self._answer()
        return rows

    def close(self, *, finish: bool) -> None:
        """Stop the child and wait for it. `finish`: first run what was handed over and
        raise its failure; else drop it (the child rolls back an open transaction)."""
        try:
            if finish:
                self._flush()
                while self._unanswered:
                    self._answer()
        finally:
            self._stop()

    def _stop(self) -> None:
        # A child that has gone already cannot be told; waiting below tells how it ended.
        with contextlib.suppress(RuntimeError, OSError):
            self._post(b"")
        with contextlib.suppress(OSError):
            self._to.close()
        try:
            self._child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        finally:
            self._from.close()

    def _flush(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._post(batch)
            self._unanswered += 1

    def _post(self, message: Any) -> None:
        try:
            _send(self._to, message)
        except (BrokenPipeError, ValueError) as error:
            raise self._gone() from error

    def _answer(self) -> Any:
        try:
            status, value = _receive(self._from)
        except EOFError as error:
            raise self._gone() from error
        self._unanswered -= 1
        if status == "error":
            self.error = value
            raise value
        return value

    def _gone(self) -> RuntimeError:
        try:
            code = self._child.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._child.kill()
            code = self._child.wait()
        self.error = RuntimeError(
            f"the seed's writer process ended unexpectedly (exit code {code})"
        )
        return self.error


def _run(cur: sqlite3.Cursor, operation: Operation, variables: int) -> Any:
    kind = operation[0]
    if kind == "insert":
        _kind, table, columns, rows, marks = operation
        insert_rows(cur, table, columns, rows, variables, marks)
    elif kind == "sql":
        cur.execute(operation[1], operation[2])
    elif kind == "many":
        cur.executemany(operation[1], operation[2])
    elif kind == "rows":
        cur.execute(operation[1])
        return cur.fetchall()
    else:
        raise ValueError(f"unknown operation {kind!r}")
    return None


def _reply_error(error: BaseException) -> BaseException:
    """The error as the parent will raise it: itself when it survives pickling."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def main() -> None:
    # The parent decides what an interrupt or a hang-up means: it stops the child, which
    # rolls back. Killed mid-transaction with the journal in memory, the file would be torn.
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    into, out = sys.stdin.buffer, sys.stdout.buffer
    setup = _receive(into)
    error: BaseException | None = None
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(setup["path"], isolation_level=None, timeout=setup["timeout"])
        cur = conn.cursor()
        for pragma in setup["pragmas"]:
            cur.execute(pragma).fetchall()
        variables = variables_limit(conn)
    except Exception as failed:
        error = _reply_error(failed)
    while True:
        try:
            batch = _receive(into)
        except EOFError:
            break
        if not batch:
            break
        if error is None:
            try:
                result = None
                for operation in batch:
                    result = _run(cur, operation, variables)
            except Exception as failed:
                error = _reply_error(failed)
                if conn is not None and conn.in_transaction:
                    conn.rollback()
        try:
            _send(out, ("error", error) if error is not None else ("ok", result))
        except BrokenPipeError:
            break  # the parent has gone: roll back below
    if conn is not None:
        if conn.in_transaction:
            conn.rollback()
        conn.close()


if __name__ == "__main__":
    main()
