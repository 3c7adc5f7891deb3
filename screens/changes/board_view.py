"""The board itself: status columns of change cards, a cursor per column, drawn to fit.

At any width the board shows as many whole columns as fit (`MIN_COLUMN` cells each) and
slides sideways to keep the focused one in view: at 80 columns three statuses at a time,
each wide enough to read a title; at 160 six. The bar above says which of the nine are
shown and the headings carry each column's count, so nothing hidden goes unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from itsm_tui.data.change_board import BoardCard, BoardColumn
from itsm_tui.i18n import _
from itsm_tui.screens.text import safe_text

# A column narrower than this cannot show a number with its type, or a window with its risk.
MIN_COLUMN = 24
# Lines of one card (number and type, title, window and risk) and the gap after it.
CARD_LINES = 3
CARD_HEIGHT = CARD_LINES + 1

STATUS_LABELS = {
    "draft": _("Draft"),
    "assessment": _("Assessment"),
    "authorization": _("Authorization"),
    "scheduled": _("Scheduled"),
    "implementing": _("Implementing"),
    "review": _("Review"),
    "closed": _("Closed"),
    "rejected": _("Rejected"),
    "cancelled": _("Cancelled"),
}
RISK_LABELS = {
    "low": _("low"),
    "medium": _("medium"),
    "high": _("high"),
    "very_high": _("very high"),
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def span(delta: timedelta) -> str:
    """A window's length as it fits on a card: `45m`, `2h`, `1h30`, `3d`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours}h{rest:02d}" if rest else f"{hours}h"
    return f"{minutes // 1440}d"


def window_texts(
    start: datetime | None, end: datetime | None, zone: tzinfo, now: datetime
) -> tuple[str, ...]:
    """A planned window, longest first: the card takes the first that fits its width."""
    if start is None:
        return (_("no window"),)
    local = start.astimezone(zone)
    if local.year == now.astimezone(zone).year:
        at = local.strftime("%d %b %H:%M")
    else:
        at = local.strftime("%Y-%m-%d %H:%M")
    if end is None or end <= start:
        return (at,)
    return (f"{at} +{span(end - start)}", at)


class BoardView(Widget, can_focus=True):
    """Columns of cards with a cursor; keys and clicks move it, the screen acts on it."""

    COMPONENT_CLASSES = {
        "board--heading",
        "board--heading-focused",
        "board--cursor",
        "board--number",
        "board--vote",
        "board--muted",
        "board--emergency",
        "board--risk-low",
        "board--risk-medium",
        "board--risk-high",
        "board--risk-very_high",
    }

    class Moved(Message):
        """The cursor moved: the screen refreshes its footer and may read further down."""

        def __init__(self, status: str, index: int) -> None:
            super().__init__()
            self.status = status
            self.index = index

    class Opened(Message):
        """A card was clicked twice (selected, then clicked again)."""

        def __init__(self, card: BoardCard) -> None:
            super().__init__()
            self.card = card

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.zone: tzinfo = UTC
        self.columns: list[BoardColumn] = []
        self.cards: dict[str, list[BoardCard]] = {}
        self.focus_column = 0
        self.cursor: dict[str, int] = {}
        self.top: dict[str, int] = {}
        self.first_column = 0
        self.loading = True
        self.note = ""

    # ------------------------------------------------------------------ what is shown

    def show(
        self,
        columns: Sequence[BoardColumn],
        *,
        follow: int | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        """New data: each column keeps the card under its cursor (by id) or its place;
        `follow` moves the focus to that change wherever it now stands."""
        previous = {s: self.selected_in(s) for s in self.cards}
        self.columns = list(columns)
        self.cards = {c.status: list(c.cards) for c in self.columns}
        if zone is not None:
            self.zone = zone
        for column in self.columns:
            cards = self.cards[column.status]
            before = previous.get(column.status)
            index = self.cursor.get(column.status, 0)
            if before is not None:
                index = next((i for i, c in enumerate(cards) if c.id == before.id), index)
            self.cursor[column.status] = max(0, min(index, len(cards) - 1))
        if follow is not None:
            for i, column in enumerate(self.columns):
                for j, card in enumerate(self.cards[column.status]):
                    if card.id == follow:
                        self.focus_column = i
                        self.cursor[column.status] = j
        self.focus_column = max(0, min(self.focus_column, len(self.columns) - 1))
        self.loading = False
        self._keep_in_view()
        self.refresh()

    def set_counts(self, counts: dict[str, int]) -> None:
        """The columns' counts, read after their cards."""
        self.columns = [
            replace(column, count=counts.get(column.status, column.count))
            for column in self.columns
        ]
        self.refresh()

    def counted_as_before(self, columns: Sequence[BoardColumn]) -> tuple[BoardColumn, ...]:
        """New columns, those not counted yet with the count they had."""
        before = {column.status: column.count for column in self.columns}
        return tuple(
            column if column.count is not None else replace(column, count=before.get(column.status))
            for column in columns
        )

    def add_cards(self, status: str, cards: Sequence[BoardCard]) -> None:
        """A further page of one column, read as the cursor neared its end."""
        known = {c.id for c in self.cards.get(status, ())}
        self.cards.setdefault(status, []).extend(c for c in cards if c.id not in known)
        self.refresh()

    @property
    def status(self) -> str | None:
        if not self.columns:
            return None
        return self.columns[self.focus_column].status

    @property
    def column(self) -> BoardColumn | None:
        return self.columns[self.focus_column] if self.columns else None

    def selected_in(self, status: str) -> BoardCard | None:
        cards = self.cards.get(status, [])
        index = self.cursor.get(status, 0)
        return cards[index] if 0 <= index < len(cards) else None

    @property
    def selected(self) -> BoardCard | None:
        status = self.status
        return self.selected_in(status) if status else None

    def loaded_depth(self) -> dict[str, int]:
        return {status: len(cards) for status, cards in self.cards.items()}

    # ------------------------------------------------------------------ geometry

    @property
    def visible_columns(self) -> int:
        width = self.size.width or self.app.size.width
        return max(1, min(len(self.columns) or 1, width // MIN_COLUMN))

    @property
    def visible_cards(self) -> int:
        # The heading takes a line; a card's trailing gap may fall off the bottom.
        return max(1, (max(1, self.size.height - 1) + 1) // CARD_HEIGHT)

    def shown_range(self) -> tuple[int, int]:
        """Indexes of the first and one past the last column on screen."""
        return self.first_column, min(len(self.columns), self.first_column + self.visible_columns)

    def _keep_in_view(self) -> None:
        shown = self.visible_columns
        if self.focus_column < self.first_column:
            self.first_column = self.focus_column
        elif self.focus_column >= self.first_column + shown:
            self.first_column = self.focus_column - shown + 1
        self.first_column = max(0, min(self.first_column, max(0, len(self.columns) - shown)))
        if not self.size.height:
            return  # not laid out yet: on_resize places the cards
        for status, cards in self.cards.items():
            index = self.cursor.get(status, 0)
            top = self.top.get(status, 0)
            rows = self.visible_cards
            if index < top:
                top = index
            elif index >= top + rows:
                top = index - rows + 1
            self.top[status] = max(0, min(top, len(cards) - rows))

    def on_resize(self, _event: events.Resize) -> None:
        self._keep_in_view()

    # ------------------------------------------------------------------ moving

    def move_column(self, step: int) -> None:
        if not self.columns:
            return
        self.focus_column = max(0, min(len(self.columns) - 1, self.focus_column + step))
        self._moved()

    def move_card(self, step: int) -> None:
        status = self.status
        if status is None:
            return
        cards = self.cards.get(status, [])
        if not cards:
            return
        self.cursor[status] = max(0, min(len(cards) - 1, self.cursor.get(status, 0) + step))
        self._moved()

    def first_card(self) -> None:
        if self.status is not None:
            self.cursor[self.status] = 0
            self._moved()

    def last_card(self) -> None:
        if self.status is not None:
            self.cursor[self.status] = max(0, len(self.cards.get(self.status, [])) - 1)
            self._moved()

    def _moved(self) -> None:
        self._keep_in_view()
        self.refresh()
        status = self.status
        if status is not None:
            self.post_message(self.Moved(status, self.cursor.get(status, 0)))

    def on_click(self, event: events.Click) -> None:
        first, last = self.shown_range()
        if not self.columns or event.y < 1:
            return
        width = self.size.width // max(1, last - first)
        column = min(last - 1, first + event.x // max(1, width))
        status = self.columns[column].status
        index = self.top.get(status, 0) + (event.y - 1) // CARD_HEIGHT
        cards = self.cards.get(status, [])
        if index >= len(cards):
            return
        again = column == self.focus_column and index == self.cursor.get(status, 0)
        self.focus_column = column
        self.cursor[status] = index
        self._moved()
        if again:
            self.post_message(self.Opened(cards[index]))

    # ------------------------------------------------------------------ drawing

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        if self.loading:
            return Text(_("Reading the board…"), style=self._style("board--muted"))
        if not self.columns:
            return Text(self.note or _("No changes."), style=self._style("board--muted"))
        first, last = self.shown_range()
        shown = last - first
        widths = [width // shown + (1 if i < width % shown else 0) for i in range(shown)]
        cells = [
            self._column_lines(self.columns[first + i], first + i, widths[i], height)
            for i in range(shown)
        ]
        lines = []
        for y in range(height):
            line = Text(no_wrap=True, overflow="crop")
            for column_lines in cells:
                line.append_text(column_lines[y])
            lines.append(line)
        return Text("\n", no_wrap=True, overflow="crop").join(lines)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _column_lines(self, column: BoardColumn, index: int, width: int, height: int) -> list[Text]:
        focused = index == self.focus_column
        inner = max(1, width - 2)
        lines = [self._heading(column, focused, width)]
        cards = self.cards.get(column.status, [])
        top = self.top.get(column.status, 0)
        cursor = self.cursor.get(column.status, 0)
        rows = height - 1
        y = 0
        i = top
        while y < rows and i < len(cards):
            drawn = self._card_lines(cards[i], inner, selected=focused and i == cursor)
            for line in drawn:
                if y < rows:
                    lines.append(line)
                    y += 1
            if y < rows:
                lines.append(Text(" " * width))
                y += 1
            i += 1
        below = (len(cards) if column.count is None else column.count) - i
        if below > 0 and y >= rows and len(lines) > 1:
            more = Text(
                " " + _("↓ {n} more").format(n=f"{below:,}"), style=self._style("board--muted")
            )
            lines[-1] = more
        while len(lines) < height:
            empty = not cards and len(lines) == 1
            if empty:
                lines.append(Text(" " + _("nothing here"), style=self._style("board--muted")))
            else:
                lines.append(Text(""))
        return [_fit(line, width) for line in lines[:height]]

    def _heading(self, column: BoardColumn, focused: bool, width: int) -> Text:
        style = self._style("board--heading-focused" if focused else "board--heading")
        cards_read = len(self.cards.get(column.status, ()))
        text = Text(" " + status_label(column.status), style=style + Style(bold=True))
        count = "…" if column.count is None else f"{column.count:,}"
        if focused and cards_read:
            count = f"{self.cursor.get(column.status, 0) + 1:,}/{count}"
        text.append(f" · {count}", style=style)
        votes = sum(1 for c in self.cards.get(column.status, []) if c.awaiting_me)
        if votes:
            text.append(" ★" + str(votes), style=style + self._style("board--vote"))
        if column.since is not None and width - text.cell_len > 11:
            text.append(" " + _("last 30 d"), style=style + self._style("board--muted"))
        first, last = self.shown_range()
        if column.status == self.columns[first].status and first > 0:
            text = Text("◂", style=style) + text
        if column.status == self.columns[last - 1].status and last < len(self.columns):
            text = _fit(text, width - 1)
            text.append("▸", style=style)
        text.stylize(style)
        return _fit(text, width, style)

    def _card_lines(self, card: BoardCard, inner: int, *, selected: bool) -> list[Text]:
        now = self.clock()
        base = self._style("board--cursor") if selected else Style()
        gutter = Text("▌" if card.awaiting_me else " ", style=self._style("board--vote"))
        number = Text(card.number, style=self._style("board--number"))
        kind_style = self._style("board--emergency") if card.change_type == "emergency" else Style()
        kind = Text(card.change_type, style=kind_style)
        first = _spread(number, kind, inner)
        title = safe_text(card.title, single_line=True)
        title.truncate(inner, overflow="ellipsis")
        risk = (
            Text(
                RISK_LABELS.get(card.risk, card.risk), style=self._style(f"board--risk-{card.risk}")
            )
            if card.risk
            else Text(_("unassessed"), style=self._style("board--muted"))
        )
        windows = window_texts(card.planned_start, card.planned_end, self.zone, now)
        window = next((w for w in windows if len(w) + 1 + risk.cell_len <= inner), windows[-1])
        muted = self._style("board--muted") if card.planned_start is None else Style()
        third = _spread(Text(window, style=muted), risk, inner)
        lines = []
        for body in (first, title, third):
            line = gutter.copy()
            body = _fit(body, inner)
            line.append_text(body)
            line.append(" ")
            if selected:
                line.stylize(base, 1, 1 + inner)
            lines.append(line)
        return lines


def _spread(left: Text, right: Text, width: int) -> Text:
    """`left` at the start and `right` at the end of `width` cells (right wins a tie)."""
    room = width - right.cell_len - 1
    if room < 1:
        return _fit(right, width)
    left = left.copy()
    left.truncate(room, overflow="ellipsis")
    gap = width - left.cell_len - right.cell_len
    return Text.assemble(left, " " * gap, right)


def _fit(text: Text, width: int, style: Style | str = "") -> Text:
    text = text.copy()
    text.truncate(width, overflow="ellipsis", pad=True)
    if style:
        text.stylize(style)
    return text
