"""The knowledge browser: ranked search as you type, the list, and the article in Markdown."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data.article_json import article_detail
from itsm_tui.data.knowledge_search import ArticleHit, search_articles
from itsm_tui.desk import DeskError
from itsm_tui.desk import knowledge as kb
from itsm_tui.desk.records import get_agent, get_article
from itsm_tui.domain.knowledge import ARTICLE_STATUSES, PUBLISHED
from itsm_tui.i18n import _
from itsm_tui.screens import keys
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.text import printable, safe_text
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

# A pause this long in typing runs the search (each key would otherwise start one).
SEARCH_DELAY_S = 0.15
PAGE = 60


def markdown_source(body: str) -> str:
    """An article's Markdown as the viewer gets it: control characters shown as escapes
    (Markdown is parsed, Rich markup never is), line breaks kept."""
    return "\n".join(printable(line) for line in body.split("\n"))


def hit_line(hit: ArticleHit) -> Text:
    line = Text(hit.number + " ", style="bold")
    if hit.status != PUBLISHED:
        line.append(f"{hit.status} ", style="italic")
    line.append_text(safe_text(hit.title, single_line=True))
    return line


class KnowledgeScreen(Screen[None]):
    """Search the knowledge base and read an article; write, publish and retire from here."""

    CSS_PATH = "styles/knowledge.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back")),
        keys.KB_SEARCH,
        keys.KB_NEW,
        keys.KB_EDIT,
        keys.KB_PUBLISH,
        keys.KB_RETIRE,
        keys.KB_HELPFUL,
        keys.KB_NOT_HELPFUL,
        keys.KB_ALL_STATUSES,
    ]

    class Found(Message):
        def __init__(self, asked: int, hits: list[ArticleHit]) -> None:
            super().__init__()
            self.asked = asked
            self.hits = hits

    class Shown(Message):
        def __init__(self, asked: int, detail: dict[str, Any]) -> None:
            super().__init__()
            self.asked = asked
            self.detail = detail

    class Said(Message):
        """A line for the agent: the desk's refusal, the store's trouble, or a done write."""

        def __init__(self, text: str, *, reload: bool = False) -> None:
            super().__init__()
            self.text = text
            self.reload = reload

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self.statuses: tuple[str, ...] = (PUBLISHED,)
        self.hits: list[ArticleHit] = []
        self.detail: dict[str, Any] | None = None
        # Every search and every article read is numbered; an answer to an older one is
        # dropped (the agent has typed on, or moved the cursor, since).
        self._asked = 0
        self._shown_asked = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        with Horizontal(id="kb-panes"):
            with Vertical(id="kb-left"):
                yield Input(
                    self.initial_query,
                    id="kb-search",
                    compact=True,
                    placeholder=_("search the knowledge base"),
                )
                yield OptionList(id="kb-list")
            with Vertical(id="kb-right"):
                yield Static("", id="kb-title")
                yield Static("", id="kb-meta")
                yield Static("", id="kb-message")
                with VerticalScroll(id="kb-scroll"):
                    yield Markdown("", id="kb-view", open_links=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#kb-message").display = False
        self.query_one("#kb-search", Input).focus()
        self.search_now()

    # -- searching

    @on(Input.Changed, "#kb-search")
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY_S, self.search_now)

    @on(Input.Submitted, "#kb-search")
    def _to_list(self) -> None:
        self.query_one("#kb-list", OptionList).focus()

    def search_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = None
        self._asked += 1
        query = self.query_one("#kb-search", Input).value
        self._search(desk_of(self.app), self._asked, query, self.statuses)

    @work(thread=True, exclusive=True, group="kb-search")
    def _search(self, ctx: DeskContext, asked: int, query: str, statuses: tuple[str, ...]) -> None:
        try:
            with ctx.store.read() as session:
                hits = search_articles(session, query, statuses=statuses, limit=PAGE)
        except SQLAlchemyError as exc:
            self.post_message(self.Said(_("The search failed: {error}").format(error=exc)))
            return
        self.post_message(self.Found(asked, hits))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.asked != self._asked:
            return
        self.hits = message.hits
        listing = self.query_one("#kb-list", OptionList)
        listing.clear_options()
        if not message.hits:
            listing.add_option(
                Option(Text(_("No article matches."), style="italic"), disabled=True)
            )
            self._show(None)
            return
        listing.add_options(Option(hit_line(h), id=h.number) for h in message.hits)
        listing.highlighted = 0

    # -- reading

    @on(OptionList.OptionHighlighted, "#kb-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.open_article(event.option.id)

    @on(OptionList.OptionSelected, "#kb-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # Enter: the agent reads it; the desk counts the view.
        if event.option.id:
            self._count_view(desk_of(self.app), event.option.id)
            self.query_one("#kb-scroll").focus()

    def open_article(self, number: str) -> None:
        self._shown_asked += 1
        self._read(desk_of(self.app), self._shown_asked, number)

    @work(thread=True, exclusive=True, group="kb-article")
    def _read(self, ctx: DeskContext, asked: int, number: str) -> None:
        try:
            with ctx.store.read() as session:
                detail = article_detail(session, get_article(session, number))
        except (SQLAlchemyError, DeskError) as exc:
            self.post_message(self.Said(str(exc)))
            return
        self.post_message(self.Shown(asked, detail))

    @on(Shown)
    def _shown(self, message: Shown) -> None:
        if message.asked == self._shown_asked:
            self._show(message.detail)

    def _show(self, detail: dict[str, Any] | None) -> None:
        self.detail = detail
        title = self.query_one("#kb-title", Static)
        meta = self.query_one("#kb-meta", Static)
        view = self.query_one("#kb-view", Markdown)
        if detail is None:
            title.update("")
            meta.update("")
            view.update("")
            return
        title.update(safe_text(f"{detail['number']}  {detail['title']}", single_line=True))
        meta.update(
            safe_text(
                _(
                    "{status} · v{version} · {tags} · from {problem} · viewed {views} · "
                    "helpful {yes}/{no} · review {review}"
                ).format(
                    status=detail["status"],
                    version=detail["version"],
                    tags=", ".join(detail["tags"]) or _("no tags"),
                    problem=detail["problem"] or "—",
                    views=detail["views"],
                    yes=detail["helpful_yes"],
                    no=detail["helpful_no"],
                    review=detail["review_on"] or "—",
                )
            )
        )
        view.update(markdown_source(detail["body"]))

    def say(self, text: str) -> None:
        box = self.query_one("#kb-message", Static)
        box.update(safe_text(text))
        box.display = bool(text)

    @on(Said)
    def _said(self, message: Said) -> None:
        self.say(message.text)
        if message.reload:
            self.search_now()
            if self.detail is not None:
                self.open_article(self.detail["number"])

    # -- writes, each through the desk in a worker

    @work(thread=True, group="kb-write")
    def _desk_write(self, ctx: DeskContext, done: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            with ctx.store.write() as session:
                actor = get_agent(session, ctx.actor)
                article = fn(session, actor, *args, now=ctx.now(), **kwargs)
                number = article.number
        except DeskError as refused:
            self.post_message(self.Said(refused.message))
            return
        except SQLAlchemyError as exc:
            self.post_message(self.Said(_("Not saved: {error}").format(error=exc)))
            return
        self.post_message(self.Said(done.format(number=number), reload=True))

    @work(thread=True, group="kb-write")
    def _count_view(self, ctx: DeskContext, number: str) -> None:
        try:
            with ctx.store.write() as session:
                kb.view_article(session, get_agent(session, ctx.actor), number, now=ctx.now())
        except (DeskError, SQLAlchemyError):
            return  # a view not counted is not worth interrupting the reader for

    def _current(self) -> dict[str, Any] | None:
        if self.detail is None:
            self.say(_("Choose an article first."))
        return self.detail

    def action_publish_article(self) -> None:
        if (detail := self._current()) is not None:
            self._desk_write(
                desk_of(self.app), _("{number} published."), kb.publish_article,
                detail["number"], expected_version=detail["version"],
            )  # fmt: skip

    def action_retire_article(self) -> None:
        if (detail := self._current()) is not None:
            self._desk_write(
                desk_of(self.app), _("{number} retired."), kb.retire_article,
                detail["number"], expected_version=detail["version"],
            )  # fmt: skip

    def action_vote(self, helpful: bool) -> None:
        if (detail := self._current()) is not None:
            self._desk_write(
                desk_of(self.app), _("Thank you: your vote on {number} is counted."),
                kb.vote_article, detail["number"], helpful=helpful,
            )  # fmt: skip

    def action_toggle_statuses(self) -> None:
        self.statuses = ARTICLE_STATUSES if self.statuses == (PUBLISHED,) else (PUBLISHED,)
        self.say(
            _("Showing drafts and retired articles too.")
            if len(self.statuses) > 1
            else _("Showing published articles.")
        )
        self.search_now()

    def action_focus_search(self) -> None:
        self.query_one("#kb-search", Input).focus()

    def action_new_article(self) -> None:
        from itsm_tui.screens.forms.article import ArticleForm

        self.app.push_screen(ArticleForm(None, None), self._written)

    def action_edit_article(self) -> None:
        from itsm_tui.screens.forms.article import ArticleForm

        if (detail := self._current()) is not None:
            form = ArticleForm(
                detail["number"],
                detail["version"],
                title=detail["title"],
                tags=detail["tags"],
                body=detail["body"],
            )
            self.app.push_screen(form, self._written)

    def _written(self, number: str | None) -> None:
        if number:
            self.say(_("{number} saved.").format(number=number))
            self.search_now()
            self.open_article(number)

    def action_close(self) -> None:
        self.dismiss(None)
