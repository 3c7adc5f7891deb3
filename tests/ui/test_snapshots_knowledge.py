"""Snapshots of the knowledge browser and of the new incident's suggestions at 80×24 and
160×50 (fixed desk and articles, fixed clock)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.ui.knowledge_apps import snapshot_knowledge
from tests.ui.snapshot_apps import settle


async def _browser(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    await pilot.press(*"vpn")
    await settle(pilot)


async def _suggestions(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"VPN tunnel drops")
    await settle(pilot)
    await pilot.press("ctrl+l")
    await settle(pilot)


def test_browser_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(80, 24), run_before=_browser)


def test_browser_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(160, 50), run_before=_browser)


def test_suggestions_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(80, 24), run_before=_suggestions)


def test_suggestions_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(160, 50), run_before=_suggestions)
