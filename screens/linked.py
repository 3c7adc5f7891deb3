"""A change or knowledge article linked from a ticket, read where the agent is (Enter on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from itsm_tui.context import DeskContext
from itsm_tui.data import record_json
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_agent, get_article, get_change
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _
from itsm_tui.screens.text import safe_text, shown_time


@dataclass(frozen=True)
class LinkedRecord:
    number: str
    title: str
    facts: tuple[tuple[str, str], ...]
    body: str


def _change(session: Any, number: str, zone: tzinfo) -> LinkedRecord:
    c = record_json.change_record(session, get_change(session, number))
    window = "—"
    if c["planned_start"]:
        window = f"{shown_time(c['planned_start'], zone)} – {shown_time(c['planned_end'], zone)}"
    return LinkedRecord(
        number=c["number"],
        title=c["title"],
        facts=(
            (_("Status"), str(c["status"]).replace("_", " ")),
            (_("Type"), str(c["change_type"])),
            (_("Risk"), str(c["risk"] or "—")),
            (_("Planned"), window),
            (_("Services"), ", ".join(c["services"]) or "—"),
            (_("Team"), c["team"] or "—"),
            (_("Owner"), c["owner"] or "—"),
        ),
        body=c["description"] or "",
    )


def _article(session: Any, number: str, zone: tzinfo) -> LinkedRecord:
    a = get_article(session, number)
    updated: datetime = a.updated_at
    return LinkedRecord(
        number=a.number,
        title=a.title,
        facts=(
            (_("Status"), a.status),
            (_("Tags"), ", ".join(str(t) for t in a.tags or ()) or "—"),
            (_("Updated"), shown_time(updated, zone)),
        ),
        body=a.body or "",
    )


class LinkedRecordScreen(ModalScreen[None]):
    """Read-only: the change board and the knowledge screens will own their records' actions."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", _("Close"))]
    DEFAULT_CSS = """
    LinkedRecordScreen { align: center middle; background: $background 60%; }
    #linked-dialog {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    #linked-body { height: auto; max-height: 30; }
    """

    class Loaded(Message):
        def __init__(self, record: LinkedRecord | None, error: str | None) -> None:
            super().__init__()
            self.record = record
            self.error = error

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number.strip().upper()

    def compose(self) -> ComposeResult:
        with Vertical(id="linked-dialog"):
            yield Static(safe_text(self.number, "bold"), id="linked-title")
            with VerticalScroll(id="linked-body"):
                yield Static(_("Loading…"), id="linked-content")

    def on_mount(self) -> None:
        self._load(self.app.desk)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="linked-load")
    def _load(self, ctx: DeskContext) -> None:
        read = _change if self.number.startswith("CHG") else _article
        try:
            with ctx.store.read() as session:
                try:
                    agent = get_agent(session, ctx.actor)
                except DeskError:
                    agent = None
                record = read(session, self.number, agent_zone(session, agent))
        except DeskError as exc:
            self.post_message(self.Loaded(None, exc.message))
            return
        except SQLAlchemyError as exc:
            self.post_message(
                self.Loaded(None, _("the store could not be read: {error}").format(error=exc))
            )
            return
        self.post_message(self.Loaded(record, None))

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        box = self.query_one("#linked-content", Static)
        if message.record is None:
            box.update(safe_text(message.error or "", "bold red"))
            return
        record = message.record
        title = Text()
        title.append_text(safe_text(record.number, "bold"))
        title.append("  ")
        title.append_text(safe_text(record.title, "bold", single_line=True))
        self.query_one("#linked-title", Static).update(title)
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column(overflow="fold")
        for label, value in record.facts:
            facts.add_row(Text(label), safe_text(value, single_line=True))
        body = safe_text(record.body) if record.body.strip() else Text(_("(none)"), style="dim")
        box.update(Group(facts, Text(""), body))

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
