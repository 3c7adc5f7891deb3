"""Dead letters (administrators): notifications the deliverer gave up on, with the last
answer each got; r sends one again, Enter opens its ticket. Opened from the inbox (D)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data.outbox_lists import OutboxRow, outbox_page
from itsm_tui.desk.dead_letters import require_dead_letter_admin, retry_dead_letter
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.detail_kept import ticket_screen
from itsm_tui.screens.text import printable, safe_text, when
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

PAGE_SIZE = 50


class DeadLettersScreen(Screen[None]):
    CSS_PATH = "styles/detail.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back")),
        Binding("enter", "open", _("Open ticket"), show=True),
        Binding("r", "retry", _("Send again")),
        Binding("f5,ctrl+r", "reload", _("Reload")),
    ]

    class Page(Message):
        def __init__(
            self, rows: list[OutboxRow], zone: tzinfo = UTC, error: str | None = None
        ) -> None:
            super().__init__()
            self.rows = rows
            self.zone = zone
            self.error = error

    class Retried(Message):
        def __init__(self, outbox_id: int, error: str | None) -> None:
            super().__init__()
            self.outbox_id = outbox_id
            self.error = error

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.rows: list[OutboxRow] = []
        self.zone: tzinfo = UTC

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Static(_("Dead letters"), id="dead-heading")
        yield OptionList(id="dead-list")
        yield Static(_("Loading…"), id="dead-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one("#dead-list").focus()

    def action_reload(self) -> None:
        self._load(desk_of(self.app))

    @work(thread=True, exclusive=True, group="dead-load")
    def _load(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                actor = get_agent(session, ctx.actor)
                require_dead_letter_admin(actor)
                zone = agent_zone(session, actor)
                rows = outbox_page(session, state="dead", limit=PAGE_SIZE)
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(self.Page([], error=str(exc)))
            return
        self.post_message(self.Page(rows, zone))

    @on(Page)
    def _on_page(self, message: Page) -> None:
        status = self.query_one("#dead-status", Static)
        if message.error:
            status.update(safe_text(message.error, "red", single_line=True))
            return
        self.rows = message.rows
        self.zone = message.zone
        picker = self.query_one("#dead-list", OptionList)
        picker.clear_options()
        picker.add_options(self._option(r) for r in self.rows)
        if self.rows:
            picker.highlighted = 0
        status.update(
            Text(
                _("{n} dead letters · r sends one again").format(n=len(self.rows))
                if self.rows
                else _("No dead letters: every notification went out.")
            )
        )

    def _option(self, row: OutboxRow) -> Option:
        head = Text()
        head.append(f"#{row.id}  ", style="dim")
        head.append(when(row.due_at, desk_of(self.app).now(), self.zone), style="dim")
        head.append(f"  {row.channel} → ", style="bold")
        head.append_text(safe_text(row.to or "—", single_line=True))
        if row.record:
            head.append("  " + row.record, style="bold")
        head.append(f"  ×{row.attempts}", style="dim")
        head.append("\n  ")
        head.append_text(safe_text(row.message, single_line=True))
        head.append("\n  ")
        head.append_text(safe_text(row.last_error or "", "red", single_line=True))
        return Option(head, id=str(row.id))

    @property
    def current(self) -> OutboxRow | None:
        picker = self.query_one("#dead-list", OptionList)
        if picker.highlighted is None or picker.highlighted >= len(self.rows):
            return None
        return self.rows[picker.highlighted]

    def action_open(self) -> None:
        row = self.current
        if row is not None and row.record and not row.record.startswith("CHG"):
            self.app.push_screen(ticket_screen(self.app, row.record))

    @on(OptionList.OptionSelected, "#dead-list")
    def _selected(self) -> None:
        self.action_open()

    def action_retry(self) -> None:
        row = self.current
        if row is not None:
            self._retry(desk_of(self.app), row.id)

    @work(thread=True, group="dead-retry")
    def _retry(self, ctx: DeskContext, outbox_id: int) -> None:
        try:
            with ctx.store.write() as session:
                retry_dead_letter(session, get_agent(session, ctx.actor), outbox_id, ctx.now())
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(self.Retried(outbox_id, str(exc)))
            return
        self.post_message(self.Retried(outbox_id, None))

    @on(Retried)
    def _on_retried(self, message: Retried) -> None:
        if message.error:
            self.notify(printable(message.error), severity="error", markup=False)
            return
        self.notify(_("#{id} is queued again.").format(id=message.outbox_id), markup=False)
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)
