"""The queue's reads, in its workers: the rows at the top of a view, the window around the
selected ticket with the view's count, the pages the table asks for, and the rows on
screen read again by id (a poll that found the store unchanged), with their messages."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from itsm_tui.context import DeskContext
from itsm_tui.data import queue_pages
from itsm_tui.data.queue_pages import QueueRow
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.messages import QueueLoaded
from itsm_tui.screens.widgets.ticket_table import PAGE_SIZE, PageRequest


class QueueSource:
    """Reads pages of one query for the table (called in the table's worker thread)."""

    def __init__(self, ctx: DeskContext, query: QueueQuery) -> None:
        self.ctx = ctx
        self.queue_query = query

    def __call__(self, requests: Sequence[PageRequest]) -> dict[int, list[QueueRow]]:
        pages: dict[int, list[QueueRow]] = {}
        now = self.ctx.now()
        with self.ctx.store.read() as session:
            for request in requests:
                previous = pages.get(request.page - 1)
                if previous and len(previous) == PAGE_SIZE and not request.after:
                    # Chained: the page right after one read in this batch.
                    request = PageRequest(request.page, request.limit, after=previous[-1].key)
                pages[request.page] = queue_pages.queue_page(
                    session,
                    self.queue_query,
                    now=now,
                    limit=request.limit,
                    after=request.after,
                    before=request.before,
                    from_end=request.from_end,
                    offset=request.offset,
                )
        return pages


def _window_pages(rows: list[QueueRow], first_page: int) -> dict[int, list[QueueRow]]:
    pages: dict[int, list[QueueRow]] = {}
    for i in range(0, len(rows), PAGE_SIZE):
        pages[first_page + i // PAGE_SIZE] = rows[i : i + PAGE_SIZE]
    return pages


# Rows past the screen's bottom read with the first page, so a step down draws at once.
WINDOW_MARGIN = 20
# Sorts read in an index's order on both databases: keyset reads either side of a key
# are short index ranges. The other sorts sort the view anyway: one read at an offset.
INDEX_ORDERED_SORTS = ("priority", "number", "sla")


def read_top(
    ctx: DeskContext, query: QueueQuery, *, visible: int
) -> tuple[int, bool, dict[int, list[QueueRow]]]:
    """The rows at the top of the view, without counting it: (rows read, whether that is
    all of them, pages). A short view is counted by its read; a long one by `count_view`
    afterwards, so the rows paint before the count arrives."""
    end = ((visible + WINDOW_MARGIN) // PAGE_SIZE + 1) * PAGE_SIZE
    with ctx.store.read() as session:
        rows = queue_pages.queue_page(session, query, now=ctx.now(), limit=end)
    return len(rows), len(rows) < end, _window_pages(rows, 0)


def count_view(ctx: DeskContext, query: QueueQuery) -> int:
    with ctx.store.read() as session:
        return queue_pages.count_queue(session, query, now=ctx.now())


def read_window(
    ctx: DeskContext,
    query: QueueQuery,
    *,
    selected_id: int | None,
    cursor: int,
    screen_row: int,
    visible: int,
) -> tuple[int, int, int, dict[int, list[QueueRow]]]:
    """Count the view and read the pages on screen, keeping the selected ticket at the same
    height of the screen: its position comes from a count before its key (in the same pass
    as the view's count), and the pages around it are read by keyset from it (no OFFSET
    however deep it sits) or, for a sort that sorts the whole view anyway, in one read."""
    now = ctx.now()
    with ctx.store.read() as session:
        key = None
        if selected_id is not None:
            key = queue_pages.queue_key_of(session, query, selected_id, now=now)
        if key is not None:
            total, position = queue_pages.count_and_position(session, query, key, now=now)
        else:
            total = queue_pages.count_queue(session, query, now=now)
            position = min(cursor, total - 1)
        if total == 0:
            return 0, 0, 0, {}
        top = max(0, min(position - screen_row, total - visible))
        first_page = max(0, top - WINDOW_MARGIN) // PAGE_SIZE
        last_page = min(total - 1, top + visible + WINDOW_MARGIN) // PAGE_SIZE
        start, end = first_page * PAGE_SIZE, min(total, (last_page + 1) * PAGE_SIZE)
        if key is not None and query.sort in INDEX_ORDERED_SORTS:
            rows = queue_pages.queue_page(
                session, query, now=now, limit=position - start, before=key
            ) + queue_pages.queue_page(
                session, query, now=now, limit=end - position, after=key, inclusive=True
            )
        elif start == 0:
            rows = queue_pages.queue_page(session, query, now=now, limit=end)
        else:
            rows = queue_pages.queue_page(session, query, now=now, limit=end - start, offset=start)
    return total, position, top, _window_pages(rows, first_page)


def read_rows_again(
    ctx: DeskContext, pages: dict[int, list[QueueRow]]
) -> dict[int, list[QueueRow]] | None:
    """The same tickets of these pages read again by id (their SLA standing at the time
    now): two short reads by primary key, however big the view. None: a ticket is gone."""
    now = ctx.now()
    fresh: dict[int, list[QueueRow]] = {}
    with ctx.store.read() as session:
        for page, rows in pages.items():
            again = queue_pages.queue_rows(session, [(row.id, row.key) for row in rows], now)
            if len(again) != len(rows):
                return None
            fresh[page] = again
    return fresh


class RowsReadAgain(Message):
    """A poll that found the store unchanged: the rows on screen, read again by id."""

    def __init__(
        self,
        query: QueueQuery,
        pages: dict[int, list[QueueRow]],
        *,
        generation: int,
        asked_at: tuple[int, int],
    ) -> None:
        super().__init__()
        self.query = query
        self.pages = pages
        self.generation = generation
        self.asked_at = asked_at


class RowsLoaded(QueueLoaded):
    """The top of a view, read before its count: `counted` says whether `total` is the
    view's size (a short view) or only the rows read so far (a `QueueCounted` follows)."""

    def __init__(
        self,
        query: QueueQuery,
        total: int,
        pages: dict[int, list[QueueRow]],
        *,
        counted: bool,
        marker: object | None = None,
    ) -> None:
        super().__init__(query, total, 0, 0, pages, poll=False, marker=marker)
        self.counted = counted


class QueueCounted(Message):
    """The count of a view whose rows are already on screen."""

    def __init__(self, query: QueueQuery, total: int) -> None:
        super().__init__()
        self.query = query
        self.total = total


def count_views(ctx: DeskContext, views: Sequence[QueueQuery]) -> list[int]:
    """How many tickets each view holds (one session; each count reads index ranges)."""
    with ctx.store.read() as session:
        now = ctx.now()
        return [queue_pages.count_queue(session, query, now=now) for query in views]
