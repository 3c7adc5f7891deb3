"""The wall panel (`itsm wall`): the dashboard for a screen nobody types on.

Large figures first — breaches today, clocks nearing breach, the backlog — then every KPI
as one coloured line, for the whole desk or one team, rotating through the teams if asked.
Reads run in a thread worker, the next armed (by `LiveRefresh`, as the dashboard's) once the
last answered, and none while a modal covers the panel. When the store cannot
be reached the last figures stay up, dimmed, under "reconnecting", and the reads carry on
until it answers again. The widgets are made once and updated in place, and nothing is
kept from one read to the next, so weeks on a wall do not grow the process. A hang-up of
its terminal ends it.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal
from textual.message import Message
from textual.widgets import Static

from itsm_tui.context import DeskContext
from itsm_tui.data.kpi import AMBER, GREEN, RED, KpiReport, kpi_report
from itsm_tui.data.kpi.figures import shown
from itsm_tui.data.kpi.rollup import refresh_quietly
from itsm_tui.desk import DeskError
from itsm_tui.desk.zones import desk_zone
from itsm_tui.i18n import _
from itsm_tui.screens.kpi.big_figure import BigFigure
from itsm_tui.screens.kpi.reading import DEFAULT_REFRESH_SECONDS, PeriodChoice, Scope, cut_of
from itsm_tui.screens.refresh import LiveRefresh

STYLES = os.path.join(os.path.dirname(__file__), "..", "styles", "wall.tcss")
# The three figures a room reads first, in that order.
BIG = ("breaches_today", "nearing_breach", "backlog")
# How long the process may take to end once its terminal is gone.
HANG_UP_EXIT_S = 5.0


class WallRead(Message):
    def __init__(
        self,
        report: KpiReport,
        teams: tuple[str, ...],
        refresh_seconds: float,
        at: datetime,
        zone: tzinfo,
    ) -> None:
        super().__init__()
        self.zone = zone
        self.report = report
        self.teams = teams
        self.refresh_seconds = refresh_seconds
        self.at = at


class WallUnreachable(Message):
    def __init__(self, reason: str, at: datetime, *, team_gone: bool = False) -> None:
        super().__init__()
        self.reason = reason
        self.at = at
        self.team_gone = team_gone


class Figure(BigFigure):
    """One of the three large figures, red while it counts trouble."""

    def __init__(self, key: str, label: str) -> None:
        super().__init__(label, id=f"wall-{key}", classes="wall-figure")

    def show(self, value: float | None, alarm: bool) -> None:
        self.value = "–" if value is None else f"{int(value)}"
        self.set_class(alarm, "alarm")


class WallApp(App[None]):
    """A dashboard for a wall: no keys needed, `q` ends it."""

    CSS_PATH = STYLES
    TITLE = "itsm wall"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", _("Quit"))]

    def __init__(
        self,
        ctx: DeskContext,
        *,
        team: str | None = None,
        rotate_seconds: float = 0,
        period: PeriodChoice | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.desk = ctx
        self.choice = period or PeriodChoice()
        # A fixed team, or None: the whole desk (then each team in turn when rotating).
        self.scope = Scope(team)
        self.fixed_team = team
        self.rotate_seconds = rotate_seconds
        self._poll_seconds = poll_seconds
        self.refresh_seconds = DEFAULT_REFRESH_SECONDS
        self.teams: tuple[str, ...] = ()
        self.report: KpiReport | None = None
        self.unreachable_since: datetime | None = None
        self.reads = 0
        self._reading = False
        self._read_again = False
        # Made on mount: it times the panel's screen, which the app has only once running.
        self.live: LiveRefresh | None = None
        self._hanging_up = False

    @property
    def poll_seconds(self) -> float:
        return self._poll_seconds if self._poll_seconds is not None else self.refresh_seconds

    def compose(self) -> ComposeResult:
        with Horizontal(id="wall-top"):
            yield Static(id="wall-title")
            yield Static(id="wall-state")
        with Horizontal(id="wall-big"):
            yield Figure("breaches_today", _("breaches today"))
            yield Figure("nearing_breach", _("nearing breach"))
            yield Figure("backlog", _("open backlog"))
        yield Grid(id="wall-kpis")

    def on_mount(self) -> None:
        self.live = LiveRefresh(self.screen, self.reload, lambda: self.poll_seconds)
        if self.rotate_seconds > 0 and self.fixed_team is None:
            self.set_interval(self.rotate_seconds, self.rotate)
        if not self.is_headless:
            from itsm_tui.hang_up import watch_terminal

            watch_terminal(self, self._hung_up)
        self._show_title()
        self.reload()

    # ------------------------------------------------------------------ reading

    def reload(self) -> None:
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read(self.scope)

    @work(thread=True, group="wall-read")
    def _read(self, scope: Scope) -> None:
        from itsm_tui.config.readers import kpi_targets
        from itsm_tui.data.models import Team

        ctx = self.desk
        now = ctx.now()
        try:
            # As the dashboard: a few changed days' rollups first (docs/kpi.md, "Rollups").
            refresh_quietly(ctx.store, now)
            with ctx.store.read() as session:
                zone = desk_zone(session)
                report = kpi_report(
                    session,
                    self.choice.period(now, zone),
                    cut_of(session, scope),
                    now,
                    with_previous=False,
                )
                teams = tuple(session.scalars(select(Team.name).order_by(Team.name)))
                refresh = float(
                    kpi_targets(session).get("refresh_seconds", DEFAULT_REFRESH_SECONDS)
                )
            self.post_message(WallRead(report, teams, refresh, now, zone))
        except (SQLAlchemyError, OSError) as exc:
            self.post_message(WallUnreachable(str(exc).splitlines()[0][:160], now))
        except DeskError as exc:
            # A team renamed or removed under a rotation: said, and rotated past.
            self.post_message(WallUnreachable(str(exc), now, team_gone=True))

    @on(WallRead)
    def _loaded(self, message: WallRead) -> None:
        self.report = message.report
        self.teams = message.teams
        self.refresh_seconds = message.refresh_seconds
        # The wall reads times in the desk's zone, the one its periods are cut in.
        self.desk.zone = message.zone
        self.unreachable_since = None
        self.reads += 1
        self._show(message.at)
        self._read_done()

    @on(WallUnreachable)
    def _unreachable(self, message: WallUnreachable) -> None:
        if message.team_gone:
            self.notify(message.reason, severity="warning", markup=False)
            self.scope = Scope(self.fixed_team if self.fixed_team != self.scope.team else None)
            self._show_title()
            self._read_done()
            return
        if self.unreachable_since is None:
            self.unreachable_since = message.at
        self.set_class(True, "-stale")
        since = self.unreachable_since.astimezone(self.desk.zone).strftime("%H:%M:%S")
        state = Text(_("reconnecting · store unreachable since {t}").format(t=since), style="bold")
        self.query_one("#wall-state", Static).update(state)
        self._read_done()

    def _read_done(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.reload()
            return
        if self.live is not None:
            self.live.answered()

    def poll_now(self) -> None:
        """The refresh interval has passed (the tests call it to skip the wait)."""
        if self.live is not None:
            self.live.due()

    def rotate(self) -> None:
        """The next team (after the last, the whole desk again); not while a modal covers
        the panel: nobody would see the team it turned to."""
        if self.screen is not self.screen_stack[0]:
            return
        cycle: list[str | None] = [None, *self.teams]
        current = self.scope.team if self.scope.team in cycle else None
        self.scope = Scope(cycle[(cycle.index(current) + 1) % len(cycle)])
        self._show_title()
        self.reload()

    # ------------------------------------------------------------------ drawing

    def _show_title(self) -> None:
        who = self.scope.team or _("whole desk")
        title = Text(f" {self.desk.desk_name} · ", style="bold")
        title.append(who, style="bold reverse")
        self.query_one("#wall-title", Static).update(title)

    def _show(self, at: datetime) -> None:
        report = self.report
        if report is None:
            return
        self.set_class(False, "-stale")
        kpis = report.by_key()
        for key in BIG:
            kpi = kpis.get(key)
            if kpi is not None:
                alarm = key != "backlog" and bool(kpi.value)
                self.query_one(f"#wall-{key}", Figure).show(kpi.value, alarm)
        grid = self.query_one("#wall-kpis", Grid)
        lines = {s.id: s for s in grid.query(Static)}
        for kpi in report.kpis:
            if kpi.key in BIG or kpi.target is None:
                continue
            line = lines.get(f"wall-line-{kpi.key}")
            if line is None:
                line = Static(id=f"wall-line-{kpi.key}", classes="wall-line")
                grid.mount(line)
            mark = {GREEN: "●", AMBER: "▲", RED: "✖"}.get(kpi.status, "·")
            text = Text(f"{mark} ", style=_STATUS_STYLE.get(kpi.status, "dim"))
            text.append(shown(kpi.value, kpi.unit), style="bold")
            text.append(f"  {kpi.label}", style="")
            line.update(text)
            for status, cls in _STATUS_CLASS.items():
                line.set_class(kpi.status == status, cls)
        zone = self.desk.zone
        state = Text(
            _("{period} · {at}").format(
                period=report.period.label(), at=at.astimezone(zone).strftime("%H:%M:%S")
            )
        )
        self.query_one("#wall-state", Static).update(state)

    # ------------------------------------------------------------------ the terminal going away

    def _hung_up(self) -> None:
        if self._hanging_up:
            return
        self._hanging_up = True
        watchdog = threading.Timer(HANG_UP_EXIT_S, os._exit, args=(129,))
        watchdog.daemon = True
        watchdog.start()
        self.exit(return_code=129)


_STATUS_STYLE = {GREEN: "bold green", AMBER: "bold yellow", RED: "bold red"}
_STATUS_CLASS = {GREEN: "green", AMBER: "amber", RED: "red"}


def parse_rotation(text: str) -> float:
    """`30s`, `2m`, `1h` (or a bare number of seconds) → seconds; ValueError otherwise."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    scale = units.get(value[-1:])
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(
            _("--rotate takes a time such as 30s, 2m or 1h, not {text!r}").format(text=text)
        ) from None
    if not 5 <= seconds <= 86400:
        raise ValueError(_("--rotate is between 5s and 24h, not {text!r}").format(text=text))
    return seconds
