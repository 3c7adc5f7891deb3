"""The ticket detail screen: fields, live SLA countdowns, links, timeline and action keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, cast

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import AwaitMount
from textual.widgets import Button, Static

from itsm_tui.context import DeskContext
from itsm_tui.data import record_json
from itsm_tui.data.history import PAGE_SIZE, HistoryPage, history_page
from itsm_tui.desk import assign_ticket, sla
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.fulfilment import request_steps, standard_of_ticket
from itsm_tui.desk.records import get_agent, get_ticket
from itsm_tui.desk.zones import agent_zone, zone_label
from itsm_tui.domain.workflow import workflow_for
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens import keys
from itsm_tui.screens.detail_clocks import ClockSnapshot, clock_line, duration, short_duration
from itsm_tui.screens.detail_fields import fields_table, ticket_heading
from itsm_tui.screens.one_frame import OneFramePerUpdate
from itsm_tui.screens.page_ack import acknowledge_from_app
from itsm_tui.screens.request_steps import (
    no_open_step,
    open_step,
    step_line,
)
from itsm_tui.screens.text import parse_iso, printable, safe_text, shown_time
from itsm_tui.screens.timeline import LoadedHistory, entry_renderable
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

__all__ = [
    "ClockSnapshot",
    "TicketDetailScreen",
    "clock_line",
    "desk_of",
    "duration",
    "parse_iso",
    "printable",
    "safe_text",
    "short_duration",
    "shown_time",
]


def desk_of(app: App[Any]) -> DeskContext:
    """The app's `DeskContext` (every app of this project sets `app.desk`)."""
    return cast(DeskContext, app.desk)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# The screen


@dataclass(frozen=True)
class LoadedTicket:
    detail: dict[str, Any]
    clocks: tuple[ClockSnapshot, ...]
    article: str | None
    zone: tzinfo
    ticket_id: int
    # The newest page of the ticket's history; older pages are read on request.
    history: HistoryPage


class TicketLink(Static):
    """A linked ticket: Enter (or a click) opens it."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open_link", _("Open link"))]

    def __init__(self, label: str, number: str) -> None:
        text = Text(f"{label} ")
        text.append_text(safe_text(number, "underline", single_line=True))
        super().__init__(text, classes="detail-link")
        self.number = number

    def action_open_link(self) -> None:
        screen = self.screen
        if isinstance(screen, TicketDetailScreen):
            screen.open_link(self.number)

    def on_click(self) -> None:
        self.action_open_link()


class TicketDetailScreen(OneFramePerUpdate, Screen[None]):
    """One ticket: everything about it, kept fresh, with one key per action."""

    CSS_PATH = "styles/detail.tcss"
    # Others' changes show up within this many seconds.
    RELOAD_SECONDS: ClassVar[float] = 5.0
    # Timeline rows per source read at a time (the newest with every reload, older on request).
    HISTORY_PAGE: ClassVar[int] = PAGE_SIZE
    # The screen is not drawn until its first read answered, up to this long (then it shows
    # "Loading…"): over a slow link each frame before it (the empty screen, the fields, the
    # links, the timeline: 40 KB in five frames on the bench) was a quarter second on the
    # wire, and each was laid out and drawn for nothing.
    FIRST_FRAME_WAIT_S: ClassVar[float] = 1.0

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back")),
        *keys.TICKET_ACTIONS,
        keys.STEP_DONE,
        keys.RESOLVE,
        keys.REOPEN,
        keys.PRIORITY,
        keys.LINK,
        keys.LOG_TIME,
        keys.ACKNOWLEDGE_PAGE,
        keys.SURVEY,
        keys.COMPLAINT,
        Binding("f5,ctrl+r", "reload", _("Reload")),
    ]

    # Every answer from a worker names the showing it was read for (`showing`): a kept
    # screen refilled for another ticket (`show`) drops what was read for the one before.
    class Loaded(Message):
        def __init__(
            self, loaded: LoadedTicket, marker: object | None = None, showing: int = 0
        ) -> None:
            super().__init__()
            self.loaded = loaded
            # The store's change marker taken before this read (Store.change_marker).
            self.marker = marker
            self.showing = showing

    class Unchanged(Message):
        """A periodic reload found nothing committed since the last read: nothing read."""

        def __init__(self, showing: int = 0) -> None:
            super().__init__()
            self.showing = showing

    class LoadFailed(Message):
        def __init__(self, message: str, showing: int = 0) -> None:
            super().__init__()
            self.message = message
            self.showing = showing

    class OlderLoaded(Message):
        def __init__(self, page: HistoryPage, showing: int = 0) -> None:
            super().__init__()
            self.page = page
            self.showing = showing

    class Taken(Message):
        def __init__(self, error: str | None, number: str = "", showing: int = 0) -> None:
            super().__init__()
            self.error = error
            self.number = number
            self.showing = showing

    def __init__(self, number: str = "", *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.number = number.strip().upper()
        # Counts the tickets this screen was filled for (see `show`).
        self.showing = 0
        self.loaded: LoadedTicket | None = None
        self.history = LoadedHistory()
        self._zone: tzinfo = UTC
        self._timeline_key: tuple[Any, ...] | None = None
        self._links_key: tuple[Any, ...] | None = None
        self._ticket_key: tuple[Any, ...] | None = None
        self._reload_timer: Timer | None = None
        self._clocks_shown: Text | None = None
        # The store's change marker before the read shown; periodic reloads skipped for it.
        self._marker: object | None = None
        self.reloads_skipped = 0
        # Set while the first frame waits for the first read (see FIRST_FRAME_WAIT_S).
        self._holding_paint = False
        # The links' and timeline's mounts under way: the first frame waits for them too.
        self._mounting: list[AwaitMount] = []
        # Keys typed behind the key that opened the ticket, or behind a form's save key,
        # act on the ticket as read (as saved): they wait for the read.
        self.holds_keys = True

    # -- layout

    def compose(self) -> ComposeResult:
        # The read starts before the widgets are made (0.3 s of a console's CPU on the
        # bench): the database works while they are composed and mounted. A screen made
        # ahead to be kept (`detail_kept.py`) has no ticket yet: `show` starts it.
        if self.number:
            self._hold_first_frame()
            self.load()
        yield DeskHeader()
        with Vertical(id="detail-top"):
            yield Static(safe_text(self.number, "bold"), id="detail-heading")
            yield Static(_("Loading…"), id="detail-title")
            yield Static("", id="detail-clocks")
        with VerticalScroll(id="detail-scroll"):
            yield Static("", id="detail-fields")
            yield Horizontal(id="detail-links")
            yield Static(_("Description"), classes="detail-section")
            yield Static("", id="detail-description")
            yield Static(
                _("Timeline (newest first)"), id="timeline-heading", classes="detail-section"
            )
            yield Vertical(id="detail-timeline")
            yield Button(_("Older entries"), id="timeline-older", compact=True)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#timeline-older").display = False
        # The countdown ticks from the clock of the last load: no database call per second.
        self.set_interval(1.0, self.refresh_clocks)

    def show(self, number: str) -> None:
        """Fill this screen for another ticket, before it is pushed again.

        Opening a ticket on a new screen composed, mounted and styled a dozen widgets
        and the footer's keys each time: most of an open's CPU in a remote console. A
        screen kept by the app (`detail_kept.py`) is refilled instead: what it showed
        is cleared, the read starts, and the first frame waits for it as on a new screen.
        """
        self.number = number.strip().upper()
        self.showing += 1
        self.loaded = None
        self.history = LoadedHistory()
        self._timeline_key = self._links_key = self._ticket_key = None
        self._clocks_shown = None
        self._marker = None
        self.reloads_skipped = 0
        self.holds_keys = True
        if self._reload_timer is not None:
            self._reload_timer.stop()
            self._reload_timer = None
        if not self.is_mounted:
            return  # composed when first pushed, which starts the read
        self._hold_first_frame()
        self.load()
        self.query_one("#detail-heading", Static).update(safe_text(self.number, "bold"))
        self.query_one("#detail-title", Static).update(_("Loading…"))
        for blank in ("#detail-clocks", "#detail-fields", "#detail-description"):
            self.query_one(blank, Static).update("")
        # The last ticket's links and timeline go; the new ones are mounted when read.
        self.query_one("#detail-links", Horizontal).remove_children()
        self.query_one("#detail-timeline", Vertical).remove_children()
        self.query_one("#timeline-older").display = False
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        scroll.scroll_home(animate=False, immediate=True)
        # Where a new screen's focus starts (a link focused on the last ticket is gone).
        self.set_focus(scroll)

    @property
    def on_stack(self) -> bool:
        """On the app's screen stack (shown, or under a form or a linked ticket)."""
        return self.is_attached and self in self.app.screen_stack

    # -- loading

    @property
    def version(self) -> int | None:
        return None if self.loaded is None else int(self.loaded.detail["version"])

    def load(self, *, periodic: bool = False) -> None:
        # A periodic reload reads only if something was committed since the last read (the
        # countdowns and "3 min ago" move on the screen's own clock, not by reading).
        self._load(desk_of(self.app), self.number, self.showing, self._marker if periodic else None)

    @work(thread=True, exclusive=True, group="detail-load")
    def _load(
        self, ctx: DeskContext, number: str, showing: int, unchanged_since: object | None = None
    ) -> None:
        try:
            marker = ctx.store.change_marker()
            if unchanged_since is not None and marker == unchanged_since:
                self.post_message(self.Unchanged(showing))
                return
            with ctx.store.read() as session:
                ticket = get_ticket(session, number)
                detail = record_json.ticket_record(session, ticket)
                if ticket.catalogue_item_id is not None:
                    # A catalogue request: its delivery standard's instant and its steps.
                    detail["promised_at"] = ticket.promised_at
                    detail["standard"] = standard_of_ticket(session, ticket)
                    detail["steps"] = [
                        (v.position, v.status, v.name, v.team)
                        for v in request_steps(session, ticket)
                    ]
                clocks = sorted(
                    (ClockSnapshot.of(c) for c in sla.clocks_of(session, ticket)),
                    key=lambda c: c.kind != sla.RESPONSE,
                )
                standard = sla.standard_for(session, ticket)
                if standard is not None:
                    # A request's resolution target is its delivery standard (sla.target_of):
                    # said as the Promised line says it, not as 24-hour days.
                    clocks = [
                        replace(c, target_said=detail["standard"])
                        if c.kind == sla.RESOLUTION and c.target_minutes == standard
                        else c
                        for c in clocks
                    ]
                article = ticket.kb_article.number if ticket.kb_article is not None else None
                try:
                    agent = get_agent(session, ctx.actor)
                except DeskError:
                    agent = None
                zone = agent_zone(session, agent)
                history = history_page(session, ticket.id, size=self.HISTORY_PAGE)
        except DeskError as exc:
            self.post_message(self.LoadFailed(exc.message, showing))
            return
        except SQLAlchemyError as exc:
            self.post_message(
                self.LoadFailed(
                    _("the store could not be read: {error}").format(error=exc), showing
                )
            )
            return
        self.post_message(
            self.Loaded(
                LoadedTicket(detail, tuple(clocks), article, zone, ticket.id, history),
                marker,
                showing,
            )
        )

    def _arm_reload(self) -> None:
        if self._reload_timer is not None:
            self._reload_timer.stop()
        self._reload_timer = self.set_timer(self.RELOAD_SECONDS, self._periodic_reload)

    def _periodic_reload(self) -> None:
        if not self.on_stack:
            return  # closed, and kept for the next ticket: nothing to keep fresh
        # A form on top has the user's attention; the reload waits until it is closed.
        if self.app.screen is not self:
            self._arm_reload()
            return
        self.load(periodic=True)

    @on(Unchanged)
    def _on_unchanged(self, message: Unchanged) -> None:
        if message.showing != self.showing:
            return
        self.reloads_skipped += 1
        self._arm_reload()

    def _hold_first_frame(self) -> None:
        # Textual's batch: no layout and no frame while any is held (a count: this one
        # is let go once, by the read's answer, its failure, the timer or the unmount).
        if self.FIRST_FRAME_WAIT_S <= 0 or self._holding_paint:
            return
        self.app._begin_batch()
        self._holding_paint = True
        showing = self.showing
        self.set_timer(self.FIRST_FRAME_WAIT_S, lambda: self._first_frame_late(showing))

    def _first_frame_late(self, showing: int) -> None:
        # The wait of an earlier showing has no say over this one's.
        if showing == self.showing:
            self._show_first_frame()

    def _show_first_frame(self) -> None:
        if self._holding_paint:
            self._holding_paint = False
            self.app._end_batch()
            self.refresh(layout=True)

    def on_unmount(self) -> None:
        self._show_first_frame()

    def _keys_may_go(self) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        if message.showing != self.showing:
            return  # read for the ticket this screen showed before
        self._keys_may_go()
        self.loaded = loaded = message.loaded
        self._marker = message.marker
        self._zone = loaded.zone
        self.history.add(loaded.history, newest=True)
        self.refresh_bindings()  # "Step done" only on a request with steps
        # A reload that finds the ticket as it was draws nothing new: every update of a
        # field would redraw it, a screenful over SSH every RELOAD_SECONDS for no change.
        key = (loaded.detail, loaded.article, loaded.zone, self.app.size.width)
        if key != self._ticket_key:
            self._ticket_key = key
            self._render_ticket()
        else:
            self.refresh_clocks()
        self._arm_reload()
        mounting, self._mounting = self._mounting, []
        if self._holding_paint:
            # Once the links and timeline just mounted are in: one frame, all of it.
            self.call_later(self._show_when_mounted, mounting)

    async def _show_when_mounted(self, mounting: list[AwaitMount]) -> None:
        for mount in mounting:
            await mount
        self._show_first_frame()

    @on(LoadFailed)
    def _on_load_failed(self, message: LoadFailed) -> None:
        if message.showing != self.showing:
            return
        self._keys_may_go()
        self._show_first_frame()
        self.query_one("#detail-title", Static).update(safe_text(message.message, "bold red"))
        self._arm_reload()

    @on(Button.Pressed, "#timeline-older")
    def _older_pressed(self) -> None:
        if self.loaded is not None and self.history.older_than is not None:
            self._load_older(
                desk_of(self.app), self.loaded.ticket_id, self.history.older_than, self.showing
            )

    @work(thread=True, exclusive=True, group="detail-older")
    def _load_older(self, ctx: DeskContext, ticket_id: int, before: datetime, showing: int) -> None:
        try:
            with ctx.store.read() as session:
                page = history_page(session, ticket_id, before=before, size=self.HISTORY_PAGE)
        except SQLAlchemyError as exc:
            self.post_message(
                self.LoadFailed(
                    _("the store could not be read: {error}").format(error=exc), showing
                )
            )
            return
        self.post_message(self.OlderLoaded(page, showing))

    @on(OlderLoaded)
    def _on_older(self, message: OlderLoaded) -> None:
        if message.showing != self.showing:
            return
        self.history.add(message.page, newest=False)
        self._render_timeline()

    # -- rendering

    def _render_ticket(self) -> None:
        assert self.loaded is not None
        d = self.loaded.detail
        self.query_one("#detail-heading", Static).update(ticket_heading(d))
        self.query_one("#detail-title", Static).update(safe_text(d["title"], "bold"))
        self.query_one("#detail-fields", Static).update(
            fields_table(d, self._zone, self.app.size.width)
        )
        self._render_links(d)
        description = d["description"] or ""
        self.query_one("#detail-description", Static).update(
            safe_text(description) if description.strip() else Text(_("(none)"), style="dim")
        )
        self.refresh_clocks()
        self._render_timeline()

    def _render_links(self, d: dict[str, Any]) -> None:
        assert self.loaded is not None
        present = tuple(
            (label, value)
            for label, value in (
                (_("parent"), d["parent"]),
                (_("problem"), d["problem"]),
                (_("change"), d["change"]),
                (_("article"), self.loaded.article),
            )
            if value
        )
        if present == self._links_key:
            return  # rebuilding would drop the focus from a link every reload
        self._links_key = present
        box = self.query_one("#detail-links", Horizontal)
        widgets: list[Static] = [
            Static(Text(_("Links"), style="bold"), classes="detail-links-label")
        ]
        widgets += [TicketLink(label, str(value)) for label, value in present]
        if not present:
            widgets.append(Static(Text(_("none"), style="dim")))
        with self.app.batch_update():
            box.remove_children()
            self._mounting.append(box.mount_all(widgets))

    def _render_timeline(self) -> None:
        now = desk_of(self.app).now()
        # Rebuilt when a write lands, a page is added, or the minute turns ("3 min ago").
        key = (
            len(self.history.audit),
            len(self.history.comments),
            len(self.history.escalations),
            self.history.older_than,
            self._zone,
            now.replace(second=0, microsecond=0),
        )
        if key == self._timeline_key:
            return
        self._timeline_key = key
        self.query_one("#timeline-heading", Static).update(
            _("Timeline (newest first, times in {zone})").format(zone=zone_label(self._zone))
        )
        entries = self.history.entries(self._zone)
        widgets = [
            Static(entry_renderable(e, now, self._zone), classes=f"entry entry-{e.kind}")
            for e in entries
        ]
        if not widgets:
            widgets.append(Static(_("nothing yet"), classes="entry entry-change"))
        box = self.query_one("#detail-timeline", Vertical)
        with self.app.batch_update():
            box.remove_children()
            self._mounting.append(box.mount_all(widgets))
        self.query_one("#timeline-older").display = self.history.older_than is not None

    def refresh_clocks(self) -> None:
        """Redraw the countdowns from the last load and the injected clock."""
        if self.loaded is None or not self.on_stack:
            return
        now = desk_of(self.app).now()
        lines = [clock_line(c, now, self._zone) for c in self.loaded.clocks]
        if not lines:
            lines = [Text(_("No SLA clocks"), style="dim")]
        shown = Text("\n").join(lines)
        # Every second, but drawn only when it reads differently: a stopped or paused
        # clock would otherwise be a line sent over SSH every second for nothing.
        if shown != self._clocks_shown:
            self._clocks_shown = shown
            self.query_one("#detail-clocks", Static).update(shown)
        if self._timeline_key is not None:
            self._render_timeline()  # redraws only when the minute turned

    # -- actions

    def open_link(self, number: str) -> None:
        """A linked ticket opens on top of this one (Esc comes back); a change or an
        article opens read-only over it."""
        if number[:3] in ("INC", "REQ", "PRB"):
            from itsm_tui.screens.detail_kept import ticket_screen

            self.app.push_screen(ticket_screen(self.app, number))
            return
        from itsm_tui.screens.linked import LinkedRecordScreen

        self.app.push_screen(LinkedRecordScreen(number))

    def action_take(self) -> None:
        if self.loaded is None:
            self.notify(_("Still loading {number}").format(number=self.number))
            return
        self._take(desk_of(self.app), self.number, int(self.loaded.detail["version"]), self.showing)

    @work(thread=True, exclusive=True, group="detail-write")
    def _take(self, ctx: DeskContext, number: str, version: int, showing: int) -> None:
        try:
            with ctx.store.write() as session:
                actor = get_agent(session, ctx.actor)
                assign_ticket(
                    session,
                    actor,
                    number,
                    assignee=actor.username,
                    expected_version=version,
                    now=ctx.now(),
                )
        except DeskError as exc:
            self.post_message(self.Taken(exc.message, number, showing))
            return
        except SQLAlchemyError as exc:
            self.post_message(
                self.Taken(
                    _("the store refused the write: {error}").format(error=exc), number, showing
                )
            )
            return
        self.post_message(self.Taken(None, number, showing))

    @on(Taken)
    def _on_taken(self, message: Taken) -> None:
        if message.error is not None:
            self.notify(message.error, title=message.number, severity="error", markup=False)
        else:
            self.notify(_("{number} is yours.").format(number=message.number), markup=False)
        if message.showing == self.showing:
            self.load()

    def action_acknowledge_page(self) -> None:
        self._acknowledge_page(desk_of(self.app))

    @work(thread=True, group="detail-ack")
    def _acknowledge_page(self, ctx: DeskContext) -> None:
        text, refused = acknowledge_from_app(ctx, self.number)
        self.app.call_from_thread(
            self.notify,
            text,
            title=self.number,
            severity="error" if refused else "information",
            markup=False,
        )

    def _open_form(self, form_factory: Callable[[LoadedTicket], Any]) -> None:
        if self.loaded is None:
            self.notify(_("Still loading {number}").format(number=self.number))
            return
        # Back from the form, keys wait for the ticket read again (as saved, if it was).
        self.holds_keys = True
        self.app.push_screen(form_factory(self.loaded), self._after_form)

    def _after_form(self, result: str | None) -> None:
        if result:
            self.notify(_("{number} saved").format(number=result), markup=False)
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "complete_step":
            return self.loaded is not None and bool(self.loaded.detail.get("steps"))
        return True

    def action_complete_step(self) -> None:
        from itsm_tui.screens.forms.step_done import StepDoneForm

        steps = self.loaded.detail.get("steps") if self.loaded is not None else None
        step = open_step(steps) if steps else None
        if self.loaded is not None and steps and step is None:
            refusal = no_open_step(self.number, self.loaded.detail["status"])
            self.notify(refusal, title=self.number, severity="warning", markup=False)
        elif step is not None:
            line = step_line(step, len(steps))
            self._open_form(lambda t: StepDoneForm(self.number, t.detail["version"], line))

    def action_reload(self) -> None:
        self.load()

    def action_assign(self) -> None:
        from itsm_tui.screens.forms import AssignForm

        self._open_form(
            lambda t: AssignForm(
                self.number,
                t.detail["version"],
                team=t.detail["team"],
                assignee=t.detail["assignee"],
            )
        )

    def action_status(self) -> None:
        from itsm_tui.screens.forms import StatusForm

        self._open_form(
            lambda t: StatusForm(
                self.number, t.detail["version"], t.detail["type"], t.detail["status"]
            )
        )

    def action_reply(self) -> None:
        from itsm_tui.screens.forms import CommentForm

        self._open_form(lambda t: CommentForm(self.number, t.detail["version"], kind="reply"))

    def action_work_note(self) -> None:
        from itsm_tui.screens.forms import CommentForm

        self._open_form(lambda t: CommentForm(self.number, t.detail["version"], kind="work_note"))

    def action_resolve(self) -> None:
        from itsm_tui.screens.forms import ResolveForm

        self._open_form(lambda t: ResolveForm(self.number, t.detail["version"], t.detail["type"]))

    def action_reopen(self) -> None:
        from itsm_tui.screens.forms import ReopenForm

        if self.loaded is not None:
            flow = workflow_for(self.loaded.detail["type"])
            if self.loaded.detail["status"] not in flow.reopenable:
                self.notify(
                    _("{number} is {status}; only a {statuses} ticket can be reopened").format(
                        number=self.number,
                        status=self.loaded.detail["status"],
                        statuses=_(" or ").join(sorted(flow.reopenable)),
                    ),
                    severity="warning",
                    markup=False,
                )
                return
        self._open_form(lambda t: ReopenForm(self.number, t.detail["version"]))

    def action_priority(self) -> None:
        from itsm_tui.screens.forms import PriorityForm

        self._open_form(
            lambda t: PriorityForm(self.number, t.detail["version"], t.detail["priority"])
        )

    def action_link(self) -> None:
        from itsm_tui.screens.forms import LinkForm

        self._open_form(
            lambda t: LinkForm(
                self.number,
                t.detail["version"],
                current={
                    "parent": t.detail["parent"],
                    "problem": t.detail["problem"],
                    "change": t.detail["change"],
                    "article": t.article,
                },
            )
        )

    def action_log_time(self) -> None:
        from itsm_tui.screens.forms import TimeForm

        self._open_form(lambda t: TimeForm(self.number, t.detail["version"]))

    def action_survey(self) -> None:
        from itsm_tui.screens.forms import SurveyForm

        self._open_form(lambda t: SurveyForm(self.number, t.detail["version"]))

    def action_complaint(self) -> None:
        from itsm_tui.screens.forms import ComplaintForm

        self._open_form(lambda t: ComplaintForm(self.number, t.detail["version"]))
