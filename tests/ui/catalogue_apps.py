"""A fixed catalogue for the catalogue screen's tests and snapshots: items in three
categories, one needing a named role's approval, one with fulfilment steps, user text
that must stay literal; a fixed clock."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from itsm_tui.app import ItsmApp
from itsm_tui.data.models import CatalogueItem, Team
from itsm_tui.data.store import Store, open_store, sqlite_url
from tests.factories import build_desk
from tests.ui.snapshot_apps import queue_app

NASTY_DESCRIPTION = "[bold red]x[/] \x1b[31mred\x07 屏幕 🚀 two screens"


def build_catalogue_store(path: Path) -> Store:
    store = open_store(sqlite_url(path))
    build_desk(store)
    with store.write() as s:
        desk_team = s.scalar(select(Team.id).where(Team.name == "Service Desk"))
        network = s.scalar(select(Team.id).where(Team.name == "Network"))
        s.add_all(
            [
                CatalogueItem(
                    code="password-reset",
                    name="Password reset",
                    category="access",
                    description="A new password for a locked account.",
                    team_id=desk_team,
                    fulfilment_minutes=30,
                    form=[
                        {"name": "account", "label": "Account", "kind": "text", "required": True}
                    ],
                ),
                CatalogueItem(
                    code="vpn-access",
                    name="VPN access",
                    category="network",
                    description="Remote access from home.",
                    team_id=network,
                    requires_approval=True,
                    approval_role="supervisor",
                    fulfilment_minutes=450,
                    form=[],
                ),
                CatalogueItem(
                    code="new-starter",
                    name="New starter set-up",
                    category="access",
                    description=NASTY_DESCRIPTION,
                    team_id=desk_team,
                    fulfilment_minutes=2250,
                    form=[
                        {
                            "name": "full_name",
                            "label": "Full name",
                            "kind": "text",
                            "required": True,
                        }
                    ],
                    tasks=[
                        {"name": "Create the accounts", "team": "Service Desk", "minutes": 120},
                        {"name": "Grant network access", "team": "Network", "minutes": 60},
                    ],
                ),
            ]
        )
    return store


def snapshot_catalogue_app() -> ItsmApp:
    # The header shows local time: pin the zone so images match on any machine.
    os.environ["TZ"] = "UTC"
    time.tzset()
    return queue_app(
        build_catalogue_store(Path(tempfile.mkdtemp(prefix="itsm-catalogue-")) / "desk.db")
    )
