"""The desk's action keys, defined once: a key means the same action on every screen."""

from __future__ import annotations

from textual.binding import Binding

from itsm_tui.i18n import _

# Work on one ticket: the queue (on the selected row) and the ticket screen share these.
TAKE = Binding("t", "take", _("Take"))
ASSIGN = Binding("a", "assign", _("Assign"))
STATUS = Binding("s", "status", _("Status"))
REPLY = Binding("r", "reply", _("Reply"))
WORK_NOTE = Binding("w", "work_note", _("Note"))

# Only on the ticket screen, where the whole ticket is in view.
RESOLVE = Binding("x", "resolve", _("Resolve"))
REOPEN = Binding("R", "reopen", _("Reopen"))
PRIORITY = Binding("p", "priority", _("Priority"))
LINK = Binding("l", "link", _("Link"))
LOG_TIME = Binding("T", "log_time", _("Time"))

# New tickets, from the queue.
NEW_INCIDENT = Binding("n", "new_incident", _("New inc"))
NEW_REQUEST = Binding("N", "new_request", _("New req"))

TICKET_ACTIONS = (TAKE, ASSIGN, STATUS, REPLY, WORK_NOTE)
