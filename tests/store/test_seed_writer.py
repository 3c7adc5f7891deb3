"""The seed's writer process on SQLite: whatever happens to it or to the seed, the seed
ends with a clear error, the child is gone, and the store keeps whole chunks only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from itsm_tui.data.models import Comment, SlaClock, Ticket
from itsm_tui.data.seed import history as seed_history
from itsm_tui.data.seed import seed_store, writer_process
from itsm_tui.data.store import Store
from tests.store.test_seed import NOW, make_desk

CHUNK = 100


@pytest.fixture
def children(monkeypatch) -> list[writer_process.WriterProcess]:
    """Every writer process the seed starts, and small chunks so a seed has several."""
    started: list[writer_process.WriterProcess] = []
    original = writer_process.WriterProcess.__init__

    def record(self: writer_process.WriterProcess, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(writer_process.WriterProcess, "__init__", record)
    monkeypatch.setattr(seed_history, "CHUNK", CHUNK)
    return started


def ticket_ids(store: Store) -> list[int]:
    with store.read() as s:
        return list(s.scalars(select(Ticket.id).order_by(Ticket.id)))


def assert_reaped(children: list[writer_process.WriterProcess]) -> None:
    assert children, "the seed did not use a writer process"
    # returncode is set only once the child was waited for: ended and reaped.
    assert all(child._child.returncode is not None for child in children)


def assert_takes_writes(store: Store, ticket_id: int) -> None:
    """Back in WAL with its locks released: an ordinary write goes in."""
    with store.write() as s:
        s.add(Comment(ticket_id=ticket_id, kind="reply", body="still here", created_at=NOW))
    with store.read() as s:
        assert s.scalar(text("PRAGMA journal_mode")) == "wal"


def test_a_constraint_refusing_a_chunk_ends_the_seed_with_its_message(
    sqlite_store: Store, children
) -> None:
    make_desk(sqlite_store)
    with sqlite_store.write() as s:
        s.execute(
            text(
                "CREATE TRIGGER seed_refused BEFORE INSERT ON sla_clocks "
                "WHEN NEW.ticket_id > 250 BEGIN SELECT RAISE(ABORT, 'seed_refused'); END"
            )
        )
    with pytest.raises(Exception, match="seed_refused") as raised:
        seed_store(sqlite_store, tickets=450, now=NOW)
    # The database's own error, not a wrapper: callers tell a refusal by its class.
    assert type(raised.value).__module__ == "sqlite3"
    assert_reaped(children)
    ids = ticket_ids(sqlite_store)
    assert len(ids) == 200 and ids[-1] == 200
    with sqlite_store.read() as s:
        assert s.scalar(select(func.max(SlaClock.ticket_id))) <= 200
    assert_takes_writes(sqlite_store, ids[0])


def test_a_writer_process_that_dies_ends_the_seed_without_a_hang(
    sqlite_store: Store, children
) -> None:
    make_desk(sqlite_store)

    def kill_after_the_first_chunk(done: int, _total: int) -> None:
        if done == CHUNK:
            child = children[0]._child
            child.kill()
            child.wait()

    with pytest.raises(RuntimeError, match="writer process ended unexpectedly"):
        seed_store(sqlite_store, tickets=450, now=NOW, progress=kill_after_the_first_chunk)
    assert_reaped(children)


def test_an_interrupted_seed_stops_its_writer_and_keeps_whole_chunks(
    sqlite_store: Store, children
) -> None:
    make_desk(sqlite_store)

    def interrupt(done: int, _total: int) -> None:
        if done == 2 * CHUNK:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seed_store(sqlite_store, tickets=450, now=NOW, progress=interrupt)
    assert_reaped(children)
    ids = ticket_ids(sqlite_store)
    # The second chunk's commit was handed over before the interrupt, and the child runs
    # what it was given, in order, before it reads the stop: two whole chunks.
    assert len(ids) == 2 * CHUNK and ids[-1] == len(ids)
    with sqlite_store.read() as s:
        assert s.scalar(select(func.max(SlaClock.ticket_id))) == len(ids)
    assert_takes_writes(sqlite_store, ids[0])
