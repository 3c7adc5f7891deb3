"""The notification inbox and the watcher that turns new notices into toasts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Literal

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data import inbox
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.notifications import mark_all_read, mark_read
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _, ngettext
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.detail_kept import ticket_screen
from itsm_tui.screens.keys import ACKNOWLEDGE_PAGE, MARK_ALL_READ
from itsm_tui.screens.page_ack import acknowledge_from_app
from itsm_tui.screens.text import printable, safe_text, when
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

Severity = Literal["information", "warning", "error"]

# Escalations and pages need someone now; warnings soon; the rest is news.
SEVERITY: dict[str, Severity] = {
    "escalation": "error",
    "page": "error",
    "breach": "error",
    "warning": "warning",
}
KIND_STYLE = {
    "escalation": "bold red",
    "page": "bold red",
    "breach": "bold red",
    "major_incident": "bold red",
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class Reader:
    """Who reads the inbox: the acting agent's id, team, read mark and time zone."""

    agent_id: int
    team_id: int | None
    read_through: datetime | None
    zone: tzinfo

    def unread(
        self,
        session: Session,
        now: datetime,
        *,
        limit: int = PAGE_SIZE,
        after: inbox.InboxKey | None = None,
    ) -> list[inbox.InboxItem]:
        return inbox.unread(
            session,
            self.agent_id,
            self.team_id,
            now,
            limit=limit,
            after=after,
            read_through=self.read_through,
        )

    def unread_count(self, session: Session, now: datetime) -> int:
        return inbox.unread_count(
            session, self.agent_id, self.team_id, now, read_through=self.read_through
        )


def _reader(ctx: DeskContext, session: Session) -> Reader:
    agent = get_agent(session, ctx.actor)
    return Reader(agent.id, agent.team_id, agent.notices_read_through, agent_zone(session, agent))


def kind_label(kind: str) -> str:
    return {
        "escalation": _("escalation"),
        "page": _("page"),
        "warning": _("SLA warning"),
        "breach": _("breach"),
        "assignment": _("assignment"),
        "comment": _("comment"),
        "approval": _("approval"),
        "change_starting": _("change starting"),
        "major_incident": _("major incident"),
    }.get(kind, kind)


class NotificationWatcher(Widget):
    """Polls the acting agent's inbox and toasts each notice that is new since the last look.

    One poll at a time: the next one is armed only after the previous one answered,
    so a slow store never piles polls up.
    """

    DEFAULT_CSS = "NotificationWatcher { display: none; }"

    class Arrived(Message):
        """New notices reached the inbox (newest first); `unread` is how many wait."""

        def __init__(self, items: list[inbox.InboxItem], unread: int) -> None:
            super().__init__()
            self.items = items
            self.unread = unread

    class _Polled(Message):
        def __init__(self, items: list[inbox.InboxItem], unread: int) -> None:
            super().__init__()
            self.items = items
            self.unread = unread

    def __init__(
        self,
        interval: float = 15.0,
        *,
        toast_backlog: bool = False,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.interval = interval
        self.toast_backlog = toast_backlog
        self.seen: set[int] = set()
        self.first = True
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self.poll_now()

    def poll_now(self) -> None:
        """Look at once (tests, and after the app regains the terminal)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._poll(desk_of(self.app))

    @work(thread=True, exclusive=True, group="notification-watch")
    def _poll(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                who = _reader(ctx, session)
                now = ctx.now()
                items = who.unread(session, now)
                count = who.unread_count(session, now)
        except (DeskError, SQLAlchemyError):
            # The next poll tries again; a toast per failed poll would bury the screen.
            items, count = [], -1
        self.post_message(self._Polled(items, count))

    @on(_Polled)
    def _on_polled(self, message: _Polled) -> None:
        message.stop()
        fresh = [i for i in message.items if i.id not in self.seen]
        if self.first and not self.toast_backlog:
            if fresh:
                n = max(message.unread, len(fresh))
                self.app.notify(
                    ngettext("{n} unread notification", "{n} unread notifications", n).format(n=n),
                    title=_("Inbox"),
                    markup=False,
                )
        else:
            for item in reversed(fresh):  # oldest first, so the newest toast ends on top
                toast(self, item)
        if message.unread >= 0:
            # Read notices never come back unread: only the current ones need remembering.
            self.seen = {i.id for i in message.items} | {i.id for i in fresh}
            set_unread(self.app, message.unread)
        self.first = False
        if fresh:
            self.post_message(self.Arrived(fresh, message.unread))
        self._timer = self.set_timer(self.interval, self.poll_now)


def set_unread(app: App[Any], unread: int) -> None:
    """Tell every screen's header how many notices wait (apps without an inbox count
    have no `unread`)."""
    if isinstance(getattr(type(app), "unread", None), Reactive):
        app.unread = unread  # type: ignore[attr-defined]


def toast(widget: Widget, item: inbox.InboxItem) -> None:
    title = kind_label(item.kind)
    if item.ticket:
        title += f" · {item.ticket}"
    widget.app.notify(
        printable(item.message, single_line=True),
        title=title,
        severity=SEVERITY.get(item.kind, "information"),
        markup=False,
        timeout=12 if SEVERITY.get(item.kind) == "error" else None,
    )


class InboxScreen(Screen[None]):
    """Delivered, unread notices of the acting agent and their team, newest first."""

    CSS_PATH = "styles/detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back")),
        Binding("enter", "open", _("Open ticket"), show=True),
        Binding("m", "mark_read", _("Mark read")),
        # Everything delivered until now, not just the notices listed (a read mark).
        MARK_ALL_READ,
        ACKNOWLEDGE_PAGE,
        Binding("f5,ctrl+r", "reload", _("Reload")),
        # Administrators: the notifications that could not be sent out. Not in the footer,
        # which every agent reads; listed in the help (?) and docs/notifications.md.
        Binding("D", "dead_letters", _("Dead letters"), show=False),
    ]

    class Page(Message):
        def __init__(
            self, items: list[inbox.InboxItem], first: bool, zone: tzinfo, unread: int
        ) -> None:
            super().__init__()
            self.items = items
            self.first = first
            self.zone = zone
            self.unread = unread

    class Acknowledged(Message):
        def __init__(self, text: str, error: bool) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class Marked(Message):
        def __init__(self, ids: list[int], changed: int, error: str | None) -> None:
            super().__init__()
            self.ids = ids
            self.changed = changed
            self.error = error

    class MarkedAll(Message):
        def __init__(self, error: str | None) -> None:
            super().__init__()
            self.error = error

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.items: list[inbox.InboxItem] = []
        self.more = False
        self.loading = False
        self.zone: tzinfo = UTC
        self.unread = 0

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Static(_("Inbox"), id="inbox-heading")
        yield OptionList(id="inbox-list")
        yield Static(_("Loading…"), id="inbox-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one("#inbox-list").focus()

    # -- reading, a page at a time

    def action_reload(self) -> None:
        self.loading = True
        self._load(desk_of(self.app), None)

    def _load_more(self) -> None:
        if self.loading or not self.more:
            return
        self.loading = True
        self._load(desk_of(self.app), inbox.next_key(self.items))

    @work(thread=True, exclusive=True, group="inbox-load")
    def _load(self, ctx: DeskContext, after: inbox.InboxKey | None) -> None:
        try:
            with ctx.store.read() as session:
                who = _reader(ctx, session)
                now = ctx.now()
                items = who.unread(session, now, after=after)
                unread = who.unread_count(session, now)
        except (DeskError, SQLAlchemyError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.post_message(self.Page(items, after is None, who.zone, unread))

    def _failed(self, message: str) -> None:
        self.loading = False
        self.query_one("#inbox-status", Static).update(safe_text(message, "red"))

    @on(Page)
    def _on_page(self, message: Page) -> None:
        self.loading = False
        self.zone = message.zone
        self.unread = message.unread
        set_unread(self.app, message.unread)
        picker = self.query_one("#inbox-list", OptionList)
        if message.first:
            self.items = []
            picker.clear_options()
        self.items += message.items
        self.more = len(message.items) == PAGE_SIZE
        picker.add_options(self._option(i) for i in message.items)
        if message.first and self.items:
            picker.highlighted = 0
        self._show_status()

    def _option(self, item: inbox.InboxItem) -> Option:
        head = Text()
        head.append("● ", style=KIND_STYLE.get(item.kind, "bold"))
        head.append(when(item.deliver_at, desk_of(self.app).now(), self.zone), style="dim")
        head.append("  ")
        head.append(kind_label(item.kind), style=KIND_STYLE.get(item.kind, "bold"))
        if item.ticket:
            head.append("  " + item.ticket, style="bold")
        if item.to_team:
            head.append("  " + _("(team)"), style="dim")
        head.append("\n  ")
        head.append_text(safe_text(item.message, single_line=True))
        return Option(head, id=str(item.id))

    def _show_status(self) -> None:
        if not self.items:
            text = _("Nothing unread.")
        else:
            text = _("{n} unread · Enter opens the ticket and marks it read").format(n=self.unread)
        self.query_one("#inbox-status", Static).update(Text(text))

    @on(OptionList.OptionHighlighted, "#inbox-list")
    def _near_end(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index >= len(self.items) - 5:
            self._load_more()

    # -- acting on notices

    @property
    def current(self) -> inbox.InboxItem | None:
        picker = self.query_one("#inbox-list", OptionList)
        if picker.highlighted is None or picker.highlighted >= len(self.items):
            return None
        return self.items[picker.highlighted]

    @on(OptionList.OptionSelected, "#inbox-list")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        item = self.current
        if item is None:
            return
        self._mark(desk_of(self.app), [item.id])
        if item.ticket:
            self.app.push_screen(ticket_screen(self.app, item.ticket))

    def action_mark_read(self) -> None:
        item = self.current
        if item is not None:
            self._mark(desk_of(self.app), [item.id])

    def action_mark_all_read(self) -> None:
        """Everything delivered until now is read (the agent's read mark moves to now);
        the list and the count are read again."""
        self._mark_all(desk_of(self.app))

    def action_acknowledge_page(self) -> None:
        """On a page: acknowledge its ticket's page chain (nobody else is paged) and mark
        the notice read; on any other notice, say what the key is for."""
        item = self.current
        if item is None or item.kind != "page" or not item.ticket:
            self.notify(_("A acknowledges a page; this notice is not one"), markup=False)
            return
        self._acknowledge(desk_of(self.app), item.ticket)
        self._mark(desk_of(self.app), [item.id])

    @work(thread=True, group="inbox-ack")
    def _acknowledge(self, ctx: DeskContext, number: str) -> None:
        self.post_message(self.Acknowledged(*acknowledge_from_app(ctx, number)))

    @on(Acknowledged)
    def _on_acknowledged(self, message: Acknowledged) -> None:
        self.notify(
            printable(message.text),
            severity="error" if message.error else "information",
            markup=False,
        )

    @work(thread=True, group="inbox-mark")
    def _mark(self, ctx: DeskContext, ids: list[int]) -> None:
        try:
            with ctx.store.write() as session:
                changed = mark_read(session, get_agent(session, ctx.actor), ids, ctx.now())
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(self.Marked(ids, 0, str(exc)))
            return
        self.post_message(self.Marked(ids, changed, None))

    @work(thread=True, exclusive=True, group="inbox-mark-all")
    def _mark_all(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.write() as session:
                mark_all_read(session, get_agent(session, ctx.actor), ctx.now())
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(self.MarkedAll(str(exc)))
            return
        self.post_message(self.MarkedAll(None))

    @on(MarkedAll)
    def _on_marked_all(self, message: MarkedAll) -> None:
        if message.error:
            self.notify(printable(message.error), severity="error", markup=False)
            return
        self.action_reload()

    @on(Marked)
    def _on_marked(self, message: Marked) -> None:
        if message.error:
            self.notify(printable(message.error), severity="error", markup=False)
            return
        gone = set(message.ids)
        picker = self.query_one("#inbox-list", OptionList)
        index = picker.highlighted or 0
        self.items = [i for i in self.items if i.id not in gone]
        picker.clear_options()
        picker.add_options(self._option(i) for i in self.items)
        if self.items:
            picker.highlighted = min(index, len(self.items) - 1)
        self.unread = max(0, self.unread - message.changed)
        set_unread(self.app, self.unread)
        self._show_status()

    def action_dead_letters(self) -> None:
        from itsm_tui.screens.dead_letters import DeadLettersScreen

        self.app.push_screen(DeadLettersScreen())

    def action_close(self) -> None:
        self.dismiss(None)
