"""Benchmark the knowledge base at 100,000 articles: suggestions per key, ranked search, and a
naive LIKE scan of the same queries in the same run.

    python bench/kb.py [--articles 100000] [--store PATH | --db pg|URL] [--tickets-store PATH]

The articles are written in bulk (the store's triggers keep the search index as the desk's
writes do) from a fixed-seed generator whose words follow a Zipf law, as real prose does:
a few words in most articles, most words in few. Five percent carry Chinese text.
Suggestions are timed as the new-incident form calls them: on the text typed so far, at
every sixth key of realistic incident descriptions; ranked search on the browser's
queries. Each figure is the median of SAMPLES runs; the reported one is the slowest such
median (the worst key, the worst query), with the machine's load average and the
slowest median CPU time of each kind beside it.
recurring_scan_s is bench/recurring.py's scan (find_recurring over the year before the
newest incident, best of three, CPU beside it) of `--tickets-store`, else null.
The last line is one JSON object:
{"bench": "kb", "articles": N, "suggest_s": …, "search_s": …, "naive_s": …,
 "recurring_scan_s": …, "recurring_scan_cpu_s": …, "load": …, …}
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

# The repository root instead of bench/ itself (a bench/queue.py would shadow the stdlib's).
sys.path.remove(str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import database, load_avg
from bench.recurring import scan
from itsm_tui.data.knowledge_search import naive_search, search_articles, suggest_articles
from itsm_tui.data.models import KnowledgeArticle, NumberSequence
from itsm_tui.data.store import Store, open_store

SAMPLES = 5
CHUNK = 5_000
KEY_STEP = 6
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

SERVICES = (
    "VPN",
    "Email",
    "Outlook",
    "Teams",
    "SAP",
    "CRM",
    "Wi-Fi",
    "Printer",
    "Citrix",
    "SharePoint",
    "OneDrive",
    "Jira",
    "Payroll",
    "Intranet",
    "Laptop",
    "Badge reader",
    "Phone",
    "Zoom",
)
SYMPTOMS = (
    "cannot connect",
    "disconnects every hour",
    "is slow",
    "asks for the password again",
    "shows a certificate error",
    "crashes on start",
    "does not sync",
    "times out",
    "prints blank pages",
    "cannot log in",
    "freezes",
    "loses the mapped drive",
)
COMMON = [
    "the",
    "to",
    "a",
    "and",
    "of",
    "in",
    "is",
    "on",
    "for",
    "after",
    "when",
    "with",
    "user",
    "users",
    "it",
    "not",
    "this",
    "that",
    "from",
    "be",
    "are",
    "error",
    "server",
    "client",
    "restart",
    "check",
    "settings",
    "reinstall",
    "update",
    "profile",
    "cache",
    "network",
    "account",
    "password",
    "login",
    "connection",
    "office",
    "windows",
    "device",
    "driver",
    "version",
    "issue",
    "fix",
]
CJK_TITLES = (
    "打印机无法连接",
    "邮箱无法登录",
    "网络很慢",
    "VPN 经常断开",
    "共享盘映射失败",
    "系统崩溃",
)
TAGS = ("vpn", "email", "network", "printing", "sap", "access", "hardware", "mobile", "wifi")

# What agents type into a new incident, and what they type into the browser's search box.
WRITTEN = (
    "Outlook keeps asking for the password after the VPN reconnects, several users in finance",
    "Printer on floor 3 prints blank pages since the driver update this morning",
    "SAP times out when posting invoices, error 0x80040154 in the client log",
    "财务部的打印机无法连接，重启后还是不行",
)
QUERIES = ("vpn", "outlook password", "printer blank pag", '"cannot connect"', "打印机", "sync")


def zipf_words(rng: random.Random, vocabulary: list[str], weights: list[float], n: int) -> str:
    return " ".join(rng.choices(vocabulary, weights=weights, k=n))


def articles(n: int) -> Iterator[list[dict[str, Any]]]:
    """`n` articles in chunks, the same ones every run (seed 13)."""
    rng = random.Random(13)
    vocabulary = COMMON + [f"{w}{k}" for k in range(600) for w in ("kb", "err", "cfg")]
    vocabulary += [w.lower() for s in SERVICES + SYMPTOMS for w in s.split()]
    weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(vocabulary))]
    chunk: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        service = rng.choice(SERVICES)
        if rng.random() < 0.05:
            title = f"{rng.choice(CJK_TITLES)} {service}"
            body = f"{rng.choice(CJK_TITLES)}。重启服务后再试。" + zipf_words(
                rng, vocabulary, weights, 30
            )
        else:
            title = f"{service} {rng.choice(SYMPTOMS)} " + zipf_words(rng, vocabulary, weights, 3)
            body = "\n\n".join(
                zipf_words(rng, vocabulary, weights, rng.randint(20, 40)) for _ in range(3)
            )
        created = NOW - timedelta(days=rng.randint(1, 1500))
        chunk.append(
            {
                "id": i,
                "number": f"KB{i:07d}",
                "title": title,
                "body": body,
                "tags": rng.sample(TAGS, rng.randint(1, 3)),
                "status": "published" if rng.random() < 0.85 else "draft",
                "views": rng.randint(0, 900),
                "helpful_yes": rng.randint(0, 60),
                "helpful_no": rng.randint(0, 12),
                "created_at": created,
                "updated_at": created,
                "published_at": created,
                "version": 1,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill(store: Store, n: int) -> float:
    """Write the articles unless the store already holds them; the seconds it took."""
    with store.read() as session:
        if (session.scalar(select(func.count()).select_from(KnowledgeArticle)) or 0) >= n:
            return 0.0
    start = time.perf_counter()
    for chunk in articles(n):
        with store.write() as session:
            session.execute(insert(KnowledgeArticle), chunk)
    with store.write() as session:
        session.merge(NumberSequence(prefix="KB", last_value=n))
    if not store.is_sqlite:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE knowledge_articles")
    return time.perf_counter() - start


# The CPU seconds of the same runs, per kind: on a machine shared by other work (load 10 on
# 2 cores here) the wall time is mostly waiting for a core, and this says what a key costs.
cpu: dict[str, float] = {}


def median(fn: Callable[[], Any], kind: str = "") -> float:
    times, cpu_times = [], []
    for _ in range(SAMPLES):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    if kind:
        cpu[kind] = max(cpu.get(kind, 0.0), statistics.median(cpu_times))
    return statistics.median(times)


def keys(written: str) -> list[str]:
    """The text as it stands after every KEY_STEP-th key, and whole."""
    return [written[:k] for k in range(KEY_STEP, len(written), KEY_STEP)] + [written]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--store", default=None, help="SQLite store file to reuse or build")
    parser.add_argument("--db", default=None, help="database URL, or 'pg' for a throwaway server")
    parser.add_argument(
        "--tickets-store",
        type=Path,
        default=None,
        help="a seeded SQLite ticket store (1,000,000 tickets) for recurring_scan_s",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(args.db, args.store, Path(tmp), "bench_kb") as url,
    ):
        store = open_store(url)
        written_s = fill(store, args.articles)
        print(f"articles: {args.articles:,} written in {written_s:.1f} s ({store.dialect})")
        slowest: dict[str, float] = {"suggest": 0.0, "search": 0.0, "naive": 0.0}
        with store.read() as session:
            for text in WRITTEN:
                worst = max(
                    median(lambda t=t: suggest_articles(session, t), "suggest") for t in keys(text)
                )
                found = [h.number for h in suggest_articles(session, text)]
                print(f"suggest {text[:40]!r}…: worst key {worst * 1000:.1f} ms → {found}")
                slowest["suggest"] = max(slowest["suggest"], worst)
            for query in QUERIES:
                ranked = median(lambda q=query: search_articles(session, q), "search")
                naive = median(lambda q=query: naive_search(session, q.strip('"')), "naive")
                print(f"search {query!r}: {ranked * 1000:.1f} ms, naive LIKE {naive * 1000:.1f} ms")
                slowest["search"] = max(slowest["search"], ranked)
                slowest["naive"] = max(slowest["naive"], naive)
        print(f"load average {load_avg()}")
        store.dispose()
    # A year of the ticket store's incidents, as the figure asks (bench/recurring.py).
    recurring = scan(args.tickets_store) if args.tickets_store else None
    print(
        json.dumps(
            {
                "bench": "kb",
                "articles": args.articles,
                "suggest_s": round(slowest["suggest"], 4),
                "search_s": round(slowest["search"], 4),
                "naive_s": round(slowest["naive"], 4),
                "recurring_scan_s": recurring and recurring["recurring_scan_s"],
                "recurring_scan_cpu_s": recurring and recurring["recurring_scan_cpu_s"],
                "load": load_avg(),
                **{f"{kind}_cpu_s": round(value, 4) for kind, value in sorted(cpu.items())},
            }
        )
    )


if __name__ == "__main__":
    main()
