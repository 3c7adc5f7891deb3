"""Knowledge articles suggested beside a new incident while its title and description are
written: the five best published ones, one to link or to send to the requester."""

from __future__ import annotations

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data.knowledge_search import SUGGESTIONS, ArticleHit, suggest_articles
from itsm_tui.i18n import _
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.text import safe_text

# A pause this long in typing asks for suggestions; a key in the pause starts it again.
SUGGEST_DELAY_S = 0.15
LINK = "link"
REPLY = "reply"


class ArticleSuggestions(Vertical):
    """The suggestions panel; `chosen` is (article number, LINK or REPLY) or None."""

    class Suggested(Message):
        def __init__(self, asked: int, hits: list[ArticleHit]) -> None:
            super().__init__()
            self.asked = asked
            self.hits = hits

    def __init__(self) -> None:
        super().__init__(id="kb-suggestions")
        self.hits: list[ArticleHit] = []
        self.chosen: tuple[str, str] | None = None
        self._asked = 0
        self._timer: Timer | None = None
        self._text = ""

    def compose(self) -> ComposeResult:
        yield Label(_("Knowledge articles"), id="kb-suggestions-title")
        yield OptionList(id="kb-suggestion-list")
        yield Static("", id="kb-suggestion-choice")

    def on_mount(self) -> None:
        self._draw_choice()

    def written(self, text: str) -> None:
        """The form's title and description changed: suggest again after a pause."""
        self._text = text
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SUGGEST_DELAY_S, self._ask)

    def ask_now(self) -> None:
        """Ask for the text written so far without waiting for the pause (tests, snapshots)."""
        if self._timer is not None:
            self._timer.stop()
        self._ask()

    def _ask(self) -> None:
        self._timer = None
        self._asked += 1
        self._suggest(desk_of(self.app), self._asked, self._text)

    @work(thread=True, exclusive=True, group="kb-suggest")
    def _suggest(self, ctx: DeskContext, asked: int, text: str) -> None:
        try:
            with ctx.store.read() as session:
                hits = suggest_articles(session, text, limit=SUGGESTIONS)
        except SQLAlchemyError:
            return  # suggestions are help, not the form's work: the form goes on without
        self.post_message(self.Suggested(asked, hits))

    @on(Suggested)
    def _suggested(self, message: Suggested) -> None:
        message.stop()
        # An answer to text since typed over is dropped: only the latest is shown.
        if message.asked != self._asked:
            return
        self.hits = message.hits
        listing = self.query_one("#kb-suggestion-list", OptionList)
        listing.clear_options()
        for hit in message.hits:
            line = Text(hit.number + " ", style="bold")
            line.append_text(safe_text(hit.title, single_line=True))
            listing.add_option(Option(line, id=hit.number))
        if message.hits:
            listing.highlighted = 0

    @property
    def highlighted(self) -> str | None:
        listing = self.query_one("#kb-suggestion-list", OptionList)
        if listing.highlighted is None or not self.hits:
            return None
        return listing.get_option_at_index(listing.highlighted).id

    def choose(self, how: str) -> str | None:
        """Link (or send) the highlighted article; the same choice again takes it back."""
        number = self.highlighted
        if number is None:
            return None
        self.chosen = None if self.chosen == (number, how) else (number, how)
        self._draw_choice()
        return number

    def restore(self, chosen: tuple[str, str] | None) -> None:
        self.chosen = chosen
        self._draw_choice()

    def _draw_choice(self) -> None:
        found = self.query("#kb-suggestion-choice")
        if not found:
            return  # restored from a draft before the panel is composed: drawn on mount
        box = found.first(Static)
        if self.chosen is None:
            box.update(Text(_("ctrl+l link · ctrl+o send to the requester"), style="italic"))
            return
        number, how = self.chosen
        said = _("{number} will be linked") if how == LINK else _("{number} will be sent")
        box.update(Text(said.format(number=number), style="bold"))
