"""What every screen of the app shares: the store, who is acting, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from itsm_tui.data.store import Store


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeskContext:
    """The app's handle on the desk; screens reach it as `self.app.desk`.

    Screens never build SQL and never touch models: reads go through the read modules
    of `itsm_tui.data` (queue_pages, record_json, …), writes through `itsm_tui.desk`,
    each in a thread worker that opens its own session with `store.read()` / `store.write()`.
    """

    store: Store
    # The acting agent's username (`--as`, ITSM_AGENT or the OS user).
    actor: str
    # Injected so tests and snapshots run at a fixed instant.
    clock: Callable[[], datetime] = field(default=wall_clock)
    desk_name: str = "IT Service Desk"
    # The acting agent's time zone (`itsm_tui.desk.zones.agent_zone`): the app resolves it
    # in a worker at start; screens that read the store resolve it again with their data.
    zone: tzinfo = UTC
    # Where the forms keep their drafts (None: the user's data directory); tests and a
    # second profile on one account point it elsewhere.
    drafts_root: Path | None = None

    def now(self) -> datetime:
        return self.clock()
