"""The service catalogue: active items by category, filtered as you type; Enter on an item
opens its request form. The items are read in a thread worker and come back as a message."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data.catalogue import CatalogueEntry, catalogue_entries
from itsm_tui.i18n import _, ngettext
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.text import printable
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader


def _line(value: object) -> str:
    return printable(value, single_line=True)


class ItemRow:
    """An item's line in the list: its name, cut short with an ellipsis when the list is
    narrow, then its delivery standard, which is always shown whole (one line, never two)."""

    def __init__(self, name: str, standard: str) -> None:
        self.name, self.standard = name, standard

    def __str__(self) -> str:
        return f"  {self.name}  {self.standard}"

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(len(self.standard) + 5, Text(str(self)).cell_len)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        tail = Text(f"  {self.standard}", style="dim")
        name = Text(self.name)
        name.truncate(max(1, options.max_width - 2 - tail.cell_len), overflow="ellipsis")
        line = Text("  ", no_wrap=True, overflow="ellipsis")
        line.append_text(name)
        line.append_text(tail)
        yield line


class CatalogueRead(Message):
    """The items matching `search` (the words typed when the read began)."""

    def __init__(self, search: str, entries: list[CatalogueEntry] | None, error: str = "") -> None:
        super().__init__()
        self.search = search
        self.entries = entries
        self.error = error


class CatalogueScreen(Screen[None]):
    """Items by category; type to filter, ↑↓ to choose, Enter to request one."""

    CSS_PATH = "styles/catalogue.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Before the search line's own Enter: typing, then Enter, requests the chosen item.
        Binding("enter", "request", _("Request"), priority=True),
        Binding("down", "move(1)", _("Next"), show=False),
        Binding("up", "move(-1)", _("Previous"), show=False),
        Binding("escape", "app.pop_screen", _("Back")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[CatalogueEntry] = []

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        yield Input(
            compact=True,
            id="catalogue-search",
            placeholder=_("type to filter: words of a name, description or category"),
        )
        with Horizontal(id="catalogue-body"):
            yield OptionList(id="catalogue-items")
            with VerticalScroll(id="catalogue-item-box"):
                yield Static(id="catalogue-item")
        yield Static(id="catalogue-status")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#catalogue-search", Input).focus()
        self._read(desk_of(self.app), "")

    # -- reading

    @work(thread=True, exclusive=True, group="catalogue-read")
    def _read(self, ctx: DeskContext, search: str) -> None:
        try:
            with ctx.store.read() as session:
                entries = catalogue_entries(session, search=search)
        except SQLAlchemyError as exc:
            self.post_message(CatalogueRead(search, None, str(exc)))
            return
        self.post_message(CatalogueRead(search, entries))

    @on(Input.Changed, "#catalogue-search")
    def _typed(self, event: Input.Changed) -> None:
        self._read(desk_of(self.app), event.value)

    @on(CatalogueRead)
    def _on_read(self, message: CatalogueRead) -> None:
        if message.search != self.query_one("#catalogue-search", Input).value:
            return  # a later read for what is typed now is on its way
        status = self.query_one("#catalogue-status", Static)
        if message.entries is None:
            status.update(
                Text(_("The catalogue could not be read: {error}").format(error=message.error))
            )
            return
        chosen = self._highlighted()
        self.entries = message.entries
        items = self.query_one("#catalogue-items", OptionList)
        items.clear_options()
        shown: str | None = None
        highlight: int | None = None
        for index, entry in enumerate(self.entries):
            if entry.category != shown:
                shown = entry.category
                heading = Text(_line(shown or _("(no category)")), style="bold")
                items.add_option(Option(heading, disabled=True))
            row = ItemRow(_line(entry.name), entry.standard())
            items.add_option(Option(row, id=str(index)))
            if chosen is not None and entry.code == chosen.code:
                highlight = items.option_count - 1
        if self.entries:
            items.highlighted = highlight if highlight is not None else 1
        count = len(self.entries)
        status.update(
            Text(
                ngettext("{n} item", "{n} items", count).format(n=count)
                if count
                else _("No item matches; try fewer words")
            )
        )
        self._show_item()

    # -- choosing

    def _highlighted(self) -> CatalogueEntry | None:
        items = self.query_one("#catalogue-items", OptionList)
        if items.highlighted is None or not self.entries:
            return None
        option = items.get_option_at_index(items.highlighted)
        return None if option.id is None else self.entries[int(option.id)]

    def action_move(self, step: int) -> None:
        items = self.query_one("#catalogue-items", OptionList)
        if step > 0:
            items.action_cursor_down()
        else:
            items.action_cursor_up()

    @on(OptionList.OptionHighlighted, "#catalogue-items")
    def _show_item(self) -> None:
        box = self.query_one("#catalogue-item", Static)
        entry = self._highlighted()
        if entry is None:
            box.update("")
            return
        text = Text()
        text.append(_line(entry.name) + "\n", style="bold")
        text.append(_line(entry.code) + "\n\n", style="dim")
        if entry.description:
            text.append(printable(entry.description) + "\n\n")
        for label, value in (
            (_("Delivery standard"), entry.standard()),
            (_("Approval"), entry.approval()),
            (_("Fulfilled by"), entry.team or "—"),
            (_("Service"), entry.service or "—"),
        ):
            text.append(f"{label}: ", style="bold")
            text.append(_line(value) + "\n")
        if entry.tasks:
            text.append("\n" + _("Steps") + "\n", style="bold")
            for position, step in enumerate(entry.tasks, start=1):
                text.append(f"{position}. {_line(step['name'])} — {_line(step['team'])}\n")
        if entry.form:
            text.append("\n" + _("Form") + "\n", style="bold")
            for field in entry.form:
                required = " *" if field.get("required") else ""
                label = _line(field.get("label") or field["name"])
                kind = _line(field.get("kind", "text"))
                if field.get("choices"):
                    kind += ": " + " | ".join(_line(c) for c in field["choices"])
                text.append(f"  {label}{required} ({kind})\n")
        box.update(text)

    @on(OptionList.OptionSelected, "#catalogue-items")  # a click
    def action_request(self) -> None:
        """The highlighted item's request form (the New request form, the item chosen)."""
        from itsm_tui.screens.forms import NewTicketForm

        entry = self._highlighted()
        if entry is None:
            self.notify(_("No item is chosen: type fewer words."), markup=False)
            return

        def done(number: str | None) -> None:
            if number:
                self.notify(_("{number} saved.").format(number=number), markup=False)

        self.app.push_screen(NewTicketForm("request", item=entry.code), done)
