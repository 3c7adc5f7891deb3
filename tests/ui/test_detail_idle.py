"""An open ticket's periodic reload reads only when something was committed since its
last read (Store.change_marker); a change by another process still shows at the next."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

import itsm_tui.screens.detail as detail_module
from itsm_tui.data.models import Ticket
from itsm_tui.data.store import open_store
from itsm_tui.screens.detail import TicketDetailScreen
from tests.ui.detail_apps import DetailHarness, context, run_async, settle


@run_async
async def test_a_reload_reads_only_after_a_commit(
    demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    reads: list[str] = []
    get_ticket = detail_module.get_ticket

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append("ticket")
        return get_ticket(*args, **kwargs)

    monkeypatch.setattr(detail_module, "get_ticket", counted)
    app = DetailHarness(context(store), lambda: TicketDetailScreen(numbers["vpn"]))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen) and screen.loaded is not None
        reads.clear()
        screen._periodic_reload()
        await settle(pilot)
        screen._periodic_reload()
        await settle(pilot)
        assert reads == [] and screen.reloads_skipped == 2
        # Another agent's console renames it.
        other = open_store(store.url, upgrade=False)
        try:
            with other.write() as session:
                session.execute(
                    update(Ticket)
                    .where(Ticket.number == numbers["vpn"])
                    .values(title="Renamed elsewhere")
                )
        finally:
            other.dispose()
        screen._periodic_reload()
        await settle(pilot)
        assert reads == ["ticket"] and screen.reloads_skipped == 2
        assert screen.query_one("#detail-title").content.plain == "Renamed elsewhere"  # type: ignore[attr-defined]
        # A reload asked for (a key, a form saved) always reads.
        screen.load()
        await settle(pilot)
        assert reads == ["ticket", "ticket"]
