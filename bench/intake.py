"""Benchmark the alert intake under a burst: 1,000 alerts a second for 10 seconds.

    python bench/intake.py [--db sqlite | --db pg] [--rate 1000] [--seconds 10]
                           [--per-request 10] [--fingerprints 2000] [--group-size 50]

Starts `itsm intake` as its own process on a small desk (tests/factories.py, a monitoring
agent, [intake] with label rules and major incidents at 20 alerts of a group), then sends
Alertmanager webhook payloads at the rate asked, `--per-request` alerts each, on its own
schedule (a late answer does not slow the sender, as with many Alertmanagers). Alert i
has fingerprint i mod `--fingerprints`: every fingerprint fires several times (repeats).
A 5xx is sent again, as Alertmanager does. Then it waits until the intake has worked
every delivery into incidents and checks the store:
  - lost: alerts answered 2xx that are not in the store (kept, and their fingerprint fed);
  - duplicates: incidents beyond one per fingerprint.
alerts_per_s is the alerts answered 2xx over the time from the first send to the last
answer; p99_ms the 99th percentile of the answers' latency; drain_s how long the
incidents took after the burst ended, processed_s from the first alert sent to the last
incident opened. Then, on the same store, the naive path (create_ticket, record_outage,
link_ticket for each incident, as the intake did before the bulk path) is timed against the
bulk path (itsm_tui/desk/bulk_incidents.py) over --compare incidents each:
open_one_by_one_ms and open_in_bulk_ms per incident. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

if __name__ == "__main__":
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import func, select

from bench.machine import load_avg
from itsm_tui.config.load import load_desk_text
from itsm_tui.config.plan import apply_config
from itsm_tui.data.models import Alert, AlertDelivery, Ticket
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk.records import get_agent, utcnow
from tests.factories import build_desk
from tests.remote.intake_client import add_monitoring_agent

TOKEN = "bench-intake-token-0123456789abcdef"
INTAKE = """
[intake]
agent = "monitoring"
major_incident_at = 20

[[intake.rules]]
match = { severity = "critical" }
impact = 1
urgency = 1
team = "Network"
"""


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield sqlite_url(Path(tmp) / "intake.db")
        return
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield server.create_database("itsm_intake_bench")
    finally:
        server.stop()


def prepare(url: str) -> Store:
    store = open_store(url)
    build_desk(store)
    add_monitoring_agent(store)
    with store.write() as session:
        config = load_desk_text(INTAKE, "bench.toml")
        apply_config(session, config, actor=get_agent(session, "root"), now=utcnow())
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def payload(first: int, count: int, args: argparse.Namespace, starts: str) -> bytes:
    alerts = []
    for i in range(first, first + count):
        f = i % args.fingerprints
        alerts.append(
            {
                "status": "firing",
                "labels": {
                    "alertname": "HostDown",
                    "instance": f"host{f}:9100",
                    "severity": "critical" if f % 10 == 0 else "warning",
                    "service": "Email" if f % 2 else "VPN",
                },
                "annotations": {"summary": f"host{f} is down"},
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f"{f:016x}",
            }
        )
    group = (first % args.fingerprints) // args.group_size
    doc = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HostDown", rack="{group}"}}',
        "status": "firing",
        "receiver": "itsm",
        "alerts": alerts,
    }
    return json.dumps(doc).encode()


async def burst(port: int, args: argparse.Namespace) -> dict[str, float | int]:
    total = args.rate * args.seconds
    per = args.per_request
    interval = per / args.rate
    starts = (utcnow() - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    latencies: list[float] = []
    acked = 0
    resent = 0
    url = f"http://127.0.0.1:{port}/alertmanager"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def send(first: int) -> None:
            nonlocal acked, resent
            body = payload(first, per, args, starts)
            for attempt in range(20):
                began = time.perf_counter()
                async with client.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    latencies.append(time.perf_counter() - began)
                    if 200 <= answer.status < 300:
                        acked += per
                        return
                    if answer.status < 500:
                        raise RuntimeError(f"{answer.status}: {await answer.text()}")
                resent += 1
                await asyncio.sleep(0.1 * (attempt + 1))
            raise RuntimeError("not stored after 20 attempts")

        began = time.perf_counter()
        tasks = []
        for k, first in enumerate(range(0, total, per)):
            delay = began + k * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(first)))
        await asyncio.gather(*tasks)
        took = time.perf_counter() - began
    latencies.sort()
    return {
        "acked": acked,
        "resent": resent,
        "burst_s": round(took, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
    }


def wait_drained(store: Store, timeout: float) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        with store.read() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(AlertDelivery)
                .where(AlertDelivery.processed_at.is_(None))
            )
        if not waiting:
            return time.perf_counter() - began
        time.sleep(0.5)
    raise SystemExit(f"the intake did not drain in {timeout:.0f} s")


def compare_paths(store: Store, count: int) -> dict[str, float]:
    """Per incident, the naive path (create_ticket, record_outage, link_ticket one by one, as
    the intake did before the bulk path) against the bulk path, on the same store after the
    burst, each `count` incidents in one transaction (as the worker's batches)."""
    from itsm_tui.desk import create_ticket, link_ticket, record_outage
    from itsm_tui.desk.bulk_incidents import (
        IncidentDraft,
        OutageDraft,
        link_under,
        open_incidents,
        record_outages,
    )

    now = utcnow()
    figures: dict[str, float] = {}
    with store.write() as session:
        actor = get_agent(session, "monitoring")
        [major] = open_incidents(session, actor, [IncidentDraft("naive parent", 1, 1)], now=now)
        assert isinstance(major, Ticket)
        began = time.perf_counter()
        for i in range(count):
            with session.begin_nested():
                ticket = create_ticket(
                    session,
                    actor,
                    type="incident",
                    title=f"naive {i}",
                    impact=2,
                    urgency=2,
                    service="VPN",
                    now=now,
                )
                record_outage(session, actor, service="VPN", started_at=now, number=ticket.number)
                link_ticket(session, actor, ticket.number, parent=major.number, now=now)
        session.flush()
        figures["one_by_one_ms"] = (time.perf_counter() - began) * 1000 / count
    with store.write() as session:
        actor = get_agent(session, "monitoring")
        [major] = open_incidents(session, actor, [IncidentDraft("bulk parent", 1, 1)], now=now)
        assert isinstance(major, Ticket)
        began = time.perf_counter()
        drafts = [IncidentDraft(f"bulk {i}", 2, 2, service="VPN") for i in range(count)]
        tickets = [t for t in open_incidents(session, actor, drafts, now=now)]
        record_outages(
            session,
            actor,
            [OutageDraft("VPN", now, t) for t in tickets],
            now=now,  # type: ignore[arg-type]
        )
        link_under(session, actor, tickets, major, now=now)  # type: ignore[arg-type]
        session.flush()
        figures["in_bulk_ms"] = (time.perf_counter() - began) * 1000 / count
    return {k: round(v, 2) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--per-request", type=int, default=10)
    parser.add_argument("--fingerprints", type=int, default=2000)
    parser.add_argument("--group-size", type=int, default=50)
    parser.add_argument(
        "--compare", type=int, default=200, help="incidents each way for the paths' comparison"
    )
    args = parser.parse_args()
    backend = "sqlite" if args.db == "sqlite" else "postgresql"
    with database(args.db) as url:
        store = prepare(url)
        port = free_port()
        env = {**os.environ, "ITSM_DB": url, "ITSM_INTAKE_TOKEN": TOKEN}
        server = subprocess.Popen(
            [sys.executable, "-m", "itsm_tui.cli", "intake", "--listen", f"127.0.0.1:{port}"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stderr is not None
            line = server.stderr.readline()
            if "listening" not in line:
                raise SystemExit(f"itsm intake did not start: {line}{server.stderr.read()}")
            load_before = load_avg()
            figures = asyncio.run(burst(port, args))
            print(f"burst: {figures} (load {load_before} → {load_avg()})", flush=True)
            drain_s = wait_drained(store, timeout=1800)
        finally:
            server.terminate()
            server.wait(60)
        with store.read() as session:
            kept = session.scalar(select(func.sum(AlertDelivery.alert_count))) or 0
            fed = session.scalar(select(func.count(func.distinct(Alert.fingerprint)))) or 0
            incidents = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.is_major.is_(False))
            )
            majors = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.is_major.is_(True))
            )
        paths = compare_paths(store, args.compare) if args.compare else {}
        print(f"one incident at a time vs in bulk: {paths} (load {load_avg()})", flush=True)
        store.dispose()
    sent_fingerprints = min(args.fingerprints, args.rate * args.seconds)
    lost = max(0, int(figures["acked"]) - kept) + (sent_fingerprints - fed)
    result = {
        "bench": "intake",
        "backend": backend,
        "alerts": int(figures["acked"]),
        "alerts_per_s": round(int(figures["acked"]) / float(figures["burst_s"]), 1),
        "duplicates": int(incidents or 0) - fed,
        "lost": lost,
        "p99_ms": figures["p99_ms"],
        "p50_ms": figures["p50_ms"],
        "resent": figures["resent"],
        "per_request": args.per_request,
        "incidents": incidents,
        "major_incidents": majors,
        "drain_s": round(drain_s, 1),
        # From the first alert sent to the last incident opened: the burst's incidents,
        # repeats and major incidents all worked through.
        "processed_s": round(float(figures["burst_s"]) + drain_s, 1),
        "open_one_by_one_ms": paths.get("one_by_one_ms"),
        "open_in_bulk_ms": paths.get("in_bulk_ms"),
        "load_avg_1m": load_avg(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
