"""The catalogue screen: opened by its key and from the palette, items by category, typing
filters them, Enter opens the item's request form and the request starts its first step;
user text stays literal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from textual.widgets import Input, OptionList, Static

from itsm_tui.app import DeskCommands
from itsm_tui.data.models import FulfilmentTask, Ticket
from itsm_tui.screens.catalogue import CatalogueScreen
from itsm_tui.screens.forms import NewTicketForm
from tests.ui.catalogue_apps import snapshot_catalogue_app
from tests.ui.snapshot_apps import run_async, settle


def _options(app: Any) -> list[str]:
    items = app.screen.query_one("#catalogue-items", OptionList)
    return [str(items.get_option_at_index(i).prompt) for i in range(items.option_count)]


def _item_text(app: Any) -> str:
    return app.screen.query_one("#catalogue-item", Static).content.plain


@run_async
async def test_the_key_opens_items_by_category() -> None:
    app = snapshot_catalogue_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, CatalogueScreen)
        assert [line.strip() for line in _options(app)] == [
            "access",
            "New starter set-up  37 h 30 min",
            "Password reset  30 min",
            "hardware",
            "New laptop  40 h",
            "network",
            "VPN access  7 h 30 min",
        ]
        # The first item is chosen: its standard, steps and form beside the list.
        shown = _item_text(app)
        assert "Delivery standard: 37 h 30 min" in shown
        assert "1. Create the accounts — Service Desk" in shown
        assert "2. Grant network access — Network" in shown
        assert "Full name * (text)" in shown
        assert app.screen.query_one("#catalogue-status", Static).content.plain == "4 items"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, CatalogueScreen)


@run_async
async def test_typing_filters_and_arrows_choose() -> None:
    app = snapshot_catalogue_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_catalogue()
        await settle(pilot)
        await pilot.press(*"remote")
        await settle(pilot)
        assert [line.strip() for line in _options(app)] == ["network", "VPN access  7 h 30 min"]
        assert "Approval: required, by the supervisor role" in _item_text(app)
        app.screen.query_one("#catalogue-search", Input).value = ""
        await settle(pilot)
        # The chosen item stays chosen when the filter widens; the arrows move from it.
        assert _item_text(app).startswith("VPN access")
        await pilot.press("up")
        await settle(pilot)
        assert _item_text(app).startswith("New laptop")
        app.screen.query_one("#catalogue-search", Input).value = "nothing like it"
        await settle(pilot)
        assert _options(app) == []
        assert "No item matches" in app.screen.query_one("#catalogue-status", Static).content.plain


@run_async
async def test_enter_opens_the_items_form_and_the_request_starts_its_first_step() -> None:
    app = snapshot_catalogue_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_catalogue()
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        assert form.query_one("#new-title", Input).value == "New starter set-up"
        form.query_one("#item-full_name", Input).value = "Wei Li"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CatalogueScreen)
        with app.desk.store.read() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.type == "request")).one()
            assert (ticket.status, ticket.form_data) == ("fulfilling", {"full_name": "Wei Li"})
            step = s.scalars(select(FulfilmentTask)).one()
            assert (step.position, step.name) == (1, "Create the accounts")


@run_async
async def test_the_palette_offers_the_catalogue_and_text_stays_literal() -> None:
    app = snapshot_catalogue_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        names = [name for name, _callback, _help in DeskCommands._commands(_Palette(app))]
        assert "Service catalogue" in names
        app.action_catalogue()
        await settle(pilot)
        shown = _item_text(app)
        assert "[bold red]x[/]" in shown and "屏幕 🚀" in shown and "\x1b" not in shown


class _Palette:
    """Just what DeskCommands._commands reads: the app and the screen it was opened on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.screen = app.screen


def test_a_narrow_item_line_cuts_the_name_short_and_keeps_the_standard() -> None:
    """At 80 columns the list is about 30 wide: "New starter set-up  5 working days" took
    two lines; the name now ends in an ellipsis and the standard stays whole."""
    from rich.console import Console

    from itsm_tui.screens.catalogue import ItemRow

    def lines(width: int) -> list[str]:
        console = Console(width=width, color_system=None, legacy_windows=False)
        with console.capture() as captured:
            console.print(ItemRow("New starter set-up", "5 working days"))
        return captured.get().rstrip("\n").split("\n")

    assert lines(30) == ["  New starter…  5 working days"]
    assert lines(60) == ["  New starter set-up  5 working days"]
    assert str(ItemRow("New starter set-up", "5 working days")).strip() == (
        "New starter set-up  5 working days"
    )
