"""Write or edit a knowledge article: title, tags, the Markdown body and its preview."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Label, Markdown, TextArea

from itsm_tui.desk import knowledge as kb
from itsm_tui.i18n import _
from itsm_tui.screens.forms.base import DeskForm, field_text, required_text

# A pause this long in typing redraws the preview (a long article reparses on each key).
PREVIEW_DELAY_S = 0.3


class ArticleForm(DeskForm):
    """A new draft article (number None) or an edit of one at `version`; keeps a draft."""

    def __init__(
        self,
        number: str | None,
        version: int | None,
        *,
        title: str = "",
        tags: tuple[str, ...] | list[str] = (),
        body: str = "",
        problem: str | None = None,
    ) -> None:
        super().__init__(number, version)
        self.initial = {"title": title, "tags": ", ".join(tags), "body": body}
        self.problem = problem
        self._preview_timer: Timer | None = None

    def title_text(self):  # type: ignore[no-untyped-def]
        self.heading = _("Edit article") if self.number else _("New article")
        return super().title_text()

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Title"), classes="field-label")
        yield Input(self.initial["title"], compact=True, id="kb-title-field")
        yield Label(_("Tags, separated by commas"), classes="field-label")
        yield Input(self.initial["tags"], compact=True, id="kb-tags-field")
        yield Label(_("Body (Markdown) and its preview"), classes="field-label")
        with Horizontal(id="kb-editor"):
            yield TextArea(self.initial["body"], id="kb-body-field", classes="article")
            yield Markdown("", id="kb-preview", open_links=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.draw_preview()

    @on(TextArea.Changed, "#kb-body-field")
    def _body_changed(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self.draw_preview)

    def draw_preview(self) -> None:
        from itsm_tui.screens.knowledge import markdown_source

        self._preview_timer = None
        body = self.query_one("#kb-body-field", TextArea).text
        self.query_one("#kb-preview", Markdown).update(markdown_source(body))

    def collect(self) -> dict[str, Any]:
        return {
            "title": required_text(self, "kb-title-field", _("a title")),
            "tags": [t for t in field_text(self, "kb-tags-field").split(",") if t.strip()],
            "body": field_text(self, "kb-body-field"),
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        if self.number is None:
            article = kb.create_article(session, actor, problem=self.problem, now=now, **values)
        else:
            article = kb.edit_article(
                session, actor, self.number, expected_version=expected_version, now=now, **values
            )
        return article.number
