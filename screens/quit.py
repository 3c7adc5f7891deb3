"""Asking before quitting while a form holds text: what would be kept, and where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from itsm_tui.i18n import _, ngettext


@dataclass(frozen=True)
class UnsavedForm:
    """One open form with text in it, as the question names it."""

    heading: str
    number: str | None
    characters: int


class QuitWithDraftsScreen(ModalScreen[bool]):
    """Quit or go back; either way the text stays on disk as a draft."""

    CSS_PATH = "styles/quit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", _("Back")),
        # ctrl+q again quits: the app's own binding sees this screen and exits.
    ]

    def __init__(self, forms: list[UnsavedForm], folder: Path) -> None:
        super().__init__()
        self.forms = forms
        self.folder = folder

    def compose(self) -> ComposeResult:
        text = Text(_("Quit with text not yet saved to the desk?") + "\n\n", style="bold")
        for form in self.forms:
            text.append("  • " + form.heading)
            if form.number:
                text.append("  " + form.number, style="bold")
            text.append(
                "  "
                + ngettext("{n} character", "{n} characters", form.characters).format(
                    n=form.characters
                )
                + "\n",
                style="dim",
            )
        text.append("\n")
        text.append(
            ngettext(
                "It is not written to the ticket. Quit or not, it stays on disk as a draft "
                "and is back in the form when you open it again on this desk as this agent.",
                "They are not written to the tickets. Quit or not, they stay on disk as "
                "drafts and are back in the forms when you open them again on this desk as "
                "this agent.",
                len(self.forms),
            )
        )
        text.append("\n")
        text.append(_("ctrl+q again quits, esc goes back.") + "\n", style="dim")
        text.append(_("Drafts folder: "), style="dim")
        # A path is data: appended as plain text, never read as markup.
        text.append(str(self.folder), style="dim")
        with Vertical(id="quit-dialog"):
            yield Static(text, id="quit-text")
            with Horizontal(id="quit-buttons"):
                yield Button(_("Quit, keep the drafts"), variant="warning", id="quit-yes")
                yield Button(_("Back to work"), variant="primary", id="quit-no")

    def on_mount(self) -> None:
        self.query_one("#quit-no", Button).focus()

    @on(Button.Pressed, "#quit-yes")
    def action_quit(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#quit-no")
    def action_stay(self) -> None:
        self.dismiss(False)
