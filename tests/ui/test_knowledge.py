"""The knowledge browser and the article editor, driven by keys (Pilot)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, Markdown, OptionList, Static, TextArea

from itsm_tui.data.models import KnowledgeArticle
from itsm_tui.screens.forms.article import ArticleForm
from itsm_tui.screens.knowledge import KnowledgeScreen
from tests.ui.knowledge_apps import knowledge_app
from tests.ui.snapshot_apps import run_async, settle


def listed(screen: KnowledgeScreen) -> list[str]:
    return [h.title for h in screen.hits]


@run_async
async def test_b_opens_the_browser_and_search_ranks_as_you_type(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        # Newest published first; the draft is not listed.
        assert listed(screen)[0] == "Printer jams on the 3rd floor"
        assert "VPN certificate renewal (draft)" not in listed(screen)
        await pilot.press(*"vpn")
        screen.search_now()  # not after the pause's wall-clock timer
        await settle(pilot)
        assert listed(screen) == [
            "VPN drops every ten minutes",
            "Outlook asks for the password again",
        ]
        # The first hit is shown: Markdown rendered, markup in it kept as text.
        assert screen.detail is not None
        assert screen.detail["title"] == "VPN drops every ten minutes"
        assert "[bold red]x[/]" in screen.query_one("#kb-view", Markdown).source
        await pilot.press("b")  # once: b on the browser keeps the one open
        await settle(pilot)
        assert sum(isinstance(s, KnowledgeScreen) for s in app.screen_stack) == 1


@run_async
async def test_cjk_search_and_drafts_toggle(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        screen.query_one("#kb-search", Input).value = "打印"
        screen.search_now()
        await settle(pilot)
        assert listed(screen) == ["打印机无法连接"]
        screen.query_one("#kb-search", Input).value = "certificate"
        screen.search_now()
        await settle(pilot)
        assert listed(screen) == []
        screen.query_one("#kb-list", OptionList).focus()
        await pilot.press("d")
        await settle(pilot)
        assert listed(screen) == ["VPN certificate renewal (draft)"]


@run_async
async def test_publish_is_refused_for_an_agent_and_done_for_a_supervisor(tmp_path: Path) -> None:
    for actor, expected in (("alice", "draft"), ("sam", "published")):
        app = knowledge_app(tmp_path / f"{actor}.db", actor)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, KnowledgeScreen)
            screen.query_one("#kb-list", OptionList).focus()
            await pilot.press("d")
            await settle(pilot)
            screen.query_one("#kb-search", Input).value = "certificate"
            screen.search_now()
            await settle(pilot)
            screen.query_one("#kb-list", OptionList).focus()
            await pilot.press("p")
            await settle(pilot)
            message = str(screen.query_one("#kb-message", Static).render())
            if actor == "alice":
                assert "cannot publish" in message
            else:
                assert "published" in message
        with app.desk.store.read() as session:
            status = session.scalar(
                select(KnowledgeArticle.status).where(KnowledgeArticle.title.like("%certificate%"))
            )
        assert status == expected


@run_async
async def test_new_article_refused_keeps_the_text_then_saves(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#kb-list", OptionList).focus()
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ArticleForm)
        # A tag with too many characters: the desk refuses, nothing is lost.
        form.query_one("#kb-tags-field", Input).value = "x" * 41
        form.query_one("#kb-title-field", Input).value = "Teams [b]echo[/b]"
        form.query_one("#kb-body-field", TextArea).text = "# Fix\nTurn off *noise suppression*."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "limit is 40" in str(form.query_one("#form-message", Static).render())
        assert form.query_one("#kb-body-field", TextArea).text.startswith("# Fix")
        form.draw_preview()  # now, not after the pause's wall-clock timer
        assert "noise suppression" in form.query_one("#kb-preview", Markdown).source
        form.query_one("#kb-tags-field", Input).value = "teams, audio"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeScreen)
    with app.desk.store.read() as session:
        saved = session.scalars(
            select(KnowledgeArticle).where(KnowledgeArticle.title == "Teams [b]echo[/b]")
        ).one()
        assert (saved.status, saved.tags) == ("draft", ["teams", "audio"])
