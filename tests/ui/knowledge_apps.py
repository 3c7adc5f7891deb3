"""The fixed queue desk with a small knowledge base, for the knowledge screens' tests."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from itsm_tui.app import ItsmApp
from itsm_tui.data.models import Notification
from itsm_tui.data.store import Store
from itsm_tui.desk import knowledge as kb
from itsm_tui.desk.records import get_agent
from tests.factories import NOW
from tests.ui.snapshot_apps import build_queue_store, queue_app

# (title, tags, body, published)
ARTICLES: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    (
        "VPN drops every ten minutes",
        ("vpn", "network"),
        "# Symptoms\nThe tunnel drops when the **DHCP lease** renews.\n\n"
        "# Fix\n1. Pin the lease.\n2. Reconnect.\n\n`[bold red]x[/]` stays literal.",
        True,
    ),
    (
        "Outlook asks for the password again",
        ("email",),
        "Recreate the Outlook profile; off site, connect the VPN first.",
        True,
    ),
    ("打印机无法连接", ("打印",), "重启打印服务，然后重新添加打印机。", True),
    ("Printer jams on the 3rd floor", (), "Open tray 2 and remove the torn sheet.", True),
    ("VPN certificate renewal (draft)", ("vpn",), "Not reviewed yet.", False),
)


def build_knowledge_store(path: Path) -> Store:
    store = build_queue_store(path)
    with store.write() as session:
        alice = get_agent(session, "alice")
        sam = get_agent(session, "sam")
        for title, tags, body, published in ARTICLES:
            article = kb.create_article(session, alice, title=title, body=body, tags=tags, now=NOW)
            if published:
                kb.publish_article(session, sam, article.number, now=NOW)
    return store


def knowledge_app(path: Path, actor: str = "alice") -> ItsmApp:
    return queue_app(build_knowledge_store(path), actor)


def snapshot_knowledge() -> ItsmApp:
    """The fixed desk with its articles, as alice; the header's zone pinned to UTC. Her
    notices are read: the inbox's toast lasts seconds of wall time, so whether an image
    caught it would depend on the machine's load."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    store = build_knowledge_store(Path(tempfile.mkdtemp(prefix="itsm-snap-")) / "desk.db")
    with store.write() as session:
        session.execute(update(Notification).values(read_at=NOW))
    return queue_app(store, "alice")
