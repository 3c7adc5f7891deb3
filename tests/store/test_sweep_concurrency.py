"""Four sweeper processes at the same moment, on SQLite and on PostgreSQL: every event
fires exactly once, and together they do exactly what one sweep alone would have done.

How: 120 tickets (P1 on 24x7 and P3 on business hours, opened a minute apart, half of
them assigned) are put in the store. Then, for each of three instants, the test
1. runs one sweep alone inside a transaction, records everything it wrote (escalation
   rows, notifications, ticket team/assignee/status/priority/level/version, audit
   events, clock states) and its SweepResult, and rolls it back;
2. releases four spawned processes from one barrier; each opens its own engine
   (connected before the barrier), sweeps at that instant and commits;
3. checks that the four results are disjoint and their union equals the lone sweep's
   result, that the store holds exactly what the lone sweep wrote, and that no
   (clock, kind, level) has two escalation rows.
The three instants fire warnings, breaches, level 1 (reassign) and level 2 (raise
priority, pages), so each round races over a different mix of writes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui.data.models import AuditEvent, Escalation
from itsm_tui.data.store import Store
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.escalation.sweep import sweep
from tests.conftest import BACKENDS
from tests.sla_desk import desk_store, local, snapshot, sweep_worker

SWEEPERS = 4
TICKETS = 120
OPENED = local(2026, 11, 24, 9, 30)  # Tuesday
ROUNDS = [
    local(2026, 11, 24, 11, 30),  # P1: warnings, breaches, level 1; P3: response 50%
    local(2026, 11, 24, 15, 0),  # P1: level 2; P3: response 75%, breach, level 1
    local(2026, 11, 30, 15, 0),  # everything else, after a long weekend
]


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


class _RollBack(Exception):
    pass


def _fill(store: Store) -> None:
    with store.write() as session:
        tia = get_agent(session, "tia")
        for i in range(TICKETS):
            p1 = i % 3 == 0
            create_ticket(
                session,
                tia,
                type="incident",
                title=f"ticket {i}",
                impact=1 if p1 else 2,
                urgency=1 if p1 else 2,
                assignee="tia" if i % 2 else None,
                opened_at=OPENED - timedelta(minutes=i),
                now=OPENED,
            )


def _alone(store: Store, now: datetime) -> tuple[dict[str, list], int, dict[str, Any]]:
    """What one sweep alone does at `now`: its result and writes, then rolled back."""
    seen: dict[str, Any] = {}
    try:
        with store.write() as session:
            result = sweep(session, now)
            seen.update(result=result.as_dict(), notifications=result.notifications)
            seen["snapshot"] = snapshot(session)
            raise _RollBack
    except _RollBack:
        pass
    return seen["result"], seen["notifications"], seen["snapshot"]


def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted(entry.items()))


def test_four_sweeper_processes_at_once_fire_each_event_exactly_once(sla_store: Store) -> None:
    _fill(sla_store)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(SWEEPERS + 1)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=sweep_worker, args=(sla_store.url, ROUNDS, barrier, results, i))
        for i in range(SWEEPERS)
    ]
    for w in workers:
        w.start()
    finished = False
    try:
        for round_no, now in enumerate(ROUNDS):
            expected, expected_notices, expected_writes = _alone(sla_store, now)
            assert expected["warned"] and expected["breached"] and expected["escalated"]
            barrier.wait(timeout=120)  # the four sweepers start together
            reports = sorted(results.get(timeout=120) for _ in range(SWEEPERS))
            assert [r[:2] for r in reports] == [(round_no, i) for i in range(SWEEPERS)]
            errors = [r[4] for r in reports if r[4]]
            assert not errors, errors

            for part in ("warned", "breached", "escalated"):
                union = [_key(e) for r in reports for e in r[2][part]]
                assert len(union) == len(set(union)), f"{part} fired twice: {union}"
                assert sorted(union) == sorted(_key(e) for e in expected[part]), part
            assert sum(r[3] for r in reports) == expected_notices

            with sla_store.read() as session:
                written = snapshot(session)
                doubled = session.execute(
                    select(Escalation.clock_id, Escalation.kind, Escalation.level)
                    .group_by(Escalation.clock_id, Escalation.kind, Escalation.level)
                    .having(func.count() > 1)
                ).all()
                reassigned = session.execute(
                    select(AuditEvent.record_id)
                    .where(AuditEvent.action == "escalation", AuditEvent.field == "team")
                    .group_by(AuditEvent.record_id)
                    .having(func.count() > 1)
                ).all()
            assert doubled == []
            assert reassigned == []  # each ticket moved to the escalation team once
            for part, rows in expected_writes.items():
                assert written[part] == rows, f"round {round_no}: {part} differ"
        # Every threshold of every clock has fired by the last round: no clock is left due.
        assert written["clocks"] and all(
            c[6] is None or c[6] > ROUNDS[-1] for c in written["clocks"]
        )
        assert sum(1 for e in written["escalations"] if e[2] == "escalation" and e[3] == 1) > 0
        finished = True
    finally:
        if not finished:
            barrier.abort()  # sweepers waiting for a round that will not come give up
        for w in workers:
            w.join(timeout=60)
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join()
    assert [w.exitcode for w in workers] == [0] * SWEEPERS
