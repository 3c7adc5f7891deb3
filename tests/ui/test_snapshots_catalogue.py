"""Snapshots of the catalogue screen at 80×24 and 160×50 (fixed catalogue, fixed clock,
the search line's cursor held still): tests/ui/catalogue_apps.py."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.ui.catalogue_apps import snapshot_catalogue_app
from tests.ui.snapshot_apps import settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "typed", [pytest.param("", id="all"), pytest.param("access", id="filtered")]
)
def test_catalogue_screen(snap_compare: Any, size: tuple[int, int], typed: str) -> None:
    app = snapshot_catalogue_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        if typed:
            await pilot.press(*typed)
        await settle(pilot)
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
