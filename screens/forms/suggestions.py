"""Knowledge articles suggested beside a new incident while its title and description are
written: the five best published ones, one to link or to send to the requester.

Under a narrow form the panel is one line (how many articles are suggested, the one chosen)
that opens on demand: its height never follows the answers, so the field being typed in
stays where it is while they arrive."""

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
from itsm_tui.i18n import _, ngettext
from itsm_tui.screens import keys
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.text import safe_text

# A pause this long in typing asks for suggestions; a key in the pause starts it again.
SUGGEST_DELAY_S = 0.15
LINK = "link"
REPLY = "reply"
# Under the form, the panel's lines: the strip alone, or opened, the strip, the five
# articles and the choice. Set here (not in the .tcss) because the form counts them to fit
# its body above the panel.
STRIP_LINES = 1
OPEN_LINES = 2 + SUGGESTIONS


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
        # Under a narrow form: the list shown (on demand), not just the strip.
        self.opened = False
        # Answered at least once: "none" then means none matches, not none asked yet.
        self._answered = False

    def compose(self) -> ComposeResult:
        yield Static("", id="kb-suggestions-strip")
        yield Label(_("Knowledge articles"), id="kb-suggestions-title")
        yield OptionList(id="kb-suggestion-list")
        yield Static("", id="kb-suggestion-choice")

    def on_mount(self) -> None:
        self._draw_choice()

    @property
    def under(self) -> bool:
        return self.has_class("-under")

    def place(self, under: bool) -> None:
        """Beside the form (its own height) or under it (the strip, or opened, the list)."""
        self.set_class(under, "-under")
        self.set_class(under and self.opened, "-open")
        self.styles.height = (OPEN_LINES if self.opened else STRIP_LINES) if under else None
        self._draw_strip()

    def set_opened(self, opened: bool) -> None:
        self.opened = opened
        self.place(self.under)

    @property
    def lines_under(self) -> int:
        """The rows the panel takes under the form (0 beside it)."""
        if not self.under:
            return 0
        return OPEN_LINES if self.opened else STRIP_LINES

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
        self._answered = True
        self._draw_strip()

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

    def _draw_strip(self) -> None:
        found = self.query("#kb-suggestions-strip")
        if not found:
            return  # placed before the panel is composed: drawn on mount
        key = keys.SUGGESTIONS_OPEN.key
        if self.opened:
            line = Text(_("Knowledge articles"), style="bold")
            line.append("  " + _("{key} closes").format(key=key), style="italic")
            found.first(Static).update(line)
            return
        count = len(self.hits)
        if count:
            said = ngettext("{n} article suggested", "{n} articles suggested", count)
            line = Text(said.format(n=count), style="bold")
        elif self._answered:
            line = Text(_("No article matches yet"))
        else:
            line = Text(_("Articles are suggested as you write"))
        if self.chosen is not None:
            number, how = self.chosen
            chosen = _("{number} will be linked") if how == LINK else _("{number} will be sent")
            line.append(" · ")
            line.append(chosen.format(number=number), style="bold")
        line.append("  " + _("{key} shows them").format(key=key), style="italic")
        found.first(Static).update(line)

    def _draw_choice(self) -> None:
        self._draw_strip()
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
