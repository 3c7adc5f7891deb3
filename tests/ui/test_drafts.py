"""Drafts on disk: written as the text changes, back after a restart, cleared by a save or a
discard, never mixed between agents or stores, never half-written; ctrl+q asks first."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Input, TextArea

from itsm_tui.app import make_app
from itsm_tui.data.models import CatalogueItem, Comment, Ticket
from itsm_tui.screens.detail import TicketDetailScreen
from itsm_tui.screens.drafts import UNREADABLE, DraftBox, draft_box
from itsm_tui.screens.forms import CommentForm, DeskForm, NewTicketForm
from itsm_tui.screens.quit import QuitWithDraftsScreen
from tests.ui.detail_apps import DetailHarness, context, run_async, settle
from tests.ui.test_bursts import burst

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def on_disk(store, actor: str, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    path = draft_box(store.url, actor).path(name)
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8"))["fields"])


def detail(store, number: str, actor: str = "alice") -> DetailHarness:  # type: ignore[no-untyped-def]
    return DetailHarness(context(store, actor), lambda: TicketDetailScreen(number))


async def write_pending_draft(pilot, form: DeskForm) -> None:  # type: ignore[no-untyped-def]
    """What the debounce timer does when typing pauses (tests do not wait for it)."""
    assert form._draft_timer is not None, "typing armed no draft write"
    form._draft_timer.stop()
    form._write_draft_later()
    await settle(pilot)


@run_async
async def test_a_draft_is_written_as_typed_and_back_after_a_restart(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    name = f"CommentForm.work_note.{numbers['vpn']}"
    app = detail(store, numbers["vpn"])
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(app, "wHalf a thought about the DPD<enter>timeouts")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CommentForm)
        await write_pending_draft(pilot, form)
        # On disk while the form is still open: a crash from here on loses nothing.
        assert on_disk(store, "alice", name) == {
            "comment-body": "Half a thought about the DPD\ntimeouts"
        }
    # A new process (a new app) on the same store, as the same agent: the text is back.
    again = detail(store, numbers["vpn"])
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(again, "w")
        await settle(pilot)
        body = again.screen.query_one("#comment-body", TextArea)
        assert body.text == "Half a thought about the DPD\ntimeouts"


@run_async
async def test_escape_keeps_the_draft_a_save_clears_it(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    name = f"CommentForm.reply.{numbers['vpn']}"
    app = detail(store, numbers["vpn"])
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(app, "rWe restarted the tunnel<escape>")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert on_disk(store, "alice", name) == {"comment-body": "We restarted the tunnel"}
        burst(app, "r, please retry<ctrl+s>")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert on_disk(store, "alice", name) == {}
        burst(app, "r")
        await settle(pilot)
        assert app.screen.query_one("#comment-body", TextArea).text == ""
    with store.read() as session:
        replies = session.scalars(select(Comment.body).where(Comment.kind == "reply")).all()
    assert replies[-1] == "We restarted the tunnel, please retry"


@run_async
async def test_ctrl_t_discards_the_draft(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    name = f"CommentForm.work_note.{numbers['vpn']}"
    app = detail(store, numbers["vpn"])
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(app, "wnot worth keeping<escape>")
        await settle(pilot)
        assert on_disk(store, "alice", name)
        burst(app, "w<ctrl+t>")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        assert on_disk(store, "alice", name) == {}
        burst(app, "w")
        await settle(pilot)
        assert app.screen.query_one("#comment-body", TextArea).text == ""


@run_async
async def test_another_agents_draft_is_not_shown(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = detail(store, numbers["vpn"], "alice")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(app, "walice's private note<escape>")
        await settle(pilot)
    bob = detail(store, numbers["vpn"], "bob")
    async with bob.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(bob, "w")
        await settle(pilot)
        assert bob.screen.query_one("#comment-body", TextArea).text == ""


def test_two_agents_and_two_stores_never_share_a_draft(tmp_path: Path) -> None:
    one = "sqlite:///" + str(tmp_path / "one.db")
    # The same file named another way is the same store; a password is never part of a key.
    same = "sqlite:///" + str(tmp_path / "sub" / ".." / "one.db")
    boxes = {
        "alice@one": DraftBox.for_desk(one, "alice", tmp_path),
        "bob@one": DraftBox.for_desk(one, "bob", tmp_path),
        "alice@two": DraftBox.for_desk("sqlite:///" + str(tmp_path / "two.db"), "alice", tmp_path),
        "alice@pg": DraftBox.for_desk("postgresql://alice:secret@db/desk", "alice", tmp_path),
    }
    assert len({box.folder for box in boxes.values()}) == 4
    assert DraftBox.for_desk(same, "alice", tmp_path).folder == boxes["alice@one"].folder
    for who, box in boxes.items():
        box.save("CommentForm.reply.INC0000001", {"comment-body": who}, now=AT)
    for who, box in boxes.items():
        assert box.load("CommentForm.reply.INC0000001") == {"comment-body": who}
    pg = json.loads(boxes["alice@pg"].path("CommentForm.reply.INC0000001").read_text())
    assert "secret" not in json.dumps(pg) and pg["agent"] == "alice"


def test_a_failed_write_leaves_the_previous_draft_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = DraftBox.for_desk("sqlite:///" + str(tmp_path / "d.db"), "alice", tmp_path)
    box.save("TimeForm.INC0000001", {"time-note": "first version"}, now=AT)

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        box.save("TimeForm.INC0000001", {"time-note": "second version"}, now=AT)
    monkeypatch.undo()
    assert box.load("TimeForm.INC0000001") == {"time-note": "first version"}
    assert sorted(p.name for p in box.folder.iterdir()) == ["TimeForm.INC0000001.json"]


def test_an_older_write_never_lands_over_a_newer_one(tmp_path: Path) -> None:
    box = DraftBox.for_desk("sqlite:///" + str(tmp_path / "d.db"), "alice", tmp_path)
    older = box.next_version("LinkForm.INC0000001")
    newer = box.next_version("LinkForm.INC0000001")
    box.save("LinkForm.INC0000001", {"link-problem": "PRB0000002"}, now=AT, version=newer)
    # The slower worker with what was typed before arrives last: it is dropped.
    box.save("LinkForm.INC0000001", {"link-problem": "PRB"}, now=AT, version=older)
    assert box.load("LinkForm.INC0000001") == {"link-problem": "PRB0000002"}
    # A discard wins over a write still on its way.
    pending = box.next_version("LinkForm.INC0000001")
    box.discard("LinkForm.INC0000001")
    box.save("LinkForm.INC0000001", {"link-problem": "PRB0000002"}, now=AT, version=pending)
    assert box.load("LinkForm.INC0000001") == {}


def test_an_unreadable_draft_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    box = DraftBox.for_desk("sqlite:///" + str(tmp_path / "d.db"), "alice", tmp_path)
    path = box.path("ReopenForm.INC0000003")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"fields": {"reopen-reason": "cut sho')
    assert box.load("ReopenForm.INC0000003") == {}
    assert not path.exists()
    aside = path.with_name(path.name + UNREADABLE)
    assert aside.read_bytes() == b'{"fields": {"reopen-reason": "cut sho'


@run_async
async def test_ctrl_q_asks_while_a_form_holds_text_and_keeps_the_draft(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = make_app(context(store), escalator=False, poll_seconds=0)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_ticket(numbers["vpn"])
        await settle(pilot)
        burst(app, "wCheck the DPD timers<ctrl+q>")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, QuitWithDraftsScreen)
        words = question.query_one("#quit-text").render().plain  # type: ignore[union-attr]
        assert "Work note" in words and numbers["vpn"] in words and "20 characters" in words
        assert "stays on disk as a draft" in words
        assert str(draft_box(store.url, "alice").folder) in words
        # esc: back to the form, the text still in it.
        burst(app, "<escape>")
        await settle(pilot)
        assert isinstance(app.screen, CommentForm)
        assert app.screen.query_one("#comment-body", TextArea).text == "Check the DPD timers"
        assert app.is_running
        burst(app, "<ctrl+q>")
        await settle(pilot)
        assert isinstance(app.screen, QuitWithDraftsScreen)
        burst(app, "<ctrl+q>")
        await settle(pilot)
        assert not app.is_running
    name = f"CommentForm.work_note.{numbers['vpn']}"
    assert on_disk(store, "alice", name) == {"comment-body": "Check the DPD timers"}


@run_async
async def test_ctrl_q_quits_at_once_when_nothing_is_typed(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    app = make_app(context(store), escalator=False, poll_seconds=0)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_ticket(numbers["vpn"])
        await settle(pilot)
        burst(app, "w<ctrl+q>")
        await settle(pilot)
        assert not app.is_running


@run_async
async def test_a_new_request_draft_brings_back_its_item_and_every_answer(demo) -> None:  # type: ignore[no-untyped-def]
    store, _numbers = demo
    with store.write() as session:
        laptop = session.scalars(select(CatalogueItem).where(CatalogueItem.code == "laptop")).one()
        laptop.form = [*laptop.form, {"name": "needed_by", "label": "Needed by", "kind": "text"}]
    typed = {
        "new-title": "Laptop for Ana",
        "new-impact": "1",
        "new-item": "laptop",
        "item-model": "ThinkPad X1",
        "item-needed_by": "tomorrow",
        "new-requester": "ana@staff.example.com",
        "new-description": "Bring a dock too.",
    }
    app = make_app(context(store), escalator=False, poll_seconds=0)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(
            app,
            "NLaptop for Ana"
            "<tab><enter><up><up><enter>"  # impact: 3 -> 1
            "<tab><tab><enter><down><enter>"  # past urgency; the only item
            "<tab>ThinkPad X1<tab>tomorrow"  # the item's own fields, mounted as it was chosen
            "<tab><tab>ana@staff.example.com<tab>Bring a dock too.<ctrl+q>",
        )
        await settle(pilot)
        assert isinstance(app.screen, QuitWithDraftsScreen)
        burst(app, "<ctrl+q>")
        await settle(pilot)
        assert not app.is_running
    assert on_disk(store, "alice", "NewTicketForm.request") == typed
    # A new process: the form opens with the item chosen and its fields filled again.
    again = make_app(context(store), escalator=False, poll_seconds=0)
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        burst(again, "N")
        await settle(pilot)
        form = again.screen
        assert isinstance(form, NewTicketForm)
        assert form.draft_fields() == typed
        assert form.query_one("#item-needed_by", Input).value == "tomorrow"
        burst(again, "<ctrl+s>")
        await settle(pilot)
        assert not isinstance(again.screen, NewTicketForm), form.query_one("#form-message")
    with store.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.title == "Laptop for Ana")).one()
        item = ticket.catalogue_item.code if ticket.catalogue_item else None
        saved = (item, ticket.impact, ticket.form_data, ticket.description)
    assert saved == (
        "laptop",
        1,
        {"model": "ThinkPad X1", "needed_by": "tomorrow"},
        typed["new-description"],
    )
    assert on_disk(store, "alice", "NewTicketForm.request") == {}
