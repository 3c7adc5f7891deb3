"""A fixed desk of changes for the board's and calendar's tests and snapshots: every column
filled, a vote waiting for carol (CAB), user text that must stay literal, a fixed clock."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from itsm_tui.app import ItsmApp
from itsm_tui.data.models import Change, ChangeApproval, FreezeWindow, Service
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_change
from itsm_tui.desk.records import get_agent
from itsm_tui.domain.workflow import CHANGE_DONE
from tests.factories import NOW, build_desk
from tests.ui.snapshot_apps import CLOCK, queue_app

# (title, type, status, services, planned start from NOW in hours or None, hours long, risk)
CHANGES: tuple[tuple[str, str, str, tuple[str, ...], float | None, int, str | None], ...] = (
    ("Rotate the mail relay certificates", "standard", "draft", ("Email",), None, 1, None),
    ("Move VPN concentrator to new rack", "normal", "draft", ("VPN",), 50, 3, None),
    ("[bold red]x[/]\x1b[31m stays literal", "normal", "assessment", ("Email",), 30, 2, "medium"),
    ("升级邮件网关 — CJK 标题 🚀", "normal", "assessment", ("Email",), None, 2, "high"),
    ("Patch the VPN firmware (CVE)", "emergency", "authorization", ("VPN",), 6, 1, "very_high"),
    ("Replace core switch in building B", "normal", "authorization", ("VPN",), 72, 4, "high"),
    ("Mailbox quota increase", "standard", "scheduled", ("Email",), 20, 1, "low"),
    ("Upgrade the mail store cluster", "normal", "scheduled", ("Email",), 26, 4, "high"),
    ("Firewall rule clean-up", "normal", "scheduled", ("VPN",), 98, 2, "medium"),
    ("Renew the VPN gateway licence", "standard", "implementing", ("VPN",), -1, 2, "low"),
    ("Archive old mailboxes", "normal", "review", ("Email",), -30, 2, "medium"),
    ("DNS resolver swap", "normal", "closed", ("VPN",), -120, 1, "medium"),
    ("Spam filter rules update", "standard", "closed", ("Email",), -60, 1, "low"),
    ("Decommission the fax gateway", "normal", "rejected", ("Email",), 200, 2, "high"),
    ("Rename the VPN profile", "standard", "cancelled", (), None, 1, None),
)
# Carol (CAB) has a pending vote on these.
CAROL_VOTES = ("Patch the VPN firmware (CVE)", "Replace core switch in building B")
# Changes may run on Email on Sunday nights (weekly, from the first one below).
EMAIL_MAINTENANCE = {
    "name": "Sunday night",
    "starts_at": "2026-11-22T01:00:00+00:00",
    "ends_at": "2026-11-22T05:00:00+00:00",
    "recurrence": "FREQ=WEEKLY",
}
# A freeze on the VPN over "Firewall rule clean-up" (a conflict), and the month-end close
# on every service, each month on its last day.
FREEZES = (
    ("VPN audit", "2026-11-28T00:00:00+00:00", "2026-11-29T00:00:00+00:00", ["VPN"], None),
    (
        "Month-end close",
        "2026-11-30T18:00:00+00:00",
        "2026-12-01T06:00:00+00:00",
        [],
        "FREQ=MONTHLY;BYMONTHDAY=-1",
    ),
)


def build_change_store(path: Path) -> Store:
    """The small desk (tests/factories.py) with CHANGES, each where the table says."""
    store = open_store(sqlite_url(path))
    build_desk(store)
    with store.write() as session:
        alice = get_agent(session, "alice")
        carol = get_agent(session, "carol")
        for i, (title, kind, status, services, start_in, hours, risk) in enumerate(CHANGES):
            opened = NOW - timedelta(days=3, hours=len(CHANGES) - i)
            start = NOW + timedelta(hours=start_in) if start_in is not None else None
            change = create_change(
                session,
                alice,
                title=title,
                services=list(services),
                backout_plan="Restore the snapshot.",
                now=opened,
            )
            # Placed directly where the table says (type, state, window, risk as the steps
            # would have left them): these tests are about the board, not the process.
            values: dict[str, object] = {
                "change_type": kind,
                "status": status,
                "is_open": status not in CHANGE_DONE,
                "risk": risk,
                "planned_start": start,
                "planned_end": start + timedelta(hours=hours) if start else None,
            }
            if status in CHANGE_DONE:
                values["closed_at"] = NOW - timedelta(days=1, hours=i)
            session.execute(update(Change).where(Change.id == change.id).values(**values))
            if title in CAROL_VOTES:
                session.add(
                    ChangeApproval(change_id=change.id, approver_id=carol.id, decision="pending")
                )
        session.execute(
            update(Service)
            .where(Service.name == "Email")
            .values(maintenance_windows=[EMAIL_MAINTENANCE])
        )
        for name, starts, ends, services, recurrence in FREEZES:
            session.add(
                FreezeWindow(
                    name=name,
                    starts_at=datetime.fromisoformat(starts),
                    ends_at=datetime.fromisoformat(ends),
                    services=services,
                    recurrence=recurrence,
                    reason="",
                )
            )
    return store


def board_app(store: Store, actor: str = "alice") -> ItsmApp:
    return queue_app(store, actor)


def snapshot_board_app(actor: str = "alice") -> ItsmApp:
    # The header shows local time: pin the zone so images match on any machine.
    os.environ["TZ"] = "UTC"
    time.tzset()
    path = Path(tempfile.mkdtemp(prefix="itsm-board-")) / "desk.db"
    return board_app(build_change_store(path), actor)


__all__ = [
    "CAROL_VOTES",
    "CHANGES",
    "CLOCK",
    "board_app",
    "build_change_store",
    "snapshot_board_app",
]
