"""Where a remote session's seconds go: a timing log of one console, for diagnosis.

`ITSM_FRAME_LOG=PATH` in `itsm serve`'s environment (passed to each console, never
set by default): every console appends one line per event to PATH, each starting with
the monotonic clock (comparable between processes on one machine, so with a client's
own log): a key read from the terminal, a screen pushed, a worker's result arriving
(a message named `…Loaded`: the database read is done), a frame written with its bytes,
and a garbage collection that took 5 ms or more. bench/remote.py's timings name the
step; this log says what the console did in it. It wraps Textual internals (the Linux
driver's write and input, the app's push and dispatch): a diagnostic, never on by default.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from typing import Any, TextIO

GC_LOGGED_MS = 5.0


class FrameLog:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self._gc_started = 0.0

    def say(self, text: str) -> None:
        line = f"{time.monotonic():.4f} {os.getpid()} {text}\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()

    def gc_phase(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
            return
        took = (time.monotonic() - self._gc_started) * 1000
        if took >= GC_LOGGED_MS:
            self.say(f"gc gen{info['generation']} {took:.1f} ms")


def install(path: str) -> FrameLog:
    """Start logging this console's events to `path` (appended)."""
    from textual.app import App
    from textual.drivers.linux_driver import LinuxDriver
    from textual.message_pump import MessagePump

    log = FrameLog(open(path, "a", encoding="utf-8"))  # noqa: SIM115 (open for the process)
    write, take_input = LinuxDriver.write, LinuxDriver.process_message
    push, dispatch = App.push_screen, MessagePump._dispatch_message

    def logged_write(driver: LinuxDriver, data: str) -> None:
        log.say(f"frame {len(data.encode('utf-8', 'replace'))} B")
        write(driver, data)

    def logged_input(driver: LinuxDriver, message: Any) -> None:
        key = getattr(message, "key", None)
        log.say(f"key {key}" if key is not None else f"input {type(message).__name__}")
        take_input(driver, message)

    def logged_push(app: App[Any], screen: Any, *args: Any, **kwargs: Any) -> Any:
        log.say(f"push {type(screen).__name__}")
        return push(app, screen, *args, **kwargs)

    async def logged_dispatch(pump: MessagePump, message: Any) -> Any:
        name = type(message).__name__
        if name.endswith("Loaded") and not isinstance(pump, App):
            log.say(f"result {type(pump).__name__}.{name}")
        return await dispatch(pump, message)

    LinuxDriver.write = logged_write  # type: ignore[method-assign]
    LinuxDriver.process_message = logged_input  # type: ignore[method-assign]
    App.push_screen = logged_push  # type: ignore[method-assign,assignment]
    MessagePump._dispatch_message = logged_dispatch  # type: ignore[method-assign]
    gc.callbacks.append(log.gc_phase)
    log.say("console started")
    return log
