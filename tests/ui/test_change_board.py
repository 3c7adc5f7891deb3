"""The change board in Pilot: columns and cards, moving about, filters, live refresh keeping
the cursor, a CAB member's votes, paging down a long column, user text kept literal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from itsm_tui.data.change_board import PER_COLUMN
from itsm_tui.data.models import Change
from itsm_tui.data.store import Store
from itsm_tui.desk import create_change
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.changes.board import ChangeBoardScreen
from itsm_tui.screens.changes.board_view import BoardView
from tests.factories import NOW
from tests.ui.change_board_apps import CAROL_VOTES, board_app, build_change_store
from tests.ui.snapshot_apps import run_async, settle


@pytest.fixture
def change_store(tmp_path: Path) -> Iterator[Store]:
    store = build_change_store(tmp_path / "desk.db")
    try:
        yield store
    finally:
        store.dispose()


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def open_board(pilot) -> ChangeBoardScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("B")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ChangeBoardScreen)
    return screen


def titles(view: BoardView, status: str) -> list[str]:
    return [card.title for card in view.cards[status]]


def add_change(store: Store, title: str, status: str, start_in: timedelta) -> int:
    with store.write() as session:
        change = create_change(
            session, get_agent(session, "alice"), title=title, services=["Email"], now=NOW
        )
        start = NOW + start_in
        session.execute(
            update(Change)
            .where(Change.id == change.id)
            .values(status=status, planned_start=start, planned_end=start + timedelta(hours=1))
        )
        return change.id


@run_async
async def test_b_opens_the_board_with_every_status_in_order(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        assert [c.status for c in view.columns][:3] == ["draft", "assessment", "authorization"]
        # Planned first by start, then the ones without a window.
        assert titles(view, "scheduled") == [
            "Mailbox quota increase",
            "Upgrade the mail store cluster",
            "Firewall rule clean-up",
        ]
        assert titles(view, "draft") == [
            "Move VPN concentrator to new rack",
            "Rotate the mail relay certificates",
        ]
        text = screen_text(app)
        assert "Scheduled · 3" in text and "Implementing · 1" in text
        # B again from the board (or a screen above it) comes back to the same board.
        await pilot.press("B")
        await settle(pilot)
        assert app.screen is screen and len(app.screen_stack) == 2


@run_async
async def test_keys_move_between_cards_and_columns_and_slide_at_80(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        assert view.visible_columns == 3 and view.status == "draft"
        await pilot.press("down")
        assert view.selected is not None
        assert view.selected.title == "Rotate the mail relay certificates"
        for _ in range(3):
            await pilot.press("right")
        await settle(pilot)
        assert view.status == "scheduled"
        # The focused column is always on screen: the board slid one column along.
        assert view.shown_range() == (1, 4)
        assert "Assessment–Scheduled of 9 columns" in screen_text(app)
        await pilot.press("end")
        assert view.selected is not None and view.selected.title == "Firewall rule clean-up"
        await pilot.press("left", "left", "left")
        # Each column kept its own cursor.
        assert view.status == "draft" and view.selected is not None
        assert view.selected.title == "Rotate the mail relay certificates"


@run_async
async def test_refresh_keeps_the_card_under_the_cursor(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        await pilot.press("right", "right", "right", "down")
        assert view.selected is not None
        assert view.selected.title == "Upgrade the mail store cluster"
        # Someone schedules two changes earlier than it: it is third now, still selected.
        add_change(change_store, "Earlier one", "scheduled", timedelta(hours=1))
        add_change(change_store, "Earlier two", "scheduled", timedelta(hours=2))
        screen.poll_now()
        await settle(pilot)
        assert titles(view, "scheduled")[:2] == ["Earlier one", "Earlier two"]
        assert view.selected.title == "Upgrade the mail store cluster"
        assert view.cursor["scheduled"] == 3
        assert "Scheduled · 4/5" in screen_text(app)


@run_async
async def test_a_change_gone_from_under_the_cursor_leaves_it_in_place(
    change_store: Store,
) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        await pilot.press("right", "right", "right", "down")
        selected = view.selected
        assert selected is not None
        with change_store.write() as session:
            session.execute(
                update(Change).where(Change.id == selected.id).values(status="implementing")
            )
        screen.poll_now()
        await settle(pilot)
        assert titles(view, "scheduled") == ["Mailbox quota increase", "Firewall rule clean-up"]
        assert view.status == "scheduled" and view.cursor["scheduled"] == 1
        assert "Upgrade the mail store cluster" in titles(view, "implementing")


@run_async
async def test_filter_by_type_and_service_and_a_bad_filter_keeps_its_text(
    change_store: Store,
) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        await pilot.press("f")
        await pilot.press(*"type:emergency")
        await pilot.press("enter")
        await settle(pilot)
        shown = [c.title for cards in view.cards.values() for c in cards]
        assert shown == ["Patch the VPN firmware (CVE)"]
        assert "filter: type:emergency" in screen_text(app)
        # A filter the board cannot read: one line says why; the text and the board stay.
        box = screen.query_one("#board-filter")
        await pilot.press("f", "ctrl+u")
        await pilot.press(*"owner:bob")
        await pilot.press("enter")
        await settle(pilot)
        assert box.value == "owner:bob"  # type: ignore[attr-defined]
        assert any("not 'owner:bob'" in n.message for n in app._notifications)
        assert [c.title for cards in view.cards.values() for c in cards] == shown
        await pilot.press("ctrl+u")
        await pilot.press(*'service:"vpn"')
        await pilot.press("enter")
        await settle(pilot)
        shown = {c.title for cards in view.cards.values() for c in cards}
        assert "Move VPN concentrator to new rack" in shown
        assert "Mailbox quota increase" not in shown
        assert screen.board_filter.service == "VPN"


@run_async
async def test_a_cab_member_opens_on_the_votes_waiting_for_them(change_store: Store) -> None:
    app = board_app(change_store, "carol")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        assert view.status == "authorization"
        assert {c.title for c in view.cards["authorization"] if c.awaiting_me} == set(CAROL_VOTES)
        text = screen_text(app)
        assert "★ 2 wait for your vote" in text
        assert "▌CHG" in text  # the vote's mark on the card
        await pilot.press("f")
        await pilot.press(*"votes")
        await pilot.press("enter")
        await settle(pilot)
        assert sum(c.count for c in view.columns) == 2


@run_async
async def test_an_agent_without_votes_sees_no_vote_marks(change_store: Store) -> None:
    app = board_app(change_store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_board(pilot)
        assert screen.view.status == "draft"
        assert "wait for your vote" not in screen_text(app)
        assert not any(c.awaiting_me for cards in screen.view.cards.values() for c in cards)


@run_async
async def test_user_text_stays_literal_on_a_card(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_board(pilot)
        text = screen_text(app)
        assert "[bold red]x[/]\\x1b[31m" in text  # truncated to the card, but literal
        assert "\x1b" not in text


@run_async
async def test_a_long_column_reads_further_pages_as_the_cursor_goes_down(
    change_store: Store,
) -> None:
    for i in range(PER_COLUMN + 12):
        add_change(change_store, f"Bulk {i:03d}", "review", timedelta(hours=i + 1))
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        column = [c.status for c in view.columns].index("review")
        view.focus_column = column
        assert len(view.cards["review"]) == PER_COLUMN
        assert view.column is not None and view.column.count == PER_COLUMN + 13
        await pilot.press("end")
        await settle(pilot)
        for _ in range(20):
            await pilot.press("down")
        await settle(pilot)
        assert len(view.cards["review"]) == PER_COLUMN + 13
        await pilot.press("end")
        last = f"Bulk {PER_COLUMN + 11:03d}"
        assert view.selected is not None and view.selected.title == last
        assert titles(view, "review")[0] == "Archive old mailboxes"
        # A refresh keeps every card read so far (and the cursor on the last one).
        screen.poll_now()
        await settle(pilot)
        assert len(view.cards["review"]) == PER_COLUMN + 13
        assert view.selected.title == last


# ---------------------------------------------------------------------------
# Steps: the desk's write path from the board


def select_card(view: BoardView, title: str) -> None:
    """Put the cursor on the card titled `title` (as the arrow keys would)."""
    for i, column in enumerate(view.columns):
        for j, card in enumerate(view.cards[column.status]):
            if card.title == title:
                view.focus_column = i
                view.cursor[column.status] = j
                view._moved()
                return
    raise AssertionError(f"no card {title!r}")


def footer_keys(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {key.key for key in app.screen.query("FooterKey")}


@run_async
async def test_submit_moves_a_change_on_and_the_cursor_follows_it(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        select_card(view, "Move VPN concentrator to new rack")
        await settle(pilot)
        assert "submit" in screen.steps_here() and "u" in footer_keys(app)
        await pilot.press("u")
        await settle(pilot)
        assert "Move VPN concentrator to new rack" in titles(view, "assessment")
        assert view.status == "assessment"
        assert view.selected is not None
        assert view.selected.title == "Move VPN concentrator to new rack"
        assert any("submitted" in n.message for n in app._notifications)
        with change_store.read() as session:
            status = session.scalar(
                select(Change.status).where(Change.title == "Move VPN concentrator to new rack")
            )
        assert status == "assessment"


@run_async
async def test_a_refused_step_is_the_desks_sentence_and_writes_nothing(
    change_store: Store,
) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        # A standard change without a window cannot be scheduled: the desk says why.
        select_card(view, "Rotate the mail relay certificates")
        await settle(pilot)
        assert "submit" in screen.steps_here()
        await pilot.press("u")
        await settle(pilot)
        refusals = [n for n in app._notifications if n.severity == "error"]
        assert len(refusals) == 1
        assert refusals[0].title == view.selected.number  # type: ignore[union-attr]
        assert "window" in refusals[0].message
        assert titles(view, "draft") == [
            "Move VPN concentrator to new rack",
            "Rotate the mail relay certificates",
        ]
        assert view.status == "draft"


@run_async
async def test_start_takes_a_scheduled_change_into_implementing(change_store: Store) -> None:
    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        view = screen.view
        select_card(view, "Mailbox quota increase")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert view.status == "implementing"
        assert titles(view, "implementing") == [
            "Renew the VPN gateway licence",
            "Mailbox quota increase",
        ]
        assert view.selected is not None and view.selected.title == "Mailbox quota increase"
        assert "Mailbox quota increase" not in titles(view, "scheduled")


@run_async
async def test_only_a_cab_member_gets_the_vote_keys_and_they_open_the_vote_form(
    change_store: Store,
) -> None:
    from itsm_tui.screens.changes.forms import ApproveForm

    app = board_app(change_store, "alice")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        select_card(screen.view, "Patch the VPN firmware (CVE)")
        await settle(pilot)
        assert "approve" not in screen.steps_here()
        assert not {"y", "d"} & footer_keys(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
    app = board_app(change_store, "carol")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        assert screen.view.selected is not None
        assert screen.view.selected.title == "Patch the VPN firmware (CVE)"
        await settle(pilot)
        assert {"approve", "reject"} <= screen.steps_here()
        assert {"y", "d"} <= footer_keys(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ApproveForm)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


@run_async
async def test_enter_opens_the_change_and_n_a_new_one(change_store: Store) -> None:
    from itsm_tui.screens.changes.detail import ChangeDetailScreen
    from itsm_tui.screens.changes.forms import NewChangeScreen

    app = board_app(change_store)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_board(pilot)
        await pilot.press("right", "down")
        selected = screen.view.selected
        assert selected is not None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert app.screen.number == selected.number
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.view.selected == selected
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewChangeScreen)


@run_async
async def test_the_board_offers_exactly_the_steps_the_desk_permits(change_store: Store) -> None:
    from itsm_tui.desk import permitted_steps
    from itsm_tui.screens.changes.board import BOARD_STEPS

    offered_any = False
    for reader in ("alice", "carol", "bob"):
        app = board_app(change_store, reader)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = await open_board(pilot)
            view = screen.view
            cards = [card for column in view.columns for card in view.cards[column.status]]
            assert cards
            for card in cards:
                select_card(view, card.title)
                await settle(pilot)
                with change_store.read() as session:
                    permitted = permitted_steps(
                        session, get_agent(session, reader), session.get(Change, card.id)
                    )
                expected = {step for step in permitted if step in BOARD_STEPS}
                assert screen.steps_here() == expected, (reader, card.title, card.status)
                offered_any = offered_any or bool(expected)
    assert offered_any
