"""Snapshots of the change board and the change calendar at 80×24 and 160×50 (fixed desk of
changes, fixed clock): tests/ui/change_board_apps.py."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.change_board_apps import snapshot_board_app
from tests.ui.snapshot_apps import settle


async def _board(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("B")
    await settle(pilot)


async def _calendar_week(pilot: Pilot[Any]) -> None:
    await _board(pilot)
    await pilot.press("L")
    await settle(pilot)


async def _calendar_month(pilot: Pilot[Any]) -> None:
    await _calendar_week(pilot)
    await pilot.press("m")
    await settle(pilot)


def test_board_at_80x24_as_a_cab_member(snap_compare: Any) -> None:
    # Carol's pending votes: the board opens on them, marked.
    assert snap_compare(snapshot_board_app("carol"), terminal_size=(80, 24), run_before=_board)


def test_board_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_board_app(), terminal_size=(160, 50), run_before=_board)


def test_calendar_week_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_board_app(), terminal_size=(80, 24), run_before=_calendar_week)


def test_calendar_month_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_board_app(), terminal_size=(160, 50), run_before=_calendar_month)
