"""Benchmark `itsm backup` on a big SQLite store while agents write, against VACUUM INTO.

    python bench/backup.py [--store PATH | --tickets 1000000] [--writers 2]

Reuses the SQLite store at `--store PATH`, or builds one in a child process
(bench/build_store.py). The store itself is only read: the bench first copies it
with the online backup API (timed, nobody writing), then, on that working copy,
while `--writers` threads create tickets through the desk's write path, times
  - backup: `backup_store` as `itsm backup` runs it (one-step backup API, then
    the integrity check of the copy), and the check alone;
  - vacuum_into: `VACUUM INTO`, the other way to a consistent online copy;
and for each, how many tickets the writers committed meanwhile and their slowest
commit, against the same writers alone for `--baseline` seconds first: the copy must
not hold the desk up. Copies go beside the store and are removed afterwards. The
machine's load average is printed beside each figure; the last line is one JSON
object: {"bench": "backup", "tickets": N, "store_mb": M, "backup_s": S,
"check_s": C, "vacuum_into_s": V, "idle_copy_s": I, "writes_alone_per_s": …,
"slowest_write_alone_ms": …, "writes_during_backup": W,
"slowest_write_during_backup_ms": L, …, "load_avg_1m": A,
"process_cpu_s_by_figure": {…}} (the CPU time of the vacuum includes the writers').
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# The repository root instead of bench/ itself: bench/queue.py would shadow the
# standard library module of that name (SQLAlchemy imports it).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.build_store import SEEDED_AT, build_file_in_child
from bench.machine import load_avg
from itsm_tui.data.backup import backup_store
from itsm_tui.data.models import Agent
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent


@contextlib.contextmanager
def writing(store: Store, writers: int) -> Iterator[dict[str, float]]:
    """Threads creating tickets until the block ends; then how many and the slowest."""
    with store.read() as session:
        agent = session.scalar(
            select(Agent.username).where(Agent.team_id.is_not(None)).order_by(Agent.id)
        )
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[BaseException] = []

    def write(w: int) -> None:
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                with store.write() as session:
                    create_ticket(
                        session,
                        get_agent(session, agent or "root"),
                        type="incident",
                        title=f"written during the backup {w}.{i}",
                        impact=3,
                        urgency=3,
                        now=SEEDED_AT,
                    )
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                return
            latencies.append(time.perf_counter() - started)
            i += 1

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    result: dict[str, float] = {}
    try:
        yield result
    finally:
        stop.set()
        for t in threads:
            t.join()
    if errors:
        raise RuntimeError(f"a writer failed: {errors[0]!r}")
    result["writes"] = len(latencies)
    result["slowest_ms"] = round(max(latencies, default=0.0) * 1000, 1)


def timed(fn: Callable[[], Any], cpu: dict[str, float], name: str) -> float:
    """Wall seconds of `fn`; its CPU seconds go in `cpu[name]` (on a shared machine the
    wall time is mostly waiting for a core: compare the CPU time across runs)."""
    started, started_cpu = time.perf_counter(), time.process_time()
    fn()
    cpu[name] = round(time.process_time() - started_cpu, 1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a seeded SQLite store to copy (only read)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument(
        "--baseline", type=float, default=30, help="seconds the writers run alone first"
    )
    args = parser.parse_args()
    path = args.store or Path(f"/tmp/itsm-bench-queue-{args.tickets}.db")
    built = None
    if not path.exists():
        built = build_file_in_child(path, tickets=args.tickets, days=90, seed=7)
    figures: dict[str, Any] = {"bench": "backup"}
    loads: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def report(name: str, seconds: float, extra: str = "") -> None:
        figures[name] = round(seconds, 2)
        loads[name] = load_avg()
        used = f", CPU {cpu[name]} s" if name in cpu else ""
        print(f"{name:14} {seconds:8.2f} s  (load {loads[name]}{used}){extra}", flush=True)

    with tempfile.TemporaryDirectory(prefix=".bench-backup-", dir=path.parent) as tmp:
        work = Path(tmp) / "work.db"
        with (
            contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source,
            contextlib.closing(sqlite3.connect(work)) as dest,
        ):
            report("idle_copy_s", timed(lambda: source.backup(dest, pages=-1), cpu, "idle_copy_s"))
        figures["store_mb"] = round(work.stat().st_size / 1e6, 1)
        store = open_store(sqlite_url(work))
        try:
            # The writers alone first: what their commits take without a copy being made.
            with writing(store, args.writers) as alone:
                time.sleep(args.baseline)
            figures["writes_alone_per_s"] = round(alone["writes"] / args.baseline, 1)
            figures["slowest_write_alone_ms"] = alone["slowest_ms"]
            print(
                f"writers alone   {figures['writes_alone_per_s']} tickets/s, slowest commit "
                f"{alone['slowest_ms']} ms (load {load_avg()})",
                flush=True,
            )
            with writing(store, args.writers) as during:
                summary = backup_store(work, Path(tmp) / "backup.db")
            figures["tickets"] = summary.facts.tickets
            figures["writes_during_backup_per_s"] = round(during["writes"] / summary.seconds, 1)
            report(
                "backup_s",
                summary.seconds,
                f", {during['writes']:.0f} tickets written meanwhile, "
                f"slowest commit {during['slowest_ms']} ms",
            )
            figures["writes_during_backup"] = during["writes"]
            figures["slowest_write_during_backup_ms"] = during["slowest_ms"]
            with contextlib.closing(sqlite3.connect(Path(tmp) / "backup.db")) as copy:
                check = timed(
                    lambda: copy.execute("PRAGMA integrity_check").fetchall(), cpu, "check_s"
                )
            report("check_s", check)
            (Path(tmp) / "backup.db").unlink()

            with (
                writing(store, args.writers) as during,
                contextlib.closing(sqlite3.connect(work, timeout=30)) as conn,
            ):
                vacuum = timed(
                    lambda: conn.execute("VACUUM INTO ?", (f"{tmp}/vacuum.db",)),
                    cpu,
                    "vacuum_into_with_writers_s",
                )
            report(
                "vacuum_into_s",
                vacuum,
                f", {during['writes']:.0f} tickets written meanwhile, "
                f"slowest commit {during['slowest_ms']} ms",
            )
            figures["writes_during_vacuum_into"] = during["writes"]
            figures["writes_during_vacuum_into_per_s"] = round(during["writes"] / vacuum, 1)
            figures["slowest_write_during_vacuum_into_ms"] = during["slowest_ms"]
        finally:
            store.dispose()
    figures["writers"] = args.writers
    figures["load_avg_1m"] = load_avg()
    figures["load_avg_1m_by_figure"] = loads
    figures["process_cpu_s_by_figure"] = cpu
    figures["built"] = built
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
