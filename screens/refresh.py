"""A screen's live refresh: a one-shot timer armed only once the last read answered, so reads
never stack up, and no read while something covers the screen (help, a form, another screen).

The screen owns the read (a thread worker that answers with a message); it calls `answered()`
when the answer (or the failure) is handled, and the next read is armed from there. A slow
store therefore stretches the interval instead of piling reads on top of each other.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen
from textual.timer import Timer


class LiveRefresh:
    """Re-reads `screen` every `seconds()` (0 or less: never) through `read`."""

    def __init__(
        self, screen: Screen[object], read: Callable[[], None], seconds: Callable[[], float]
    ) -> None:
        self._screen = screen
        self._read = read
        self._seconds = seconds
        self._timer: Timer | None = None

    @property
    def armed(self) -> bool:
        """A next read is waiting on its timer."""
        return self._timer is not None

    def answered(self) -> None:
        """The last read answered: arm the next one (replacing any armed before)."""
        self.stop()
        seconds = self._seconds()
        if seconds > 0:
            self._timer = self._screen.set_timer(seconds, self._fired)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fired(self) -> None:
        self._timer = None  # done: nothing left to stop
        self.due()

    def due(self) -> None:
        """The interval has passed (or is skipped): read, unless the screen is covered (then
        look again later without reading: nobody would see it)."""
        # Called ahead of its timer, the timer is dropped: one timer per screen, ever.
        self.stop()
        if self._screen.app.screen is not self._screen:
            self.answered()
            return
        self._read()
