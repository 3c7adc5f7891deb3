"""The change calendar: a week or a month of planned windows per service, with the freezes
and maintenance windows they must respect and the conflicts among them, kept live.

The period is cut in the reader's time zone (a week from Monday 00:00, a month from the
1st); the reads are changeschedule's `calendar` (one range of ix_changes_planned and the
windows' occurrences), in a thread worker, again a few seconds after each answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from itsm_tui.context import DeskContext
from itsm_tui.data import change_schedule
from itsm_tui.desk import DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone, zone_label
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens.changes.board_view import RISK_LABELS, span, status_label
from itsm_tui.screens.changes.calendar_view import (
    CHANGE_CELL,
    FREEZE_CELL,
    MAINTENANCE_CELL,
    WEEK,
    CalendarView,
    period_bounds,
    periods_overlapping,
    shifted,
)
from itsm_tui.screens.refresh import LiveRefresh
from itsm_tui.screens.text import safe_text
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader


class CalendarLoaded(Message):
    def __init__(self, calendar: Any, zone: tzinfo, key: tuple[str, datetime]) -> None:
        super().__init__()
        self.calendar = calendar
        self.zone = zone
        self.key = key


class CalendarFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ChangeCalendarScreen(Screen[None]):
    """Planned windows by service over a week or a month; Enter opens the change."""

    CSS_PATH = "../styles/changes.tcss"
    AUTO_FOCUS = "#calendar"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open")),
        Binding("left_square_bracket,pageup", "period(-1)", _("Earlier")),
        Binding("right_square_bracket,pagedown", "period(1)", _("Later")),
        Binding("t", "today", _("Today")),
        Binding("w", "view('week')", _("Week")),
        Binding("m", "view('month')", _("Month")),
        Binding("left", "bar(-1)", _("Previous change"), show=False),
        Binding("right", "bar(1)", _("Next change"), show=False),
        Binding("up", "row(-1)", _("Service above"), show=False),
        Binding("down", "row(1)", _("Service below"), show=False),
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
        Binding("escape", "back", _("Back")),
    ]

    def __init__(
        self,
        ctx: DeskContext | None = None,
        *,
        view: str = WEEK,
        poll_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._poll_seconds = poll_seconds
        self.period_view = view
        # Any instant of the period shown (set to now as the screen mounts).
        self.anchor: datetime | None = None
        self.zone: tzinfo | None = None
        self.calendar: Any | None = None
        self.live = LiveRefresh(self, self.reload, lambda: self.poll_seconds)
        self.polls = 0
        self.holds_keys = True

    @property
    def ctx(self) -> DeskContext:
        return self._ctx or self.app.desk  # type: ignore[attr-defined,no-any-return]

    @property
    def poll_seconds(self) -> float:
        if self._poll_seconds is not None:
            return self._poll_seconds
        return float(getattr(self.app, "poll_seconds", 3.0))

    def compose(self) -> ComposeResult:
        yield DeskHeader(self._ctx)
        with Horizontal(id="calendar-bar"):
            yield Static(_(" Change calendar "), id="calendar-name")
            yield Static(id="calendar-detail")
        yield CalendarView(clock=self.ctx.now, id="calendar")
        yield Static(id="calendar-selected")
        yield Static(self._legend(), id="calendar-legend")
        yield DeskFooter()

    @property
    def view(self) -> CalendarView:
        return self.query_one(CalendarView)

    def on_mount(self) -> None:
        self.anchor = self.ctx.now()
        self.reload()

    # ------------------------------------------------------------------ reading

    def _key(self) -> tuple[str, datetime]:
        assert self.anchor is not None
        return self.period_view, self.anchor

    def reload(self) -> None:
        self._read(self._key())

    @work(thread=True, exclusive=True, group="calendar-read")
    def _read(self, key: tuple[str, datetime]) -> None:
        ctx = self.ctx
        view, anchor = key
        try:
            with ctx.store.read() as session:
                zone = self.zone
                if zone is None:
                    try:
                        agent = get_agent(session, ctx.actor)
                    except DeskError:
                        agent = None
                    zone = agent_zone(session, agent)
                start, end = period_bounds(anchor, view, zone)
                calendar = change_schedule.calendar(session, start=start, end=end)
        except (SQLAlchemyError, DeskError, ValueError) as exc:
            self.post_message(CalendarFailed(str(exc)))
            return
        self.post_message(CalendarLoaded(calendar, zone, key))

    @on(CalendarLoaded)
    def _loaded(self, message: CalendarLoaded) -> None:
        if message.key == self._key():
            self.zone = message.zone
            self.calendar = message.calendar
            self.view.show(message.calendar, zone=message.zone)
            self._show_bar()
            if self.holds_keys:
                self.holds_keys = False
                keys_may_go(self.app)
        self.polls += 1
        self.live.answered()

    @on(CalendarFailed)
    def _failed(self, message: CalendarFailed) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)
        self.notify(
            _("Cannot read the change calendar: {why}").format(why=message.reason[:200]),
            severity="error",
            markup=False,
        )
        self.live.answered()

    # ------------------------------------------------------------------ the lines around

    def _show_bar(self) -> None:
        calendar, zone = self.calendar, self.zone
        if calendar is None or zone is None:
            return
        start = calendar.start.astimezone(zone)
        last = (calendar.end - timedelta(seconds=1)).astimezone(zone)
        if self.period_view == WEEK:
            title = _("Week {week} · {first} – {last}").format(
                week=start.isocalendar().week,
                first=start.strftime("%a %d %b"),
                last=last.strftime("%a %d %b %Y"),
            )
        else:
            title = start.strftime("%B %Y")
        changes = {c.number for row in calendar.rows for c in row.changes}
        conflicts = {c.number for row in calendar.rows for c in row.changes if c.in_conflict}
        parts = [
            title,
            _("{n} planned").format(n=len(changes)),
        ]
        if conflicts:
            parts.append(_("{n} in conflict").format(n=len(conflicts)))
        parts.append(_("times in {zone}").format(zone=zone_label(zone)))
        self.query_one("#calendar-detail", Static).update(Text(" · ".join(parts)))

    def _legend(self) -> Text:
        view = self.view if self.is_mounted else None
        text = Text(" ")
        styles = (
            (CHANGE_CELL, "calendar--change", _("planned")),
            (CHANGE_CELL, "calendar--conflict", _("conflict")),
            (FREEZE_CELL, "calendar--freeze", _("freeze")),
            (MAINTENANCE_CELL, "calendar--maintenance", _("maintenance window")),
        )
        for cell, component, label in styles:
            style = view.get_component_rich_style(component, partial=True) if view else ""
            text.append(cell * 2, style=style)
            text.append(f" {label}   ")
        return text

    @on(CalendarView.Moved)
    def _selected(self, message: CalendarView.Moved) -> None:
        self.refresh_bindings()  # Enter opens a change only when one is selected
        self.query_one("#calendar-legend", Static).update(self._legend())
        box = self.query_one("#calendar-selected", Static)
        change, zone = message.change, self.zone
        if change is None or zone is None:
            box.update(Text(" " + _("No planned change on this line in this period."), style="dim"))
            return
        start = change.starts_at.astimezone(zone)
        text = Text(" ")
        text.append(change.number, style="bold")
        text.append("  ")
        text.append_text(safe_text(change.title, single_line=True))
        details = [
            change.change_type,
            status_label(change.status),
            RISK_LABELS.get(change.risk, change.risk) if change.risk else _("unassessed"),
            f"{start:%a %d %b %H:%M} +{span(change.ends_at - change.starts_at)}",
        ]
        text.append("  ·  " + "  ·  ".join(details), style="dim")
        if change.in_conflict:
            text.append("  ·  ")
            text.append(_("conflict — Enter shows what it clashes with"), style="bold red")
        line = self.view.lines[self.view.row] if self.view.lines else None
        if line is not None:
            frozen = periods_overlapping(line.freezes, change.starts_at, change.ends_at)
            for freeze in frozen[:1]:
                text.append("  ·  ")
                text.append_text(
                    safe_text(_("freeze: {name}").format(name=freeze.name), single_line=True)
                )
        box.update(text)

    # ------------------------------------------------------------------ keys

    def action_bar(self, step: int) -> None:
        self.view.move_bar(step)

    def action_row(self, step: int) -> None:
        self.view.move_row(step)

    def _go(self, anchor: datetime, view: str) -> None:
        self.anchor = anchor
        self.period_view = view
        self.view.loading = True
        self.view.refresh()
        self.reload()

    def action_period(self, step: int) -> None:
        zone = self.zone or self.ctx.zone
        anchor = self.anchor or self.ctx.now()
        self._go(shifted(anchor, self.period_view, step, zone), self.period_view)

    def action_today(self) -> None:
        self._go(self.ctx.now(), self.period_view)

    def action_view(self, view: str) -> None:
        if view != self.period_view:
            self._go(self.anchor or self.ctx.now(), view)

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return self.is_mounted and self.view.selected is not None
        return True

    def action_open(self) -> None:
        change = self.view.selected
        if change is not None:
            self.open_change(change.number)

    @on(CalendarView.Opened)
    def _opened(self, message: CalendarView.Opened) -> None:
        self.open_change(message.change.number)

    def open_change(self, number: str) -> None:
        from itsm_tui.screens.changes.detail import ChangeDetailScreen

        self.app.push_screen(ChangeDetailScreen(number), lambda _r: self.reload())
