"""`itsm seed`: a deterministic, realistic demo history of any size, written in bulk.

The package is split by record family: `writer` (bulk loading; `writer_process`, the
child that inserts on SQLite), `desk` (the desk as configured), `people` (agents,
requesters), `tickets` and `story` (tickets, comments, audit), `sla` (clocks),
`measures` (outages, surveys, time, complaints, budgets), `changes` (changes, CAB
votes, knowledge articles); `history` runs them in order.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.schema import CreateIndex

from itsm_tui.data.kpi import rollup_triggers as kpi_triggers
from itsm_tui.data.seed.catalogue import (
    any_planned_item,
    planned_request_count,
    planned_statuses,
    seed_planned_requests,
)
from itsm_tui.data.seed.desk import read_desk
from itsm_tui.data.seed.history import ProgressCallback, Seeder
from itsm_tui.data.seed.oncall import seed_rotations
from itsm_tui.data.seed.people import ensure_agents, ensure_requesters, load_staff
from itsm_tui.data.seed.reads import write_read_marks
from itsm_tui.data.seed.sla import SlaSetup
from itsm_tui.data.seed.timeline import Timeline
from itsm_tui.data.seed.writer import (
    BIG_TABLES,
    HISTORY_TABLES,
    BulkWriter,
    SearchPause,
    droppable_indexes,
    pause_search,
    sync_pg_sequences,
)
from itsm_tui.data.store import Store
from itsm_tui.i18n import _

# Tables that receive millions of rows: their secondary indexes are dropped during a
# load into an empty table and rebuilt once at the end (far cheaper than per row).
REBUILD_INDEXES_FROM = 20_000


@dataclass
class SeedSummary:
    """What a seed wrote: rows per table, tickets per type and status, and how long it took."""

    tickets: int = 0
    days: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    by_type_status: dict[str, dict[str, int]] = field(default_factory=dict)
    by_priority: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    # The planned requests, written through the desk's functions after the bulk load:
    # how many, and how long they took (part of `seconds`).
    planned_requests: int = 0
    planned_seconds: float = 0.0


def seed_store(
    store: Store,
    *,
    tickets: int,
    days: int = 90,
    seed: int = 1,
    now: datetime,
    progress: ProgressCallback | None = None,
    backlog: float = 0.0,
) -> SeedSummary:
    """Write `tickets` tickets with their history over the last `days` days.

    `backlog` (0–1) keeps that share of otherwise finished tickets open: a desk behind
    on its work (the sweep benchmark uses it to reach its open-ticket count).

    Deterministic: the same (tickets, days, seed, now) on the same desk gives the same rows.
    """
    if tickets < 0:
        raise ValueError(_("the number of tickets must be 0 or more"))
    if days < 1:
        raise ValueError(_("the number of days must be 1 or more"))
    if now.tzinfo is None:
        raise ValueError(_("now must carry a time zone"))
    started = time.perf_counter()
    rng = random.Random(seed)
    clock = Timeline(now, days)
    # The SLA setup through the desk's own code (policies, their calendars, escalation
    # rules), before the loading connection takes the store.
    with store.read() as session:
        sla_setup = SlaSetup.load(session)
    # Idle pooled connections would keep SQLite from leaving WAL for the load (see _Writer).
    store.engine.dispose()
    w = BulkWriter(store)
    w.stamp_seconds(clock.base, clock.text)
    dropped: list[Any] = []
    paused: SearchPause | None = None
    set_aside = False
    kpi_paused = False
    try:
        w.tune_for_load()
        w.begin()
        desk = read_desk(w)
        ensure_agents(w, desk, rng)
        requester_ids = ensure_requesters(w, max(200, min(5000, tickets // 25)))
        w.commit()
        kpi_paused = pause_kpi_marks(w)
        if tickets >= REBUILD_INDEXES_FROM:
            dropped = droppable_indexes(w, tickets)
            # A writer process keeps the full-text index row by row, on the core it has to
            # itself while this one generates; rebuilt afterwards it would run alone (the
            # two FTS5 rebuilds took 30 s of a million tickets' 250).
            paused = None if w.in_a_process else pause_search(w, tickets)
            w.begin()
            for index in dropped:
                w.execute(f"DROP INDEX {index.name}")
            for statement in paused.drop if paused else ():
                w.execute(statement)
            w.commit()
            set_aside = True
        staff = load_staff(w, desk, requester_ids)
        # The planned requests are some of the `tickets`, written after the bulk (below).
        planned = planned_request_count(tickets) if any_planned_item(w) else 0
        seeder = Seeder(w, desk, clock, rng, staff, sla_setup, tickets - planned, days, backlog)
        seeder.run(progress)
        if set_aside:
            set_aside = False
            restore_upkeep(w, dropped, paused, store.engine.dialect)
        if kpi_paused:
            kpi_paused = False
            resume_kpi_marks(w)
        if not w.sqlite:
            w.begin()
            sync_pg_sequences(
                w,
                ("agents", "requesters", *HISTORY_TABLES),
            )
            w.commit()
        if w.sqlite:
            # A sampled ANALYZE: enough for the planner, seconds instead of a full scan...
            w.execute("PRAGMA analysis_limit=1000")
            w.execute("ANALYZE")
            # ...except for tickets, where sampling put ix_tickets_resolved_at at 11 times
            # the table and "recently resolved" scanned the table (240 ms at a million).
            # Exact statistics cost under 2 s there.
            w.execute("PRAGMA analysis_limit=0")
            w.execute("ANALYZE tickets")
        else:
            w.commit()
            w.vacuum_analyze()
    except BaseException:
        w.rollback()
        if set_aside:
            # Whatever went in, the desk gets its indexes and search back: without them
            # every queue view scans the table. The seed's own error is the one to report.
            with contextlib.suppress(Exception):
                restore_upkeep(w, dropped, paused, store.engine.dialect)
        if kpi_paused:
            with contextlib.suppress(Exception):
                resume_kpi_marks(w)
        if not w.sqlite:
            # The chunks committed before the failure keep their ids: move PostgreSQL's
            # sequences past them, or the desk's next insert collides with a seeded row.
            # The seed's own error is the one to report, so a failure here is not.
            with contextlib.suppress(Exception):
                sync_pg_sequences(w, ("agents", "requesters", *HISTORY_TABLES))
                w.commit()
        raise
    finally:
        w.restore()
    with store.write() as session:
        seed_rotations(session, now)
    planned_started = time.perf_counter()
    with store.write() as session:
        written = seed_planned_requests(session, now, planned, seed)
        statuses = planned_statuses(session, written)
    with store.write() as session:
        # Last, once every notice is in: how far each agent has read.
        write_read_marks(session, now)
    planned_seconds = time.perf_counter() - planned_started
    rows = dict(w.counts)
    rows["tickets"] = rows.get("tickets", 0) + written
    by_type: dict[str, dict[str, int]] = {}
    merged = dict(seeder.summary_status)
    for key, count in statuses.items():
        merged[key] = merged.get(key, 0) + count
    for (tname, status), count in sorted(merged.items()):
        by_type.setdefault(tname, {})[status] = count
    return SeedSummary(
        tickets=tickets,
        days=days,
        rows=dict(sorted(rows.items())),
        by_type_status=by_type,
        by_priority=dict(sorted(seeder.summary_priority.items())),
        seconds=round(time.perf_counter() - started, 3),
        planned_requests=written,
        planned_seconds=round(planned_seconds, 3),
    )


def pause_kpi_marks(w: BulkWriter) -> bool:
    """Drop the KPI triggers for the load (one mark per row would cost the 1M seed tens of
    seconds it does not have); False on a store without them."""
    if w.sqlite:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kpi_mark_%'"
    else:
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'kpi_mark_%'"
    if not int(w.scalar(sql)):
        return False
    w.begin()
    for statement in kpi_triggers.drop_statements("sqlite" if w.sqlite else "postgresql"):
        w.execute(statement)
    w.commit()
    return True


def resume_kpi_marks(w: BulkWriter) -> None:
    """The KPI triggers back, and every day's rollups forgotten: no rebuild here (the 1M
    seed has no time for it); the first refresh builds them, and until then the figures
    come from the base tables."""
    w.begin()
    for statement in kpi_triggers.create_statements("sqlite" if w.sqlite else "postgresql"):
        w.execute(statement)
    for table in ("kpi_days", "kpi_rollup", "kpi_dirty"):
        w.execute(f"DELETE FROM {table}")
    w.commit()


def restore_upkeep(
    w: BulkWriter, dropped: list[Any], paused: SearchPause | None, dialect: Any
) -> None:
    """The indexes and full-text upkeep a large load set aside, back as migrated."""
    if dropped:
        # Rebuilt from the model itself, so they come back exactly as migrated.
        # Through the connection that dropped them: another SQLite connection may
        # still hold the old schema and refuse the name before it notices the change.
        w.begin()
        for index in dropped:
            w.execute(str(CreateIndex(index).compile(dialect=dialect)))
        w.commit()
    if paused:
        w.begin()
        for statement in paused.restore:
            w.execute(statement)
        w.commit()


__all__ = ["BIG_TABLES", "SeedSummary", "seed_store"]
