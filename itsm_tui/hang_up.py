"""Noticing that the terminal went away (a closed window, a dropped SSH connection), for
every full-screen app of the desk: the console and the wall panel."""

from __future__ import annotations

import asyncio
import contextlib
import select
import signal
import sys
from collections.abc import Callable

from textual.app import App


def watch_terminal(app: App[object], hung_up: Callable[[], None]) -> None:
    """Call `hung_up` when the terminal hangs up, instead of spinning.

    Textual 8's Linux driver neither handles SIGHUP nor stops on end of input: an empty
    read just loops. So: SIGHUP calls it, and a cheap poll of stdin for POLLHUP catches a
    hang-up that comes without the signal.
    """
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hung_up)
    try:
        fd = sys.__stdin__.fileno() if sys.__stdin__ else -1
    except (OSError, ValueError):
        fd = -1
    if fd < 0:
        return
    poller = select.poll()
    poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)

    def check() -> None:
        for _fd, events in poller.poll(0):
            if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                hung_up()

    app.set_interval(1.0, check)
