"""Benchmark `itsm seed`: bulk seed of N tickets vs. the naive one-ORM-object-at-a-time load.

    python bench/seed.py [--tickets 1000000] [--db URL | --db pg] [--naive 2000]

Builds a fresh store (SQLite in a temp dir unless --db; `--db pg` starts a throwaway
PostgreSQL server with tests/pg_server.py), applies a desk, seeds, and prints figures.
The last line is one JSON object: {"bench": "seed", "tickets": N, "seconds": S, ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    Comment,
    SlaClock,
    Team,
    Ticket,
)
from itsm_tui.data.seed import seed_store
from itsm_tui.data.store import Store, open_store, sqlite_url

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def apply_desk(store: Store) -> str:
    """The shipped default desk, as `itsm init` applies it."""
    with store.write() as session:
        apply_config(session, load_default_desk(), now=NOW)
    return "default desk"


def naive_load(store: Store, tickets: int) -> float:
    """Tickets per second when each ticket and its history is one ORM write, as a desk call is."""
    with store.read() as s:
        agent = s.scalars(select(Agent.id).order_by(Agent.id)).first()
        team = s.scalars(select(Team.id).order_by(Team.id)).first()
    start = time.perf_counter()
    opened = NOW - timedelta(days=30)
    for i in range(tickets):
        at = opened + timedelta(minutes=i)
        with store.write() as s:
            t = Ticket(
                number=f"NAV{i:07d}",
                type="incident",
                title=f"naive {i}",
                description="x",
                status="closed",
                is_open=False,
                impact=3,
                urgency=3,
                priority=4,
                team_id=team,
                assignee_id=agent,
                opened_at=at,
                updated_at=at,
                version=5,
            )
            s.add(t)
            s.flush()
            for _k in range(2):
                s.add(
                    Comment(
                        ticket_id=t.id, author_id=agent, kind="reply", body="hello", created_at=at
                    )
                )
            for v in range(1, 6):
                s.add(
                    AuditEvent(
                        at=at,
                        actor_id=agent,
                        record_type="ticket",
                        record_id=t.id,
                        record_number=t.number,
                        action="transition",
                        field="status",
                        record_version=v,
                    )
                )
            for kind in ("response", "resolution"):
                s.add(
                    SlaClock(
                        ticket_id=t.id,
                        kind=kind,
                        target_minutes=60,
                        started_at=at,
                        due_at=at,
                        state="met",
                    )
                )
    return tickets / (time.perf_counter() - start)


@contextlib.contextmanager
def database(url: str | None, tmp: Path) -> Iterator[tuple[str, str]]:
    """(url, backend) of a fresh database for this run."""
    if url == "pg":
        from tests.pg_server import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            yield server.create_database(f"bench_seed_{os.getpid()}"), "postgresql"
        finally:
            server.stop()
    elif url:
        yield url, url.split(":", 1)[0].split("+", 1)[0]
    else:
        yield sqlite_url(tmp / "seed.db"), "sqlite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None, help="database URL, or 'pg' for a throwaway server")
    parser.add_argument("--naive", type=int, default=2_000, help="tickets for the naive sample")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="itsm-bench-") as tmpdir,
        database(args.db, Path(tmpdir)) as (url, backend),
    ):
        store = open_store(url)
        desk = apply_desk(store)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 10 or done == total:
                last[0] = now
                print(f"  {done:,}/{total:,} tickets", file=sys.stderr, flush=True)

        summary = seed_store(
            store,
            tickets=args.tickets,
            days=args.days,
            seed=args.seed,
            now=NOW,
            progress=progress,
        )
        with store.read() as s:
            open_tickets = s.scalar(select(func.count()).where(Ticket.is_open))
        db_mb = None
        if backend == "sqlite":
            path = Path(url.removeprefix("sqlite:///"))
            store.dispose()
            files = path.parent.glob(path.name + "*")
            db_mb = round(sum(p.stat().st_size for p in files) / 1e6, 1)
        # The naive way, in the same (now full) store: what a loop of desk writes costs.
        naive_rate = naive_load(store, args.naive)
        store.dispose()

    # CPU time of this process: the machine may be shared, and wall time shows it. Its
    # children's apart: SQLite's writer process (and a throwaway PostgreSQL server).
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    rate = summary.tickets / summary.seconds if summary.seconds else 0.0
    print(f"desk: {desk}; backend: {backend}")
    print(
        f"seeded {summary.tickets:,} tickets over {summary.days} days in {summary.seconds:.1f} s "
        f"({rate:,.0f} tickets/s); naive ORM: {naive_rate:,.0f} tickets/s"
    )
    print(f"open tickets: {open_tickets:,}")
    for table, n in summary.rows.items():
        print(
            f"  {table:20s} {n:>12,}  ({n / max(1, summary.tickets) * 1000:,.0f} per 1,000 tickets)"
        )
    for ticket_type, statuses in summary.by_type_status.items():
        print(f"  {ticket_type}: " + ", ".join(f"{k} {v:,}" for k, v in statuses.items()))
    print(
        json.dumps(
            {
                "bench": "seed",
                "tickets": summary.tickets,
                "seconds": summary.seconds,
                "planned_requests": summary.planned_requests,
                "planned_requests_s": summary.planned_seconds,
                "tickets_per_s": round(rate, 1),
                "naive_tickets_per_s": round(naive_rate, 1),
                "backend": backend,
                "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                "children_cpu_s": round(children.ru_utime + children.ru_stime, 1),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "days": summary.days,
                "db_mb": db_mb,
                "rows": summary.rows,
            }
        )
    )


if __name__ == "__main__":
    main()
