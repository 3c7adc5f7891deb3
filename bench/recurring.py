"""Benchmark the recurring-incident scan: a year of incidents on a seeded store.

    python bench/recurring.py --store PATH [--tickets 1000000] [--days 365]

`--store PATH` reuses (or, the first time, builds) a SQLite store file, opened read-only
for the scan (the scan only reads; a shared bench store is left as it is). The scan is
`find_recurring` over the `--days` before the newest incident, as `itsm problem suggest`
runs it; the figure is the best of three runs (wall, and CPU beside it), with the machine's
load average after it.
The last line is one JSON object:
{"bench": "recurring", "tickets": N, "incidents": M, "clusters": C, "recurring_scan_s": S,
 "recurring_scan_cpu_s": T, "load": L}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

# The repository root instead of bench/ itself (a bench/queue.py would shadow the
# standard library module of that name).
with contextlib.suppress(ValueError):  # already gone when bench/kb.py imports this
    sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.build_store import build_in_child
from bench.machine import load_avg
from itsm_tui.data.models import Ticket
from itsm_tui.data.recurring import find_recurring


def scan(store: Path, days: int = 365, runs: int = 3) -> dict[str, Any]:
    """`find_recurring` over the `days` before the store's newest incident, best of `runs`:
    wall and CPU seconds (SQLite runs in this process, so the CPU time is the whole scan's;
    on a shared machine the wall time is mostly waiting for a core)."""
    engine = create_engine(f"sqlite:///file:{store.resolve()}?mode=ro&uri=true")
    with Session(engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        newest = session.scalar(select(func.max(Ticket.opened_at)))
        assert newest is not None, "the store has no tickets"
        until = newest + timedelta(seconds=1)
        since = until - timedelta(days=days)
        incidents = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.type == "incident",
                Ticket.problem_id.is_(None),
                Ticket.opened_at >= since,
                Ticket.opened_at < until,
            )
        )
        best = best_cpu = float("inf")
        clusters = []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            clusters = find_recurring(session, since=since, until=until)
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            best, best_cpu = min(best, wall), min(best_cpu, cpu)
            print(f"scan {wall:.2f} s (CPU {cpu:.2f} s), load {load_avg()}", flush=True)
    engine.dispose()
    for cluster in clusters[:5]:
        print(f"  {cluster.size:6d}  {cluster.service}: {cluster.title}")
    return {
        "tickets": tickets,
        "incidents": incidents,
        "clusters": len(clusters),
        "recurring_scan_s": round(best, 3),
        "recurring_scan_cpu_s": round(best_cpu, 3),
        "load": load_avg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    if not args.store.exists():
        build_in_child(args.store, args.tickets)
    print(json.dumps({"bench": "recurring", **scan(args.store, args.days)}))


if __name__ == "__main__":
    main()
