"""The live-refresh helper in Pilot: the next read is armed only when the last one answered,
a read waits while something covers the screen, and timers never stack up."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Static

from itsm_tui.screens.refresh import LiveRefresh
from tests.ui.snapshot_apps import run_async, settle


class Answered(Message):
    pass


class LiveScreen(Screen[None]):
    """Reads in a thread worker, as the desk's screens do; counts reads begun and answered."""

    def __init__(self) -> None:
        super().__init__()
        self.begun = 0
        self.answers = 0
        self.timers: list[Timer] = []
        # Long enough that no timer fires during a test: `due()` stands for its firing.
        self.live = LiveRefresh(self, self.read, lambda: 60.0)

    def compose(self) -> ComposeResult:
        yield Static("live")

    def set_timer(self, *args: Any, **kwargs: Any) -> Timer:
        timer = super().set_timer(*args, **kwargs)
        self.timers.append(timer)
        return timer

    def read(self) -> None:
        self.begun += 1
        self._read()

    @work(thread=True)
    def _read(self) -> None:
        self.post_message(Answered())

    def on_answered(self, message: Answered) -> None:
        self.answers += 1
        self.live.answered()


class Cover(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("a form")


class LiveApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(LiveScreen())


def running(timers: list[Timer]) -> list[Timer]:
    """The timers still counting down (a stopped timer drops its task)."""
    return [t for t in timers if t._task is not None and not t._task.done()]


async def live_screen(pilot: Any) -> LiveScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LiveScreen)
    return screen


async def cover(pilot: Any) -> None:
    """A modal over the live screen, as a form or the help would be."""
    pilot.app.push_screen(Cover())
    await settle(pilot)


@run_async
async def test_each_answer_arms_the_next_read() -> None:
    app = LiveApp()
    async with app.run_test() as pilot:
        screen = await live_screen(pilot)
        assert not screen.live.armed  # nothing read yet, nothing armed
        screen.live.due()
        assert not screen.live.armed  # armed by the answer, not by the asking
        await settle(pilot)
        assert (screen.begun, screen.answers) == (1, 1)
        assert screen.live.armed
        screen.live.due()
        await settle(pilot)
        assert (screen.begun, screen.answers) == (2, 2)
        assert screen.live.armed


@run_async
async def test_no_read_while_a_modal_covers_the_screen() -> None:
    app = LiveApp()
    async with app.run_test() as pilot:
        screen = await live_screen(pilot)
        await cover(pilot)
        screen.live.due()
        await settle(pilot)
        assert screen.begun == 0
        assert screen.live.armed  # it looks again later
        app.pop_screen()
        await settle(pilot)
        screen.live.due()
        await settle(pilot)
        assert screen.begun == 1


@run_async
async def test_timers_never_stack_up() -> None:
    app = LiveApp()
    async with app.run_test() as pilot:
        screen = await live_screen(pilot)
        for _ in range(5):
            screen.live.answered()
        await settle(pilot)
        assert len(screen.timers) == 5
        assert len(running(screen.timers)) == 1
        # Covered, the interval passing five times still leaves one timer and no read.
        await cover(pilot)
        for _ in range(5):
            screen.live.due()
        await settle(pilot)
        assert screen.begun == 0
        assert len(running(screen.timers)) == 1
        screen.live.stop()
        await settle(pilot)
        assert running(screen.timers) == [] and not screen.live.armed
