"""The app's one ticket screen, kept and refilled for each ticket opened.

Opening a ticket on a new screen composed, mounted and styled a dozen widgets and the
footer's keys each time: most of an open's CPU in a remote console. The app keeps one
`TicketDetailScreen`, installed under KEPT_TICKET_SCREEN, and refills it
(`TicketDetailScreen.show`); every screen that opens a ticket asks `ticket_screen`.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from itsm_tui.screens.detail import TicketDetailScreen

# The name the app's kept ticket screen is installed under (see `ticket_screen`).
KEPT_TICKET_SCREEN = "ticket"


def ticket_screen(app: App[Any], number: str) -> TicketDetailScreen:
    """The screen to push to open `number`: the app's kept ticket screen, refilled.

    The first ticket opened composes it; every later one reuses its widgets and styles
    (`TicketDetailScreen.show`). While it is on the screen stack (a linked ticket opened
    from it, Esc back to it) the ticket asked for gets a screen of its own.
    """
    kept = kept_ticket_screen(app)
    if kept.on_stack:
        return TicketDetailScreen(number)
    kept.show(number)
    return kept


def kept_ticket_screen(app: App[Any]) -> TicketDetailScreen:
    """The app's kept ticket screen (installed on first use, not yet composed)."""
    try:
        return app.get_screen(KEPT_TICKET_SCREEN, TicketDetailScreen)
    except KeyError:
        kept = TicketDetailScreen()
        app.install_screen(kept, KEPT_TICKET_SCREEN)
        return kept


def prepare_ticket_screen(app: App[Any]) -> None:
    """Compose the kept ticket screen now, off the stack, so that even the first ticket
    opened is a refill: a remote console does this while its agent reads the queue.

    Textual composes a screen when it is first pushed; `_get_screen` is how a push
    registers and mounts it, without showing it."""
    kept = kept_ticket_screen(app)
    if not kept.is_attached:
        app._get_screen(kept)
