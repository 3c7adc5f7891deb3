"""The change detail screen and every change form, through Pilot: what it shows, which keys
it offers, each form's save and refusal (text kept), drafts, key bursts, and a change taken
from draft to closed through the screens."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, Select, SelectionList, Static, TextArea

from itsm_tui.data.models import Agent, Change, ChangeApproval
from itsm_tui.data.store import Store
from itsm_tui.desk import permitted_steps
from itsm_tui.screens.changes.detail import ChangeDetailScreen
from itsm_tui.screens.changes.forms import (
    CompleteForm,
    NewChangeScreen,
    RejectForm,
    RiskForm,
    ScheduleForm,
)
from itsm_tui.screens.forms import DeskForm
from itsm_tui.screens.keys import change_step_actions
from tests.factories import NOW
from tests.ui.change_detail_apps import BOARD_MEETING, NASTY, change_store
from tests.ui.detail_apps import DetailHarness, context, run_async, settle

STEPS = (
    "edit_change",
    "assess_change",
    "submit_change",
    "approve_change",
    "reject_change",
    "schedule_change",
    "start_change",
    "complete_change",
    "review_change",
    "close_change",
    "cancel_change",
    "link_incident",
)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Store, dict[str, str]]]:
    store, numbers = change_store(tmp_path)
    yield store, numbers
    store.dispose()


def change(store: Store, number: str) -> Change:
    with store.read() as session:
        found = session.scalars(select(Change).where(Change.number == number)).one()
        session.expunge(found)
        return found


def offered(app: Any) -> set[str]:
    """The change steps the screen's footer offers now."""
    screen = app.screen
    return {a for a in STEPS if screen.check_action(a, ())}


def message(app: Any) -> str:
    return app.screen.query_one("#form-message").content.plain


def text_of(app: Any, selector: str) -> str:
    """What a Static shows, as plain text (a Text, or any Rich renderable drawn wide)."""
    content = app.screen.query_one(selector, Static).content
    if hasattr(content, "plain"):
        return str(content.plain)
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()


async def press_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await press_text(pilot, text)


async def open_form(pilot: Pilot[Any], key: str) -> DeskForm:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, DeskForm), type(form).__name__
    return form


def detail_app(store: Store, number: str, actor: str = "alice") -> DetailHarness:
    return DetailHarness(context(store, actor), lambda: ChangeDetailScreen(number))


# ---------------------------------------------------------------------------
# Which steps the footer offers


# Types and statuses the change is put through, as the desk would hold them.
STATES = (
    ("normal", "draft", False),
    ("normal", "assessment", False),
    ("normal", "authorization", False),
    ("normal", "scheduled", False),
    ("normal", "implementing", True),
    ("normal", "review", True),
    ("emergency", "authorization", False),
    ("standard", "draft", False),
    ("standard", "scheduled", False),
)
READERS = ("alice", "bob", "mike", "dave", "carol", "root")


@run_async
async def test_the_screen_offers_exactly_the_steps_the_desk_permits(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    number = numbers["draft"]
    app = detail_app(store, numbers["email"])
    offering: set[tuple[str, str, bool]] = set()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        for change_type, status, started in STATES:
            with store.write() as session:
                record = session.scalars(select(Change).where(Change.number == number)).one()
                record.change_type, record.status = change_type, status
                record.actual_start = NOW if started else None
            for reader in READERS:
                app.desk = context(store, reader)
                app.push_screen(ChangeDetailScreen(number))
                await settle(pilot)
                with store.read() as session:
                    record = session.scalars(select(Change).where(Change.number == number)).one()
                    agent = session.scalars(select(Agent).where(Agent.username == reader)).one()
                    permitted = change_step_actions(permitted_steps(session, agent, record))
                assert offered(app) == permitted, (change_type, status, reader)
                if permitted:
                    offering.add((change_type, status, started))
                app.pop_screen()
                await settle(pilot)
    # In every state someone is offered a step: the comparison is never only of empty sets.
    assert offering == set(STATES)


@run_async
async def test_the_footer_offers_only_what_this_agent_may_do_now(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    # dave's vote is pending; carol has voted; alice raised it (nobody approves their own).
    for actor, expected in (
        ("dave", {"approve_change", "reject_change"}),
        ("carol", set()),
        # The window is fixed while the CAB votes on it (the desk refuses to move it).
        ("alice", {"cancel_change"}),
    ):
        app = detail_app(store, numbers["voting"], actor)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            assert offered(app) == expected, actor
            footer = app.screen.query_one("DeskFooter")
            keys = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}
            assert keys & set(STEPS) == expected, footer


# ---------------------------------------------------------------------------
# What the screen shows


@run_async
async def test_the_detail_shows_risk_reasons_approvals_impact_and_conflicts(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["voting"], "dave")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        heading = text_of(app, "#change-heading")
        assert "authorization" in heading and "risk high" in heading
        risk = text_of(app, "#change-risk")
        assert "touches a business-critical service: Directory" in risk
        approvals = text_of(app, "#change-approvals")
        assert "1 of 2 approvals in" in approvals
        assert "your vote is awaited" in approvals
        assert "approved carol" in approvals and "pending  dave" in approvals
        # Email rides on Directory: the change reaches it.
        fields = text_of(app, "#change-fields")
        assert "Services     Directory" in fields
        assert "Also affects Email" in fields
        links = [str(w.content) for w in app.screen.query("#change-links .detail-link")]
        assert links == [f"fixes {numbers['problem']}"]
        conflicts = text_of(app, "#change-conflicts")
        assert "Quarter close" in conflicts
        assert app.screen.query_one("#change-conflicts").display


@run_async
async def test_user_text_is_shown_as_typed_never_as_markup_or_control(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["closed"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        title = text_of(app, "#change-title")
        assert "[bold red]x[/]" in title
        assert "\x1b" not in title and "\\x1b[31m" in title
        review = text_of(app, "#change-review")
        assert "[i]certificate[/i]" in review
        assert "Check the whole chain" in review
        heading = text_of(app, "#change-heading")
        assert "backed out" in heading


def test_the_read_of_a_change_on_both_stores(store: Store) -> None:
    """data/change_detail and the change's history page, on SQLite and PostgreSQL."""
    from itsm_tui.data.change_detail import change_detail
    from itsm_tui.data.history import history_page
    from tests.ui.change_detail_apps import add_fixed_changes, build_change_desk

    build_change_desk(store)
    numbers = add_fixed_changes(store)
    with store.read() as session:
        voting = change_detail(session, numbers["voting"])
        closed = change_detail(session, numbers["closed"])
        history = history_page(session, voting.id, record_type="change")
        ticket_history = history_page(session, voting.id)
    # Decided votes first, then the pending ones.
    assert [(a.approver, a.decision) for a in voting.approvals] == [
        ("carol", "approved"),
        ("dave", "pending"),
    ]
    assert voting.approved_count == 1 and voting.quorum == 2
    assert voting.impacted == ("Directory", "Email")
    assert voting.problem == numbers["problem"] and voting.implementer == "nina"
    assert [c.name for c in voting.conflicts] == ["Quarter close"]
    assert [i.number for i in closed.caused_incidents] == [numbers["incident"]]
    # A closed change clashes with nothing any more.
    assert closed.conflicts == ()
    assert [e.action for e in history.audit] == ["create"] * len(history.audit)
    assert history.comments == () and history.escalations == ()
    # The same id read as a ticket's history is another record's (the problem ticket's).
    assert ticket_history.audit
    assert {e.id for e in ticket_history.audit}.isdisjoint(e.id for e in history.audit)


# ---------------------------------------------------------------------------
# The new change form


@run_async
async def test_a_standard_change_takes_its_templates_fields(desk) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = desk
    app = DetailHarness(context(store), NewChangeScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewChangeScreen)
        assert not form.query_one("#plan-template-box").display
        form.query_one("#plan-type", Select).value = "standard"
        await settle(pilot)
        assert form.query_one("#plan-template-box").display
        form.query_one("#plan-start", Input).value = "2026-11-30 20:00"
        form.query_one("#plan-template", Select).value = "printer-driver-rollout"
        await settle(pilot)
        assert form.query_one("#plan-title", Input).value == (
            "Roll out a vendor printer driver update"
        )
        assert "Re-publish" in form.query_one("#plan-backout", TextArea).text
        # 60 minutes from the start typed.
        assert form.query_one("#plan-end", Input).value == "2026-11-30 21:00"
        assert "Pre-approved" in text_of(app, "#plan-template-facts")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.results and str(app.results[-1]).startswith("CHG")
    made = change(store, str(app.results[-1]))
    assert made.change_type == "standard" and made.template == "printer-driver-rollout"
    assert made.planned_end - made.planned_start == timedelta(minutes=60)  # type: ignore[operator]


@run_async
async def test_a_change_raised_from_a_problem_carries_the_link(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = DetailHarness(context(store), lambda: NewChangeScreen(problem=numbers["problem"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert numbers["problem"] in str(app.screen.query_one("#form-title").content)
        await type_into(pilot, "#plan-title", "Tune replication")
        await pilot.press("ctrl+s")
        await settle(pilot)
    made = change(store, str(app.results[-1]))
    with store.read() as session:
        from itsm_tui.data.models import Ticket

        assert session.get(Ticket, made.problem_id).number == numbers["problem"]  # type: ignore[union-attr]


@run_async
async def test_a_new_change_draft_brings_back_its_text_and_choices(desk) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = desk
    app = DetailHarness(context(store), NewChangeScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        form.query_one("#plan-type", Select).value = "emergency"
        form.query_one("#plan-impact", Select).value = 1
        form.query_one("#plan-implementer", Select).value = "nina"
        form.query_one("#plan-services", SelectionList).select("VPN")
        await type_into(pilot, "#plan-title", "Reboot the VPN concentrator")
        await type_into(pilot, "#plan-backout", "None needed")
        await pilot.press("escape")
        await settle(pilot)
    # A new app (a restart): the same form brings everything back once its lists arrive.
    again = DetailHarness(context(store), NewChangeScreen)
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = again.screen
        assert form.query_one("#plan-title", Input).value == "Reboot the VPN concentrator"
        assert form.query_one("#plan-backout", TextArea).text == "None needed"
        assert form.query_one("#plan-type", Select).value == "emergency"
        assert form.query_one("#plan-impact", Select).value == 1
        assert form.query_one("#plan-implementer", Select).value == "nina"
        assert form.query_one("#plan-services", SelectionList).selected == ["VPN"]
        # Saved to the desk, the draft is gone.
        await pilot.press("ctrl+s")
        await settle(pilot)
    made = change(store, str(again.results[-1]))
    assert made.change_type == "emergency" and made.services == ["VPN"]
    third = DetailHarness(context(store), NewChangeScreen)
    async with third.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert third.screen.query_one("#plan-title", Input).value == ""


@run_async
async def test_a_refused_new_change_keeps_everything_typed(desk) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = desk
    # carol sits on the CAB and raises no changes: the desk refuses, the text stays.
    app = DetailHarness(context(store, "carol"), NewChangeScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#plan-title", "Patch the relays")
        await type_into(pilot, "#plan-backout", "Roll back the package")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NewChangeScreen)
        assert "change" in message(app).lower()
        assert app.screen.query_one("#plan-title", Input).value == "Patch the relays"
        assert app.screen.query_one("#plan-backout", TextArea).text == "Roll back the package"
    with store.read() as session:
        assert (
            session.scalars(select(Change).where(Change.title == "Patch the relays")).first()
            is None
        )


@run_async
async def test_a_window_that_is_not_a_time_is_said_and_nothing_is_written(desk) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = desk
    app = DetailHarness(context(store), NewChangeScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#plan-title", "Patch")
        await type_into(pilot, "#plan-start", "tomorrow at 8")
        await type_into(pilot, "#plan-end", "2026-11-30 21:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "'tomorrow at 8' is not a time" in message(app)
        assert app.screen.query_one("#plan-start", Input).has_focus


# ---------------------------------------------------------------------------
# The risk questionnaire


@run_async
async def test_the_risk_level_follows_the_answers_as_they_change(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"])
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "k")
        assert isinstance(form, RiskForm)

        def level() -> str:
            return text_of(app, "#risk-level")

        for question, answer in (
            ("users_affected", "none"),
            ("outage", "no"),
            ("backout", "tested"),
            ("experience", "routine"),
            ("critical_service", "no"),
        ):
            form.query_one(f"#risk-{question}", Select).value = answer
        await settle(pilot)
        assert level().startswith("Risk low") and "score 0" in level()
        form.query_one("#risk-users_affected", Select).value = "company"
        await settle(pilot)
        assert level().startswith("Risk medium") and "score 6" in level()
        form.query_one("#risk-outage", Select).value = "business_hours"
        form.query_one("#risk-backout", Select).value = "impossible"
        await settle(pilot)
        assert level().startswith("Risk high") and "score 16" in level()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
    saved = change(store, numbers["email"])
    assert saved.risk == "high" and saved.risk_score == 16
    assert saved.risk_answers and saved.risk_answers["outage"] == "business_hours"


@run_async
async def test_an_unanswered_question_is_named_and_the_answers_stay(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"])
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "k")
        form.query_one("#risk-users_affected", Select).value = "team"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "has no answer" in message(app)
        assert form.query_one("#risk-users_affected", Select).value == "team"
    assert change(store, numbers["email"]).risk is None


# ---------------------------------------------------------------------------
# Approve and reject


@run_async
async def test_a_cab_member_approves_with_a_comment(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["voting"], "dave")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_form(pilot, "y")
        await type_into(pilot, "#approve-comment", "ok after the snapshot")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        # Two of two: the change is authorized and scheduled; the vote is no longer offered.
        assert "scheduled" in text_of(app, "#change-heading")
        assert "approve_change" not in offered(app)
    with store.read() as session:
        votes = dict(
            session.execute(
                select(ChangeApproval.comment, ChangeApproval.decision).where(
                    ChangeApproval.comment == "ok after the snapshot"
                )
            ).all()
        )
    assert votes == {"ok after the snapshot": "approved"}


@run_async
async def test_a_rejection_needs_its_reason_and_its_draft_survives_escape(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["voting"], "dave")
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "d")
        assert isinstance(form, RejectForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "reason is required" in message(app)
        await type_into(pilot, "#reject-reason", "no back-out test")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        await pilot.press("d")
        await settle(pilot)
        assert app.screen.query_one("#reject-reason", TextArea).text == "no back-out test"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "rejected" in text_of(app, "#change-heading")
    assert change(store, numbers["voting"]).status == "rejected"


# ---------------------------------------------------------------------------
# Schedule


def _local(at: Any) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


@run_async
async def test_a_conflict_is_listed_and_a_change_manager_overrides_it_with_a_reason(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"], "mike")
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "c")
        assert isinstance(form, ScheduleForm)
        form.query_one("#schedule-start", Input).value = _local(BOARD_MEETING + timedelta(hours=1))
        form.query_one("#schedule-end", Input).value = _local(BOARD_MEETING + timedelta(hours=2))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "Board meeting" in text_of(app, "#schedule-conflicts")
        assert form.query_one("#schedule-override").display
        assert change(store, numbers["email"]).planned_start is None
        await type_into(pilot, "#schedule-override", "the board asked for it")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen), message(app)
    saved = change(store, numbers["email"])
    assert saved.planned_start == BOARD_MEETING + timedelta(hours=1)
    assert saved.schedule_overrides
    assert "the board asked for it" in str(saved.schedule_overrides)


@run_async
async def test_only_a_change_manager_is_offered_the_override(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"], "alice")
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "c")
        form.query_one("#schedule-start", Input).value = _local(BOARD_MEETING + timedelta(hours=1))
        form.query_one("#schedule-end", Input).value = _local(BOARD_MEETING + timedelta(hours=2))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Board meeting" in text_of(app, "#schedule-conflicts")
        assert "Only a change manager" in text_of(app, "#schedule-conflicts")
        assert not form.query_one("#schedule-override").display
        # What was typed stays for another try.
        assert form.query_one("#schedule-start", Input).value == _local(
            BOARD_MEETING + timedelta(hours=1)
        )
    assert change(store, numbers["email"]).planned_start is None


@run_async
async def test_next_free_slot_fills_the_window(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"])
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "c")
        assert form.query_one("#schedule-start", Input).value == ""
        await pilot.press("ctrl+n")
        await settle(pilot)
        start = form.query_one("#schedule-start", Input).value
        end = form.query_one("#schedule-end", Input).value
        assert start and end and start < end
        assert "Free:" in text_of(app, "#schedule-slot")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
    saved = change(store, numbers["email"])
    assert saved.planned_start is not None
    assert saved.planned_start.strftime("%Y-%m-%d %H:%M") == start
    assert saved.planned_start >= NOW


@run_async
async def test_the_schedule_form_says_what_the_planned_window_clashes_with_until_moved(
    desk,
) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    # Back before the CAB vote, where the window may still move.
    with store.write() as session:
        record = session.scalars(select(Change).where(Change.number == numbers["voting"])).one()
        record.status = "assessment"
    app = detail_app(store, numbers["voting"], "mike")
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "c")
        assert form.query_one("#schedule-conflicts").display
        assert "Quarter close" in text_of(app, "#schedule-conflicts")
        before = form.query_one("#schedule-start", Input).value
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert form.query_one("#schedule-start", Input).value != before
        assert not form.query_one("#schedule-conflicts").display


# ---------------------------------------------------------------------------
# Complete: the outcome and, when it went wrong, what happened


@run_async
async def test_complete_needs_an_outcome_and_notes_when_it_went_wrong(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    form = CompleteForm(_detail_of(store, numbers["voting"]))
    app = DetailHarness(context(store), lambda: form)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "choose the outcome" in message(app)
        form.query_one("#complete-outcome", Select).value = "backed_out"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "needs notes" in message(app)
        assert app.screen is form


def _detail_of(store: Store, number: str):  # type: ignore[no-untyped-def]
    from itsm_tui.data.change_detail import change_detail

    with store.read() as session:
        return change_detail(session, number)


# ---------------------------------------------------------------------------
# Keys in a burst


@run_async
async def test_a_burst_ending_in_ctrl_s_saves_everything_typed(desk) -> None:  # type: ignore[no-untyped-def]
    store, numbers = desk
    app = detail_app(store, numbers["email"])
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        # "e" opens the edit form; the keys behind it land in its first field (the title),
        # and ctrl+s saves all of them, without a pause anywhere.
        typed = [c if c != " " else "space" for c in " (all mailboxes)"]
        await pilot.press("e", "end", *typed, "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
    assert (
        change(store, numbers["email"]).title == "Raise the mailbox quota to 50 GB (all mailboxes)"
    )


# ---------------------------------------------------------------------------
# Draft to closed through the screens


@run_async
async def test_a_normal_change_goes_from_draft_to_closed_through_the_screens(desk) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = desk
    app = DetailHarness(context(store, "alice"), NewChangeScreen)
    async with app.run_test(size=(120, 45)) as pilot:
        await settle(pilot)
        form = app.screen
        await type_into(pilot, "#plan-title", "Replace the Email relay disks")
        form.query_one("#plan-services", SelectionList).select("Email")
        form.query_one("#plan-implementer", Select).value = "nina"
        await type_into(pilot, "#plan-start", "2026-12-01 22:00")
        await type_into(pilot, "#plan-end", "2026-12-01 23:00")
        await type_into(pilot, "#plan-implementation", "Swap one disk at a time")
        await type_into(pilot, "#plan-backout", "Put the old disk back")
        await type_into(pilot, "#plan-test", "Send a test mail")
        await pilot.press("ctrl+s")
        await settle(pilot)
        number = str(app.results[-1])
        assert number.startswith("CHG")

    async def on_change(actor: str, *steps: tuple[str, Any]) -> None:
        app = detail_app(store, number, actor)
        async with app.run_test(size=(120, 45)) as pilot:
            for key, fill in steps:
                await open_form(pilot, key)
                if fill is not None:
                    await fill(pilot)
                await pilot.press("ctrl+s")
                await settle(pilot)
                assert isinstance(app.screen, ChangeDetailScreen), message(app)

    async def answer_all(pilot: Pilot[Any]) -> None:
        for question, answer in (
            # 4 + 2: medium, which the desk's normal changes need two approvals for.
            ("users_affected", "department"),
            ("outage", "off_hours"),
            ("backout", "tested"),
            ("experience", "routine"),
            ("critical_service", "no"),
        ):
            pilot.app.screen.query_one(f"#risk-{question}", Select).value = answer
        await settle(pilot)

    async def successful(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one("#complete-outcome", Select).value = "successful"
        await settle(pilot)

    async def reviewed(pilot: Pilot[Any]) -> None:
        await type_into(pilot, "#review-notes", "Went to plan")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "lessons learned is required" in message(pilot.app)
        await type_into(pilot, "#review-lessons", "Keep a spare disk")

    await on_change("alice", ("k", answer_all), ("u", None), ("u", None))
    assert change(store, number).status == "authorization"
    assert change(store, number).risk == "medium"
    await on_change("carol", ("y", None))
    assert change(store, number).status == "authorization"
    await on_change("dave", ("y", None))
    assert change(store, number).status == "scheduled"
    await on_change("alice", ("g", None), ("o", successful))
    assert change(store, number).status == "review"
    await on_change("alice", ("v", reviewed), ("C", None))
    done = change(store, number)
    assert done.status == "closed" and done.outcome == "successful"
    assert done.review_notes == "Went to plan"
    assert done.lessons_learned == "Keep a spare disk"
    assert NASTY  # the fixture's hostile text is exercised by the tests above


# ---------------------------------------------------------------------------
# Snapshots: fixed data, fixed clock


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _settled(*keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("which, actor", [("voting", "dave"), ("closed", "alice")])
def test_detail_snapshot(snap_compare, tmp_path: Path, size, which: str, actor: str) -> None:  # type: ignore[no-untyped-def]
    store, numbers = change_store(tmp_path)
    app = detail_app(store, numbers[which], actor)
    assert snap_compare(app, terminal_size=size, run_before=_settled())


@pytest.mark.parametrize("size", SIZES)
def test_risk_form_snapshot(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    store, numbers = change_store(tmp_path)
    app = detail_app(store, numbers["email"])

    async def run_before(pilot: Pilot[Any]) -> None:
        await _settled("k")(pilot)
        pilot.app.screen.query_one("#risk-users_affected", Select).value = "department"
        pilot.app.screen.query_one("#risk-outage", Select).value = "business_hours"
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_new_change_snapshot(snap_compare, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = change_store(tmp_path)
    app = DetailHarness(context(store), NewChangeScreen)
    assert snap_compare(app, terminal_size=size, run_before=_settled())
