"""Snapshots of the problem screens at 80×24 and 160×50 (fixed desk of problems, fixed
clock): tests/ui/problem_apps.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from itsm_tui.screens.problems import ProblemDetailScreen
from tests.ui.problem_apps import snapshot_problem_app
from tests.ui.snapshot_apps import settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


def _keys(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        # Toasts last seconds of wall time, a cursor blinks by the wall clock: both held.
        pilot.app.clear_notifications()
        for widget in pilot.app.screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(("E",), id="list"),
        pytest.param(("E", "v"), id="recurring"),
        pytest.param(("6", "space", "space"), id="queue-marked"),
    ],
)
def test_problem_screens(snap_compare: Any, size: tuple[int, int], keys: tuple[str, ...]) -> None:
    app, _numbers = snapshot_problem_app()
    assert snap_compare(app, terminal_size=size, run_before=_keys(*keys))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "keys",
    [
        pytest.param((), id="detail"),
        pytest.param(("x",), id="cascade"),
        pytest.param(("h",), id="root-cause"),
        pytest.param(("W",), id="workaround"),
    ],
)
def test_problem_detail(snap_compare: Any, size: tuple[int, int], keys: tuple[str, ...]) -> None:
    app, numbers = snapshot_problem_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.push_screen(ProblemDetailScreen(numbers["known"]))
        await _keys(*keys)(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
