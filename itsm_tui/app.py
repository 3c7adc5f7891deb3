"""The Textual app: header, queue, global bindings, command palette, escalator, hang-up."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from itsm_tui.context import DeskContext
from itsm_tui.data.models import Agent
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.escalation.sweep import SweepResult
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import KeysInOrder
from itsm_tui.messages import SweepFinished, ZoneResolved
from itsm_tui.screens import keys
from itsm_tui.screens.changes.board import ChangeBoardScreen
from itsm_tui.screens.forms import DeskForm
from itsm_tui.screens.queue import VIEWS, QueueScreen
from itsm_tui.screens.quit import QuitWithDraftsScreen, UnsavedForm
from itsm_tui.screens.widgets.header import DeskHeader

if TYPE_CHECKING:
    from itsm_tui.screens.inbox import NotificationWatcher

STYLES = Path(__file__).resolve().parent.parent / "screens" / "styles"
if not STYLES.is_dir():  # installed as a wheel: screens/ is itsm_tui/screens/
    STYLES = Path(__file__).resolve().parent / "screens" / "styles"

ESCALATOR_INTERVAL_S = 30.0
# After a hang-up, how long the orderly exit may take before the process is ended.
HANG_UP_EXIT_S = 3.0


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen below, grouped: `?` opens it, any of esc/q/? closes it."""

    BINDINGS: list[BindingType] = [
        Binding("escape,q,question_mark", "dismiss", _("Close")),
    ]

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(_("Keys") + "\n\n", style="bold")
        for key, description in self.lines:
            text.append(f"{key:>14}  ", style="bold")
            text.append(f"{description}\n")
        with VerticalScroll(id="help-body"):
            yield Static(text)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)


class DeskCommands(Provider):
    """The desk's own commands in the palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, Any, str]]:
        app = self.app
        assert isinstance(app, ItsmApp)
        commands: list[tuple[str, Any, str]] = [
            (_("New incident"), partial(app.queue_action, "new_incident"), _("open the form")),
            (_("New request"), partial(app.queue_action, "new_request"), _("open the form")),
            (
                _("Service catalogue"),
                app.action_catalogue,
                _("request an item: its form, approval and fulfilment steps"),
            ),
            (_("Go to queue"), app.action_go_queue, _("the ticket queue")),
            (_("Change board"), app.action_change_board, _("changes by state")),
            (
                _("Change calendar"),
                app.action_change_calendar,
                _("planned windows, freezes and maintenance by service"),
            ),
            (_("New change"), app.action_new_change, _("raise a change request")),
            (_("KPI dashboard"), app.action_kpi, _("targets and trends")),
            (
                _("Problems"),
                app.action_problems,
                _("open problems, known errors and recurring incidents"),
            ),
            (
                _("Knowledge base"),
                app.action_knowledge,
                _("search, read and write articles (b)"),
            ),
        ]
        from itsm_tui.screens.inbox import InboxScreen

        screen = self.screen
        if isinstance(screen, InboxScreen):
            # The inbox's own: its M key, found by typing "mark" or "read".
            commands.insert(
                0,
                (
                    _("Mark all notices read"),
                    screen.action_mark_all_read,
                    _("everything delivered until now, yours and your team's (M)"),
                ),
            )
        for view in VIEWS:
            commands.append(
                (
                    _("View: {label}").format(label=view.label),
                    partial(app.queue_action, f"view('{view.key}')"),
                    _("switch the queue's view"),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        assert isinstance(app, ItsmApp)
        number = query.strip().upper()
        if number[:3] == "CHG" and len(number) > 3:
            yield Hit(
                1.0,
                Text(_("Open change {number}").format(number=number)),
                partial(app.open_change, number),
                help=_("open the change's detail"),
            )
        elif number[:3] in ("INC", "REQ", "PRB") and len(number) > 3:
            # Open a ticket by number: whatever was typed, as typed (the detail screen
            # says when there is no such ticket).
            yield Hit(
                1.0,
                Text(_("Open ticket {number}").format(number=number)),
                partial(app.open_ticket, number),
                help=_("open the ticket's detail"),
            )
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class ItsmApp(KeysInOrder):
    """The service-desk console."""

    # The default screen's styles are the app's: a default screen's own CSS_PATH is not read.
    # The ticket's and the forms' styles are read at the start too: a screen's CSS_PATH read
    # when it first opens makes Textual parse every style of the app again and restyle every
    # widget (0.1 s of CPU on the first ticket opened, then on the first form).
    CSS_PATH = [
        str(STYLES / "app.tcss"),
        str(STYLES / "queue.tcss"),
        str(STYLES / "detail.tcss"),
        str(STYLES / "forms.tcss"),
    ]
    TITLE = "itsm"
    COMMANDS = App.COMMANDS | {DeskCommands}

    BINDINGS: list[BindingType] = [
        Binding("i", "inbox", _("Inbox")),
        Binding("question_mark", "help", _("Help")),
        # Priority: a form (a modal screen) would otherwise keep ctrl+q from the app.
        Binding("ctrl+q", "quit", _("Quit"), priority=True),
        Binding("q", "quit", _("Quit"), show=False),
        Binding("B", "change_board", _("Change board"), show=False),
        Binding("K", "kpi", _("KPI dashboard"), show=False),
        keys.PROBLEMS,
        keys.KNOWLEDGE,
        keys.CATALOGUE,
    ]

    # Notices waiting in the acting agent's inbox (None until first read): every screen's
    # header shows it; the notification watcher and the inbox keep it current. The headers
    # draw it (they watch it): an app-wide repaint per change was a screenful over SSH.
    unread: reactive[int | None] = reactive(None, repaint=False)

    def __init__(
        self, ctx: DeskContext, *, escalator: bool = True, poll_seconds: float = 3.0
    ) -> None:
        super().__init__()
        self.desk = ctx
        self.escalator = escalator
        self.poll_seconds = poll_seconds
        self.sweeps = 0
        self.watcher: NotificationWatcher | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._hanging_up = False
        # Called once, when the first frame is on the terminal (console.py's remote session
        # keeps what the start built out of the garbage collector's walks from then on).
        self.first_frame_hooks: list[Callable[[], None]] = []

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        # Textual counts the screen right under the top one as showing through even when
        # the top one is opaque, and once that screen has anything to draw it repaints the
        # whole top screen, and again at each message it handles: with a ticket open over
        # the queue, 11 KB every 3 s went to the terminal (the queue's poll timer) for a
        # screen that had not changed. Under an opaque screen nothing shows through.
        stack = self._screen_stack
        if stack and stack[-1].styles.background.a == 1:
            return []
        return super()._background_screens

    def on_ready(self) -> None:
        for hook in self.first_frame_hooks:
            hook()

    def get_default_screen(self) -> Screen[Any]:
        return QueueScreen(self.desk, poll_seconds=self.poll_seconds)

    def on_mount(self) -> None:
        self.title = self.desk.desk_name
        self._mount_watcher()
        self._resolve_zone()
        if self.escalator:
            from itsm_tui.escalation.scheduler import start_background

            # post_message is thread-safe: the scheduler thread hands each result over.
            self._scheduler = start_background(
                self.desk.store,
                interval=ESCALATOR_INTERVAL_S,
                clock=self.desk.clock,
                on_result=lambda result: self.post_message(SweepFinished(result)),
            )
        if not self.is_headless:
            self._watch_terminal()

    def _mount_watcher(self) -> None:
        from itsm_tui.screens.inbox import NotificationWatcher

        self.watcher = NotificationWatcher()
        self.mount(self.watcher)

    @work(thread=True, exclusive=True, group="app-zone")
    def _resolve_zone(self) -> None:
        try:
            with self.desk.store.read() as session:
                try:
                    agent: Agent | None = get_agent(session, self.desk.actor)
                except DeskError:
                    agent = (
                        None  # not on this desk: the queue says so; the desk's zone still applies
                    )
                zone = agent_zone(session, agent)
        except SQLAlchemyError:
            return  # the header keeps UTC; the queue reports the store's trouble itself
        self.post_message(ZoneResolved(zone))

    @on(ZoneResolved)
    def _zone_resolved(self, message: ZoneResolved) -> None:
        self.desk.zone = message.zone
        for screen in self.screen_stack:
            for header in screen.query(DeskHeader):
                header.draw()

    def on_unmount(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    # ------------------------------------------------------------------ the terminal going away

    def _watch_terminal(self) -> None:
        from itsm_tui.hang_up import watch_terminal

        watch_terminal(self, self._hung_up)

    def _hung_up(self) -> None:
        """The terminal is gone: keep every draft, then end, whatever screen is up."""
        if self._hanging_up:
            return
        self._hanging_up = True
        # Nothing can be drawn any more and the driver may stick writing to a dead
        # terminal: a plain thread ends the process if the orderly exit has not by then.
        # (A timer of the app's own would be stopped by the very exit it guards.)
        watchdog = threading.Timer(HANG_UP_EXIT_S, os._exit, args=(129,))
        watchdog.daemon = True
        watchdog.start()
        self.exit(return_code=129)

    # ------------------------------------------------------------------ drafts and quitting

    def open_forms(self) -> list[DeskForm]:
        return [s for s in self.screen_stack if isinstance(s, DeskForm)]

    def keep_drafts(self) -> None:
        """Write the draft of every open form now (the app is about to end)."""
        for form in self.open_forms():
            try:
                form.flush_draft()
            except OSError as exc:
                # The process is ending: stderr is all that is left to say it on.
                print(
                    _("itsm: a draft could not be kept: {error}").format(error=exc), file=sys.stderr
                )

    def exit(self, result: None = None, return_code: int = 0, message: Any = None) -> None:  # type: ignore[override]
        # Every way out passes here: ctrl+q, a hang-up, a fatal error.
        self.keep_drafts()
        super().exit(result, return_code, message)

    async def action_quit(self) -> None:
        """Quit; first ask when a form holds text (it stays on disk as a draft either way)."""
        unsaved = [
            UnsavedForm(form.heading, form.number, sum(map(len, form.typed_text().values())))
            for form in self.open_forms()
            if form.holds_text
        ]
        if not unsaved or isinstance(self.screen, QuitWithDraftsScreen):
            self.exit()
            return
        folder = self.open_forms()[0].drafts.folder

        def answered(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(QuitWithDraftsScreen(unsaved, folder), answered)

    # ------------------------------------------------------------------ escalations

    @on(SweepFinished)
    def _sweep_finished(self, message: SweepFinished) -> None:
        self.sweeps += 1
        result = message.result
        queue = self._queue()
        mine = self._mine(result, queue)
        if not result.empty:
            text = _("SLA sweep: {w} warned, {b} breached, {e} escalated").format(
                w=len(result.warned), b=len(result.breached), e=len(result.escalated)
            )
            if mine:
                text += "\n" + _("yours: {numbers}").format(numbers=", ".join(sorted(mine)))
            self.notify(text, title=_("Escalations"), severity="warning" if mine else "information")
        if queue is not None and not result.empty:
            queue.reload()
        if not result.empty and self.watcher is not None:
            # A sweep that warned, breached or escalated may have written notices.
            self.watcher.poll_now()

    def _mine(self, result: SweepResult, queue: QueueScreen | None) -> set[str]:
        if queue is None:
            return set()
        numbers = {e["number"] for e in (*result.warned, *result.breached, *result.escalated)}
        return {
            row.number
            for row in queue.table.cached_rows()
            if row.number in numbers and row.assignee == self.desk.actor
        }

    def _queue(self) -> QueueScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                return screen
        return None

    # ------------------------------------------------------------------ actions

    def queue_action(self, action: str) -> None:
        queue = self._queue()
        if queue is None:
            return
        while self.screen is not queue and len(self.screen_stack) > 1:
            self.pop_screen()
        self.call_later(queue.run_action, action)

    def open_ticket(self, number: str) -> None:
        queue = self._queue()
        if queue is not None:
            queue.open_ticket(number)

    def action_go_queue(self) -> None:
        queue = self._queue()
        while queue is not None and self.screen is not queue and len(self.screen_stack) > 1:
            self.pop_screen()

    def _change_board(self) -> ChangeBoardScreen:
        """The board, brought back to the top if it is open (its cursor and filter kept)."""
        for screen in self.screen_stack:
            if isinstance(screen, ChangeBoardScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return screen
        board = ChangeBoardScreen()
        self.push_screen(board)
        return board

    def action_change_board(self) -> None:
        self._change_board()

    def action_change_calendar(self) -> None:
        from itsm_tui.screens.changes.calendar import ChangeCalendarScreen

        self._change_board()
        self.push_screen(ChangeCalendarScreen())

    def action_new_change(self) -> None:
        self._change_board().action_new_change()

    def open_change(self, number: str) -> None:
        from itsm_tui.screens.changes.detail import ChangeDetailScreen

        board = self._change_board()
        self.push_screen(ChangeDetailScreen(number), lambda _r: board.reload())

    def action_problems(self) -> None:
        """The problem list, brought back to the top if it is open."""
        from itsm_tui.screens.problems import ProblemListScreen

        for screen in self.screen_stack:
            if isinstance(screen, ProblemListScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(ProblemListScreen())

    def action_kpi(self) -> None:
        """The dashboard, brought back to the top if it is open (its period and cut kept)."""
        from itsm_tui.screens.kpi import KpiDashboardScreen

        for screen in self.screen_stack:
            if isinstance(screen, KpiDashboardScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        # poll_seconds 0 (the tests): no live refresh; else the desk file's refresh_seconds.
        self.push_screen(KpiDashboardScreen(poll_seconds=0 if self.poll_seconds == 0 else None))

    def open_filtered_queue(self, view: str, text: str) -> None:
        """The queue with a view and a filter line in force (a KPI's drill-down)."""
        self.action_go_queue()
        queue = self._queue()
        if queue is not None:
            queue.show_filter(view, text)

    def action_knowledge(self) -> None:
        """The knowledge browser, brought back to the top if it is open (its search kept)."""
        from itsm_tui.screens.knowledge import KnowledgeScreen

        for screen in self.screen_stack:
            if isinstance(screen, KnowledgeScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(KnowledgeScreen())

    def action_catalogue(self) -> None:
        """The catalogue, brought back to the top if it is open (its search kept)."""
        from itsm_tui.screens.catalogue import CatalogueScreen

        for screen in self.screen_stack:
            if isinstance(screen, CatalogueScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(CatalogueScreen())

    def action_inbox(self) -> None:
        from itsm_tui.screens.inbox import InboxScreen

        self.push_screen(InboxScreen())

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.binding_lines()))

    def binding_lines(self) -> list[tuple[str, str]]:
        """Every binding that applies now (screen, focused widget, app), once each."""
        seen: set[str] = set()
        lines: list[tuple[str, str]] = []
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            lines.append((self.get_key_display(binding), binding.description))
        return lines

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(_("Help"), _("every key binding"), self.action_help)


def make_app(ctx: DeskContext, *, escalator: bool = True, poll_seconds: float = 3.0) -> ItsmApp:
    """The app as the CLI and the tests build it."""
    return ItsmApp(ctx, escalator=escalator, poll_seconds=poll_seconds)
