"""Snapshots of the knowledge browser and of the new incident's suggestions at 80×24 and
160×50 (fixed desk and articles, fixed clock)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from itsm_tui.screens.forms.suggestions import ArticleSuggestions
from itsm_tui.screens.knowledge import KnowledgeScreen
from tests.ui.knowledge_apps import snapshot_knowledge
from tests.ui.snapshot_apps import settle


async def _asked(pilot: Pilot[Any]) -> None:
    """What was typed is searched now, not after the pause's wall-clock timer."""
    screen = pilot.app.screen
    if isinstance(screen, KnowledgeScreen):
        screen.search_now()
    else:
        screen.query_one(ArticleSuggestions).ask_now()
    await settle(pilot)


async def _without_toasts(pilot: Pilot[Any]) -> None:
    # The inbox's toast lasts a few seconds of wall time: whether it is still up when the
    # image is taken depends on the machine's load, so it is taken down first.
    pilot.app.clear_notifications()
    await settle(pilot)
    # A blinking cursor is caught on or off by the wall clock: held still, and shown.
    for widget in pilot.app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await pilot.pause()


async def _browser(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    await pilot.press(*"vpn")
    await _asked(pilot)
    await _without_toasts(pilot)


async def _suggestions(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"VPN tunnel drops")
    await _asked(pilot)
    await pilot.press("ctrl+l")
    await _without_toasts(pilot)


async def _suggestions_opened(pilot: Pilot[Any]) -> None:
    await _suggestions(pilot)
    await pilot.press("ctrl+g")
    await settle(pilot)


def test_browser_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(80, 24), run_before=_browser)


def test_browser_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(160, 50), run_before=_browser)


def test_suggestions_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(80, 24), run_before=_suggestions)


def test_suggestions_at_160x50(snap_compare: Any) -> None:
    assert snap_compare(snapshot_knowledge(), terminal_size=(160, 50), run_before=_suggestions)


def test_suggestions_opened_at_80x24(snap_compare: Any) -> None:
    """ctrl+g opens the strip under the narrow form into the list; Save stays on screen."""
    assert snap_compare(
        snapshot_knowledge(), terminal_size=(80, 24), run_before=_suggestions_opened
    )
