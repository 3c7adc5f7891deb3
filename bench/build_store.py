"""Build the seeded store a benchmark measures, in a process of its own.

    python bench/build_store.py URL --tickets N [--days 90] [--seed 7] [--backlog 0.0]

Applies the default desk (as `itsm init` does) unless the store has one, then seeds
`--tickets` tickets at the benches' fixed `now`. A bench that seeded in its own
process measured the seeder along with itself: bench/queue.py reported the seeder's
peak RSS (832 MB at a million tickets) as the queue's, and its timings ran beside the
heap the seeder left. The benches call `build_in_child`; the last line this prints
is one JSON object: {"bench": "build_store", "tickets": N, "build_s": S,
"seed_s": the seeder's own seconds, "rss_mb": M, "load_avg_1m": L, "url": U}.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The repository root instead of bench/ itself: bench/queue.py would shadow the
# standard library module of that name (SQLAlchemy and psycopg import it).
if __name__ == "__main__":
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import load_avg

# Every bench's store is seeded as of this instant, so figures compare across runs.
SEEDED_AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def build(url: str, *, tickets: int, days: int, seed: int, backlog: float) -> dict[str, Any]:
    from itsm_tui.config import apply_config, load_default_desk
    from itsm_tui.data.seed import seed_store
    from itsm_tui.data.store import open_store
    from itsm_tui.desk.setup import has_configuration

    started = time.perf_counter()
    store = open_store(url)
    with store.write() as session:
        if not has_configuration(session):
            apply_config(session, load_default_desk(), now=SEEDED_AT)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(f"  seeded {done:,}/{total:,}", file=sys.stderr, flush=True)

    # The seeder leaves WAL mode while it loads, which SQLite allows only to the one
    # connection of the store (as `itsm seed` does, close this one first).
    store.engine.dispose()
    summary = seed_store(
        store,
        tickets=tickets,
        days=days,
        seed=seed,
        now=SEEDED_AT,
        progress=progress,
        backlog=backlog,
    )
    store.dispose()
    return {
        "bench": "build_store",
        "tickets": tickets,
        "build_s": round(time.perf_counter() - started, 1),
        "seed_s": summary.seconds,
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg_1m": load_avg(),
        "url": url,
    }


def build_in_child(
    url: str, *, tickets: int, days: int = 90, seed: int = 7, backlog: float = 0.0
) -> dict[str, Any]:
    """Run `build` in a fresh Python process; its figures (progress went to stderr)."""
    print(f"building {tickets:,} tickets in a child process …", file=sys.stderr, flush=True)
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            url,
            f"--tickets={tickets}",
            f"--days={days}",
            f"--seed={seed}",
            f"--backlog={backlog}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"built in {figures['build_s']} s, seeder peak RSS {figures['rss_mb']:.0f} MB "
        f"(load {figures['load_avg_1m']})",
        file=sys.stderr,
        flush=True,
    )
    return figures


def build_file_in_child(
    path: Path, *, tickets: int, days: int = 90, seed: int = 7
) -> dict[str, Any]:
    """A SQLite store file at `path`, built under another name and renamed when complete:
    a build that died half-way is never mistaken for a store to reuse."""
    partial = path.with_name(f"{path.name}.building")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    from itsm_tui.data.store import sqlite_url

    figures = build_in_child(sqlite_url(partial), tickets=tickets, days=days, seed=seed)
    partial.rename(path)  # the child closed the store: its WAL is folded in and gone
    figures["url"] = sqlite_url(path)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the store: a database URL (sqlite:///PATH, postgresql://…)")
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backlog", type=float, default=0.0)
    args = parser.parse_args()
    figures = build(
        args.url, tickets=args.tickets, days=args.days, seed=args.seed, backlog=args.backlog
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
