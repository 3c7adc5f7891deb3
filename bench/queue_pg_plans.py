"""Time the queue's saved views at scale, statement by statement, and show the plans of slow ones.

    python bench/queue_pg_plans.py [--db pg | --db URL] [--tickets 1000000] [--runs 5]
                                   [--sort COLUMN] [--descending]

`--db pg` (the default) seeds a throwaway PostgreSQL server (tests/pg_server.py) with
`--tickets` tickets on the default desk, 10% of them open (bench/sweep.py's store, built
in a child process by bench/build_store.py: about three minutes for a million) and
stops it afterwards; `--db URL` reads an existing store
and writes nothing (a SQLite file read-only: sqlite:///file:PATH?mode=ro&uri=true).

As bench/queue.py's agent (the first agent with a team), for each saved view of the queue
(screens/queue.py) and for "All open" with the filter priority P2 and with the search
"printer": the first page (`queue_page`, 60 rows, with its names and clocks), the count
(`count_queue`), the page after the first page's last key, `count_and_position` at that
key (a refresh) and the last page (the End key). `--sort` (one of queue_views.QUEUE_SORTS)
and `--descending` sort every view that way instead of its own order. Each figure is
the median of `--runs` runs in ms; whatever takes over `--slow-ms` is shown with
EXPLAIN (ANALYZE, BUFFERS) of each statement it ran (EXPLAIN QUERY PLAN on SQLite).
The machine's 1-minute load average is printed beside each view's figures. The last
line is one JSON object: {"bench": "queue_pg_plans", "dialect": D,
"tickets": N, "sort": S, "descending": B, "views": {view: {"page_ms": …,
"count_ms": …, "page_after_ms": …, "position_ms": …, "last_page_ms": …, "count": …}},
"load_avg_1m": …}}, "slowest_ms": S, "slow": ["view/figure", …], "load_avg_1m": L,
"built": {…} or null}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# The repository root instead of bench/ itself: a bench/queue.py would shadow the
# standard library module of that name (psycopg imports it).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.build_store import SEEDED_AT, build_in_child
from bench.machine import load_avg
from bench.sweep import BACKLOG_FOR_10_PERCENT, postgres_url
from itsm_tui.context import DeskContext
from itsm_tui.data import queue_pages, queue_views
from itsm_tui.data.directory import desk_directory
from itsm_tui.data.models import Agent, Ticket
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.store import make_engine
from itsm_tui.screens.queue import VIEWS, view_query

LIMIT = 60


def _engine(url: str) -> Engine:
    # A SQLite store is read as it is: no WAL switch or BEGIN IMMEDIATE of the desk's engine.
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url)
    return make_engine(url)


def _cases(
    session: Session,
    ctx: DeskContext,
    actor: str,
    sort: str | None = None,
    descending: bool = False,
) -> dict[str, QueueQuery]:
    directory = desk_directory(session, actor)
    cases = {v.key: view_query(v.key, directory, ctx) for v in VIEWS}
    base = cases["open"]
    cases["open P2"] = replace(base, filters=replace(base.filters, priority=2))
    cases["open printer"] = replace(base, text="printer")
    if sort is not None or descending:
        cases = {
            name: replace(q, sort=sort or q.sort, descending=descending)
            for name, q in cases.items()
        }
    return cases


def measure(
    engine: Engine,
    runs: int,
    slow_ms: float,
    *,
    sort: str | None = None,
    descending: bool = False,
) -> dict[str, Any]:
    ran: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        ran.append((statement, parameters))

    now = SEEDED_AT
    views: dict[str, dict[str, float]] = {}
    slow: list[tuple[str, list[tuple[str, Any]]]] = []
    with Session(engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        actor = session.scalar(
            select(Agent.username).where(Agent.team_id.is_not(None)).order_by(Agent.id)
        )
        ctx = DeskContext(store=None, actor=actor or "root", clock=lambda: now)  # type: ignore[arg-type]

        def timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
            times: list[float] = []
            result: Any = None
            statements: list[tuple[str, Any]] = []
            for i in range(runs):
                session.rollback()  # each run in its own transaction, as the app's workers
                ran.clear()
                started = time.perf_counter()
                result = fn()
                times.append((time.perf_counter() - started) * 1000)
                if i == 0:
                    statements = list(ran)
            ms = statistics.median(times)
            if ms > slow_ms:
                slow.append((label, statements))
            return ms, result

        for name, q in _cases(session, ctx, actor or "root", sort, descending).items():
            row: dict[str, float] = {}
            row["page_ms"], page = timed(
                f"{name}/page", lambda q=q: queue_pages.queue_page(session, q, now=now, limit=LIMIT)
            )
            row["count_ms"], row["count"] = timed(
                f"{name}/count", lambda q=q: queue_pages.count_queue(session, q, now=now)
            )
            if page:
                key = page[-1].key
                row["page_after_ms"], _ = timed(
                    f"{name}/page_after",
                    lambda q=q, key=key: queue_pages.queue_page(
                        session, q, now=now, limit=LIMIT, after=key
                    ),
                )
                row["position_ms"], _ = timed(
                    f"{name}/position",
                    lambda q=q, key=key: queue_pages.count_and_position(session, q, key, now=now),
                )
                row["last_page_ms"], _ = timed(
                    f"{name}/last_page",
                    lambda q=q: queue_pages.queue_page(
                        session, q, now=now, limit=LIMIT, from_end=True
                    ),
                )
            views[name] = {k: round(v, 1) for k, v in row.items()}
            views[name]["load_avg_1m"] = load_avg()
            print(f"{name:14}", views[name], flush=True)

        pg = engine.dialect.name == "postgresql"
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
        conn = session.connection()
        for label, statements in slow:
            print(f"\n### {label}", flush=True)
            for sql, params in statements:
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                rows = conn.exec_driver_sql(explain + sql, params).all()
                print(sql.strip(), "\n", params, sep="")
                print("\n".join(str(r[0] if pg else r[-1]) for r in rows), "\n", flush=True)
        session.rollback()
    figures = [v for row in views.values() for k, v in row.items() if k.endswith("_ms")]
    return {
        "bench": "queue_pg_plans",
        "dialect": engine.dialect.name,
        "tickets": tickets,
        "sort": sort,
        "descending": descending,
        "views": views,
        "slowest_ms": max(figures, default=0.0),
        "slow": [label for label, _ in slow],
        "load_avg_1m": load_avg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="pg", help="'pg' (a seeded throwaway server) or a URL")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-ms", type=float, default=100.0)
    parser.add_argument(
        "--sort", choices=queue_views.QUEUE_SORTS, help="sort every view by this column"
    )
    parser.add_argument("--descending", action="store_true", help="and in reverse")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.db
        built = None
        if args.db == "pg":
            url = stack.enter_context(postgres_url())
            built = build_in_child(url, tickets=args.tickets, backlog=BACKLOG_FOR_10_PERCENT)
        engine = _engine(url)
        try:
            result = measure(
                engine, args.runs, args.slow_ms, sort=args.sort, descending=args.descending
            )
        finally:
            engine.dispose()
    print(json.dumps({**result, "built": built}))


if __name__ == "__main__":
    main()
