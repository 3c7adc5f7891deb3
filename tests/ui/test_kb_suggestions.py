"""Knowledge articles suggested beside a new incident: the best ones as the agent writes, one
linked or sent to the requester with the ticket, in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, TextArea

from itsm_tui.data.models import Comment, KnowledgeArticle, Ticket
from itsm_tui.screens.forms.new_ticket import NewTicketForm
from itsm_tui.screens.forms.suggestions import ArticleSuggestions
from itsm_tui.screens.widgets.footer import DeskFooter
from tests.ui.knowledge_apps import knowledge_app
from tests.ui.snapshot_apps import run_async, settle
from tests.ui.test_bursts import burst


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


@run_async
async def test_only_the_incident_form_has_the_article_keys(tmp_path: Path) -> None:
    """Articles are suggested to incidents: a request's footer and help leave their keys
    out, and the keys do nothing there."""
    app = knowledge_app(tmp_path / "desk.db")
    article_keys = {"ctrl+g", "ctrl+l", "ctrl+o"}
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        for key, expected in (("n", article_keys), ("N", set())):
            await pilot.press(key)
            await settle(pilot)
            form = app.screen
            assert isinstance(form, NewTicketForm)
            assert article_keys & set(form.active_bindings) == expected
            shown = {description for _key, description in app.binding_lines()}
            assert ("Link article" in shown) == bool(expected)
            footer = {item.action for item in form.query_one(DeskFooter)._fit().items}
            assert ("link_suggestion" in footer) == bool(expected)
            await pilot.press("escape")
            await settle(pilot)


async def _strip_form(pilot, title: str) -> tuple[NewTicketForm, ArticleSuggestions]:  # type: ignore[no-untyped-def]
    form = await _new_incident(pilot, title)
    return form, form.query_one(ArticleSuggestions)


@run_async
async def test_at_80_columns_the_suggestions_are_one_line_until_opened(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        form, panel = await _strip_form(pilot, "")
        assert panel.under and panel.region.height == 1
        title = form.query_one("#new-title", Input)
        before = title.region
        await pilot.press(*"VPN tunnel drops")
        panel.ask_now()
        await settle(pilot)
        # The answers arrived: the strip counts them, and nothing moved.
        assert len(panel.hits) == 2 and panel.region.height == 1
        assert "2 articles suggested" in str(panel.query_one("#kb-suggestions-strip").render())
        assert title.region == before and title.has_focus
        # ctrl+g opens the list, focused; again, it closes and the title has the keys again.
        await pilot.press("ctrl+g")
        await settle(pilot)
        listing = panel.query_one("#kb-suggestion-list")
        assert panel.opened and panel.region.height == 7 and listing.has_focus
        # Save and Cancel stay on screen above the opened panel.
        assert form.query_one("#form-submit").region.bottom <= panel.region.y
        await pilot.press("down", "ctrl+l")
        assert panel.chosen == ("KB0000002", "link")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert not panel.opened and panel.region.height == 1
        assert title.has_focus and title.region == before
        assert "KB0000002 will be linked" in str(panel.query_one("#kb-suggestions-strip").render())


@run_async
async def test_beside_a_wide_form_ctrl_g_goes_to_the_list_and_back(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(120, 40)) as pilot:
        form, panel = await _strip_form(pilot, "VPN tunnel drops")
        assert not panel.under and panel.region.height > 7
        await pilot.press("tab")  # to impact
        impact = form.query_one("#new-impact")
        assert impact.has_focus
        await pilot.press("ctrl+g")
        assert panel.query_one("#kb-suggestion-list").has_focus
        await pilot.press("ctrl+g")
        assert impact.has_focus


@run_async
async def test_nothing_typed_is_lost_while_suggestions_arrive(tmp_path: Path) -> None:
    """Bursts into the title and the description at 80×24, each followed by a question
    whose answer lands among the next burst's keys: every key is in the form, the field
    being typed in never moves, and the strip stays one line."""
    app = knowledge_app(tmp_path / "desk.db")
    answers: list[int] = []
    async with app.run_test(
        size=(80, 24),
        message_hook=lambda m: (
            answers.append(1) if isinstance(m, ArticleSuggestions.Suggested) else None
        ),
    ) as pilot:
        form, panel = await _strip_form(pilot, "")
        title = form.query_one("#new-title", Input)
        where = title.region
        typed_title = "VPN tunnel drops on the 3rd floor, printer jams too"
        for chunk in (typed_title[i : i + 6] for i in range(0, len(typed_title), 6)):
            burst(app, chunk)
            panel.ask_now()
            await pilot.pause()
            assert title.region == where and panel.region.height == 1
        await settle(pilot)
        assert title.value == typed_title
        burst(app, "<tab><tab><tab><tab><tab>")
        await settle(pilot)
        description = form.query_one("#new-description", TextArea)
        assert description.has_focus
        where = description.region
        typed = "Since 09:10 the tunnel drops every ten minutes; Outlook asks again."
        for chunk in (typed[i : i + 6] for i in range(0, len(typed), 6)):
            burst(app, chunk)
            panel.ask_now()
            await pilot.pause()
            assert description.region == where and panel.region.height == 1
        await settle(pilot)
        assert description.text == typed
        assert len(answers) > 2  # answers did land while the keys came
        assert panel.hits


@run_async
async def test_narrowed_while_in_the_list_the_keys_go_back_to_the_form(tmp_path: Path) -> None:
    app = knowledge_app(tmp_path / "desk.db")
    async with app.run_test(size=(160, 50)) as pilot:
        form, panel = await _strip_form(pilot, "VPN tunnel drops")
        await pilot.press("ctrl+g")
        assert panel.query_one("#kb-suggestion-list").has_focus
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        # The list is hidden in the closed strip: it cannot keep the keys.
        assert panel.under and not panel.opened
        assert form.query_one("#new-title", Input).has_focus
