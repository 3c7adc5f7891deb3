"""Time every KPI over a year on a big store, against a naive version in the same run.

    python bench/kpi.py [--db sqlite | pg | URL] [--tickets 1000000] [--store PATH] [--runs 5]

`--db sqlite` (the default) reuses the SQLite store at `--store PATH` (default
/tmp/itsm-bench-kpi-N.db) or builds it first in a child process (bench/build_store.py);
`--db pg` seeds a throwaway PostgreSQL server (tests/pg_server.py) the same way and
stops it afterwards; `--db URL` measures an existing store (upgraded to this revision
when it is behind, so measure a copy). The seed spreads its tickets over the 90 days
before bench/build_store.py's SEEDED_AT: the year ending that day holds all of them.

Figures, each the median of `--runs` runs (the first run, which warms the caches, is
not counted):
- kpi_s: `kpi_report` over that year for the whole desk, without the previous period:
  every KPI of docs/kpi.md, once;
- refresh_s: what one dashboard refresh costs: the rollups' refresh the dashboard's
  worker runs first (nothing to build on a quiet store), then `kpi_report` over the
  dashboard's default 30 days *with* the previous 30 days (both measured);
- year_with_previous_s: the year with the previous year, the heaviest refresh;
- rollup_build_s: building the daily rollups first (every day, on a store the seed
  left unbuilt; nothing on one already built);
- naive_s: the period's tickets, clocks, surveys and time entries streamed into Python
  and the same KPIs computed there (the figures of both are checked to agree).
The machine's 1-minute load average is printed beside each figure. The last line is one
JSON object: {"bench": "kpi", "tickets": N, "kpi_s": S, "naive_s": T, "speedup": T/S,
"refresh_s": R, "year_with_previous_s": Y, "dialect": D, "load_avg_1m": L,
"built": {…} or null}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

# The repository root instead of bench/ itself: bench/queue.py would shadow the
# standard library module of that name (SQLAlchemy and psycopg import it).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.build_store import SEEDED_AT, build_file_in_child, build_in_child
from bench.machine import load_avg
from bench.sweep import postgres_url
from itsm_tui.data.kpi import Cut, Period, kpi_report
from itsm_tui.data.kpi.productivity import working_days
from itsm_tui.data.kpi.rollup import DAYS_PER_READER_REFRESH, refresh_rollups
from itsm_tui.data.models import SlaClock, Survey, Ticket, TimeEntry
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk.zones import desk_zone

# CPU seconds of this process per figure (median of the runs, like the wall time): on a
# loaded shared machine the wall time is mostly waiting for a core.
CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], runs: int, name: str = "") -> tuple[float, Any]:
    """Median seconds of `runs` calls after one warm-up call; the last result."""
    result = fn()
    times = []
    cpu = []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    if name:
        CPU[name] = round(statistics.median(cpu), 4)
    return statistics.median(times), result


def naive_kpis(session: Session, period: Period) -> dict[str, float | None]:
    """What a desk without aggregate SQL does: every row of the period into Python."""
    start, end = period.start, period.measured_end(SEEDED_AT)
    spent: dict[str, list[int]] = defaultdict(list)
    verdicts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(
            SlaClock.kind,
            SlaClock.state,
            SlaClock.stopped_at,
            SlaClock.breached_at,
            SlaClock.spent_seconds,
            Ticket.type,
            Ticket.priority,
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(Ticket.opened_at < end)
        .execution_options(yield_per=10_000)
    )
    for kind, state, stopped, breached, seconds, type_, priority in rows:
        if stopped is not None and start <= stopped < end and state in ("met", "breached"):
            if type_ == "incident" and priority == 1:
                spent[kind].append(seconds)
            if state == "met":
                verdicts[kind][0] += 1
        if state == "breached" and breached is not None and start <= breached < end:
            verdicts[kind][1] += 1
    figures: dict[str, float | None] = {}
    for kind, values in spent.items():
        values.sort()
        figures[f"incident_{kind}_mean"] = sum(values) / len(values) / 60
        figures[f"incident_{kind}_p90"] = values[math.ceil(0.9 * len(values)) - 1] / 60
    for kind, (met, missed) in verdicts.items():
        figures[f"sla_{kind}_met"] = 100 * met / (met + missed)
    cycle: list[float] = []
    handled = reopened = 0
    agents: set[int] = set()
    resolved = 0
    tickets = session.execute(
        select(
            Ticket.type,
            Ticket.opened_at,
            Ticket.resolved_at,
            Ticket.assignee_id,
            Ticket.reopen_count,
        )
        .where(Ticket.opened_at < end)
        .execution_options(yield_per=10_000)
    )
    for type_, opened, resolved_at, assignee, reopens in tickets:
        if resolved_at is None or not start <= resolved_at < end:
            continue
        resolved += 1
        reopened += reopens > 0
        if type_ == "request":
            cycle.append((resolved_at - opened).total_seconds())
        if assignee is not None:
            handled += 1
            agents.add(assignee)
    figures["request_cycle"] = sum(cycle) / len(cycle) / 60 if cycle else None
    figures["reopen_rate"] = 100 * reopened / resolved if resolved else None
    last = (end - timedelta(microseconds=1)).astimezone(period.zone).date()
    days = working_days(session, period.first_day, last, period)
    figures["tickets_per_agent_day"] = handled / (len(agents) * days) if agents else None
    ratings = [
        r
        for (r,) in session.execute(
            select(Survey.rating)
            .where(Survey.submitted_at >= start, Survey.submitted_at < end)
            .execution_options(yield_per=10_000)
        )
    ]
    figures["csat"] = sum(ratings) / len(ratings) if ratings else None
    figures["incident_cost_spent"] = float(
        sum(
            cost
            for cost, type_ in session.execute(
                select(TimeEntry.cost, Ticket.type)
                .join(Ticket, Ticket.id == TimeEntry.ticket_id)
                .where(TimeEntry.logged_at >= start, TimeEntry.logged_at < end)
                .execution_options(yield_per=10_000)
            )
            if type_ == "incident"
        )
    )
    return figures


def agree(sql: dict[str, Any], naive: dict[str, float | None]) -> list[str]:
    """The keys whose figures differ between the SQL and the naive computation."""
    wrong = []
    for key, value in naive.items():
        if key == "incident_cost_spent":
            theirs = sql["incident_cost"].detail["cost"]
        else:
            theirs = sql[key].value
        if (value is None) != (theirs is None) or (
            value is not None and not math.isclose(value, theirs, rel_tol=1e-6, abs_tol=1e-3)
        ):
            wrong.append(f"{key}: sql {theirs} naive {value}")
    return wrong


def measure(store: Store, runs: int) -> dict[str, Any]:
    with store.read() as session:
        zone = desk_zone(session)
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
    today = SEEDED_AT.astimezone(zone).date()
    year = Period(today - timedelta(days=364), today, zone)
    month = Period(today - timedelta(days=29), today, zone)
    figures: dict[str, Any] = {"tickets": tickets}
    # The rollups first (a store the seed left unbuilt builds every day here: the cost a
    # desk pays once, in the escalator's refreshes), then the figures read them.
    started = time.perf_counter()
    figures["rollup_days_built"] = refresh_rollups(store, SEEDED_AT)
    figures["rollup_build_s"] = round(time.perf_counter() - started, 2)
    print(
        f"{'rollup_build_s':<22} {figures['rollup_build_s']:8.2f}  "
        f"({figures['rollup_days_built']} days, load {load_avg()})",
        file=sys.stderr,
        flush=True,
    )

    def report(period: Period, previous: bool) -> Callable[[], Any]:
        def run() -> Any:
            with store.read() as session:
                return kpi_report(session, period, Cut(), SEEDED_AT, with_previous=previous)

        return run

    def dashboard_cycle() -> Any:
        # What the dashboard's worker does each cycle: the rollups' refresh (nothing to
        # build on a quiet store), then 30 days with the previous 30.
        refresh_rollups(store, SEEDED_AT, max_days=DAYS_PER_READER_REFRESH)
        return report(month, True)()

    loads: dict[str, float] = {}
    for name, fn in (
        ("kpi_s", report(year, False)),
        ("refresh_s", dashboard_cycle),
        ("year_with_previous_s", report(year, True)),
    ):
        seconds, result = timed(fn, runs, name)
        figures[name] = round(seconds, 4)
        loads[name] = load_avg()
        print(
            f"{name:<22} {seconds:8.4f}  (cpu {CPU[name]}, load {loads[name]})",
            file=sys.stderr,
            flush=True,
        )
        if name == "kpi_s":
            sql = result.by_key()

    def naive() -> dict[str, float | None]:
        with store.read() as session:
            return naive_kpis(session, year)

    naive_s, naive_figures = timed(naive, max(1, runs // 3), "naive_s")
    figures["naive_s"] = round(naive_s, 4)
    loads["naive_s"] = load_avg()
    print(f"{'naive_s':<22} {naive_s:8.4f}  (load {loads['naive_s']})", file=sys.stderr)
    wrong = agree(sql, naive_figures)
    if wrong:
        raise SystemExit("the SQL and the naive figures differ:\n" + "\n".join(wrong))
    figures["load_avg_1m_by_figure"] = loads
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'pg' or a database URL")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="the SQLite store to reuse or build")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    built = None
    with contextlib.ExitStack() as stack:
        if args.db == "sqlite":
            path = args.store or Path(f"/tmp/itsm-bench-kpi-{args.tickets}.db")
            if not path.exists():
                built = build_file_in_child(path, tickets=args.tickets)
            url = sqlite_url(path)
        elif args.db == "pg":
            url = stack.enter_context(postgres_url())
            built = build_in_child(url, tickets=args.tickets)
        else:
            url = args.db
        store = open_store(url)
        try:
            figures = measure(store, args.runs)
            dialect = store.dialect
        finally:
            store.dispose()
    kpi_s, naive_s = figures["kpi_s"], figures["naive_s"]
    print(
        json.dumps(
            {
                "bench": "kpi",
                "tickets": figures["tickets"],
                "kpi_s": kpi_s,
                "naive_s": naive_s,
                "speedup": round(naive_s / kpi_s, 1) if kpi_s else None,
                "refresh_s": figures["refresh_s"],
                "year_with_previous_s": figures["year_with_previous_s"],
                "rollup_build_s": figures["rollup_build_s"],
                "rollup_days_built": figures["rollup_days_built"],
                "dialect": dialect,
                "load_avg_1m": load_avg(),
                "load_avg_1m_by_figure": figures["load_avg_1m_by_figure"],
                "cpu_s": CPU,
                "built": built,
            }
        )
    )


if __name__ == "__main__":
    main()
