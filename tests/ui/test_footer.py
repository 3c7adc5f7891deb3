"""The footer of key bindings: fitted to the terminal, rebuilt only when it changes."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from itsm_tui.data.store import Store
from itsm_tui.screens.widgets.footer import DeskFooter, FooterItem, fit_footer
from tests.ui.snapshot_apps import queue_app, run_async, settle


def item(action: str, description: str, display: str = "x") -> FooterItem:
    return FooterItem(display, display, description, action, True, description)


QUEUE_KEYS = [
    item("open", "Open", "⏎"),
    item("take", "Take"),
    item("assign", "Assign"),
    item("status", "Status"),
    item("comment", "Comment"),
    item("search", "Search", "/"),
    item("help", "Help", "?"),
    item("filter", "Filter"),
    item("quit", "Quit", "^q"),
    item("inbox", "Inbox"),
]
PALETTE = item("command_palette", "palette", "^p")


def width_of(fit_items: tuple[FooterItem, ...], *, compact: bool) -> int:
    return sum(k.width(compact=compact) for k in fit_items)


def test_a_wide_terminal_shows_every_key_in_full_with_the_palette() -> None:
    fit = fit_footer(QUEUE_KEYS, PALETTE, 200)
    assert not fit.compact and fit.palette == PALETTE
    assert {k.action for k in fit.items} == {k.action for k in QUEUE_KEYS}
    # Inbox and help close the line, in that order.
    assert [k.action for k in fit.items][-2:] == ["inbox", "help"]


def test_a_middle_width_turns_compact_before_dropping_anything() -> None:
    full = width_of(tuple(QUEUE_KEYS), compact=False)
    compact = width_of(tuple(QUEUE_KEYS), compact=True)
    assert compact < full
    fit = fit_footer(QUEUE_KEYS, None, compact)
    assert fit.compact and len(fit.items) == len(QUEUE_KEYS)


@pytest.mark.parametrize("width", [20, 40, 60, 80])
def test_a_narrow_terminal_drops_the_last_keys_but_keeps_inbox_and_help(width: int) -> None:
    fit = fit_footer(QUEUE_KEYS, PALETTE, width)
    actions = [k.action for k in fit.items]
    assert fit.compact and fit.palette is None
    assert actions[-2:] == ["inbox", "help"]
    assert width_of(fit.items, compact=True) <= width
    # What is kept is a prefix of the others, in their order: the first keys matter most.
    others = [k.action for k in QUEUE_KEYS if k.action not in ("inbox", "help")]
    assert actions[:-2] == others[: len(actions) - 2]
    # Nothing more would have fitted.
    if len(actions) - 2 < len(others):
        extra = next(k for k in QUEUE_KEYS if k.action == others[len(actions) - 2])
        assert width_of(fit.items, compact=True) + extra.width(compact=True) > width


def test_when_even_the_kept_keys_overflow_they_stay() -> None:
    fit = fit_footer(QUEUE_KEYS, PALETTE, 5)
    assert [k.action for k in fit.items] == ["inbox", "help"]


def footer_keys(app) -> list[FooterKey]:  # type: ignore[no-untyped-def]
    return list(app.screen.query_one(DeskFooter).query(FooterKey))


@run_async
async def test_at_80_columns_the_footer_fits_and_shows_help_and_inbox(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        shown = [k.description for k in keys]
        assert shown[:2] == ["Open", "Take"]
        assert shown[-2:] == ["Inbox", "Help"]
        assert all(k.region.right <= 80 for k in keys), [(k.description, k.region) for k in keys]
        # The keys it had no room for still work, and help lists them.
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.view_key != "mine"


@run_async
async def test_at_160_columns_every_key_shows_with_the_palette(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        shown = [k.description for k in footer_keys(app)]
        for description in ("Open", "Search", "New inc", "Sort", "View", "Inbox", "Help", "Quit"):
            assert description in shown
        assert "palette" in shown, shown


@run_async
async def test_the_footer_is_rebuilt_only_when_what_it_shows_changes(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = footer_keys(app)
        # Bindings refreshed with nothing different: the same widgets stay.
        app.screen.refresh_bindings()
        await settle(pilot)
        assert footer_keys(app) == before
        # The search box takes the keys: the footer follows, and comes back after.
        await pilot.press("slash")
        await settle(pilot)
        typing = [k.description for k in footer_keys(app)]
        assert "Take" not in typing and "Back to the queue" in typing
        await pilot.press("escape")
        await settle(pilot)
        assert [k.description for k in footer_keys(app)] == [k.description for k in before]
        assert "Back to the queue" not in [k.description for k in before]


@run_async
async def test_resizing_refits_the_footer(queue_store: Store) -> None:
    app = queue_app(queue_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        wide = [k.description for k in footer_keys(app)]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = footer_keys(app)
        assert len(narrow) < len(wide)
        assert all(k.region.right <= 80 for k in narrow)


@run_async
async def test_a_new_screens_footer_is_drawn_with_its_keys_in_one_go(
    queue_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual's footer composed empty, then again once the screen's bindings were
    # signalled: a second full frame (12 KB over SSH) and up to 0.3 s of mounting each
    # time a ticket opened.
    recomposed: list[DeskFooter] = []
    recompose = DeskFooter.recompose

    async def counted(footer: DeskFooter) -> None:
        recomposed.append(footer)
        await recompose(footer)

    monkeypatch.setattr(DeskFooter, "recompose", counted)
    app = queue_app(queue_store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6", "enter")
        await settle(pilot)
        footer = app.screen.query_one(DeskFooter)
        keys = [key.description for key in footer.query(FooterKey)]
        assert "Back" in keys and "Reply" in keys
        assert footer not in recomposed
