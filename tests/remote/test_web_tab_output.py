"""A tab's output: sent in order; a browser that falls behind makes its console wait."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from itsm_tui.remote.web_server import BEHIND_BYTES, TabOutput


class SlowTab:
    """A websocket whose sends finish only when the test lets them."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.go = asyncio.Event()
        self.closed = False

    async def send_bytes(self, data: bytes) -> None:
        await self.go.wait()
        self.sent.append(data)

    async def close(self) -> None:
        self.closed = True


class Console:
    def __init__(self) -> None:
        self.paused = False

    def pause_output(self) -> None:
        self.paused = True

    def resume_output(self) -> None:
        self.paused = False


def test_a_tab_that_falls_behind_pauses_its_console_until_it_catches_up() -> None:
    async def scenario() -> None:
        tab = SlowTab()
        output = TabOutput(cast(Any, tab))
        console = Console()
        output.console = cast(Any, console)
        chunk = b"x" * 65_536
        frames = BEHIND_BYTES // len(chunk) + 1
        for _ in range(frames - 1):
            output.put(chunk)
        assert not console.paused  # not yet past the mark
        output.put(chunk)
        assert console.paused
        tab.go.set()
        output.ended(0)
        await asyncio.wait_for(output.close(), 5)
        assert not console.paused
        assert tab.sent == [chunk] * frames  # everything, in order, then the socket closed
        assert tab.closed

    asyncio.run(scenario())
