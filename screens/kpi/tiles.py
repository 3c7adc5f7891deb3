"""The dashboard's widgets: a KPI tile (value, target, status, change, sparkline) and the
larger trend chart of one KPI with its target line, drawn on Textual's own primitives."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from itsm_tui.data.kpi import AMBER, GREEN, NO_DATA, RED, Kpi
from itsm_tui.data.kpi.figures import shown
from itsm_tui.i18n import _

STATUS_CLASSES = {GREEN: "green", AMBER: "amber", RED: "red", NO_DATA: "no-data"}
STATUS_WORDS = {GREEN: _("on target"), AMBER: _("near"), RED: _("off target"), NO_DATA: ""}


def change_text(kpi: Kpi) -> str:
    """The change against the previous period, as people read it ("" when not comparable)."""
    if kpi.value is None or kpi.previous is None:
        return ""
    delta = kpi.value - kpi.previous
    if abs(delta) < 1e-9:
        return "= " + _("same")
    arrow = "▲" if delta > 0 else "▼"
    return f"{arrow} {shown(abs(delta), kpi.unit)}"


class KpiTile(Vertical, can_focus=True):
    """One KPI; focusing it selects it for the trend chart; a double click (or the screen's
    Enter) asks for the tickets behind it."""

    class Chosen(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class Selected(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, kpi: Kpi, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="kpi-tile")
        self.kpi = kpi

    def compose(self) -> ComposeResult:
        yield Static(classes="tile-text")
        yield Sparkline([], classes="tile-spark")

    def on_mount(self) -> None:
        self.show(self.kpi, [])

    def show(self, kpi: Kpi, trend: list[float | None]) -> None:
        self.kpi = kpi
        for cls in STATUS_CLASSES.values():
            self.set_class(STATUS_CLASSES.get(kpi.status) == cls, cls)
        text = Text(kpi.label, style="bold", no_wrap=True, overflow="ellipsis")
        text.append("\n")
        text.append(shown(kpi.value, kpi.unit), style="bold")
        word = STATUS_WORDS.get(kpi.status, "")
        if word:
            text.append(f"  {word}")
        text.append("\n")
        if kpi.target is not None:
            text.append(_("target {t}").format(t=shown(kpi.target, kpi.unit)), style="dim")
        change = change_text(kpi)
        if change:
            text.append(("  " if kpi.target is not None else "") + change)
        self.query_one(".tile-text", Static).update(text)
        # No data days are drawn at the bottom, never as a made-up value: the tile's text
        # already says "no data" for the period.
        values = [v for v in trend if v is not None]
        self.query_one(".tile-spark", Sparkline).data = values

    def on_focus(self) -> None:
        self.post_message(self.Selected(self.kpi.key))

    def on_click(self, event: events.Click) -> None:
        self.focus()
        if event.chain == 2:
            self.post_message(self.Chosen(self.kpi.key))


class TrendChart(Widget):
    """One KPI's daily values as columns of blocks, with its target as a dashed line.

    Textual's Sparkline has no axis or reference line, and no plotting widget is a
    dependency of the project (docs/kpi.md): this is a few dozen lines of Rich text.
    """

    DEFAULT_CSS = (
        "TrendChart { height: 1fr; min-height: 5; text-wrap: nowrap; text-overflow: clip; }"
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kpi: Kpi | None = None
        self.values: list[float | None] = []
        self.days: list[date] = []

    def plot(self, kpi: Kpi, values: list[float | None], days: list[date]) -> None:
        self.kpi, self.values, self.days = kpi, values, days
        self.refresh()

    def render(self) -> Text:
        kpi = self.kpi
        width, height = self.content_size.width, self.content_size.height
        if kpi is None or width < 10 or height < 3:
            return Text("")
        title = Text(kpi.label, style="bold", no_wrap=True, overflow="ellipsis")
        if kpi.target is not None:
            title.append(_("  target {t} ┄").format(t=shown(kpi.target, kpi.unit)), style="dim")
        known = [v for v in self.values if v is not None]
        if not known:
            empty = title + Text("\n" + _("no data in these days"), style="dim")
            empty.no_wrap = True
            empty.overflow = "ellipsis"
            return empty
        top = max([*known, kpi.target if kpi.target is not None else known[0]])
        bottom = min([*known, kpi.target if kpi.target is not None else known[0]])
        if top == bottom:
            top, bottom = top + 1, max(0.0, bottom - 1)
        span = top - bottom
        label_width = max(len(shown(top, kpi.unit)), len(shown(bottom, kpi.unit))) + 1
        # The latest days that fit, two columns a day at least (a bar and a gap).
        room = width - label_width
        values, days = self.values[-(room // 2) :], self.days[-(room // 2) :]
        step = max(2, room // max(1, len(values)))
        rows = height - 2
        target_row = None
        if kpi.target is not None:
            target_row = round((top - kpi.target) / span * (rows - 1))
        half_row = span / (2 * max(1, rows - 1))
        bar = {GREEN: "green", AMBER: "yellow", RED: "red"}.get(kpi.status, "cyan")
        lines = []
        for row in range(rows):
            level = top - span * row / max(1, rows - 1)
            label = {0: shown(top, kpi.unit), rows - 1: shown(bottom, kpi.unit)}.get(row, "")
            line = Text(label.rjust(label_width - 1) + " ", style="dim")
            gap = "┄" if row == target_row else " "
            for value in values:
                if value is not None and value >= level - half_row:
                    line.append("█" * (step - 1), style=bar)
                else:
                    line.append(gap * (step - 1), style="dim")
                line.append(gap, style="dim")
            lines.append(line)
        axis = Text(" " * label_width, style="dim")
        if days:
            first, last = days[0].strftime("%d %b"), days[-1].strftime("%d %b")
            axis.append(first + " " * max(1, step * len(days) - len(first) - len(last)) + last)
        chart = Text("\n").join([title, *lines, axis])
        chart.no_wrap = True
        chart.overflow = "crop"
        return chart
