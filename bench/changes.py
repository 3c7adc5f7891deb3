"""Benchmark the change schedule on a store of many changes, against a naive conflict check.

    python bench/changes.py [--changes 100000] [--store PATH] [--repeat 15]

Reuses the SQLite store at `--store PATH` (default /tmp/itsm-bench-changes-N.db), or
builds it first in a child process (`--build`): the default desk (its services,
dependencies, maintenance windows and freezes), 40 implementers and N changes planned
over four years up to 90 days past the benches' fixed `now`, most of them closed, the
recent and coming ones in every state. This process then holds only what it measures.

Figures, each the median of `--repeat` runs after one warm-up (the first, cold run is
printed beside it, and the median CPU seconds of this process, which a shared machine's
load does not inflate): the calendar of a month for every service; a conflict check of a
two-hour window (freezes, changes on related services, the implementer, maintenance);
the next free two-hour slot; the same conflict check done naively (every change loaded
into Python and compared); and the board's first paint. The board is
screens/changes/board.py when it exists (the app's first paint of it, as bench/queue.py
measures the queue's); until then the board's data (itsm_tui.data.change_board), and
until that exists the board's columns read straight from ix_changes_board; the JSON's
"board_source" says which. The last line is one JSON object: {"bench": "changes",
"changes": N, "board_s": …, "calendar_s": …, "conflict_s": …, "next_slot_s": …,
"naive_conflict_s": …, "board_source": …, "month_changes": …, "cold": {…}, "cpu": {…},
"load_avg_1m": …, "load_avg_1m_by_figure": {…}, "built": …}.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repository root instead of bench/ (bench/queue.py shadows the standard library).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

from bench.build_store import SEEDED_AT  # noqa: E402
from bench.machine import load_avg  # noqa: E402
from itsm_tui.data.change_schedule import (  # noqa: E402
    HOLDING_STATUSES,
    calendar,
    find_conflicts,
    next_free_slot,
    schedule_desk,
)
from itsm_tui.data.models import Agent, Change  # noqa: E402
from itsm_tui.data.store import Store, open_store, sqlite_url  # noqa: E402
from itsm_tui.domain.change_windows import occurrences, overlaps  # noqa: E402
from itsm_tui.domain.workflow import CHANGE_DONE, CHANGE_STATUSES, CHANGE_TYPES  # noqa: E402

IMPLEMENTERS = 40
YEARS = 4
AHEAD = timedelta(days=90)
# The window every conflict figure checks: Saturday night in ERP's maintenance window.
CHECK_SERVICES = ["ERP"]
CHECK_START = datetime(2026, 12, 5, 14, tzinfo=UTC)
CHECK_END = CHECK_START + timedelta(hours=2)
MONTH = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


# ---------------------------------------------------------------------------
# Building the store (in a child process)


def _status(rng: random.Random, start: datetime) -> str:
    """A change's state as a desk would hold it, given when it was planned."""
    age = SEEDED_AT - start
    if age > timedelta(days=14):
        return rng.choices(["closed", "cancelled", "rejected"], [92, 5, 3])[0]
    if age > timedelta(0):
        return rng.choices(["closed", "review", "implementing"], [60, 35, 5])[0]
    return rng.choices(
        ["draft", "assessment", "authorization", "scheduled", "cancelled"], [15, 10, 20, 50, 5]
    )[0]


def build(url: str, changes: int, seed: int) -> dict[str, Any]:
    from itsm_tui.config import apply_config, load_default_desk
    from itsm_tui.data.models import Service
    from itsm_tui.desk.setup import has_configuration

    started = time.perf_counter()
    store = open_store(url)
    rng = random.Random(seed)
    with store.write() as session:
        if not has_configuration(session):
            apply_config(session, load_default_desk(), now=SEEDED_AT)
        services = list(session.scalars(select(Service.name).order_by(Service.name)))
        session.execute(
            insert(Agent),
            [
                {
                    "username": f"impl{i:02d}",
                    "display_name": f"Implementer {i}",
                    "roles": "agent",
                    "hourly_cost": 80,
                }
                for i in range(IMPLEMENTERS)
            ],
        )
        agent_ids = list(session.scalars(select(Agent.id).where(Agent.username.like("impl%"))))
    first = SEEDED_AT + AHEAD - timedelta(days=365 * YEARS)
    span = (SEEDED_AT + AHEAD - first).total_seconds()
    batch: list[dict[str, Any]] = []
    for n in range(1, changes + 1):
        # Planned on quarter hours, one to eight hours long, mostly one service.
        start = first + timedelta(minutes=15 * int(rng.random() * span / 900))
        end = start + timedelta(minutes=15 * rng.randint(4, 32))
        status = _status(rng, start)
        batch.append(
            {
                "number": f"CHG{n:07d}",
                "title": f"Planned work {n}",
                "change_type": rng.choices(CHANGE_TYPES, [30, 60, 10])[0],
                "status": status,
                "is_open": status not in CHANGE_DONE,
                "risk": rng.choice(["low", "medium", "high", "very_high"]),
                "impact": rng.randint(1, 3),
                "services": rng.sample(services, rng.choices([1, 2], [80, 20])[0]),
                "implementer_id": rng.choice(agent_ids),
                "planned_start": start,
                "planned_end": end,
                "opened_at": start - timedelta(days=rng.randint(1, 30)),
                "updated_at": start,
                "closed_at": end if status == "closed" else None,
                "version": 1,
            }
        )
        if len(batch) == 5000 or n == changes:
            with store.write() as session:
                session.execute(insert(Change), batch)
            batch = []
    store.dispose()
    return {
        "bench": "build_changes",
        "changes": changes,
        "build_s": round(time.perf_counter() - started, 1),
    }


def build_in_child(path: Path, changes: int, seed: int) -> dict[str, Any]:
    partial = path.with_name(f"{path.name}.building")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"building {changes:,} changes in a child process …", file=sys.stderr, flush=True)
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--build",
            sqlite_url(partial),
            f"--changes={changes}",
            f"--seed={seed}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    partial.rename(path)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# ---------------------------------------------------------------------------
# Measuring


# CPU seconds of this process per figure (median of the warm runs): on a shared machine
# the wall-clock figures include the time other processes held the cores.
CPU: dict[str, float] = {}


def timed(run: Callable[[], Any], repeat: int, name: str = "") -> tuple[float, float]:
    """(cold seconds, median seconds of `repeat` warm runs); CPU[name] gets the CPU median."""
    t0 = time.perf_counter()
    run()
    cold = time.perf_counter() - t0
    runs, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if name:
        CPU[name] = statistics.median(cpu)
    return cold, statistics.median(runs)


def naive_conflicts(store: Store, implementer_id: int) -> int:
    """The conflict check without the schedule's SQL: every change loaded and compared."""
    with store.read() as session:
        desk = schedule_desk(session)
        everything = session.scalars(select(Change)).all()
        reach = desk.reach(CHECK_SERVICES)
        found = 0
        for c in everything:
            if c.status not in HOLDING_STATUSES or c.planned_start is None:
                continue
            if overlaps(c.planned_start, c.planned_end, CHECK_START, CHECK_END) and (
                set(c.services) & reach or c.implementer_id == implementer_id
            ):
                found += 1
        for f in desk.freezes_on(CHECK_SERVICES):
            found += len(occurrences(f.window, CHECK_START, CHECK_END))
        return found


def _board_sql(store: Store) -> None:
    """The board's columns as ix_changes_board reads them: each state's first 50."""
    with store.read() as session:
        for status in CHANGE_STATUSES:
            session.execute(
                select(Change.number, Change.title, Change.change_type, Change.risk)
                .where(Change.is_open == (status not in CHANGE_DONE), Change.status == status)
                .order_by(Change.planned_start)
                .limit(50)
            ).all()


async def _board_screen_first_paint(store: Store, actor: str) -> tuple[float, float]:
    """(wall, CPU) seconds from `B` on the queue until the board shows its cards."""
    from textual import events

    from itsm_tui.app import make_app
    from itsm_tui.context import DeskContext
    from itsm_tui.screens.changes.board import ChangeBoardScreen

    ctx = DeskContext(store=store, actor=actor, clock=lambda: SEEDED_AT)
    app = make_app(ctx, escalator=False, poll_seconds=0)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        t0, c0 = time.perf_counter(), time.process_time()
        # As the terminal driver delivers a key (Pilot.press waits for the app to go idle).
        app._driver.send_message(events.Key("B", "B"))
        limit = t0 + 60
        while time.perf_counter() < limit:
            screen = app.screen
            if isinstance(screen, ChangeBoardScreen) and screen.board is not None:
                return time.perf_counter() - t0, time.process_time() - c0
            await asyncio.sleep(0.001)
    raise TimeoutError("the board did not paint")


def board_figure(store: Store, actor: str, repeat: int) -> tuple[str, float, float]:
    if importlib.util.find_spec("itsm_tui.screens.changes.board") is not None:
        # A fresh app each time: the first paint is what an agent waits for.
        runs = [asyncio.run(_board_screen_first_paint(store, actor)) for _ in range(3)]
        CPU["board_s"] = statistics.median(cpu for _wall, cpu in runs)
        walls = [wall for wall, _cpu in runs]
        return "screen", walls[0], statistics.median(walls)
    if importlib.util.find_spec("itsm_tui.data.change_board") is not None:
        from itsm_tui.data import change_board

        reader = getattr(change_board, "board", None) or change_board.board_columns

        def run() -> None:
            with store.read() as session:
                reader(session)

        return ("data.change_board", *timed(run, repeat, "board_s"))
    return ("sql", *timed(lambda: _board_sql(store), repeat, "board_s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--store", type=Path, help="reuse (or build here) the store")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--build", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(args.build, args.changes, args.seed)))
        return
    path = args.store or Path(f"/tmp/itsm-bench-changes-{args.changes}.db")
    built = None if path.exists() else build_in_child(path, args.changes, args.seed)
    store = open_store(sqlite_url(path))
    with store.read() as session:
        changes = session.scalar(select(func.count()).select_from(Change)) or 0
        implementer = session.scalar(select(Agent.id).where(Agent.username == "impl00"))
        actor = session.scalar(select(Agent.username).order_by(Agent.id))

    def conflict() -> None:
        with store.read() as session:
            find_conflicts(
                session,
                services=CHECK_SERVICES,
                start=CHECK_START,
                end=CHECK_END,
                implementer_id=implementer,
            )

    def month() -> None:
        with store.read() as session:
            calendar(session, start=MONTH[0], end=MONTH[1])

    def slot() -> None:
        with store.read() as session:
            next_free_slot(
                session,
                services=CHECK_SERVICES,
                duration=timedelta(hours=2),
                after=SEEDED_AT,
                implementer_id=implementer,
            )

    cold: dict[str, float] = {}
    figures: dict[str, float] = {}
    loads: dict[str, float] = {}
    for name, run, times in (
        ("calendar_s", month, args.repeat),
        ("conflict_s", conflict, args.repeat),
        ("next_slot_s", slot, args.repeat),
        ("naive_conflict_s", lambda: naive_conflicts(store, implementer), 3),
    ):
        cold[name], figures[name] = timed(run, times, name)
        loads[name] = load_avg()
        print(
            f"{name:18} {figures[name]:9.4f}  (cpu {CPU[name]:.4f}, cold {cold[name]:.4f}, "
            f"load {loads[name]})"
        )
    source, cold["board_s"], figures["board_s"] = board_figure(store, actor or "root", args.repeat)
    loads["board_s"] = load_avg()
    print(
        f"{'board_s':18} {figures['board_s']:9.4f}  ({source}, cpu {CPU['board_s']:.4f}, "
        f"load {loads['board_s']})"
    )
    with store.read() as session:
        month_rows = calendar(session, start=MONTH[0], end=MONTH[1])
        shown = len({c.number for row in month_rows.rows for c in row.changes})
    print(f"{'month_changes':18} {shown:9d}")
    store.dispose()
    print(
        json.dumps(
            {
                "bench": "changes",
                "changes": changes,
                "board_s": round(figures["board_s"], 4),
                "calendar_s": round(figures["calendar_s"], 4),
                "conflict_s": round(figures["conflict_s"], 4),
                "next_slot_s": round(figures["next_slot_s"], 4),
                "naive_conflict_s": round(figures["naive_conflict_s"], 4),
                "board_source": source,
                "month_changes": shown,
                "cold": {k: round(v, 4) for k, v in cold.items()},
                "cpu": {k: round(v, 4) for k, v in CPU.items()},
                "load_avg_1m": load_avg(),
                "load_avg_1m_by_figure": loads,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
