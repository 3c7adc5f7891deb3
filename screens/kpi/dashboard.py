"""The KPI dashboard (`K`, the palette): every KPI as a tile against its target, the backlog
and breach panels, the selected KPI's trend, a period and a team / service cut, live.

Reads run in a thread worker and come back as messages. A one-shot timer arms the next read
only once the last one answered, so reads never stack up; while a modal (help, a form) is on
top the timer looks again later without reading. A change of period or cut made during a
read is read as soon as that read answers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from itsm_tui.context import DeskContext
from itsm_tui.data.kpi.figures import shown
from itsm_tui.data.kpi.period import NAMED_PERIODS, Period
from itsm_tui.data.kpi.rollup import refresh_quietly
from itsm_tui.desk import DeskError
from itsm_tui.desk.zones import desk_zone
from itsm_tui.i18n import _
from itsm_tui.screens.kpi.reading import (
    DashboardRead,
    PeriodChoice,
    Scope,
    TrendCache,
    read_dashboard,
)
from itsm_tui.screens.kpi.tiles import KpiTile, TrendChart
from itsm_tui.screens.queue_filter import DAY_RANGE
from itsm_tui.screens.refresh import LiveRefresh
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

PERIOD_NAMES = {
    "today": _("today"),
    "7d": _("7 days"),
    "30d": _("30 days"),
    "quarter": _("quarter"),
    "year": _("year"),
}
# The figures that describe the moment, shown in the panels as well as in tiles.
PANEL_KPIS = ("backlog", "breaches_today", "escalations_today", "nearing_breach")

# KPI → (queue view, filter terms) of the tickets behind it. The queue's filter line names
# what it selects, so the drill-down says which tickets these are; the team and service cut
# is added to it.
DRILL_DOWNS: dict[str, tuple[str, str]] = {
    "backlog": ("open", ""),
    "breaches_today": ("breached", ""),
    "nearing_breach": ("soon", ""),
    "sla_response_met": ("breached", ""),
    "sla_resolution_met": ("breached", ""),
    "incident_response_mean": ("open", "type:incident"),
    "incident_response_p90": ("open", "type:incident"),
    "incident_resolution_mean": ("resolved", "type:incident priority:P1"),
    "incident_resolution_p90": ("resolved", "type:incident priority:P1"),
    "request_cycle": ("resolved", "type:request"),
    "reopen_rate": ("resolved", ""),
    "first_contact_resolution": ("resolved", "type:incident"),
    "reassignments_per_ticket": ("resolved", ""),
    "resolution_by_team": ("resolved", "type:incident"),
    "tickets_per_agent_day": ("resolved", ""),
    "escalations_today": ("breached", ""),
}
# The KPIs measured over the tickets resolved in the period: their drill-down names the
# period's days (`resolved:2026-11-01..2026-11-30`), so the queue holds the tickets behind
# the figure, not the last day's. (Response times count clocks stopped in the period,
# which no ticket column says: those drill-downs stay approximate.)
RESOLVED_IN_PERIOD = frozenset(
    {
        "incident_resolution_mean",
        "incident_resolution_p90",
        "request_cycle",
        "reopen_rate",
        "first_contact_resolution",
        "reassignments_per_ticket",
        "resolution_by_team",
        "tickets_per_agent_day",
    }
)


class DashboardLoaded(Message):
    def __init__(self, read: DashboardRead, at: datetime) -> None:
        super().__init__()
        self.read = read
        self.at = at


class DashboardFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def drill_down(key: str, scope: Scope, period: Period | None = None) -> tuple[str, str]:
    """The queue view and filter line of the tickets behind a KPI, in the cut and the
    period shown."""
    view, terms = DRILL_DOWNS.get(key, ("open", ""))
    parts = [terms] if terms else []
    if period is not None and key in RESOLVED_IN_PERIOD:
        parts.append(
            f"resolved:{period.first_day.isoformat()}{DAY_RANGE}{period.last_day.isoformat()}"
        )
    if scope.team:
        parts.append(f"team:{_quoted(scope.team)}")
    if scope.service:
        parts.append(f"service:{_quoted(scope.service)}")
    return view, " ".join(parts)


class KpiDashboardScreen(Screen[None]):
    """Every KPI of a period for a cut of the desk, refreshed every few seconds."""

    CSS_PATH = "../styles/kpi.tcss"
    AUTO_FOCUS = ".kpi-tile"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "drill_down", _("Tickets")),
        Binding("p", "next_period", _("Period")),
        Binding("d", "custom_period", _("Dates")),
        Binding("t", "next_team", _("Team")),
        Binding("s", "next_service", _("Service")),
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
        Binding("right", "move(1)", _("Next KPI"), show=False),
        Binding("left", "move(-1)", _("Previous KPI"), show=False),
        Binding("down", "move_row(1)", _("KPI below"), show=False),
        Binding("up", "move_row(-1)", _("KPI above"), show=False),
        Binding("escape", "back", _("Back")),
    ]

    def __init__(
        self, ctx: DeskContext | None = None, *, poll_seconds: float | None = None
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._poll_seconds = poll_seconds
        self.choice = PeriodChoice()
        self.scope = Scope()
        self.data: DashboardRead | None = None
        self.selected = "availability"
        self.cache = TrendCache()
        self.refreshed_at: datetime | None = None
        self.live = LiveRefresh(self, self.reload, lambda: self.poll_seconds)
        self._reading = False
        self._read_again = False
        # For the tests and the soak: reads done, and the most ever in flight at once.
        self.reads = 0
        self.most_in_flight = 0
        self._in_flight = 0

    @property
    def ctx(self) -> DeskContext:
        return self._ctx or self.app.desk  # type: ignore[attr-defined,no-any-return]

    @property
    def poll_seconds(self) -> float:
        if self._poll_seconds is not None:
            return self._poll_seconds
        return self.data.refresh_seconds if self.data is not None else 5.0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield DeskHeader(self._ctx)
        with Horizontal(id="kpi-bar"):
            yield Static(_(" KPIs "), id="kpi-name")
            yield Static(id="kpi-detail")
        yield Input(id="kpi-dates", placeholder=_("2026-11-01 2026-11-30 — Enter; Esc keeps"))
        with Horizontal(id="kpi-body"):
            yield VerticalScroll(Grid(id="kpi-tiles"), id="kpi-tiles-scroll")
            with Vertical(id="kpi-side"):
                yield Static(id="kpi-backlog", classes="kpi-panel")
                yield Static(id="kpi-breaches", classes="kpi-panel")
                yield TrendChart(id="kpi-trend")
        yield DeskFooter()

    def on_mount(self) -> None:
        self._show_bar()
        self.reload()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        width = self.query_one("#kpi-tiles-scroll").size.width or self.size.width
        columns = max(1, min(5, width // 26))
        self.query_one("#kpi-tiles", Grid).styles.grid_size_columns = columns

    # ------------------------------------------------------------------ reading

    def reload(self) -> None:
        """Read now, or as soon as the read under way answers (never two at once)."""
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read(self.choice, self.scope)

    @work(thread=True, group="kpi-read")
    def _read(self, choice: PeriodChoice, scope: Scope) -> None:
        self._in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self._in_flight)
        ctx = self.ctx
        try:
            # The rollups of a few changed days first (one short write transaction);
            # figures are right without it, only slower (docs/kpi.md, "Rollups").
            refresh_quietly(ctx.store, ctx.now())
            with ctx.store.read() as session:
                now = ctx.now()
                read = read_dashboard(
                    session, choice, scope, now, desk_zone(session), ctx.actor, self.cache
                )
            self.post_message(DashboardLoaded(read, now))
        except (SQLAlchemyError, DeskError, ValueError) as exc:
            self.post_message(DashboardFailed(str(exc)))
        finally:
            self._in_flight -= 1

    @on(DashboardLoaded)
    def _loaded(self, message: DashboardLoaded) -> None:
        self.data = message.read
        self.refreshed_at = message.at
        if message.read.own_team is not None:
            self.scope = Scope(message.read.own_team, self.scope.service)
        self.reads += 1
        self._show()
        self._read_done()

    @on(DashboardFailed)
    def _failed(self, message: DashboardFailed) -> None:
        self.notify(
            _("Cannot read the KPIs: {why}").format(why=message.reason[:200]),
            severity="error",
            markup=False,
        )
        self._read_done()

    def _read_done(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.reload()
            return
        self.live.answered()

    def poll_now(self) -> None:
        """The refresh interval has passed (the tests and the soak call it to skip the wait)."""
        self.live.due()

    # ------------------------------------------------------------------ drawing

    def _show(self) -> None:
        data = self.data
        if data is None:
            return
        grid = self.query_one("#kpi-tiles", Grid)
        tiles = {tile.kpi.key: tile for tile in self.query(KpiTile)}
        for kpi in data.report.kpis:
            tile = tiles.get(kpi.key)
            if tile is None:
                tile = KpiTile(kpi, id=f"kpi-{kpi.key}")
                grid.mount(tile)
                tile.call_after_refresh(tile.show, kpi, data.trend.get(kpi.key, []))
            else:
                tile.show(kpi, data.trend.get(kpi.key, []))
        self._fit_columns()
        self._show_panels()
        self._show_trend()
        self._show_bar()

    def _show_panels(self) -> None:
        assert self.data is not None
        kpis = self.data.report.by_key()
        backlog = kpis.get("backlog")
        text = Text(_("Backlog"), style="bold")
        if backlog is not None:
            text.append(f"  {shown(backlog.value, backlog.unit)}\n", style="bold")
            by_priority = backlog.detail.get("by_priority", {})
            text.append(
                "  ".join(f"{p} {n:,}" for p, n in sorted(by_priority.items())) or _("none open")
            )
            by_age = backlog.detail.get("by_age", {})
            if by_age:
                text.append("\n" + _("days") + " ")
                text.append("  ".join(f"{band} {n:,}" for band, n in by_age.items()))
        self.query_one("#kpi-backlog", Static).update(text)
        text = Text(_("Breaches"), style="bold")
        breaches, escalations = kpis.get("breaches_today"), kpis.get("escalations_today")
        nearing = kpis.get("nearing_breach")
        if breaches is not None:
            text.append(f"  {shown(breaches.value, breaches.unit)} " + _("today"), style="bold")
            if breaches.value:
                text.stylize("red", 0)
        if escalations is not None:
            text.append("  " + _("escalations {n}").format(n=shown(escalations.value, "")))
        if nearing is not None:
            text.append("\n" + _("nearing breach {n}").format(n=shown(nearing.value, "")))
            bands = nearing.detail.get("bands", {})
            if bands:
                text.append(": " + "  ".join(f"{b} % {n:,}" for b, n in bands.items()))
        self.query_one("#kpi-breaches", Static).update(text)

    def _show_trend(self) -> None:
        data = self.data
        if data is None:
            return
        kpi = data.report.by_key().get(self.selected) or data.report.kpis[0]
        self.query_one(TrendChart).plot(kpi, data.trend.get(kpi.key, []), data.trend_days)

    def _show_bar(self) -> None:
        period = self.data.report.period.label() if self.data else ""
        name = (
            _("custom")
            if self.choice.first is not None
            else PERIOD_NAMES.get(self.choice.name, self.choice.name)
        )
        cut = self.data.report.cut.label() if self.data else _("whole desk")
        parts = [f"{name} {period}".strip(), cut]
        if self.refreshed_at is not None:
            zone = self.ctx.zone
            parts.append(
                _("refreshed {at}").format(
                    at=self.refreshed_at.astimezone(zone).strftime("%H:%M:%S")
                )
            )
        else:
            parts.append(_("reading…"))
        self.query_one("#kpi-detail", Static).update(Text(" · ".join(parts), no_wrap=True))

    # ------------------------------------------------------------------ choosing

    @on(KpiTile.Selected)
    def _tile_selected(self, message: KpiTile.Selected) -> None:
        self.selected = message.key
        self._show_trend()

    @on(KpiTile.Chosen)
    def _tile_chosen(self, message: KpiTile.Chosen) -> None:
        self.open_tickets(message.key)

    def action_drill_down(self) -> None:
        self.open_tickets(self.selected)

    def open_tickets(self, key: str) -> None:
        period = self.data.report.period if self.data else None
        view, text = drill_down(key, self.scope, period)
        open_filtered = getattr(self.app, "open_filtered_queue", None)
        if open_filtered is not None:
            open_filtered(view, text)

    def action_next_period(self) -> None:
        names = list(NAMED_PERIODS)
        current = self.choice.name if self.choice.first is None else names[-1]
        self.choice = PeriodChoice(names[(names.index(current) + 1) % len(names)])
        self._chosen()

    def action_custom_period(self) -> None:
        box = self.query_one("#kpi-dates", Input)
        box.add_class("shown")
        box.focus()

    @on(Input.Submitted, "#kpi-dates")
    def _dates_submitted(self, event: Input.Submitted) -> None:
        words = event.value.split()
        try:
            if len(words) != 2:
                raise ValueError(_("give two dates: the first day and the last, as 2026-11-01"))
            first, last = (date.fromisoformat(w) for w in words)
            if last < first:
                raise ValueError(
                    _("the period ends ({last}) before it starts ({first})").format(
                        last=last, first=first
                    )
                )
        except ValueError as exc:
            # The text stays in the box to be corrected.
            self.notify(str(exc).splitlines()[0][:200], severity="warning", markup=False)
            return
        self.choice = PeriodChoice("custom", first, last)
        self._leave_dates()
        self._chosen()

    def _leave_dates(self) -> None:
        box = self.query_one("#kpi-dates", Input)
        box.remove_class("shown")
        tiles = list(self.query(KpiTile))
        if tiles:
            tiles[0].focus()

    def action_next_team(self) -> None:
        if self.data is None:
            return
        if self.data.own_team is not None:
            self.notify(
                _("You supervise {team}: the dashboard shows its numbers.").format(
                    team=self.data.own_team
                ),
                markup=False,
            )
            return
        self.scope = Scope(_next(self.data.teams, self.scope.team), self.scope.service)
        self._chosen()

    def action_next_service(self) -> None:
        if self.data is None:
            return
        self.scope = Scope(self.scope.team, _next(self.data.services, self.scope.service))
        self._chosen()

    def _chosen(self) -> None:
        self._show_bar()
        self.reload()

    def action_refresh(self) -> None:
        self.reload()

    def action_move(self, step: int) -> None:
        tiles = list(self.query(KpiTile))
        if not tiles:
            return
        current = next((i for i, t in enumerate(tiles) if t.has_focus), 0)
        tiles[max(0, min(len(tiles) - 1, current + step))].focus()

    def action_move_row(self, step: int) -> None:
        columns = self.query_one("#kpi-tiles", Grid).styles.grid_size_columns or 1
        self.action_move(step * columns)

    def action_back(self) -> None:
        box = self.query_one("#kpi-dates", Input)
        if box.has_focus:
            self._leave_dates()
            return
        self.app.pop_screen()


def _next(names: tuple[str, ...], current: str | None) -> str | None:
    """The next name after `current`, then none (every team / service) again."""
    cycle: list[str | None] = [None, *names]
    return cycle[(cycle.index(current) + 1) % len(cycle)] if current in cycle else None
