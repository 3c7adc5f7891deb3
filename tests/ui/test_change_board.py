"""The change board in Pilot: columns and cards, moving about, filters, live refresh keeping
the cursor, a CAB member's votes, paging down a long column, user text kept literal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

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
            session,
            get_agent(session, "alice"),
            title=title,
            services=["Email"],
            planned_start=NOW + start_in,
            planned_end=NOW + start_in + timedelta(hours=1),
            now=NOW,
        )
        session.execute(update(Change).where(Change.id == change.id).values(status=status))
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
