"""The problem screens driven by Pilot: a problem from marked incidents in the queue, the
list and its recurring view, the detail's step that resolves the incidents together, and
its forms (root cause, workaround, fix change, article), keys sent in bursts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from textual.widgets import DataTable, Input, SelectionList, TextArea
from textual.widgets._footer import FooterKey

from itsm_tui.data.models import Change, KnowledgeArticle, Ticket
from itsm_tui.desk import problems as p
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.problem_forms import ProblemArticleForm, RootCauseForm, WorkaroundForm
from itsm_tui.screens.problems import (
    ProblemDetailScreen,
    ProblemListScreen,
    ResolveIncidentsDialog,
)
from itsm_tui.screens.queue import QueueScreen
from tests.ui.problem_apps import build_problem_store
from tests.ui.snapshot_apps import CLOCK, queue_app, run_async, settle
from tests.ui.test_bursts import burst


def _problem_of(store, number: str) -> str | None:  # type: ignore[no-untyped-def]
    with store.read() as s:
        return s.scalar(
            select(Ticket.number).where(
                Ticket.id
                == select(Ticket.problem_id).where(Ticket.number == number).scalar_subquery()
            )
        )


@run_async
async def test_marked_incidents_become_one_problem(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    recurring = numbers["recurring"].split(",")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("6")  # all open
        await settle(pilot)
        wanted = set(recurring[:2])
        for _ in range(20):
            row = screen.table.selected
            if row is None or wanted <= set(screen.table.marked):
                break
            if row.number in wanted:
                await pilot.press("space")
            else:
                await pilot.press("down")
        assert sorted(screen.table.marked) == sorted(wanted)
        await pilot.press("P")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        created = app.screen.number
        assert screen.table.marked == []
    assert {_problem_of(store, n) for n in wanted} == {created}
    assert _problem_of(store, recurring[2]) is None


@run_async
async def test_list_opens_detail_and_recurring_view_opens_a_problem(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, ProblemListScreen)
        table = app.screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [
            numbers["known"],
            numbers["open"],
        ]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert app.screen.number == numbers["known"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProblemListScreen) and screen.suggestions
        assert [(c.service, c.size) for c in screen.rows] == [("Email", 3)]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        created = app.screen.number
    assert {_problem_of(store, n) for n in numbers["recurring"].split(",")} == {created}


@run_async
async def test_cascade_resolves_the_chosen_incidents_only(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    _first, second, third = numbers["incidents"].split(",")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["known"]))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ResolveIncidentsDialog)
        choices = dialog.query_one(SelectionList)
        # The first is resolved already: only the open two are offered, both chosen.
        assert sorted(choices.selected) == sorted([second, third])
        choices.deselect(third)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert any("1 incident resolved" in n.message for n in app._notifications)
    with store.read() as s:
        status = {
            number: state
            for number, state in s.execute(
                select(Ticket.number, Ticket.status).where(Ticket.number.in_([second, third]))
            )
        }
    assert status == {second: "resolved", third: "new"}


@run_async
async def test_cascade_refused_before_a_fix_or_workaround(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["open"]))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert any("publish its workaround first" in n.message for n in app._notifications)


def _problem(store, number: str) -> Ticket:  # type: ignore[no-untyped-def]
    with store.read() as s:
        problem = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        s.expunge(problem)
        return problem


@run_async
async def test_root_cause_and_five_whys_typed_in_one_burst(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["open"]))
        # The key that opens the form, the fields and the save: all at once.
        burst(
            app,
            "hThe 4.2 driver leaks spooler memory<tab>Jobs stick in the queue<tab>"
            "The spooler stops<tab>Its memory runs out<ctrl+s>",
        )
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert "The 4.2 driver leaks" in str(app.screen.query_one("#problem-rca").render())
    problem = _problem(store, numbers["open"])
    assert problem.root_cause == "The 4.2 driver leaks spooler memory"
    assert problem.analysis == {
        "method": "five_whys",
        "whys": ["Jobs stick in the queue", "The spooler stops", "Its memory runs out"],
    }
    assert problem.status == "investigating"


@run_async
async def test_a_blank_why_or_two_analyses_are_refused_in_place(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["open"]))
        burst(app, "hDriver<tab>Jobs stick<ctrl+s>")
        await settle(pilot)
        # The form opens with what was recorded; a blank why between answers is named and
        # every field kept.
        assert isinstance(app.screen, ProblemDetailScreen)
        burst(app, "h<tab><tab><tab>Out of memory<ctrl+s>")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RootCauseForm)
        assert "why 2 is empty" in str(form.query_one("#form-message").render())
        assert form.query_one("#rca-why-1", Input).value == "Jobs stick"
        assert form.query_one("#rca-why-3", Input).value == "Out of memory"
        assert form.focused is not None and form.focused.id == "rca-why-2"
        # Whys and a free-text analysis together: one or the other.
        burst(app, "Spooler stops<tab><tab><tab><tab>We read the dumps<ctrl+s>")
        await settle(pilot)
        assert app.screen is form
        assert "not both" in str(form.query_one("#form-message").render())
        assert form.query_one("#rca-analysis", TextArea).text == "We read the dumps"
    assert _problem(store, numbers["open"]).analysis == {
        "method": "five_whys",
        "whys": ["Jobs stick"],
    }


@run_async
async def test_workaround_refused_for_a_stale_version_keeps_the_text_and_its_draft(
    tmp_path: Path,
) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["open"]))
        await settle(pilot)
        burst(app, "WRoll back to driver 4.1")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, WorkaroundForm)
        # Someone else writes the problem meanwhile: the desk refuses the older version.
        with store.write() as s:
            p.record_root_cause(
                s, get_agent(s, "bob"), numbers["open"], root_cause="Driver", now=CLOCK
            )
        burst(app, "<ctrl+s>")
        await settle(pilot)
        assert app.screen is form
        assert "Someone changed" in str(form.query_one("#form-message").render())
        assert form.query_one("#ke-workaround", TextArea).text == "Roll back to driver 4.1"
        # Escape keeps the draft: the form opened again holds the text.
        burst(app, "<escape>")
        await settle(pilot)
        burst(app, "W")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, WorkaroundForm)
        assert again.query_one("#ke-workaround", TextArea).text == "Roll back to driver 4.1"
        burst(app, "<ctrl+s>")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
    problem = _problem(store, numbers["open"])
    assert (problem.workaround, problem.known_error, problem.status) == (
        "Roll back to driver 4.1",
        True,
        "known_error",
    )


@run_async
async def test_fix_change_and_article_written_from_the_problem(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["known"]))
        burst(app, "f<tab><enter><down><enter><ctrl+s>")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        burst(app, "m<tab>known-error, vpn<tab><enter><down><enter><ctrl+s>")
        await settle(pilot)
        # Publishing needs a supervisor: refused, nothing written, the fields kept.
        form = app.screen
        assert isinstance(form, ProblemArticleForm)
        assert "cannot publish" in str(form.query_one("#form-message").render())
        assert form.query_one("#pa-tags", Input).value == "known-error, vpn"
        burst(app, "<enter><up><enter><ctrl+s>")
        await settle(pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        links = str(app.screen.query_one("#problem-links").render())
    problem = _problem(store, numbers["known"])
    with store.read() as s:
        changes = s.scalars(
            select(Change).where(Change.problem_id == problem.id).order_by(Change.id)
        ).all()
        articles = s.scalars(
            select(KnowledgeArticle)
            .where(KnowledgeArticle.problem_id == problem.id)
            .order_by(KnowledgeArticle.id)
        ).all()
    assert len(changes) == 2 and changes[-1].change_type == "emergency"
    assert changes[-1].title == f"Fix: {problem.title}"
    assert len(articles) == 2
    article = articles[-1]
    assert (article.status, article.tags) == ("draft", ["known-error", "vpn"])
    assert problem.root_cause in article.body
    assert changes[-1].number in links and article.number in links


@run_async
async def test_the_forms_keys_are_in_the_footer_and_in_help(tmp_path: Path) -> None:
    store, numbers = build_problem_store(tmp_path / "desk.db")
    app = queue_app(store)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProblemDetailScreen(numbers["known"]))
        await settle(pilot)
        wanted = {"h": "Root cause", "W": "Workaround", "f": "Fix change", "m": "Article"}
        footer = {k.key: k.description for k in app.screen.query(FooterKey)}
        assert {k: footer.get(k) for k in wanted} == wanted
        assert set(wanted.items()) <= set(app.binding_lines())
