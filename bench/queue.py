"""Benchmark the queue screen headless on a big store, against a naive DataTable.

    python bench/queue.py [--tickets 1000000] [--store PATH] [--naive 100000]

Reuses the SQLite store at `--store PATH` (default /tmp/itsm-bench-queue-N.db), or
builds it first in a child process (bench/build_store.py), so that this process
holds only the queue: its peak RSS is the queue's, not the seeder's. Runs the app
with `run_test` as an agent and times, each until the table shows the new rows:
first paint of the queue, a search, a filter change, a sort change, page down, and
the jump to the end; then peak RSS. In the same run it loads `--naive` tickets into
a plain Textual DataTable the way a naive queue would, and times its first paint.
The machine's 1-minute load average is printed beside each figure (the machine may
be shared). The last line is one JSON object: {"bench": "queue", "tickets": N,
"first_paint_s": …, "search_s": …, "filter_s": …, "sort_s": …, "page_s": …,
"end_s": …, "rss_mb": …, "naive_100k_first_paint_s": …, "load_avg_1m": …,
"load_avg_1m_by_figure": {figure: load}, "built": {…} or null}.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the stdlib's `queue`: take its folder off the path before
# anything (asyncio, threads) imports that module, and put the repository there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.build_store import SEEDED_AT, build_file_in_child  # noqa: E402
from bench.machine import load_avg  # noqa: E402
from itsm_tui.app import make_app  # noqa: E402
from itsm_tui.context import DeskContext  # noqa: E402
from itsm_tui.data import ticket_filter, ticket_lists  # noqa: E402
from itsm_tui.data.models import Agent, Ticket  # noqa: E402
from itsm_tui.data.store import Store, open_store, sqlite_url  # noqa: E402
from itsm_tui.screens.queue import QueueScreen  # noqa: E402


async def _until(pilot: Any, done: Callable[[], bool], limit_s: float = 60) -> float:
    """Seconds until `done()` holds, checked after each round of the event loop."""
    started = time.perf_counter()
    while not done():
        if time.perf_counter() - started > limit_s:
            raise TimeoutError("the screen did not show the new rows")
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


def _send_key(app: Any, key: str) -> None:
    """A key as the terminal driver delivers it, without Pilot's wait for the process to
    go idle (`Pilot.press` sleeps at least 2 × 20 ms and goes on waiting while any thread,
    such as a count still running after the rows painted, uses the CPU): the timed key."""
    from textual import events

    char = {"enter": "\r"}.get(key, key if len(key) == 1 else None)
    app._driver.send_message(events.Key(key, char))


async def measure_queue(store: Store, actor: str, loads: dict[str, float]) -> dict[str, float]:
    """The queue's figures; `loads` gets the load average as each figure was taken."""
    ctx = DeskContext(store=store, actor=actor, clock=lambda: SEEDED_AT)
    app = make_app(ctx, escalator=False, poll_seconds=0)
    figures: dict[str, float] = {}
    started = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:

        def screen() -> QueueScreen:
            assert isinstance(app.screen, QueueScreen)
            return app.screen

        def shows(predicate: Callable[[], bool]) -> Callable[[], bool]:
            # Shown: the result arrived, and the rows on screen are in the cache.
            def check() -> bool:
                table = screen().table
                return (
                    table.loaded
                    and predicate()
                    and all(
                        table.row_at(i) is not None
                        for i in range(
                            table.top_row, min(table.total, table.top_row + table.visible_rows)
                        )
                    )
                )

            return check

        await _until(pilot, shows(lambda: screen().directory is not None))
        figures["first_paint_s"] = time.perf_counter() - started
        loads["first_paint_s"] = load_avg()
        # Everything else on "All open", the biggest working view.
        generation = screen().table.generation
        await pilot.press("6")
        await _until(pilot, shows(lambda: screen().table.generation > generation))

        generation = screen().table.generation
        await pilot.press("slash", *"printer")
        t0 = time.perf_counter()
        _send_key(app, "enter")
        await _until(pilot, shows(lambda: screen().table.generation > generation))
        figures["search_s"] = time.perf_counter() - t0
        loads["search_s"] = load_avg()
        generation = screen().table.generation
        await pilot.press("slash", "ctrl+u", "enter")
        await _until(pilot, shows(lambda: screen().table.generation > generation))

        generation = screen().table.generation
        await pilot.press("f", *"priority:P2")
        t0 = time.perf_counter()
        _send_key(app, "enter")
        await _until(pilot, shows(lambda: screen().table.generation > generation))
        figures["filter_s"] = time.perf_counter() - t0
        loads["filter_s"] = load_avg()
        generation = screen().table.generation
        await pilot.press("f", "ctrl+u", "enter")
        await _until(pilot, shows(lambda: screen().table.generation > generation))

        # Sort by age (the next column the header click or `o` reaches from the default
        # view after "number"): what agents use most besides priority.
        generation = screen().table.generation
        t0 = time.perf_counter()
        screen().set_sort("age")
        await _until(pilot, shows(lambda: screen().table.generation > generation))
        figures["sort_s"] = time.perf_counter() - t0
        loads["sort_s"] = load_avg()

        table = screen().table
        t0 = time.perf_counter()
        for _ in range(3):
            _send_key(app, "pagedown")
        await _until(pilot, shows(lambda: table.cursor >= 3 * table.visible_rows))
        figures["page_s"] = (time.perf_counter() - t0) / 3
        loads["page_s"] = load_avg()

        t0 = time.perf_counter()
        _send_key(app, "end")
        await _until(pilot, shows(lambda: table.cursor == table.total - 1))
        figures["end_s"] = time.perf_counter() - t0
        loads["end_s"] = load_avg()
        figures["rows_read"] = table.rows_fetched
    return figures


async def measure_naive(store: Store, n: int) -> float:
    """A DataTable with every row added up front: what the virtual table replaces."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Naive(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    started = time.perf_counter()
    app = Naive()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("Number", "Pri", "Status", "Title", "Team", "Assignee")
        with store.read() as session:
            rows = ticket_lists.list_tickets(session, ticket_filter.TicketFilter(), limit=n)
        table.add_rows(
            [
                (r["number"], r["priority"], r["status"], r["title"], r["team"], r["assignee"])
                for r in rows
            ]
        )
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="reuse (or build here) a seeded store")
    parser.add_argument("--naive", type=int, default=100_000)
    args = parser.parse_args()
    path = args.store or Path(f"/tmp/itsm-bench-queue-{args.tickets}.db")
    built = None
    if not path.exists():
        built = build_file_in_child(path, tickets=args.tickets, days=90, seed=7)
    store = open_store(sqlite_url(path))
    with store.read() as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        # An agent with a team, as on a working desk.
        actor = session.scalar(
            select(Agent.username).where(Agent.team_id.is_not(None)).order_by(Agent.id)
        )
    loads: dict[str, float] = {}
    figures = asyncio.run(measure_queue(store, actor or "root", loads))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, value in figures.items():
        beside = f"  (load {loads[name]})" if name in loads else ""
        print(f"{name:16} {value:10.4f}{beside}", flush=True)
    print(f"{'rss_mb':16} {rss_mb:10.0f}", flush=True)
    naive = asyncio.run(measure_naive(store, args.naive))
    loads["naive_100k_first_paint_s"] = load_avg()
    print(f"{'naive_100k_s':16} {naive:10.4f}  (load {loads['naive_100k_first_paint_s']})")
    store.dispose()
    print(
        json.dumps(
            {
                "bench": "queue",
                "tickets": tickets,
                "first_paint_s": round(figures["first_paint_s"], 3),
                "search_s": round(figures["search_s"], 3),
                "filter_s": round(figures["filter_s"], 3),
                "sort_s": round(figures["sort_s"], 3),
                "page_s": round(figures["page_s"], 3),
                "end_s": round(figures["end_s"], 3),
                "rss_mb": round(rss_mb, 1),
                "naive_100k_first_paint_s": round(naive, 3),
                "load_avg_1m": load_avg(),
                "load_avg_1m_by_figure": loads,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
