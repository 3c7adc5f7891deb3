"""One frame where Textual would write two: a screen's layout and its repaint in one update.

When one update of a screen both lays it out and repaints all of it (a screen just
pushed or resumed, a first-frame hold let go, the queue's first rows), Textual writes
the layout's frame and then the whole screen again: over SSH 7 to 8 KB and then 8 to 11
KB for one picture. The layout's frame is left out; the repaint right after it, in the
same update, draws everything. (Textual internals: `_on_timer_update` and
`_compositor_refresh` of textual.screen.Screen, checked on textual 8.2.8.)
"""

from __future__ import annotations

from typing import Any


class OneFramePerUpdate:
    """Mixed into a Screen subclass, before Screen."""

    _skip_layout_frame = False

    def _on_timer_update(self) -> None:
        screen: Any = self
        self._skip_layout_frame = bool(
            screen._layout_required
            and screen._repaint_required
            and screen.is_current
            and not screen.app._batch_count
        )
        try:
            super()._on_timer_update()  # type: ignore[misc]
        finally:
            self._skip_layout_frame = False

    def _compositor_refresh(self) -> None:
        if self._skip_layout_frame:
            self._skip_layout_frame = False
            return
        super()._compositor_refresh()  # type: ignore[misc]
