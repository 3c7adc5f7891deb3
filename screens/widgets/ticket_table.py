"""The virtual ticket table: a Line-API ScrollView that reads only the pages on screen."""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from itsm_tui.data.queue_pages import QueueRow
from itsm_tui.data.queue_views import QueueKey
from itsm_tui.i18n import _

PAGE_SIZE = 100
# Pages kept in memory: 64 × 100 rows is a few hundred kB whatever the view's size.
CACHE_PAGES = 64
# Rows read beyond the visible ones, so a step past the edge draws from the cache.
MARGIN_ROWS = 20
EMPTY_VIEW = _("No tickets in this view.")

# CSI / OSC / other escape sequences, then any control character left over.
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")


def clean_text(value: str | None) -> str:
    """User text as it may be drawn: escape sequences removed, controls shown as spaces.

    The result goes into `Segment`s, never through Rich markup, so `[bold]` stays literal.
    """
    if not value:
        return ""
    value = _ESCAPES.sub("", value)
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value
    )


def format_sla(left: timedelta | None, state: str | None) -> str:
    """`12m`, `3h05`, `2d04`, `-1h20`, `paused`, or blank when no clock counts."""
    if state == "paused":
        return _("paused")
    if left is None:
        return ""
    seconds = int(left.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours}h{minutes:02d}"
    days, hours = divmod(hours, 24)
    if days >= 100:
        # Hours no longer matter and would not fit the column.
        return f"{sign}{days}d"
    return f"{sign}{days}d{hours:02d}"


def format_age(opened_at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - opened_at).total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 24 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // (24 * 60)}d"


@dataclass(frozen=True)
class Column:
    """One column: its name, header, width (0: takes what is left), the terminal widths
    it is shown at (narrow terminals drop the least needed; `max_terminal`: only below
    it), a roomier width for wide terminals (service and team names are long), and the
    queue sort a click on its header asks for (its name unless said)."""

    name: str
    header: str
    width: int
    min_terminal: int = 0
    wide_width: int = 0
    max_terminal: int = 0
    sort: str = ""

    @property
    def sort_key(self) -> str:
        return self.sort or self.name


# From this terminal width the names get their roomier columns; the title keeps 55+.
WIDE_TERMINAL = 150
# From this width Team and Assignee have a column each; below it one "Held by" column.
TEAM_AND_ASSIGNEE = 110

COLUMNS: tuple[Column, ...] = (
    Column("number", _("Number"), 10),
    Column("priority", _("Pri"), 3),
    Column("sla", _("SLA"), 6),
    Column("status", _("Status"), 13),
    Column("title", _("Title"), 0),
    Column("service", _("Service"), 14, min_terminal=130, wide_width=22),
    Column("team", _("Team"), 16, min_terminal=TEAM_AND_ASSIGNEE, wide_width=20),
    Column("assignee", _("Assignee"), 10, min_terminal=TEAM_AND_ASSIGNEE, wide_width=14),
    # Below that, who holds the ticket in one column: its assignee, or its team (muted)
    # while nobody has taken it; an on-call engineer at 80 columns still sees it.
    Column("holder", _("Held by"), 12, max_terminal=TEAM_AND_ASSIGNEE, sort="assignee"),
    Column("age", _("Age"), 4),
)
TITLE_MIN = 12


@dataclass(frozen=True)
class PageRequest:
    """How to read one page: after / before a cached neighbour's key, from the end,
    or (only for a jump far from anything cached) at an offset."""

    page: int
    limit: int
    after: QueueKey | None = None
    before: QueueKey | None = None
    from_end: bool = False
    offset: int = 0


# Reads the pages of a request list in a worker thread; chained pages follow the first.
PageLoader = Callable[[Sequence[PageRequest]], dict[int, list[QueueRow]]]


class TicketTable(ScrollView, can_focus=True):
    """Draws `total` rows of which only the cached pages exist; asks for the rest."""

    BINDINGS: list[BindingType] = [
        Binding("up,k", "cursor_up", _("Up"), show=False),
        Binding("down,j", "cursor_down", _("Down"), show=False),
        Binding("pageup", "page_up", _("Page up"), show=False),
        Binding("pagedown", "page_down", _("Page down"), show=False),
        Binding("home,g", "first", _("First"), show=False),
        Binding("end,G", "last", _("Last"), show=False),
    ]

    COMPONENT_CLASSES = {
        "ticket-table--header",
        "ticket-table--sorted",
        "ticket-table--cursor",
        "ticket-table--breached-row",
        "ticket-table--placeholder",
        "ticket-table--note",
        "ticket-table--unheld",
        "ticket-table--p1",
        "ticket-table--p2",
        "ticket-table--sla-running",
        "ticket-table--sla-warned",
        "ticket-table--sla-breached",
        "ticket-table--sla-paused",
    }

    DEFAULT_CSS = """
    TicketTable { overflow-x: hidden; overflow-y: scroll; }
    """

    class CursorMoved(Message):
        """The highlighted ticket changed (None while its page is still being read)."""

        def __init__(self, row: QueueRow | None) -> None:
            super().__init__()
            self.row = row

    class Opened(Message):
        """Enter or a click on the highlighted row."""

        def __init__(self, row: QueueRow) -> None:
            super().__init__()
            self.row = row

    class SortClicked(Message):
        """A click on a column header."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    class PagesLoaded(Message):
        def __init__(self, generation: int, pages: dict[int, list[QueueRow]]) -> None:
            super().__init__()
            self.generation = generation
            self.pages = pages

    def __init__(
        self,
        loader: PageLoader | None = None,
        *,
        clock: Callable[[], datetime],
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.loader = loader
        self.clock = clock
        self.total = 0
        self.cursor = 0
        self.sort_column = "priority"
        self.sort_descending = False
        self.loaded = False
        # False while `total` is only the rows read so far (the count is on its way).
        self.counted = True
        self._last_pending = False
        self.empty_note: tuple[str, ...] = (EMPTY_VIEW,)
        # Bumped whenever the rows change under the cache (new view, refresh): a page read
        # for an older generation is dropped when it arrives.
        self.generation = 0
        self._pages: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._inflight: set[int] = set()
        # Instrumentation: what was read from the store since the last `reset_counters`.
        self.pages_fetched = 0
        self.rows_fetched = 0
        self._now = clock()
        self._layouts: dict[tuple[int, int], list[tuple[Column, int]]] = {}
        # Tickets marked for a step on several at once (a problem from incidents): their
        # numbers, shown by a mark in the row's leading cell.
        self.marked: list[str] = []

    # ------------------------------------------------------------------ state

    @property
    def visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    @property
    def top_row(self) -> int:
        return int(self.scroll_offset.y)

    def row_at(self, index: int) -> QueueRow | None:
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    @property
    def selected(self) -> QueueRow | None:
        return self.row_at(self.cursor) if self.total else None

    def cached_rows(self) -> list[QueueRow]:
        return [row for page in self._pages.values() for row in page]

    def reset_counters(self) -> None:
        self.pages_fetched = 0
        self.rows_fetched = 0

    def replace(
        self,
        total: int,
        pages: dict[int, list[QueueRow]],
        *,
        cursor: int,
        top: int,
        counted: bool = True,
    ) -> None:
        """Swap in a new result in one go (no blank frame): count, pages, cursor, scroll.

        `counted=False`: `total` is only the rows read so far; `set_total` follows."""
        cursor = max(0, min(cursor, total - 1)) if total else 0
        top = max(0, top)
        if cursor >= top + self.visible_rows:
            # The window shrank while this was read (a resize under an open ticket).
            top = cursor - self.visible_rows + 1
        # A refresh that finds the same window (a poll, mostly) redraws only the lines that
        # changed: over SSH a full redraw is 8 to 11 KB every poll, for rows that are the same.
        same_window = self.loaded and (total, cursor, top) == (
            self.total,
            self.cursor,
            self.top_row,
        )
        before = self._drawn_lines() if same_window else []
        self.generation += 1
        self._inflight.clear()
        self._pages = OrderedDict(sorted(pages.items()))
        self.total = total
        self.counted = counted
        self._last_pending = False
        self.loaded = True
        self._now = self.clock()
        self.cursor = cursor
        self._update_virtual_size()
        self.scroll_to(y=top, animate=False, force=True, immediate=True)
        if same_window:
            self._redraw_changed(before)
        else:
            self.refresh()
        self.post_message(self.CursorMoved(self.selected))

    def shown_pages(self) -> dict[int, list[QueueRow]]:
        """The cached pages holding the rows on screen (what a poll reads again when the
        store has not changed: their SLA and age move with the time, nothing else does)."""
        if not self.total:
            return {}
        first = self.top_row // PAGE_SIZE
        last = min(self.total - 1, self.top_row + self.visible_rows - 1) // PAGE_SIZE
        return {page: self._pages[page] for page in range(first, last + 1) if page in self._pages}

    def refresh_pages(self, pages: dict[int, list[QueueRow]]) -> None:
        """The same rows read again (same tickets, same order): swap them in and redraw
        only the lines that now draw differently (none, mostly: no bytes to the terminal)."""
        before = self._drawn_lines()
        for page, rows in pages.items():
            if page in self._pages:
                self._pages[page] = rows
        self._now = self.clock()
        self._redraw_changed(before)

    def _redraw_changed(self, before: list[list[Segment]]) -> None:
        for y, line in enumerate(self._drawn_lines()):
            if y >= len(before) or line != before[y]:
                self.refresh_line(self.top_row + y)

    def _drawn_lines(self) -> list[list[Segment]]:
        """What each line of the table draws now (header first), to compare two results."""
        height = self.scrollable_content_region.height
        return [list(self.render_line(y)) for y in range(height)]

    def set_empty_note(self, lines: Sequence[str]) -> None:
        """What an empty view shows instead of rows (the first line is its headline)."""
        self.empty_note = tuple(lines) or (EMPTY_VIEW,)
        self.refresh()

    def set_total(self, total: int) -> None:
        """The view's count arrived after its first rows: size the scroll to it."""
        self.total = total
        self.counted = True
        self.cursor = max(0, min(self.cursor, total - 1)) if total else 0
        self._update_virtual_size()
        self.refresh()
        if self._last_pending:
            self._last_pending = False
            self.action_last()

    def note_fetched(self, pages: dict[int, list[QueueRow]]) -> None:
        self.pages_fetched += len(pages)
        self.rows_fetched += sum(len(rows) for rows in pages.values())

    def _update_virtual_size(self) -> None:
        # One line for the header; the rows follow it.
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._update_virtual_size()
        # A shorter window still shows the highlighted ticket (seen over SSH: a terminal
        # shrunk from 40 lines to 24 under an open ticket came back to a queue whose cursor
        # was off screen, and the next key jumped the page).
        top, visible = self.top_row, self.visible_rows
        if self.total and not top <= self.cursor < top + visible:
            self.scroll_to(y=max(0, self.cursor - visible + 1), animate=False, immediate=True)
        self.refresh()

    # ------------------------------------------------------------------ paging

    def _wanted_pages(self) -> list[int]:
        if not self.total:
            return []
        first = max(0, self.top_row - MARGIN_ROWS)
        # Below the window a screenful more: a page-down then draws rows read while the
        # last page was being looked at. Read after the key, they came as a frame of "…"
        # rows and then the rows, two frames over SSH (17 to 19 KB instead of 9) and a
        # read's wait between them.
        last = min(self.total - 1, self.top_row + 2 * self.visible_rows + MARGIN_ROWS)
        return list(range(first // PAGE_SIZE, last // PAGE_SIZE + 1))

    def _plan(self, missing: list[int]) -> list[PageRequest]:
        """A request for the first missing page of each run; the worker chains the rest."""
        requests: list[PageRequest] = []
        last_page = (self.total - 1) // PAGE_SIZE
        for page in missing:
            limit = min(PAGE_SIZE, self.total - page * PAGE_SIZE)
            prev, nxt = self._pages.get(page - 1), self._pages.get(page + 1)
            if (requests and requests[-1].page == page - 1) or page == 0:
                requests.append(PageRequest(page, limit))
            elif prev and len(prev) == PAGE_SIZE:
                requests.append(PageRequest(page, limit, after=prev[-1].key))
            elif nxt:
                requests.append(PageRequest(page, limit, before=nxt[0].key))
            elif page == last_page:
                requests.append(PageRequest(page, limit, from_end=True))
            else:
                # A scrollbar jump or a far page: OFFSET, exact but slower deep into a big
                # view on PostgreSQL; the pages around it then follow by keyset.
                requests.append(PageRequest(page, limit, offset=page * PAGE_SIZE))
        return requests

    def request_pages(self) -> None:
        if self.loader is None or not self.loaded:
            return
        missing = [
            p for p in self._wanted_pages() if p not in self._pages and p not in self._inflight
        ]
        if not missing:
            return
        self._inflight.update(missing)
        self._load_pages(self.generation, self._plan(missing))

    @work(thread=True, group="ticket-pages")
    def _load_pages(self, generation: int, requests: list[PageRequest]) -> None:
        assert self.loader is not None
        pages = self.loader(requests)
        self.post_message(self.PagesLoaded(generation, pages))

    def on_ticket_table_pages_loaded(self, message: TicketTable.PagesLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.note_fetched(message.pages)
        for page, rows in message.pages.items():
            self._inflight.discard(page)
            self._pages[page] = rows
            self._pages.move_to_end(page)
        while len(self._pages) > CACHE_PAGES:
            self._pages.popitem(last=False)
        # Pages read ahead of the window draw nothing yet: redrawing the table for them
        # was a second full frame over SSH after every few page-downs.
        shown = range(
            self.top_row // PAGE_SIZE, (self.top_row + self.visible_rows) // PAGE_SIZE + 1
        )
        if any(page in shown for page in message.pages):
            self.refresh()
        if self.cursor // PAGE_SIZE in message.pages:
            self.post_message(self.CursorMoved(self.selected))
        # A jump may have moved on while these were read.
        self.call_after_refresh(self.request_pages)

    # ------------------------------------------------------------------ drawing

    def layout(self, width: int) -> list[tuple[Column, int]]:
        """The columns shown at this width and their widths (the title takes the rest)."""
        terminal = self.app.size.width
        # Asked for every line drawn: worked out once per size.
        cached = self._layouts.get((width, terminal))
        if cached is None:
            cached = self._layouts[(width, terminal)] = self._layout(width, terminal)
        return cached

    @staticmethod
    def _layout(width: int, terminal: int) -> list[tuple[Column, int]]:
        shown = [
            replace(c, width=c.wide_width) if c.wide_width and terminal >= WIDE_TERMINAL else c
            for c in COLUMNS
            if terminal >= c.min_terminal and not (c.max_terminal and terminal >= c.max_terminal)
        ]
        fixed = sum(c.width + 1 for c in shown if c.width)
        title = width - fixed - 1
        while title < TITLE_MIN and any(c.min_terminal for c in shown):
            dropped = max((c for c in shown if c.min_terminal), key=lambda c: c.min_terminal)
            shown.remove(dropped)
            fixed -= dropped.width + 1
            title = width - fixed - 1
        return [(c, c.width or max(TITLE_MIN, title)) for c in shown]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        index = self.top_row + y - 1
        if index >= self.total:
            if not self.loaded and y == 1:
                return self._text_line(_("Loading…"), width, base, "ticket-table--placeholder")
            if self.loaded and self.total == 0 and y <= len(self.empty_note):
                component = "ticket-table--placeholder" if y == 1 else "ticket-table--note"
                return self._text_line(self.empty_note[y - 1], width, base, component)
            return Strip.blank(width, base)
        row = self.row_at(index)
        if row is None:
            self.call_after_refresh(self.request_pages)
            return self._text_line("…", width, base, "ticket-table--placeholder")
        return self._row(row, index == self.cursor, width, base)

    def _text_line(self, text: str, width: int, base: Style, component: str) -> Strip:
        style = base + self.get_component_rich_style(component)
        return Strip([Segment(set_cell_size(" " + text, width), style)], width)

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("ticket-table--header")
        sorted_style = style + self.get_component_rich_style("ticket-table--sorted")
        segments = [Segment(" ", style)]
        for column, size in self.layout(width):
            label = column.header
            if column.sort_key == self.sort_column:
                label += " ▼" if self.sort_descending else " ▲"
                segments.append(Segment(set_cell_size(label, size) + " ", sorted_style))
            else:
                segments.append(Segment(set_cell_size(label, size) + " ", style))
        return Strip(segments).adjust_cell_length(width, style).simplify()

    def _row(self, row: QueueRow, is_cursor: bool, width: int, base: Style) -> Strip:
        style = base
        if row.sla_state == "breached":
            style = style + self.get_component_rich_style("ticket-table--breached-row")
        if is_cursor:
            style = style + self.get_component_rich_style("ticket-table--cursor")
        cells: dict[str, tuple[str, Style]] = {
            "number": (row.number, style),
            "priority": (f"P{row.priority}", self._priority_style(row.priority, style)),
            "sla": (format_sla(row.sla_left, row.sla_state), self._sla_style(row, style)),
            "status": (row.status, style),
            "title": (clean_text(row.title), style),
            "service": (clean_text(row.service), style),
            "team": (clean_text(row.team), style),
            "assignee": (clean_text(row.assignee), style),
            "holder": self._holder(row, style),
            "age": (format_age(row.opened_at, self._now), style),
        }
        segments = [Segment("●" if row.number in self.marked else " ", style)]
        for column, size in self.layout(width):
            text, cell_style = cells[column.name]
            if column.name in ("sla", "age"):
                text = text.rjust(size) if cell_len(text) <= size else text
            elif cell_len(text) > size:
                # Cut text says so: the last cell becomes an ellipsis.
                text = set_cell_size(text, size - 1) + "…"
            segments.append(Segment(set_cell_size(text, size), cell_style))
            segments.append(Segment(" ", style))
        # One run of text per style, not one per cell and gap: each run costs the remote
        # terminal a colour sequence and a reset (about 25 bytes), half of a page-down's
        # bytes before (19.8 KB for a 3,000-ticket queue's page at 120×40).
        return Strip(segments).adjust_cell_length(width, style).simplify()

    def _holder(self, row: QueueRow, style: Style) -> tuple[str, Style]:
        if row.assignee:
            return clean_text(row.assignee), style
        if row.team:
            return clean_text(row.team), style + self.get_component_rich_style(
                "ticket-table--unheld"
            )
        return "—", style + self.get_component_rich_style("ticket-table--unheld")

    def _priority_style(self, priority: int, style: Style) -> Style:
        if priority in (1, 2):
            return style + self.get_component_rich_style(f"ticket-table--p{priority}")
        return style

    def _sla_style(self, row: QueueRow, style: Style) -> Style:
        if row.sla_state is None:
            return style
        return style + self.get_component_rich_style(f"ticket-table--sla-{row.sla_state}")

    # ------------------------------------------------------------------ moving

    def move_cursor(self, index: int) -> None:
        if not self.total:
            return
        before = self.cursor
        self.cursor = max(0, min(index, self.total - 1))
        top = self.top_row
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + self.visible_rows:
            top = self.cursor - self.visible_rows + 1
        if top == self.top_row:
            # The rows stay where they are: only the two lines the cursor left and reached
            # are drawn again (the whole table was a 9 KB frame over SSH per arrow key).
            self.refresh_line(before + 1)
            self.refresh_line(self.cursor + 1)
        else:
            self.scroll_to(y=top, animate=False, immediate=True)
            self.refresh()
        self.post_message(self.CursorMoved(self.selected))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        step = self.visible_rows
        self.scroll_to(y=max(0, self.top_row - step), animate=False, immediate=True)
        self.move_cursor(self.cursor - step)

    def action_page_down(self) -> None:
        step = self.visible_rows
        self.scroll_to(y=self.top_row + step, animate=False, immediate=True)
        self.move_cursor(self.cursor + step)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        if not self.counted:
            # Where the end is becomes known with the count: go there when it arrives.
            self._last_pending = True
        self.move_cursor(self.total - 1)

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 1
            for column, size in self.layout(self.scrollable_content_region.width):
                if x <= offset.x < x + size + 1:
                    self.post_message(self.SortClicked(column.sort_key))
                    return
                x += size + 1
            return
        index = self.top_row + offset.y - 1
        if index < self.total:
            if index == self.cursor or event.chain >= 2:
                self.move_cursor(index)
                self.action_open()
            else:
                self.move_cursor(index)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        # Scrolling by wheel or scrollbar: read what came into view.
        self.call_after_refresh(self.request_pages)
