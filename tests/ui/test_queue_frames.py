"""What the queue's table draws again, and when: over SSH every line redrawn is bytes on
the wire (the whole table is 7 to 10 KB at 120×40)."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region

from itsm_tui.data.store import Store
from itsm_tui.screens.queue import QueueScreen
from itsm_tui.screens.widgets.ticket_table import PAGE_SIZE, TicketTable
from tests.ui.snapshot_apps import queue_app, run_async, settle


def spy_refreshes(table: TicketTable) -> list[tuple[Any, ...]]:
    """Every `refresh` of the table from now on: its regions (none: the whole table)."""
    calls: list[tuple[Any, ...]] = []
    refresh = table.refresh

    def spy(*regions: Region, **kwargs: Any) -> Any:
        calls.append(regions)
        return refresh(*regions, **kwargs)

    table.refresh = spy  # type: ignore[method-assign]
    return calls


async def view_six(pilot) -> TicketTable:  # type: ignore[no-untyped-def]
    """The queue's view 6 read and drawn: its table."""
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen)
    return screen.table


@run_async
async def test_an_arrow_key_redraws_only_the_two_lines_the_cursor_moves_between(
    seeded_store: Store,
) -> None:
    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(120, 40)) as pilot:
        table = await view_six(pilot)
        calls = spy_refreshes(table)
        await pilot.press("down", "down")
        await settle(pilot)
        assert table.cursor == 2
        assert calls, "the cursor's lines were not drawn again"
        assert all(regions and all(r.height == 1 for r in regions) for regions in calls), calls
        # Lines 1 to 3 under the header: the rows 0, 1 and 2 the cursor left and reached.
        assert {r.y for regions in calls for r in regions} == {1, 2, 3}
        # A page-down scrolls: the whole table is drawn.
        calls.clear()
        await pilot.press("pagedown")
        await settle(pilot)
        assert any(r.height >= table.visible_rows for regions in calls for r in regions), calls


@run_async
async def test_paging_down_draws_rows_read_ahead_and_pages_read_off_screen_draw_nothing(
    seeded_store: Store,
) -> None:
    app = queue_app(seeded_store, actor="tao.he")
    async with app.run_test(size=(120, 40)) as pilot:
        table = await view_six(pilot)
        assert table.total > 3 * PAGE_SIZE
        for _ in range(4):
            await pilot.press("pagedown")
            await settle(pilot)
            # The next screenful was read with this one: the next page-down draws at once.
            assert table.row_at(table.top_row + 2 * table.visible_rows - 1) is not None
        # A page read for rows off the screen arrives: nothing is drawn for it.
        far = (table.top_row + 3 * table.visible_rows) // PAGE_SIZE + 1
        calls = spy_refreshes(table)
        table.post_message(TicketTable.PagesLoaded(table.generation, {far: []}))
        await settle(pilot)
        assert calls == []
        # One holding a row on the screen is drawn.
        shown = table.top_row // PAGE_SIZE
        rows = table._pages[shown]
        table.post_message(TicketTable.PagesLoaded(table.generation, {shown: rows}))
        await settle(pilot)
        assert calls
