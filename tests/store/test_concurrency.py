"""Writers at the same moment, on both databases: unique numbers, and no lost update."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, NumberSequence, Ticket
from itsm_tui.desk import Conflict, create_ticket, update_ticket
from itsm_tui.desk.records import get_ticket
from tests.factories import NOW, Desk

T = TypeVar("T")
WRITERS = 8


def _at_once(n: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run `work(i)` in `n` threads released together by a barrier; results or exceptions."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(i)
        except BaseException as exc:  # collected, then asserted on by the test
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_creators_get_unique_gapless_numbers(desk: Desk) -> None:
    def create(i: int) -> str:
        with desk.store.write() as s:
            actor = desk.actor(s, ["alice", "bob", "sam"][i % 3])
            ticket = create_ticket(
                s, actor, type="incident", title=f"writer {i}", impact=2, urgency=2, now=NOW
            )
            return ticket.number

    results = _at_once(WRITERS, create)
    assert not [r for r in results if isinstance(r, BaseException)], results
    numbers = sorted(results)  # type: ignore[type-var]
    assert numbers == [f"INC{i:07d}" for i in range(1, WRITERS + 1)]
    with desk.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == WRITERS
        assert s.get(NumberSequence, "INC").last_value == WRITERS
        titles = set(s.scalars(select(Ticket.title)))
    assert titles == {f"writer {i}" for i in range(WRITERS)}


def test_two_writers_of_one_loaded_version_one_wins_the_other_conflicts(desk: Desk) -> None:
    with desk.store.write() as s:
        create_ticket(
            s, desk.actor(s, "alice"), type="incident", title="Shared", impact=3, urgency=3, now=NOW
        )
    with desk.store.read() as s:
        loaded = get_ticket(s, "INC0000001").version  # both screens loaded this version

    def edit(i: int) -> Any:
        who = ["alice", "bob"][i]
        with desk.store.write() as s:
            ticket = update_ticket(
                s,
                desk.actor(s, who),
                "INC0000001",
                title=f"{who}'s title",
                category=f"{who}-category",
                expected_version=loaded,
                now=NOW,
            )
            return who, ticket.version

    results = _at_once(2, edit)
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1 and len(losses) == 1, results
    (winner, version), conflict = wins[0], losses[0]
    loser = "bob" if winner == "alice" else "alice"
    assert isinstance(conflict, Conflict), conflict
    assert conflict.exit_code == 3
    assert conflict.current_version == version == loaded + 1
    # The loser is told who changed what since its version.
    assert f"{winner} set title Shared → {winner}'s title" in str(conflict)
    assert {(c.actor, c.field) for c in conflict.changes} >= {
        (winner, "title"),
        (winner, "category"),
    }

    with desk.store.read() as s:
        ticket = get_ticket(s, "INC0000001")
        assert (ticket.title, ticket.category, ticket.version) == (
            f"{winner}'s title",
            f"{winner}-category",
            loaded + 1,
        )
        updates = s.execute(
            select(AuditEvent.field, AuditEvent.new_value).where(AuditEvent.action == "update")
        ).all()
    assert sorted(updates) == [("category", f"{winner}-category"), ("title", f"{winner}'s title")]
    assert all(loser not in (new or "") for _field, new in updates)


def test_a_writer_after_a_committed_change_is_refused_and_writes_nothing(desk: Desk) -> None:
    with desk.store.write() as s:
        create_ticket(
            s, desk.actor(s, "alice"), type="incident", title="Shared", impact=3, urgency=3, now=NOW
        )
    with desk.store.write() as s:
        update_ticket(s, desk.actor(s, "bob"), "INC0000001", urgency=1, now=NOW)
    with desk.store.read() as s:
        events_before = s.scalar(select(func.count()).select_from(AuditEvent))
    conflict: Conflict | None = None
    try:
        with desk.store.write() as s:
            update_ticket(
                s, desk.actor(s, "alice"), "INC0000001", title="Mine", expected_version=1, now=NOW
            )
    except Conflict as exc:
        conflict = exc
    assert conflict is not None
    assert "bob set urgency 3 → 1" in str(conflict)
    with desk.store.read() as s:
        ticket = get_ticket(s, "INC0000001")
        assert (ticket.title, ticket.version) == ("Shared", 2)
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events_before
