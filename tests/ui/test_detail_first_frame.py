"""A ticket's first frame waits for its first read: over a slow link each frame drawn
before the ticket is in (the empty screen, then the fields, the links, the timeline)
was bytes on the wire for nothing. A failed read shows at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import itsm_tui.screens.detail as detail_module
from itsm_tui.screens.detail import TicketDetailScreen
from tests.ui.detail_apps import DetailHarness, context, run_async, settle


@run_async
async def test_nothing_is_drawn_until_the_ticket_is_read(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    release = threading.Event()
    get_ticket = detail_module.get_ticket

    def slow_get_ticket(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return get_ticket(*args, **kwargs)

    monkeypatch.setattr(detail_module, "get_ticket", slow_get_ticket)
    # However slow this machine is, the hold outlasts the test's look at it.
    monkeypatch.setattr(TicketDetailScreen, "FIRST_FRAME_WAIT_S", 60.0)
    drawn: list[str] = []
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(120, 50)) as pilot:
        for _ in range(5):
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen) and screen.loaded is None
        render_update = screen._compositor.render_update

        def spy(*args: object, **kwargs: object) -> object:
            drawn.append("frame")
            return render_update(*args, **kwargs)  # type: ignore[arg-type]

        screen._compositor.render_update = spy  # type: ignore[method-assign]
        screen.refresh()
        for _ in range(5):
            await pilot.pause()
        assert screen._holding_paint and app._batch_count == 1  # no layout, no frame
        assert drawn == []
        release.set()
        await settle(pilot)
        assert screen.loaded is not None
        assert not screen._holding_paint and app._batch_count == 0
        assert drawn  # the ticket, drawn once it was in
        assert screen.query_one("#detail-title").content.plain.startswith("VPN drops")  # type: ignore[attr-defined]


@run_async
async def test_a_ticket_that_cannot_be_read_says_so_at_once(demo: Any) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    app = DetailHarness(context(store), lambda: TicketDetailScreen("INC9999999"))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert app._batch_count == 0
        title = app.screen.query_one("#detail-title").content.plain  # type: ignore[attr-defined]
        assert "INC9999999" in title or "not" in title.lower()
