"""Keys are handled one at a time, in the order they arrived, whatever their timing.

Textual's app checks a key's priority bindings, then *posts* the key to the focused
widget's queue and goes on with the next key at once. The widget, and each parent
the key bubbles through up to the app's own (non-priority) bindings, handles it
later. So in a burst (a paste without bracketed paste, an SSH link delivering keys
in clumps, a fast typist):
- a priority binding such as ctrl+s runs while the characters typed before it are
  still queued in the field: the save reads text cut short;
- Tab moves the focus only when it has bubbled up to the app, and the keys behind it
  have already been posted to the field it leaves: they land in the wrong field;
- a key that opens a form is followed by keys posted before the form has mounted
  and focused its first field: they go nowhere.

The fix is at the root, for every screen and form: the app hands over the next key only
once the previous one has been handled all the way, consequences included. Behind each
key the app posts a `KeyHandled` marker to the same widget; it bubbles along the key's
own path, so it reaches the app right after the key (and any binding it fired) is done.
Then the marker goes round the app's queue until the screen's widgets have nothing
queued and once more after that, so that what the key set off (a Submitted message
moving the focus, a select list opening, a form mounting and focusing its first field)
has happened too. Keys that arrive meanwhile wait, in order.
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App, ScreenStackError
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.timer import Timer

# A marker lost on its way (its widget removed by the key itself) must not hold the
# keyboard: while keys wait, the app looks this often whether the holder is still there.
# (A screen holding the keys is bounded by the store: a write or read that waits on a
# lock ends with the store's lock timeout, and the screen lets the keys go.)
LOST_MARKER_CHECK_S = 0.5
# A widget busy for long inside one handler must not hold the keyboard either: after the
# app has yielded this many times to the screen's widgets, the next key goes on regardless.
MAX_QUIET_WAIT = 5000


class KeyHandled(Message, bubble=True):
    """Follows a key; back at the app after a quiet trip, the key and its effects are done."""

    def __init__(self, trips: int = 0, *, posted_quiet: bool = False) -> None:
        super().__init__()
        self.trips = trips
        self.posted_quiet = posted_quiet


class KeysInOrder(App[None]):
    """An app whose widgets receive keys and pastes strictly one after the other."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting_keys: deque[events.Key | events.Paste] = deque()
        self._key_holder: MessagePump | None = None
        self._lost_marker_timer: Timer | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            self._waiting_keys.append(event)
            await self._deliver_waiting_keys()
            return
        await super().on_event(event)

    async def _on_key_handled(self, message: KeyHandled) -> None:
        message.stop()
        if self._live_screen() is None:
            # The app is closing (its screens are gone): keys still waiting go nowhere.
            self._key_holder = None
            self._waiting_keys.clear()
            return
        # Let the screen's widgets work through what the key sent them (each widget is its
        # own task; this one yields to them), ...
        trips = message.trips
        while not self._screen_is_quiet() and trips < MAX_QUIET_WAIT:
            trips += 1
            await asyncio.sleep(0)
        waited = trips > message.trips
        # Nothing queued for the app (no focus move, no callback posted by the key's
        # bindings) and the screen quiet without waiting: the key is done.
        app_busy = self.message_queue_size > 0 or bool(self._next_callbacks)
        settled = not waited and (message.posted_quiet or not app_busy)
        if not settled and trips < MAX_QUIET_WAIT:
            # ... then once round the app's own queue, behind the focus moves and the
            # callbacks they posted to the app, and look again.
            self._hold(self, KeyHandled(trips, posted_quiet=True))
            return
        self._key_holder = None
        await self._deliver_waiting_keys()

    def _live_screen(self) -> Screen[object] | None:
        """The screen keys go to; None once the app has closed its screens."""
        try:
            return self.screen
        except ScreenStackError:
            return None

    def _screen_is_quiet(self) -> bool:
        """Has every widget of the screen handled all it was sent?"""
        screen = self._live_screen()
        if screen is None:
            return True
        if not screen.is_mounted:
            return False
        return all(node.message_queue_size == 0 for node in screen.walk_children(with_self=True))

    def keys_may_go(self) -> None:
        """A screen that held the keys (see `holds_keys`) is ready for them again.

        The keys go once the screen is quiet: a form's result reaches the screen below
        it as a callback, which may hold the keys again for its own reload first.
        """
        if not self._holding():
            self._hold(self, KeyHandled())

    def _screen_holds_keys(self) -> bool:
        # A screen holds the keys while what they act on is being written or read again:
        # keys typed behind a form's save key go to the screen the save leads to, and act
        # on the ticket as saved (not on the version read before the save).
        return bool(getattr(self._live_screen(), "holds_keys", False))

    async def _deliver_waiting_keys(self) -> None:
        while self._waiting_keys and not self._holding() and not self._screen_holds_keys():
            if self._live_screen() is None:
                self._waiting_keys.clear()
                break
            if not self.screen.is_mounted:
                # A screen focuses its first field as it mounts: its marker is handled
                # after the mount, and only then does the key go on.
                self._hold(self.screen, KeyHandled())
                break
            event = self._waiting_keys.popleft()
            # Textual's own routing: priority bindings first, else the focused widget.
            await super().on_event(event)
            self._hold(self.focused or self.screen if event.is_forwarded else self, KeyHandled())
        if not self._waiting_keys or not self._holding():
            if self._lost_marker_timer is not None:
                self._lost_marker_timer.stop()
                self._lost_marker_timer = None
        elif self._lost_marker_timer is None:
            self._lost_marker_timer = self.set_timer(
                LOST_MARKER_CHECK_S, self._look_for_lost_marker
            )

    async def _look_for_lost_marker(self) -> None:
        self._lost_marker_timer = None
        # _holding() forgets a holder that has left the screen; the keys then go on.
        await self._deliver_waiting_keys()

    def _hold(self, target: MessagePump, marker: KeyHandled) -> None:
        if target.post_message(marker):
            self._key_holder = target

    def _holding(self) -> bool:
        holder = self._key_holder
        if holder is None:
            return False
        if holder is self or (holder.is_attached and not (holder._closing or holder._closed)):
            return True
        self._key_holder = None
        return False


def keys_may_go(app: App[object]) -> None:
    """Tell the app a screen stopped holding the keys (a no-op for any other app)."""
    if isinstance(app, KeysInOrder):
        app.keys_may_go()
