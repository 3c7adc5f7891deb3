"""Snapshots of the queue at 80×24 and 160×50 and of the help screen (fixed desk, fixed clock)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.snapshot_apps import settle, snapshot_empty_queue, snapshot_queue


async def _all_open(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)


async def _help(pilot: Pilot[Any]) -> None:
    await _all_open(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


def test_queue_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_queue(), terminal_size=(80, 24), run_before=_all_open)


def test_queue_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_queue(), terminal_size=(160, 50), run_before=_all_open)


def test_help_screen(snap_compare: Any) -> None:
    assert snap_compare(snapshot_queue(), terminal_size=(100, 40), run_before=_help)


def test_empty_view_says_where_the_work_is(snap_compare: Any) -> None:
    assert snap_compare(snapshot_empty_queue(), terminal_size=(80, 24), run_before=settle)
