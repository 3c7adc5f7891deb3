"""Benchmark the escalation sweep against the naive loop over every open ticket.

    python bench/sweep.py [--tickets 1000000] [--open-share 0.10] [--db URL | --db pg]
                          [--store PATH]

Builds a store with the seeder (1,000,000 tickets, about 10% open, clocks as if an
escalator had run until the seed's `now`), then lets time pass as if the escalator
had been stopped for `--down` minutes, and times:
  - sweep: one `sweep(session, now)` (indexed claim + bulk writes), committed;
  - naive: every open ticket loaded through the ORM with its clocks, each clock's
    next event computed in Python with the calendar (read only, run first).
Both must find the same due events — unless `--down` is long enough for escalation
rules to raise priorities: a raise re-targets the ticket's clocks, whose new events the
sweep then fires too (the naive count does not model re-targeting). `--store PATH`
reuses a store built earlier (a copy is swept, so the original stays reusable);
otherwise the store is built in a child process (bench/build_store.py), so the
seeder's heap is not this process's. The machine's 1-minute load average is printed
beside each figure. The last line is one JSON object: {"bench": "sweep", "tickets": N,
"open": M, "sweep_s": S, "naive_s": T, "speedup": T/S, "load_avg_1m": L,
"load_avg_1m_by_figure": {figure: load}, …}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

# The repository root instead of bench/ itself: a bench/queue.py would shadow the
# standard library module of that name (psycopg imports it). Only when run: imported
# (bench/queue_pg_plans.py), the importer has done it.
if __name__ == "__main__":
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.build_store import SEEDED_AT, build_in_child
from bench.machine import load_avg
from itsm_tui.data.models import SlaClock, SlaPolicy, Ticket
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import sla
from itsm_tui.escalation.sweep import sweep

# The seed's open share is about 6.8%; this much backlog brings a 90-day desk near 10%.
BACKLOG_FOR_10_PERCENT = 0.036


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield server.create_database("itsm_bench")
    finally:
        server.stop()


def naive_due_events(store: Store, now: datetime) -> tuple[int, float]:
    """What a desk without stored due times does: look at every open ticket's clocks."""
    started = time.perf_counter()
    due = 0
    with store.read() as session:
        rules = sla.all_rules(session)
        policies = {p.id: p for p in session.scalars(select(SlaPolicy))}
        calendars = {pid: sla.calendar_of(p.calendar) for pid, p in policies.items()}
        tickets = session.scalars(select(Ticket).where(Ticket.is_open)).all()
        clocks = session.scalars(
            select(SlaClock)
            .where(SlaClock.ticket_id.in_(select(Ticket.id).where(Ticket.is_open)))
            .options(selectinload(SlaClock.ticket))
        ).all()
        del tickets
        for clock in clocks:
            if clock.running_since is None or clock.stopped_at is not None:
                continue
            cal = calendars.get(clock.policy_id) if clock.policy_id else sla.UTC_24X7
            policy = policies.get(clock.policy_id) if clock.policy_id else None
            for event in sla.events_of(policy, rules, clock.kind, clock.ticket):
                if event.percent <= clock.fired_percent:
                    continue
                instant = sla.instant_at_percent(
                    cal,
                    clock.running_since,
                    clock.spent_seconds,
                    clock.target_minutes,
                    event.percent,
                )
                if instant <= now:
                    due += 1
    return due, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--backlog", type=float, default=BACKLOG_FOR_10_PERCENT)
    parser.add_argument("--down", type=int, default=15, help="minutes the escalator was stopped")
    parser.add_argument("--db", help="a database URL, or 'pg' for a throwaway PostgreSQL server")
    parser.add_argument("--store", help="reuse a SQLite store file built by an earlier run")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        build_s = 0.0
        if args.db == "pg":
            url = stack.enter_context(postgres_url())
        elif args.db:
            url = args.db
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="itsm-bench-")))
            path = workdir / "desk.db"
            if args.store:
                print(f"copying {args.store}", flush=True)
                shutil.copyfile(args.store, path)
            url = sqlite_url(path)
        store = open_store(url)
        with store.read() as session:
            existing = session.scalar(select(func.count()).select_from(Ticket))
        built = None
        if not existing:
            store.dispose()
            built = build_in_child(url, tickets=args.tickets, backlog=args.backlog)
            build_s = built["build_s"]
        loads: dict[str, float] = {}
        with store.read() as session:
            tickets = session.scalar(select(func.count()).select_from(Ticket))
            open_count = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.is_open)
            )
        now = SEEDED_AT + timedelta(minutes=args.down)

        naive_due, naive_s = naive_due_events(store, now)
        loads["naive_s"] = load_avg()
        print(
            f"naive: {naive_due} due events found in {naive_s:.2f} s (load {loads['naive_s']})",
            flush=True,
        )

        started = time.perf_counter()
        with store.write() as session:
            result = sweep(session, now)
        sweep_s = time.perf_counter() - started
        loads["sweep_s"] = load_avg()
        fired = len(result.warned) + len(result.breached) + len(result.escalated)
        print(
            f"sweep: warned {len(result.warned)}, breached {len(result.breached)}, "
            f"escalated {len(result.escalated)}, notifications {result.notifications} "
            f"in {sweep_s:.3f} s (load {loads['sweep_s']})",
            flush=True,
        )
        # A second sweep at the same moment finds nothing: the steady state of the daemon.
        started = time.perf_counter()
        with store.write() as session:
            again = sweep(session, now)
        idle_s = time.perf_counter() - started
        loads["idle_sweep_s"] = load_avg()
        store.dispose()

    figures = {
        "bench": "sweep",
        "tickets": tickets,
        "open": open_count,
        "sweep_s": round(sweep_s, 4),
        "naive_s": round(naive_s, 4),
        "speedup": round(naive_s / sweep_s, 1) if sweep_s else None,
        "fired": fired,
        "naive_found": naive_due,
        "idle_sweep_s": round(idle_s, 4),
        "idle_fired": len(again.warned) + len(again.breached) + len(again.escalated),
        "down_minutes": args.down,
        "backend": store.dialect,
        "build_s": round(build_s, 1),
        "build_rss_mb": built["rss_mb"] if built else None,
        "load_avg_1m": load_avg(),
        "load_avg_1m_by_figure": loads,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
