"""A fixed desk of problems for the problem screens' tests and snapshots: a known error with
its five whys, incidents open and resolved, a change and an article; a recurring cluster no
problem holds; user text that must stay literal; a fixed clock."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from itsm_tui.app import ItsmApp
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_ticket, resolve_ticket
from itsm_tui.desk import problems as p
from itsm_tui.desk.records import get_agent
from tests.factories import NOW, build_desk
from tests.ui.snapshot_apps import CLOCK, queue_app

# (title, service, hours before NOW)
KNOWN_ERROR_INCIDENTS = (
    ("VPN drops every hour", "VPN", 30),
    ("VPN keeps dropping on home Wi-Fi", "VPN", 20),
    ("[bold red]x[/]\x1b[31m VPN drops — 断开连接 🚀", "VPN", 10),
)
RECURRING = tuple(("Outlook asks for the password again", "Email", h) for h in (50, 40, 5))


def build_problem_store(path: Path) -> tuple[Store, dict[str, str]]:
    store = open_store(sqlite_url(path))
    build_desk(store)
    numbers: dict[str, str] = {}
    with store.write() as s:
        alice = get_agent(s, "alice")

        def incident(title: str, service: str, hours: int) -> str:
            at = NOW - timedelta(hours=hours)
            return create_ticket(
                s,
                alice,
                type="incident",
                title=title,
                impact=2,
                urgency=2,
                service=service,
                opened_at=at,
                now=at,
            ).number

        linked = [incident(*row) for row in KNOWN_ERROR_INCIDENTS]
        numbers["incidents"] = ",".join(linked)
        numbers["recurring"] = ",".join(incident(*row) for row in RECURRING)
        numbers["lonely"] = incident("Printer jams on the 3rd floor", "Email", 3)
        at = NOW - timedelta(hours=2)
        known = p.create_problem(s, alice, incidents=linked, now=at).number
        numbers["known"] = known
        p.record_root_cause(
            s,
            alice,
            known,
            root_cause="The gateway's rekey timer is shorter than the client's",
            whys=[
                "The tunnel drops",
                "The rekey fails",
                "The timers differ",
                "The gateway was upgraded",
                "Its defaults changed",
            ],
            now=at,
        )
        p.publish_workaround(s, alice, known, workaround="Set the client's rekey to 50 min", now=at)
        resolve_ticket(
            s, alice, linked[0], code="workaround", notes="Applied the workaround", now=at
        )
        p.raise_fix_change(s, alice, known, now=at)
        p.article_from_problem(s, alice, known, now=at)
        numbers["open"] = p.create_problem(
            s,
            alice,
            incidents=[numbers["lonely"]],
            title="Printers jam after the driver update",
            now=at,
        ).number
    return store, numbers


def snapshot_problem_app() -> tuple[ItsmApp, dict[str, str]]:
    # The header shows local time: pin the zone so images match on any machine.
    os.environ["TZ"] = "UTC"
    time.tzset()
    store, numbers = build_problem_store(
        Path(tempfile.mkdtemp(prefix="itsm-problems-")) / "desk.db"
    )
    return queue_app(store), numbers


__all__ = ["CLOCK", "build_problem_store", "snapshot_problem_app"]
