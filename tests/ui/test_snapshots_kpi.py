"""Snapshots of the KPI dashboard and the wall panel at 80×24 and 160×50 (fixed desk, fixed
clock, no live refresh)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.snapshot_apps import settle, snapshot_queue, snapshot_wall


async def _dashboard(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("K")
    await settle(pilot)
    # The third tile selected (the response time's 90th percentile): its trend in the chart.
    await pilot.press("right", "right")
    await settle(pilot)
    # The inbox's toast lasts seconds of wall time: whether the image caught it would
    # depend on the machine's load, so it is taken down first.
    pilot.app.clear_notifications()
    await settle(pilot)


def test_dashboard_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_queue(), terminal_size=(80, 24), run_before=_dashboard)


def test_dashboard_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_queue(), terminal_size=(160, 50), run_before=_dashboard)


def test_wall_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_wall(), terminal_size=(80, 24), run_before=settle)


def test_wall_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_wall(), terminal_size=(160, 50), run_before=settle)
