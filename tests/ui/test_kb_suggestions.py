"""Knowledge articles suggested beside a new incident: the best ones as the agent writes, one
linked or sent to the requester with the ticket, in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, TextArea

from itsm_tui.data.models import Comment, KnowledgeArticle, Ticket
from itsm_tui.screens.forms.new_ticket import NewTicketForm
from itsm_tui.screens.forms.suggestions import ArticleSuggestions
from tests.ui.knowledge_apps import knowledge_app
from tests.ui.snapshot_apps import run_async, settle


def suggested(form: NewTicketForm) -> list[str]:
    panel = form.query_one(ArticleSuggestions)
    return [h.title for h in panel.hits]


async def _new_incident(pilot, title: str) -> NewTicketForm:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, NewTicketForm)
    await pilot.press(*title)
    # Asked now rather than after the pause's wall-clock timer.
    form.query_one(ArticleSuggestions).ask_now()
    await settle(pilot)
    return form


@run_async
async def test_suggestions_follow_what_is_typed(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(160, 50)) as pilot:
        form = await _new_incident(pilot, "vpn keeps dropping")
        assert suggested(form)[0] == "VPN drops every ten minutes"
        assert "VPN certificate renewal (draft)" not in suggested(form)
        form.query_one("#new-title", Input).value = ""
        form.query_one("#new-description", TextArea).text = "财务部打印机无法打印"
        await settle(pilot)
        form.query_one(ArticleSuggestions).ask_now()
        await settle(pilot)
        assert suggested(form)[0] == "打印机无法连接"


@run_async
async def test_a_stale_answer_is_dropped(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(160, 50)) as pilot:
        form = await _new_incident(pilot, "printer jams")
        panel = form.query_one(ArticleSuggestions)
        assert suggested(form)[0] == "Printer jams on the 3rd floor"
        # An answer to an earlier question arrives late: not shown.
        panel.post_message(ArticleSuggestions.Suggested(panel._asked - 1, []))
        await settle(pilot)
        assert suggested(form)[0] == "Printer jams on the 3rd floor"


@run_async
async def test_linked_suggestion_is_saved_with_the_incident(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _new_incident(pilot, "VPN tunnel drops")
        assert form.query_one(ArticleSuggestions).has_class("-under")
        await pilot.press("ctrl+l")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NewTicketForm)
    with app.desk.store.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.title == "VPN tunnel drops")).one()
        article = session.get(KnowledgeArticle, ticket.kb_article_id)
        assert article is not None and article.title == "VPN drops every ten minutes"


@run_async
async def test_sent_suggestion_is_the_first_public_reply(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(160, 50)) as pilot:
        await _new_incident(pilot, "Outlook password prompt")
        await pilot.press("ctrl+o")
        await pilot.press("ctrl+s")
        await settle(pilot)
    with app.desk.store.read() as session:
        ticket = session.scalars(
            select(Ticket).where(Ticket.title == "Outlook password prompt")
        ).one()
        replies = session.scalars(select(Comment).where(Comment.ticket_id == ticket.id)).all()
        assert [c.kind for c in replies] == ["reply"]
        assert "Recreate the Outlook profile" in replies[0].body
        assert ticket.first_response_at is not None


@run_async
async def test_the_choice_is_kept_in_the_draft(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(160, 50)) as pilot:
        form = await _new_incident(pilot, "VPN tunnel drops")
        await pilot.press("ctrl+l")
        await pilot.press("escape")
        await settle(pilot)
        form = await _new_incident(pilot, "")
        assert form.query_one(ArticleSuggestions).chosen == ("KB0000001", "link")
        assert form.query_one("#new-title", Input).value == "VPN tunnel drops"
