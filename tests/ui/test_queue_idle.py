"""An idle queue polls almost for free: while nothing is committed to the store
(Store.change_marker), a poll reads only the rows on screen again by id (their SLA and
age move with the time) instead of counting the view, and draws nothing that did not
change. A change by anyone, here or in another process, is still shown at the next poll."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from itsm_tui.app import make_app
from itsm_tui.context import DeskContext
from itsm_tui.data import queue_pages
from itsm_tui.data.store import Store, open_store
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.queue import TIMED_VIEW_POLLS, QueueScreen
from tests.ui.snapshot_apps import CLOCK, TICKETS, run_async, settle


class Clock:
    def __init__(self) -> None:
        self.now = CLOCK

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The view counts the screen asks the store for (the costly read on a big desk)."""
    asked: list[str] = []

    def spying(name: str) -> Callable[..., Any]:
        real = getattr(queue_pages, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            asked.append(name)
            return real(*args, **kwargs)

        return spy

    for name in ("count_queue", "count_and_position"):
        monkeypatch.setattr(queue_pages, name, spying(name))
    yield asked


def app_with(store: Store, clock: Clock):  # type: ignore[no-untyped-def]
    ctx = DeskContext(store=store, actor="alice", clock=clock, desk_name="Test Desk")
    return make_app(ctx, escalator=False, poll_seconds=0)


def line_text(screen: QueueScreen, y: int) -> str:
    return "".join(segment.text for segment in screen.table.render_line(y))


def spy_redraws(screen: QueueScreen) -> list[tuple[object, ...]]:
    redrawn: list[tuple[object, ...]] = []
    table = screen.table
    refresh = table.refresh

    def spy(*regions: object, **kwargs: object) -> object:
        redrawn.append(regions)
        return refresh(*regions, **kwargs)  # type: ignore[arg-type]

    table.refresh = spy  # type: ignore[method-assign]
    return redrawn


def create(store: Store, title: str) -> None:
    with store.write() as session:
        create_ticket(
            session, get_agent(session, "bob"), type="incident", title=title,
            impact=1, urgency=1, now=CLOCK,
        )  # fmt: skip


async def queue_view(pilot: Any, *keys: str) -> QueueScreen:
    """The console's queue once drawn, after `keys` (a view's digit, a move)."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen)
    await pilot.press(*keys)
    await settle(pilot)
    return screen


@run_async
async def test_an_idle_poll_counts_nothing_and_draws_nothing(
    queue_store: Store, counts: list[str]
) -> None:
    app = app_with(queue_store, Clock())
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await queue_view(pilot, "6", "down")
        redrawn = spy_redraws(screen)
        counts.clear()
        for _ in range(3):
            screen.poll_now()
            await settle(pilot)
        assert screen.polls == screen.polls_unchanged == 3
        assert counts == []
        assert redrawn == []
        assert screen.table.cursor == 1 and screen.count == len(TICKETS)


@run_async
async def test_a_change_from_another_process_shows_at_the_next_poll(
    queue_store: Store, counts: list[str]
) -> None:
    app = app_with(queue_store, Clock())
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await queue_view(pilot, "6")
        screen.poll_now()
        await settle(pilot)
        assert screen.polls_unchanged == 1
        # Another agent's console: a store of its own on the same database.
        other = open_store(queue_store.url, upgrade=False)
        try:
            create(other, "Core switch on fire")
        finally:
            other.dispose()
        counts.clear()
        screen.poll_now()
        await settle(pilot)
        assert screen.polls == 2 and screen.polls_unchanged == 1
        assert counts  # counted again: the store changed
        assert screen.count == len(TICKETS) + 1
        shown = [line_text(screen, y) for y in range(1, len(TICKETS) + 2)]
        assert any("Core switch on fire" in line for line in shown)
        # And quiet again after it.
        screen.poll_now()
        await settle(pilot)
        assert screen.polls_unchanged == 2


@run_async
async def test_an_idle_poll_still_moves_the_sla_with_the_time(
    queue_store: Store, counts: list[str]
) -> None:
    clock = Clock()
    app = app_with(queue_store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await queue_view(pilot, "6")
        lines = [line_text(screen, y) for y in range(1, len(TICKETS) + 1)]
        redrawn = spy_redraws(screen)
        clock.now = CLOCK + timedelta(minutes=37)
        counts.clear()
        screen.poll_now()
        await settle(pilot)
        assert screen.polls_unchanged == 1 and counts == []
        now = [line_text(screen, y) for y in range(1, len(TICKETS) + 1)]
        changed = [y for y, (a, b) in enumerate(zip(lines, now, strict=True), start=1) if a != b]
        # The rows with a running clock (the paused one stands still) moved, and only
        # those lines were drawn again.
        assert changed
        assert sorted(r[0].y for r in redrawn) == changed  # type: ignore[attr-defined]


@run_async
async def test_a_view_against_the_clock_is_counted_again_every_few_polls(
    queue_store: Store, counts: list[str]
) -> None:
    app = app_with(queue_store, Clock())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("5")  # breached: who is in it depends on the time
        await settle(pilot)
        counted_at = []
        for poll in range(1, 2 * TIMED_VIEW_POLLS + 1):
            counts.clear()
            screen.poll_now()
            await settle(pilot)
            if counts:
                counted_at.append(poll)
        assert counted_at == [TIMED_VIEW_POLLS, 2 * TIMED_VIEW_POLLS]
