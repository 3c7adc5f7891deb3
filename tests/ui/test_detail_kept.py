"""The app keeps one ticket screen and refills it for each ticket opened from the queue:
composing and styling a new screen was most of an open's CPU in a remote console. What
the last ticket showed must never show under the next one's number."""

from __future__ import annotations

from textual.widgets import Static

from itsm_tui.data.store import Store
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.detail_kept import (
    KEPT_TICKET_SCREEN,
    prepare_ticket_screen,
    ticket_screen,
)
from tests.ui.snapshot_apps import queue_app, run_async, settle


def shown(screen: TicketDetailScreen, selector: str) -> str:
    return screen.query_one(selector, Static).content.plain  # type: ignore[attr-defined]


def everything_shown(screen: TicketDetailScreen) -> str:
    return "\n".join(str(static.content) for static in screen.query(Static) if static.display)


@run_async
async def test_the_next_ticket_opened_refills_the_same_screen(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, TicketDetailScreen) and first.loaded is not None
        first_number = first.number
        first_title = first.loaded.detail["title"]
        assert shown(first, "#detail-title") == first_title
        await pilot.press("escape")
        await settle(pilot)
        assert not first.on_stack and first.is_attached  # kept, off the stack
        await pilot.press("down", "enter")
        await settle(pilot)
        second = app.screen
        assert second is first
        assert second.loaded is not None and second.number != first_number
        assert second.loaded.detail["number"] == second.number
        assert shown(second, "#detail-title") == second.loaded.detail["title"]
        assert second.number in shown(second, "#detail-heading")
        assert first_number not in everything_shown(second)
        assert first_title not in everything_shown(second)


@run_async
async def test_a_read_for_the_ticket_shown_before_is_dropped(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen) and screen.loaded is not None
        late, late_showing = screen.loaded, screen.showing
        await pilot.press("escape", "down", "enter")
        await settle(pilot)
        assert app.screen is screen and screen.showing == late_showing + 1
        now_shown = screen.loaded
        assert now_shown is not None and now_shown.detail["number"] != late.detail["number"]
        # The earlier ticket's read answers late (a slow store): it is not shown.
        screen.post_message(TicketDetailScreen.Loaded(late, None, late_showing))
        screen.post_message(TicketDetailScreen.LoadFailed("gone", late_showing))
        await settle(pilot)
        assert screen.loaded is now_shown
        assert shown(screen, "#detail-title") == now_shown.detail["title"]


@run_async
async def test_a_ticket_opened_over_the_kept_screen_gets_a_screen_of_its_own(
    queue_store: Store,
) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        kept = app.screen
        assert isinstance(kept, TicketDetailScreen) and kept.loaded is not None
        number = kept.number
        # A linked ticket opened from it: the kept screen stays as it is, under the new one.
        linked = ticket_screen(app, number)
        assert linked is not kept and linked.number == number
        await app.push_screen(linked)
        await settle(pilot)
        assert app.screen is linked and linked.loaded is not None
        assert kept.number == number and kept.loaded is not None
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is kept


@run_async
async def test_a_screen_composed_ahead_is_the_one_the_first_ticket_fills(
    queue_store: Store,
) -> None:
    # A remote console composes it while its agent reads the queue (console.py).
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        prepare_ticket_screen(app)
        await settle(pilot)
        kept = app.get_screen(KEPT_TICKET_SCREEN)
        assert isinstance(kept, TicketDetailScreen)
        assert kept.is_attached and not kept.on_stack and kept.query("#detail-title")
        assert kept.loaded is None and kept.number == ""
        await pilot.press("6", "enter")
        await settle(pilot)
        assert app.screen is kept and kept.loaded is not None
        assert shown(kept, "#detail-title") == kept.loaded.detail["title"]


@run_async
async def test_a_ticket_opened_is_drawn_whole_in_its_first_frame(queue_store: Store) -> None:
    # Textual laid the screen out and repainted it in one update as two frames: the
    # layout's (part of the screen) and then the whole screen. Only the whole one is sent.
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        kept = app.get_screen(KEPT_TICKET_SCREEN)
        assert isinstance(kept, TicketDetailScreen)
        kinds: list[str] = []
        render_update = kept._compositor.render_update

        def spy(*args: object, **kwargs: object) -> object:
            update = render_update(*args, **kwargs)  # type: ignore[arg-type]
            kinds.append(type(update).__name__)
            return update

        kept._compositor.render_update = spy  # type: ignore[method-assign]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is kept and kept.loaded is not None
        assert kinds and kinds[0] == "LayoutUpdate", kinds  # the whole screen, first
        assert kinds.count("LayoutUpdate") == 1, kinds
