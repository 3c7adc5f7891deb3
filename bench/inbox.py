"""An agent's inbox on a big store before and after "mark all read", beside the receipts way.

    python bench/inbox.py --db URL|pg [--tickets 100000] [--agent USERNAME] [--runs 5]

`--db URL` measures an existing store (bench/build_store.py's; upgraded to this revision
when it is behind, and written to: measure a copy); `--db pg` seeds `--tickets` into a
throwaway PostgreSQL server (tests/pg_server.py) in a child process (bench/build_store.py)
and stops it afterwards. The agent is `--agent`, or the first-line team's
first agent who is not its supervisor, reading at the seed's `now` (SEEDED_AT); their
read mark is cleared first, so "before" is the whole backlog a store seeded without marks
left them.

Figures, each the median of `--runs` runs after one warming run, wall and CPU seconds:
- count_before / page_before: `unread_count` and the first page (50) with no mark;
- naive_mark_all: what "mark all read" cost with receipts only, the way the inbox did it
  a page at a time: every unread id read, then `mark_read` on 1,000 at a time (a receipt
  per team notice), once, in a transaction rolled back afterwards; inside it,
  count_after_receipts: the count still walks every team notice, probing its receipt;
- mark_all: `mark_all_read` (one UPDATE of own notices, one of the agent), committed;
- count_after / page_after: the same reads with the mark.
The machine's 1-minute load average is printed beside each figure. The last line is one
JSON object: {"bench": "inbox", "tickets": N, "dialect": D, "agent": U, "unread_before":
N, "receipts": R, "count_before_s": …, "page_before_s": …, "naive_mark_all_s": …,
"count_after_receipts_s": …, "mark_all_s": …, "count_after_s": …, "page_after_s": …,
"cpu_s": {…}, "load_avg_1m": L}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The repository root instead of bench/ itself: bench/queue.py would shadow the
# standard library module of that name (SQLAlchemy and psycopg import it).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, update

from bench.build_store import SEEDED_AT
from bench.machine import load_avg
from itsm_tui.data import inbox
from itsm_tui.data.models import Agent, Team, Ticket
from itsm_tui.data.store import Store, open_store
from itsm_tui.desk.notifications import mark_all_read, mark_read

NOW = SEEDED_AT
BATCH = 1_000


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def median_of(runs: int, fn: Callable[[], Any]) -> tuple[float, float, Any]:
    fn()  # warms the caches; not counted
    samples = [timed(fn) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        samples[-1][2],
    )


def pick_agent(store: Store, username: str | None) -> str:
    if username:
        return username
    with store.read() as s:
        team = s.scalars(select(Team).order_by(Team.tier, Team.id).limit(1)).one()
        agent = s.scalars(
            select(Agent)
            .where(Agent.team_id == team.id, Agent.id != team.supervisor_id)
            .order_by(Agent.id)
            .limit(1)
        ).one()
        return agent.username


def reads(store: Store, username: str, runs: int) -> dict[str, Any]:
    with store.read() as s:
        a = s.scalars(select(Agent).where(Agent.username == username)).one()
        who = (a.id, a.team_id, a.notices_read_through)

    def count() -> int:
        with store.read() as s:
            return inbox.unread_count(s, who[0], who[1], NOW, read_through=who[2])

    def page() -> int:
        with store.read() as s:
            return len(inbox.unread(s, who[0], who[1], NOW, limit=50, read_through=who[2]))

    c_wall, c_cpu, unread = median_of(runs, count)
    print(f"  unread_count {c_wall:.4f} s wall, {c_cpu:.4f} s CPU: {unread}  load {load_avg()}")
    p_wall, p_cpu, listed = median_of(runs, page)
    print(f"  first page   {p_wall:.4f} s wall, {p_cpu:.4f} s CPU: {listed}  load {load_avg()}")
    return {"count": (c_wall, c_cpu), "page": (p_wall, p_cpu), "unread": unread}


class _RollBack(Exception):
    """Leaves `store.write()` by its rollback: the receipts are measured, not kept."""


def naive_mark_all(store: Store, username: str) -> dict[str, Any]:
    """Receipts for everything unread, as the inbox's M did a page at a time; rolled back."""
    figures: dict[str, Any] = {}
    try:
        with store.write() as session:
            agent = session.scalars(select(Agent).where(Agent.username == username)).one()

            def mark() -> int:
                ids: list[int] = []
                after = None
                while page := inbox.unread(
                    session, agent.id, agent.team_id, NOW, limit=10_000, after=after
                ):
                    ids += [i.id for i in page]
                    after = inbox.next_key(page)
                return sum(
                    mark_read(session, agent, ids[i : i + BATCH], NOW)
                    for i in range(0, len(ids), BATCH)
                )

            m_wall, m_cpu, receipts = timed(mark)
            print(
                f"  naive mark all (receipts) {m_wall:.2f} s wall, {m_cpu:.2f} s CPU:"
                f" {receipts} receipts  load {load_avg()}"
            )
            c_wall, c_cpu, left = timed(
                lambda: inbox.unread_count(session, agent.id, agent.team_id, NOW)
            )
            print(
                f"  unread_count after receipts {c_wall:.4f} s wall, {c_cpu:.4f} s CPU:"
                f" {left}  load {load_avg()}"
            )
            figures = {"mark": (m_wall, m_cpu), "receipts": receipts, "count": (c_wall, c_cpu)}
            raise _RollBack
    except _RollBack:
        pass
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a store's URL (a copy: it is written), or pg")
    parser.add_argument("--tickets", type=int, default=100_000, help="with --db pg")
    parser.add_argument("--agent", default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.db != "pg":
        measure(args.db, args.agent, args.runs)
        return
    from bench.build_store import build_in_child
    from bench.sweep import postgres_url

    with postgres_url() as url:
        build_in_child(url, tickets=args.tickets)
        measure(url, args.agent, args.runs)


def measure(url: str, agent: str | None, runs: int) -> None:
    store = open_store(url)
    try:
        username = pick_agent(store, agent)
        with store.write() as s:
            s.execute(
                update(Agent).where(Agent.username == username).values(notices_read_through=None)
            )
        with store.read() as s:
            tickets = int(s.scalar(select(func.count()).select_from(Ticket)) or 0)
        print(f"{store.engine.dialect.name}, {tickets} tickets, agent {username}, now {NOW}")
        print("before (no mark):")
        before = reads(store, username, runs)
        print("the receipts way:")
        naive = naive_mark_all(store, username)
        print("mark all read:")

        def mark() -> Any:
            with store.write() as s:
                agent = s.scalars(select(Agent).where(Agent.username == username)).one()
                return mark_all_read(s, agent, NOW)

        mark_wall, mark_cpu, _mark = timed(mark)
        print(f"  mark_all_read {mark_wall:.4f} s wall, {mark_cpu:.4f} s CPU  load {load_avg()}")
        print("after:")
        after = reads(store, username, runs)
        figures = {
            "bench": "inbox",
            "tickets": tickets,
            "dialect": store.engine.dialect.name,
            "agent": username,
            "unread_before": before["unread"],
            "unread_after": after["unread"],
            "receipts": naive["receipts"],
            "count_before_s": round(before["count"][0], 4),
            "page_before_s": round(before["page"][0], 4),
            "naive_mark_all_s": round(naive["mark"][0], 3),
            "count_after_receipts_s": round(naive["count"][0], 4),
            "mark_all_s": round(mark_wall, 4),
            "count_after_s": round(after["count"][0], 4),
            "page_after_s": round(after["page"][0], 4),
            "cpu_s": {
                "count_before": round(before["count"][1], 4),
                "page_before": round(before["page"][1], 4),
                "naive_mark_all": round(naive["mark"][1], 3),
                "count_after_receipts": round(naive["count"][1], 4),
                "mark_all": round(mark_cpu, 4),
                "count_after": round(after["count"][1], 4),
                "page_after": round(after["page"][1], 4),
            },
            "load_avg_1m": load_avg(),
        }
        print(json.dumps(figures))
    finally:
        store.dispose()


if __name__ == "__main__":
    main()
