"""Messages that carry worker results (database reads, writes, sweeps) to the UI thread."""

from __future__ import annotations

from datetime import tzinfo

from textual.message import Message

from itsm_tui.data.directory import DeskDirectory
from itsm_tui.data.queue_pages import QueueRow
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.escalation.sweep import SweepResult


class SweepFinished(Message):
    """The background escalator finished a sweep (posted from its scheduler thread)."""

    def __init__(self, result: SweepResult) -> None:
        super().__init__()
        self.result = result


class DirectoryLoaded(Message):
    """Who is acting, and the names of teams, agents and services."""

    def __init__(self, directory: DeskDirectory) -> None:
        super().__init__()
        self.directory = directory


class QueueLoaded(Message):
    """A view's count and the pages around the cursor, read in one worker."""

    def __init__(
        self,
        query: QueueQuery,
        total: int,
        cursor: int,
        top: int,
        pages: dict[int, list[QueueRow]],
        *,
        poll: bool,
        asked_at: tuple[int, int] | None = None,
        marker: object | None = None,
    ) -> None:
        super().__init__()
        self.query = query
        self.total = total
        self.cursor = cursor
        self.top = top
        self.pages = pages
        self.poll = poll
        # A poll's (cursor, top row) when it was asked for: moved since, it is stale.
        self.asked_at = asked_at
        # The store's change marker taken before this read (Store.change_marker): while
        # it stays the same, the next polls need not count the view again.
        self.marker = marker


class QueueFailed(Message):
    """Reading the queue failed (store unreachable…): shown, and the next poll retries."""

    def __init__(self, reason: str, *, poll: bool) -> None:
        super().__init__()
        self.reason = reason
        self.poll = poll


class TicketWritten(Message):
    """A write from the queue finished: `error` is the desk's refusal, None on success."""

    def __init__(self, number: str, done: str, error: str | None) -> None:
        super().__init__()
        self.number = number
        self.done = done
        self.error = error


class ZoneResolved(Message):
    """The acting agent's time zone, read once at start: the header clock shows it."""

    def __init__(self, zone: tzinfo) -> None:
        super().__init__()
        self.zone = zone
