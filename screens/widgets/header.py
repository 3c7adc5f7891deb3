"""The header line of every screen: desk, acting agent, unread notices and the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from rich.text import Text
from textual.reactive import Reactive
from textual.widgets import Static

from itsm_tui.context import DeskContext
from itsm_tui.i18n import _, ngettext


class DeskHeader(Static):
    """Desk name, acting agent, how many notices wait in the inbox, and the time of the
    injected clock (stable in snapshots).

    The unread count is the app's `unread` (None until the first inbox read, read in the
    notification watcher's worker): every screen's header shows the same live number.
    """

    def __init__(self, ctx: DeskContext | None = None) -> None:
        super().__init__(id="desk-header")
        self._ctx = ctx
        self.unread: int | None = None

    @property
    def ctx(self) -> DeskContext:
        return self._ctx or cast(DeskContext, cast(Any, self.app).desk)

    def on_mount(self) -> None:
        # A harness app without an inbox has no count to show.
        if isinstance(getattr(type(self.app), "unread", None), Reactive):
            self.watch(self.app, "unread", self._unread_changed)
        self.show()

    def _unread_changed(self, unread: int | None) -> None:
        self.unread = unread
        self.draw()

    def show(self) -> None:
        now = self.draw()
        # Again just after the minute turns, so the clock is never a minute behind.
        self.set_timer(60.5 - now.second - now.microsecond / 1e6, self.show)

    def draw(self) -> datetime:
        """Draw the header; the clock reads in the agent's zone (`DeskContext.zone`)."""
        now = self.ctx.now().astimezone(self.ctx.zone)
        text = Text(no_wrap=True, overflow="ellipsis")
        # The desk name and username come from the store: plain Text, never markup.
        text.append(f" {self.ctx.desk_name}", style="bold")
        text.append(f"  ·  {self.ctx.actor}")
        if self.unread:
            text.append("  ·  ")
            text.append(
                ngettext("{n} unread notice", "{n} unread notices", self.unread).format(
                    n=f"{self.unread:,}"
                ),
                style="bold reverse",
            )
        elif self.unread == 0:
            text.append("  ·  " + _("nothing unread"))
        text.append(f"  ·  {now:%a %d %b %H:%M}")
        self.update(text)
        return now
