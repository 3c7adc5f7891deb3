"""Benchmark the outbox: writing the rows of many notices at once, and delivering them.

    python bench/notify.py [--notices 20000] [--agents 200] [--deliver 1000] [--db URL | --db pg]

Builds a desk (the default desk file plus --agents agents spread over its teams, each with
an e-mail address and a webhook, each team with a webhook; warnings, breaches, escalations
and pages routed to the agent, the team and its members), then times:
  - enqueue: --notices notices (half to agents, half to teams, as the sweep writes them)
    inserted with one bulk statement and their outbox rows written by `enqueue` (INSERT …
    SELECT per slice of routes), in one transaction;
  - deliver: --deliver webhook messages sent by two deliverers at once to a local HTTP
    server on 127.0.0.1 (answers 200 at once), counted by the server: duplicates must be 0.
The last line is one JSON object: {"bench": "notify", "backend", "notices", "routes",
"outbox_rows", "enqueue_s", "rows_per_s", "delivered", "deliver_s", "messages_per_s",
"duplicates", "load_avg_1m"}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select, update

# The repository root instead of bench/ itself (as bench/sweep.py does: a bench/queue.py
# would shadow the standard library's).
if __name__ == "__main__":
    sys.path.remove(str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import load_avg
from itsm_tui.config.load import default_desk_text, load_desk_text
from itsm_tui.config.plan import apply_config
from itsm_tui.data.models import Agent, Notification, OutboxMessage, Team
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.notify.deliverer import Deliverer
from itsm_tui.notify.outbox import enqueue, read_settings, routes

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield server.create_database("itsm_bench_notify")
    finally:
        server.stop()


class Hook(BaseHTTPRequestHandler):
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = json.loads(body)["subject"]
        with self.lock:
            self.seen[key] += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def desk_file(agents: int, teams: list[str], hook: str) -> str:
    parts = [default_desk_text()]
    for i in range(agents):
        parts.append(
            f'[[agents]]\nusername = "a{i:04d}"\nteam = "{teams[i % len(teams)]}"\n'
            f'roles = ["agent"]\n'
        )
    parts.append(
        '[notifications]\nmax_attempts = 3\n\n[notifications.smtp]\nhost = "127.0.0.1"\n'
        'port = 2525\nsecurity = "none"\n'
    )
    for i in range(agents):
        parts.append(
            f'[[notifications.agents]]\nusername = "a{i:04d}"\nemail = "a{i:04d}@example.org"\n'
            f'webhook = "{hook}/a{i:04d}"\n'
        )
    for team in teams:
        parts.append(f'[[notifications.teams]]\nname = "{team}"\nwebhook = "{hook}/team"\n')
    parts.append("[notifications.events]\n")
    for event in ("warning", "breach", "escalation", "page"):
        parts.append(
            f'{event} = {{ to = ["agent", "team", "members"], channels = ["email", "webhook"] }}\n'
        )
    return "\n".join(parts)


def run(store: Store, notices: int, agents: int, deliver: int) -> dict[str, object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        teams = _team_names(default_desk_text())
        config = load_desk_text(desk_file(agents, teams, hook), "bench.toml")
        with store.write() as session:
            apply_config(session, config, now=NOW)
        with store.read() as session:
            agent_ids = list(session.scalars(select(Agent.id).where(Agent.username.like("a%"))))
            team_ids = list(session.scalars(select(Team.id)))
            route_count = len(routes(read_settings(session)))  # type: ignore[arg-type]
        rows = [
            {
                "agent_id": agent_ids[i % len(agent_ids)] if i % 2 == 0 else None,
                "team_id": None if i % 2 == 0 else team_ids[i % len(team_ids)],
                "ticket_id": None,
                "change_id": None,
                "kind": ("warning", "breach", "escalation", "page")[i % 4],
                "message": f"notice {i}",
                "created_at": NOW,
                "deliver_at": NOW,
                "read_at": None,
                "sent_at": None,
            }
            for i in range(notices)
        ]
        started = time.perf_counter()
        with store.write() as session:
            table = Notification.__table__
            ids = session.scalars(table.insert().returning(table.c.id), rows).all()
            enqueue(session.connection(), ids)
        enqueue_s = time.perf_counter() - started
        with store.read() as session:
            written = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        load = load_avg()
        # Deliver a slice: only webhook rows, the first `deliver` of them; the rest wait.
        with store.write() as session:
            o = OutboxMessage.__table__
            keep = select(o.c.id).where(o.c.channel == "webhook").order_by(o.c.id).limit(deliver)
            session.execute(
                update(o).where(o.c.id.not_in(keep.scalar_subquery())).values(state="parked")
            )
            to_send = session.scalar(select(func.count()).where(o.c.state == "pending"))
        clock = lambda: NOW + timedelta(minutes=1)  # noqa: E731
        deliverers = [Deliverer(store, clock, name=f"bench{i}") for i in range(2)]
        threads = [threading.Thread(target=d.run_once) for d in deliverers]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deliver_s = time.perf_counter() - started
        delivered = sum(Hook.seen.values())
        return {
            "bench": "notify",
            "backend": store.dialect,
            "notices": notices,
            "routes": route_count,
            "outbox_rows": written,
            "enqueue_s": round(enqueue_s, 3),
            "rows_per_s": round(written / enqueue_s),
            "delivered": delivered,
            "to_send": to_send,
            "deliver_s": round(deliver_s, 3),
            "messages_per_s": round(delivered / deliver_s, 1),
            "duplicates": sum(n - 1 for n in Hook.seen.values() if n > 1),
            "load_avg_1m": load,
        }
    finally:
        server.shutdown()


def _team_names(desk_text: str) -> list[str]:
    names, in_team = [], False
    for line in desk_text.splitlines():
        if line.startswith("[["):
            in_team = line.strip() == "[[teams]]"
        elif in_team and line.startswith("name = "):
            names.append(line.split('"')[1])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=20000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--deliver", type=int, default=1000)
    parser.add_argument("--db", default=None, help="a store URL, or pg for a throwaway server")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.db == "pg":
            url = stack.enter_context(postgres_url())
        elif args.db:
            url = args.db
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = sqlite_url(Path(folder) / "bench.db")
        store = open_store(url)
        stack.callback(store.dispose)
        result = run(store, args.notices, args.agents, args.deliver)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
