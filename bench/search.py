"""Benchmark full-text search at a million tickets against a naive LIKE '%word%' scan.

    python bench/search.py [--tickets 1000000] [--store PATH | --db pg] [--rebuild]

`--store PATH` reuses (or, the first time, builds) a SQLite store file; `--db pg`
seeds a throwaway PostgreSQL server (tests/pg_server.py). A store is built in a child
process (bench/build_store.py), so the seeder's heap is not this process's.
`--rebuild` times building the full-text index from scratch on the loaded store. Each
query runs as the search box runs it (newest 60) and as the open queue would (open,
priority order, 60); the figure is the best of several runs, with the machine's load
average after it. The last line is one JSON object:
{"bench": "search", "tickets": N, "search_s": S, "naive_like_s": T, ...}: the slowest
query of each kind; S is the search box's newest-first page (search_tickets), and
"queue_order_search_s" the same queries as a filter on the open queue's priority order.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, true

# The repository root instead of bench/ itself: a bench/queue.py would shadow the
# standard library module of that name (psycopg imports it).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.build_store import build_in_child
from bench.machine import database, load_avg
from itsm_tui.data.models import Ticket
from itsm_tui.data.search import (
    FTS_TABLE,
    TITLE_PAD,
    TRIGRAM_TABLE,
    parse_query,
    search_clause,
    search_tickets,
)
from itsm_tui.data.store import Store, open_store

# A common title word, a description word, two words, a word being typed, a phrase,
# a ticket number, a word no ticket has, and CJK (absent from the seeded text).
QUERIES = (
    "printer",
    "morning",
    "vpn disconnects",
    "prin",
    '"print jobs stuck"',
    "INC0000042",
    "zeppelin",
    "打印",
)


def best(fn: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def naive(word: str) -> Any:
    """What one would write without an index: every column, case-insensitive LIKE."""
    conds = []
    for term in parse_query(word).terms:
        pattern = f"%{term.text}%"
        conds.append(
            or_(
                Ticket.number.ilike(pattern),
                Ticket.title.ilike(pattern),
                Ticket.description.ilike(pattern),
            )
        )
    return conds


def rebuild(store: Store) -> float:
    """Build the full-text index from scratch, as migration 0002 and the seed do."""
    start = time.perf_counter()
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
            conn.exec_driver_sql(
                f"INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}) VALUES ('delete-all')"
            )
            conn.exec_driver_sql(
                f"INSERT INTO {TRIGRAM_TABLE} (rowid, title) "
                f"SELECT id, title || '{TITLE_PAD}' FROM tickets"
            )
        else:
            conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
            for name, definition in conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' "
                "AND indexname IN ('ix_tickets_search', 'ix_tickets_title_trgm')"
            ).all():
                conn.exec_driver_sql(f"DROP INDEX {name}")
                conn.exec_driver_sql(definition)
    return time.perf_counter() - start


def index_mb(store: Store) -> dict[str, float]:
    with store.engine.connect() as conn:
        if store.is_sqlite:
            try:
                rows = conn.exec_driver_sql(
                    "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'tickets_fts%' "
                    "GROUP BY name"
                ).all()
            except Exception:  # dbstat is an optional part of SQLite
                return {}
            by_table: dict[str, float] = {}
            for name, size in rows:
                table = TRIGRAM_TABLE if name.startswith(TRIGRAM_TABLE) else FTS_TABLE
                by_table[table] = by_table.get(table, 0.0) + size / 1e6
            return {k: round(v, 1) for k, v in by_table.items()}
        sizes = conn.exec_driver_sql(
            "SELECT pg_relation_size('ix_tickets_search'), "
            "pg_relation_size('ix_tickets_title_trgm'), "
            "(SELECT SUM(pg_column_size(search_vector)) FROM tickets)"
        ).one()
        return {
            "ix_tickets_search": round(sizes[0] / 1e6, 1),
            "ix_tickets_title_trgm": round(sizes[1] / 1e6, 1),
            "search_vector_column": round(sizes[2] / 1e6, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--store", default=None, help="SQLite store file to reuse or build")
    parser.add_argument("--db", default=None, help="database URL, or 'pg' for a throwaway server")
    parser.add_argument("--rebuild", action="store_true", help="also time an index rebuild")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="itsm-bench-") as tmpdir,
        database(args.db, args.store, Path(tmpdir), "bench_search") as url,
    ):
        store = open_store(url)
        with store.read() as s:
            have = s.scalar(select(func.count()).select_from(Ticket)) or 0
        seed_s = None
        if have < args.tickets:
            store.dispose()
            built = build_in_child(url, tickets=args.tickets - have, days=90, seed=1)
            seed_s = built["seed_s"]
        with store.read() as s:
            tickets = s.scalar(select(func.count()).select_from(Ticket)) or 0
        rebuild_s = rebuild(store) if args.rebuild else None
        dialect = store.dialect
        results: dict[str, dict[str, Any]] = {}
        with store.read() as s:
            for q in QUERIES:
                clause = search_clause(dialect, parse_query(q))
                queue = (
                    select(Ticket.id)
                    .where(Ticket.is_open == true(), clause)
                    .order_by(Ticket.priority, Ticket.opened_at, Ticket.id)
                    .limit(60)
                )
                like = select(Ticket.id).where(*naive(q)).order_by(Ticket.id.desc()).limit(60)
                matches = s.scalar(select(func.count()).select_from(Ticket).where(clause))
                results[q] = {
                    "matches": matches,
                    "newest_ms": round(best(lambda q=q: search_tickets(s, q, limit=60)) * 1000, 2),
                    "queue_ms": round(best(lambda st=queue: s.execute(st).all()) * 1000, 2),
                    "naive_like_ms": round(best(lambda st=like: s.execute(st).all(), 2) * 1000, 1),
                }
                results[q]["load_avg_1m"] = load_avg()
                print(f"{q!r:24} {results[q]}", flush=True)
        sizes = index_mb(store)
        store.dispose()

    search_s = max(r["newest_ms"] for r in results.values()) / 1000
    queue_s = max(r["queue_ms"] for r in results.values()) / 1000
    naive_s = max(r["naive_like_ms"] for r in results.values()) / 1000
    print(
        json.dumps(
            {
                "bench": "search",
                "tickets": tickets,
                "search_s": round(search_s, 4),
                "naive_like_s": round(naive_s, 3),
                "queue_order_search_s": round(queue_s, 4),
                "backend": dialect,
                "seed_s": seed_s,
                "index_rebuild_s": round(rebuild_s, 2) if rebuild_s is not None else None,
                "index_mb": sizes,
                "load_avg_1m": load_avg(),
                "queries": results,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
