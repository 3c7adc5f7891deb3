"""The new request form: an answer the desk refuses marks its field; every answer stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Input, Select

from itsm_tui.data.models import CatalogueItem, Ticket
from itsm_tui.screens.forms import NewTicketForm
from tests.ui.detail_apps import DetailHarness, context, demo_store, run_async, settle

MONITORS_FORM = [
    {"name": "room", "label": "Room", "kind": "text", "required": True},
    {"name": "count", "label": "Count", "kind": "number", "required": True},
]


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, _numbers = demo_store(tmp_path)
    with store.write() as s:
        s.add(
            CatalogueItem(code="monitors", name="Monitors", category="hardware", form=MONITORS_FORM)
        )
    yield store
    store.dispose()


@run_async
async def test_a_refused_answer_marks_its_field_and_keeps_the_others(store) -> None:  # type: ignore[no-untyped-def]
    app = DetailHarness(context(store), lambda: NewTicketForm("request"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        form = app.screen
        form.query_one("#new-title", Input).value = "Screens for B12"
        form.query_one("#new-item", Select).value = "monitors"
        await settle(pilot)
        form.query_one("#item-room", Input).value = "B12"
        form.query_one("#item-count", Input).value = "two"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#form-message").content.plain == "Count: 'two' is not a number"
        assert app.focused is form.query_one("#item-count", Input)
        assert form.query_one("#item-room", Input).value == "B12"
        assert form.query_one("#item-count", Input).value == "two"
        assert form.query_one("#new-title", Input).value == "Screens for B12"
        with store.read() as s:
            assert s.scalar(select(Ticket).where(Ticket.title == "Screens for B12")) is None
        # Correcting the field clears the complaint; Save then writes the typed answers.
        await pilot.press("ctrl+a", "ctrl+k", "2")
        await settle(pilot)
        assert not form.query_one("#form-message").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    with store.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.title == "Screens for B12")).one()
        assert t.form_data == {"room": "B12", "count": 2}
