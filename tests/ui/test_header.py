"""The header on every screen: desk, agent, the inbox's live unread count, the clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from itsm_tui.data.models import Notification
from itsm_tui.data.store import Store
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.inbox import InboxScreen
from itsm_tui.screens.queue import QueueScreen
from itsm_tui.screens.widgets.header import DeskHeader
from tests.ui.snapshot_apps import CLOCK, queue_app, run_async, settle


def read_everything(store: Store) -> None:
    """The fixed desk's own notices (assignments) read, so each test counts its own."""
    with store.write() as session:
        session.execute(update(Notification).values(read_at=CLOCK - timedelta(hours=3)))


def notify_alice(store: Store, message: str, *, minutes_ago: int) -> None:
    with store.write() as session:
        alice = get_agent(session, "alice")
        at = CLOCK - timedelta(minutes=minutes_ago)
        session.add(
            Notification(
                agent_id=alice.id, kind="assignment", message=message, created_at=at, deliver_at=at
            )
        )


def header_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(DeskHeader).render())


@run_async
async def test_unread_count_is_in_every_screens_header_and_follows_the_inbox(
    queue_store: Store,
) -> None:
    read_everything(queue_store)
    notify_alice(queue_store, "first", minutes_ago=30)
    notify_alice(queue_store, "second", minutes_ago=20)
    # Delivered later than the clock: not unread yet.
    notify_alice(queue_store, "not yet", minutes_ago=-60)
    app = queue_app(queue_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "Test Desk  ·  alice  ·  2 unread notices  ·  Tue 24 Nov" in header_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert "2 unread notices" in header_text(app)
        # A notice arrives while the ticket is open: the watcher's next read shows it.
        notify_alice(queue_store, "third", minutes_ago=1)
        assert app.watcher is not None
        app.watcher.poll_now()
        await settle(pilot)
        assert "3 unread notices" in header_text(app)
        await pilot.press("escape", "i")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert "3 unread notices" in header_text(app)
        await pilot.press("m")  # the newest is read
        await settle(pilot)
        assert "2 unread notices" in header_text(app)
        await pilot.press("M")
        await settle(pilot)
        assert "unread notice" not in header_text(app) and "nothing unread" in header_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "alice  ·  nothing unread  ·  Tue 24 Nov" in header_text(app)


@run_async
async def test_one_unread_notice_reads_as_one(queue_store: Store) -> None:
    read_everything(queue_store)
    notify_alice(queue_store, "only", minutes_ago=5)
    app = queue_app(queue_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "1 unread notice  ·" in header_text(app)


@run_async
async def test_a_new_unread_count_redraws_the_header_not_the_screen(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        drawn: list[object] = []
        render_update = screen._compositor.render_update

        def spy(*args: object, **kwargs: object) -> object:
            update = render_update(*args, **kwargs)  # type: ignore[arg-type]
            drawn.append(update)
            return update

        screen._compositor.render_update = spy  # type: ignore[method-assign]
        app.unread = 41  # type: ignore[attr-defined]
        await settle(pilot)
        assert "41 unread notices" in header_text(app)
        # Over SSH a whole screen is 8 KB; the header's line is what changed.
        assert drawn and all(type(u).__name__ != "LayoutUpdate" for u in drawn)
