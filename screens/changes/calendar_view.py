"""The calendar grid: one line per service across a week or a month, drawn to the width.

Each cell stands for an equal slice of the period (at 80 columns a week is nine cells a
day, a month two). A cell shows, strongest first: a planned change (a conflict in the
conflict style, the selected change in the cursor's), a freeze (shaded), a maintenance
window (a low bar), else nothing. Freezes on every service have a line of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from itsm_tui.i18n import _
from itsm_tui.screens.text import safe_text

CHANGE_CELL = "█"
FREEZE_CELL = "░"
MAINTENANCE_CELL = "▁"
# The service names' column: as wide as the longest name up to this share of the width.
LABEL_SHARE = 0.2
LABEL_MIN, LABEL_MAX = 10, 28


WEEK, MONTH = "week", "month"


def period_bounds(anchor: datetime, view: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """The week (Monday 00:00 to Monday 00:00) or month (the 1st to the 1st) holding
    `anchor`, cut at local midnight in `zone`."""
    local = anchor.astimezone(zone)
    if view == WEEK:
        monday = (local - timedelta(days=local.weekday())).date()
        start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        following = monday + timedelta(days=7)
        end = datetime(following.year, following.month, following.day, tzinfo=zone)
    else:
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        end = datetime(year, month, 1, tzinfo=zone)
    return start, end


def shifted(anchor: datetime, view: str, step: int, zone: tzinfo) -> datetime:
    """The anchor of the period `step` periods away (a month step lands on the 1st)."""
    if view == WEEK:
        return anchor + timedelta(days=7 * step)
    local = anchor.astimezone(zone)
    index = local.year * 12 + local.month - 1 + step
    return datetime(index // 12, index % 12 + 1, 1, 12, tzinfo=zone)


@dataclass(frozen=True)
class Line:
    """One line of the grid: a service (or the freezes on every service)."""

    label: str
    changes: tuple[Any, ...]
    freezes: tuple[Any, ...]
    maintenance: tuple[Any, ...]


def grid_lines(calendar: Any) -> list[Line]:
    """The calendar's lines: freezes on every service first (when there are any), then one
    per service; a freeze on every service also shades each service's line."""
    lines = []
    if calendar.freezes:
        lines.append(Line(_("All services"), (), tuple(calendar.freezes), ()))
    for row in calendar.rows:
        lines.append(
            Line(
                row.service,
                tuple(row.changes),
                tuple(row.freezes) + tuple(calendar.freezes),
                tuple(row.maintenance),
            )
        )
    return lines


class CalendarView(Widget, can_focus=True):
    """The grid with a cursor on one change; the screen reads and opens."""

    COMPONENT_CLASSES = {
        "calendar--axis",
        "calendar--today",
        "calendar--label",
        "calendar--label-focused",
        "calendar--change",
        "calendar--emergency",
        "calendar--conflict",
        "calendar--cursor",
        "calendar--freeze",
        "calendar--maintenance",
        "calendar--muted",
    }

    class Moved(Message):
        """The selected change changed (the screen's detail line follows)."""

        def __init__(self, change: Any | None) -> None:
            super().__init__()
            self.change = change

    class Opened(Message):
        def __init__(self, change: Any) -> None:
            super().__init__()
            self.change = change

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.zone: tzinfo = UTC
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.lines: list[Line] = []
        self.row = 0
        # The selected change: its number (kept across reads) and its line.
        self.number: str | None = None
        self.top = 0
        self.loading = True

    # ------------------------------------------------------------------ what is shown

    def show(self, calendar: Any, *, zone: tzinfo) -> None:
        """A newly read period: the selected change stays selected if it is still there."""
        self.zone = zone
        self.start, self.end = calendar.start, calendar.end
        self.lines = grid_lines(calendar)
        self.loading = False
        if not self._find(self.number):
            self.row = min(self.row, max(0, len(self.lines) - 1))
            bars = self.bars(self.row)
            if not bars:
                self.row = next((i for i in range(len(self.lines)) if self.bars(i)), self.row)
                bars = self.bars(self.row)
            self.number = bars[0].number if bars else None
        self._keep_in_view()
        self.refresh()
        self.post_message(self.Moved(self.selected))

    def _find(self, number: str | None) -> bool:
        if number is None:
            return False
        if any(c.number == number for c in self.bars(self.row)):
            return True
        for i in range(len(self.lines)):
            if any(c.number == number for c in self.bars(i)):
                self.row = i
                return True
        return False

    def bars(self, row: int) -> tuple[Any, ...]:
        if not 0 <= row < len(self.lines):
            return ()
        return self.lines[row].changes

    @property
    def selected(self) -> Any | None:
        return next((c for c in self.bars(self.row) if c.number == self.number), None)

    # ------------------------------------------------------------------ moving

    def move_bar(self, step: int) -> None:
        """The previous or next change on this line (in time order)."""
        bars = self.bars(self.row)
        if not bars:
            return
        index = next((i for i, c in enumerate(bars) if c.number == self.number), -1)
        index = 0 if index < 0 else max(0, min(len(bars) - 1, index + step))
        self.number = bars[index].number
        self._moved()

    def move_row(self, step: int) -> None:
        """The line above or below; on it, the change nearest in time to the selected one."""
        if not self.lines:
            return
        current = self.selected
        self.row = max(0, min(len(self.lines) - 1, self.row + step))
        bars = self.bars(self.row)
        if bars:
            if current is not None:
                target = current.starts_at
                nearest = min(bars, key=lambda c: abs((c.starts_at - target).total_seconds()))
            else:
                nearest = bars[0]
            self.number = nearest.number
        self._moved()

    def _moved(self) -> None:
        self._keep_in_view()
        self.refresh()
        self.post_message(self.Moved(self.selected))

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _keep_in_view(self) -> None:
        if not self.size.height:
            return  # not laid out yet: on_resize places it
        if self.row < self.top:
            self.top = self.row
        elif self.row >= self.top + self.visible_rows:
            self.top = self.row - self.visible_rows + 1
        self.top = max(0, min(self.top, max(0, len(self.lines) - self.visible_rows)))

    def on_resize(self, _event: events.Resize) -> None:
        self._keep_in_view()

    def on_click(self, event: events.Click) -> None:
        if self.start is None or event.y < 1:
            return
        row = self.top + event.y - 1
        label = self.label_width
        if not 0 <= row < len(self.lines) or event.x < label:
            return
        at = self._instant(event.x - label)
        slot = self._slot
        hit = next(
            (c for c in self.bars(row) if c.starts_at < at + slot and c.ends_at > at),
            None,
        )
        if hit is None:
            return
        again = row == self.row and hit.number == self.number
        self.row, self.number = row, hit.number
        self._moved()
        if again:
            self.post_message(self.Opened(hit))

    # ------------------------------------------------------------------ geometry

    @property
    def label_width(self) -> int:
        longest = max((len(line.label) for line in self.lines), default=LABEL_MIN)
        share = int(self.size.width * LABEL_SHARE)
        return max(LABEL_MIN, min(LABEL_MAX, longest + 2, max(LABEL_MIN, share)))

    @property
    def cells(self) -> int:
        return max(1, self.size.width - self.label_width)

    @property
    def _slot(self) -> timedelta:
        assert self.start is not None and self.end is not None
        return (self.end - self.start) / self.cells

    def _instant(self, cell: int) -> datetime:
        assert self.start is not None
        return self.start + self._slot * cell

    # ------------------------------------------------------------------ drawing

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def render(self) -> Text:
        if self.loading or self.start is None:
            return Text(_("Reading the calendar…"), style=self._style("calendar--muted"))
        out = [self._axis()]
        if not self.lines:
            out.append(Text(" " + _("No services."), style=self._style("calendar--muted")))
        for row in range(self.top, min(len(self.lines), self.top + self.visible_rows)):
            out.append(self._line(row))
        return Text("\n", no_wrap=True, overflow="crop").join(out)

    def _axis(self) -> Text:
        """Day labels where each day starts (in the reader's zone), today marked."""
        assert self.start is not None and self.end is not None
        label = self.label_width
        cells = self.cells
        axis = [" "] * cells
        styles: list[Style | None] = [None] * cells
        today = self.clock().astimezone(self.zone).date()
        day = self.start.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        slot = self._slot
        per_day = timedelta(days=1) / slot
        # Week: "Mon 23"; month: the day of the month, as often as there is room.
        fmt = "%a %d" if per_day >= 7 else "%d"
        every = 1 if per_day >= 3 else (2 if per_day >= 1.5 else 7)
        n = 0
        while day < self.end:
            cell = int((day - self.start) / slot)
            if 0 <= cell < cells and n % every == 0:
                text = "│" + day.strftime(fmt)
                is_today = day.date() == today
                for k, ch in enumerate(text[: max(0, cells - cell)]):
                    axis[cell + k] = ch
                    styles[cell + k] = self._style("calendar--today") if is_today else None
            # Next local midnight (DST days are 23 or 25 hours long).
            day = (day + timedelta(hours=26)).replace(hour=0)
            day = day.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
            n += 1
        text = Text(" " * label, style=self._style("calendar--axis"), no_wrap=True)
        for ch, style in zip(axis, styles, strict=True):
            text.append(ch, style=style or self._style("calendar--axis"))
        return text

    def _line(self, row: int) -> Text:
        line = self.lines[row]
        label_width = self.label_width
        focused = row == self.row
        label = safe_text(" " + line.label, single_line=True)
        label.truncate(label_width - 1, overflow="ellipsis", pad=True)
        label.append(" ")
        label.stylize(self._style("calendar--label-focused" if focused else "calendar--label"))
        text = Text(no_wrap=True, overflow="crop")
        text.append_text(label)
        for cell in range(self.cells):
            text.append(*self._cell(line, cell, focused))
        return text

    def _cell(self, line: Line, cell: int, focused: bool) -> tuple[str, Style]:
        lo = self._instant(cell)
        hi = lo + self._slot
        changes = [c for c in line.changes if c.starts_at < hi and c.ends_at > lo]
        if changes:
            if focused and any(c.number == self.number for c in changes):
                return CHANGE_CELL, self._style("calendar--cursor")
            if any(c.in_conflict for c in changes):
                return CHANGE_CELL, self._style("calendar--conflict")
            if any(c.change_type == "emergency" for c in changes):
                return CHANGE_CELL, self._style("calendar--emergency")
            return CHANGE_CELL, self._style("calendar--change")
        if any(f.starts_at < hi and f.ends_at > lo for f in line.freezes):
            return FREEZE_CELL, self._style("calendar--freeze")
        if any(m.starts_at < hi and m.ends_at > lo for m in line.maintenance):
            return MAINTENANCE_CELL, self._style("calendar--maintenance")
        return " ", Style()


def periods_overlapping(items: Sequence[Any], start: datetime, end: datetime) -> list[Any]:
    """The freezes or maintenance windows of a line that touch [start, end)."""
    return [i for i in items if i.starts_at < end and i.ends_at > start]
