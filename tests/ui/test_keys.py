"""One key, one meaning: a letter does the same thing on every screen that binds it."""

from __future__ import annotations

from textual.binding import Binding

from itsm_tui.app import ItsmApp
from itsm_tui.screens import keys
from itsm_tui.screens.detail import TicketDetailScreen, TicketLink
from itsm_tui.screens.inbox import InboxScreen
from itsm_tui.screens.queue import QueueScreen

# The help overlay is left out on purpose: any of esc, q and ? closes it, as in a pager.
SCREENS = (ItsmApp, QueueScreen, TicketDetailScreen, InboxScreen, TicketLink)


def letter_bindings(owner: type) -> dict[str, str]:
    """Printable one-character keys (letters, digits, `/`, `?`) → action, of one class."""
    bound: dict[str, str] = {}
    for binding in owner.BINDINGS:
        assert isinstance(binding, Binding)
        for key in binding.key.split(","):
            if len(key) == 1:
                bound[key] = binding.action
    return bound


def test_every_letter_means_one_action_on_every_screen() -> None:
    meaning: dict[str, tuple[str, str]] = {}
    for owner in SCREENS:
        for key, action in letter_bindings(owner).items():
            first = meaning.setdefault(key, (action, owner.__name__))
            assert first[0] == action, (
                f"{key!r} is {first[0]} on {first[1]} but {action} on {owner.__name__}"
            )


def test_ticket_actions_are_on_the_queue_and_the_ticket_screen() -> None:
    queue, detail = letter_bindings(QueueScreen), letter_bindings(TicketDetailScreen)
    for binding in keys.TICKET_ACTIONS:
        assert queue[binding.key] == detail[binding.key] == binding.action
    # The ones that were missing: Take on the ticket, a work note from the queue.
    assert detail["t"] == "take" and queue["w"] == "work_note"
    for action in ("action_take", "action_assign", "action_status", "action_reply"):
        assert hasattr(QueueScreen, action) and hasattr(TicketDetailScreen, action)
    assert hasattr(QueueScreen, "action_work_note")


def test_one_key_one_meaning_across_the_change_screens() -> None:
    from itsm_tui.screens.changes.board import ChangeBoardScreen
    from itsm_tui.screens.changes.calendar import ChangeCalendarScreen
    from itsm_tui.screens.changes.detail import ChangeDetailScreen

    meaning: dict[str, tuple[str, str]] = {}
    for owner in (ItsmApp, ChangeBoardScreen, ChangeDetailScreen, ChangeCalendarScreen):
        for key, action in letter_bindings(owner).items():
            first = meaning.setdefault(key, (action, owner.__name__))
            assert first[0] == action, (
                f"{key!r} is {first[0]} on {first[1]} but {action} on {owner.__name__}"
            )
    assert meaning["C"][0] == "close_change" and meaning["L"][0] == "calendar"
