"""Soak the running KPI dashboard: many refresh cycles, the process's RSS sampled as it goes.

    python bench/soak.py [--cycles 10000] [--every 1000] [--tickets 2000] [--store PATH]

Builds (or reuses) a seeded SQLite store (bench/build_store.py, in a child process), opens
the console headless (Textual's Pilot) on it, opens the dashboard (`K`) and runs refresh
cycles back to back: each asks for a read and waits for its answer to be drawn, exactly as
the live timer's read would be. The desk's clock moves 10 minutes a cycle, so the period
slides and new days enter the trend (10,000 cycles: 69 days). RSS is sampled (after a
garbage collection) every `--every` cycles. The last line is one JSON object:
{"bench": "soak", "cycles": N, "tickets": T, "rss_mb": [first sample, …], "growth_mb":
last − first, "cycle_ms": mean, "load_avg_1m": L}.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    # The repository root instead of bench/ itself (bench/queue.py shadows the stdlib's).
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from itsm_tui.data.store import Store

# Each cycle moves the desk's clock this far: the period slides, days enter the trend.
CLOCK_STEP = timedelta(minutes=10)


def rss_mb() -> float:
    """The process's resident set now, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class SteppingClock:
    """The desk's clock for a soak: fixed, moved on by hand each cycle."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def soak_dashboard(
    store: Store,
    *,
    actor: str,
    start: datetime,
    cycles: int,
    every: int,
    on_sample: Callable[[int, float], None] = lambda _c, _r: None,
) -> list[float]:
    """Run `cycles` dashboard refreshes on `store`; RSS (MB) every `every` cycles."""
    from itsm_tui.app import make_app
    from itsm_tui.context import DeskContext
    from itsm_tui.screens.kpi import KpiDashboardScreen

    clock = SteppingClock(start)
    app = make_app(
        DeskContext(store=store, actor=actor, clock=clock), escalator=False, poll_seconds=0
    )
    samples: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("K")
        screen = app.screen
        while not isinstance(screen, KpiDashboardScreen) or screen.reads == 0:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
        for cycle in range(1, cycles + 1):
            clock.now += CLOCK_STEP
            target = screen.reads + 1
            screen.reload()
            while screen.reads < target:
                await app.workers.wait_for_complete()
                await pilot.pause()
            if cycle % every == 0:
                gc.collect()
                samples.append(round(rss_mb(), 1))
                on_sample(cycle, samples[-1])
    return samples


def main() -> None:
    from bench.build_store import SEEDED_AT, build_file_in_child
    from bench.machine import load_avg
    from itsm_tui.data.store import open_store, sqlite_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--tickets", type=int, default=2_000)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    path = args.store or Path(f"/tmp/itsm-bench-soak-{args.tickets}.db")
    if not path.exists():
        build_file_in_child(path, tickets=args.tickets)
    store = open_store(sqlite_url(path))
    # The store's own count: `--store` may hold more or fewer than `--tickets`.
    from sqlalchemy import func, select

    from itsm_tui.data.models import Ticket

    with store.read() as session:
        tickets = int(session.scalar(select(func.count()).select_from(Ticket)) or 0)

    def said(cycle: int, rss: float) -> None:
        print(f"cycle {cycle:,}: RSS {rss:.1f} MB (load {load_avg()})", file=sys.stderr, flush=True)

    began = time.perf_counter()
    samples = asyncio.run(
        soak_dashboard(
            store,
            actor="admin",
            start=SEEDED_AT,
            cycles=args.cycles,
            every=args.every,
            on_sample=said,
        )
    )
    took = time.perf_counter() - began
    store.dispose()
    figures: dict[str, Any] = {
        "bench": "soak",
        "cycles": args.cycles,
        "tickets": tickets,
        "rss_mb": samples,
        "growth_mb": round(samples[-1] - samples[0], 1) if samples else None,
        "cycle_ms": round(took / args.cycles * 1000, 1),
        "load_avg_1m": load_avg(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
