"""The desk's action keys, defined once: a key means the same action on every screen."""

from __future__ import annotations

from collections.abc import Iterable

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
# The inbox: everything delivered until now is read (the agent's read mark), not only the
# notices listed. The palette's "Mark all notices read" takes the same action.
MARK_ALL_READ = Binding("M", "mark_all_read", _("Mark all read"))
# A page from the on-call rota: "I have it", and nobody else is woken.
ACKNOWLEDGE_PAGE = Binding("A", "acknowledge_page", _("Ack page"))
# What the requester thought: a rating taken after a call, a formal complaint.
SURVEY = Binding("asterisk", "survey", _("Survey"), key_display="*")
COMPLAINT = Binding("exclamation_mark", "complaint", _("Complaint"), key_display="!")

# A catalogue request's current fulfilment step done (as `itsm catalog done`): F for
# fulfilment (o sorts the queue). Shown only on a request with steps.
STEP_DONE = Binding("F", "complete_step", _("Step done"))

# New tickets, from the queue.
NEW_INCIDENT = Binding("n", "new_incident", _("New inc"))
NEW_REQUEST = Binding("N", "new_request", _("New req"))

TICKET_ACTIONS = (TAKE, ASSIGN, STATUS, REPLY, WORK_NOTE)

# Problems: mark incidents in the queue, open a problem for them; the problem list.
MARK = Binding("space", "mark", _("Mark"))
PROBLEM_FROM_MARKED = Binding("P", "problem_from_marked", _("Problem"))
PROBLEMS = Binding("E", "problems", _("Problems and known errors"), show=False)
# On a problem: resolve its open incidents with the fix or workaround.
RESOLVE_INCIDENTS = Binding("x", "resolve_incidents", _("Resolve incs"))
# ...record how it happened, publish the workaround, raise the fix, write it up.
PROBLEM_ROOT_CAUSE = Binding("h", "root_cause", _("Root cause"))
PROBLEM_WORKAROUND = Binding("W", "workaround", _("Workaround"))
PROBLEM_FIX = Binding("f", "fix_change", _("Fix change"))
PROBLEM_ARTICLE = Binding("m", "problem_article", _("Article"))

# A change's own screen: one key per step of its process (shown only where it may be taken).
CHANGE_EDIT = Binding("e", "edit_change", _("Edit"))
CHANGE_ASSESS = Binding("k", "assess_change", _("Risk"))
CHANGE_SUBMIT = Binding("u", "submit_change", _("Submit"))
CHANGE_APPROVE = Binding("y", "approve_change", _("Approve"))
CHANGE_REJECT = Binding("d", "reject_change", _("Reject"))
CHANGE_SCHEDULE = Binding("c", "schedule_change", _("Schedule"))
CHANGE_START = Binding("g", "start_change", _("Start"))
CHANGE_COMPLETE = Binding("o", "complete_change", _("Complete"))
CHANGE_REVIEW = Binding("v", "review_change", _("Review"))
CHANGE_CLOSE = Binding("C", "close_change", _("Close"))
CHANGE_CANCEL = Binding("X", "cancel_change", _("Cancel"))
# Same meaning as on a ticket: link another record (here, an incident the change caused).
CHANGE_LINK_INCIDENT = Binding("l", "link_incident", _("Link inc"))

# The desk's steps (`itsm_tui.desk.permitted_steps`) by the key that takes each: the change
# screens offer a key exactly when the desk permits its step (in the footer's order).
CHANGE_KEY_OF_STEP = {
    "update": CHANGE_EDIT,
    "assess": CHANGE_ASSESS,
    "submit": CHANGE_SUBMIT,
    "approve": CHANGE_APPROVE,
    "reject": CHANGE_REJECT,
    "schedule": CHANGE_SCHEDULE,
    "start": CHANGE_START,
    "complete": CHANGE_COMPLETE,
    "review": CHANGE_REVIEW,
    "close": CHANGE_CLOSE,
    "cancel": CHANGE_CANCEL,
    "link_incident": CHANGE_LINK_INCIDENT,
}
CHANGE_ACTIONS = tuple(CHANGE_KEY_OF_STEP.values())


def change_step_actions(steps: Iterable[str]) -> frozenset[str]:
    """The key actions of the desk's `steps` (the names `permitted_steps` returns)."""
    return frozenset(CHANGE_KEY_OF_STEP[step].action for step in steps)


# From the change board: the calendar of planned windows (`C` is Close, a step).
CHANGE_CALENDAR = Binding("L", "calendar", _("Calendar"))

# The service catalogue: opened from anywhere, like Problems and Knowledge.
CATALOGUE = Binding("S", "catalogue", _("Service catalogue"), show=False)

# The knowledge base: opened from anywhere; its browser's own keys.
# Global, like Problems: in help and the palette, not in every footer.
KNOWLEDGE = Binding("b", "knowledge", _("Knowledge"), show=False)
KB_SEARCH = Binding("slash", "focus_search", _("Search"))
KB_NEW = Binding("n", "new_article", _("New article"))
KB_EDIT = Binding("e", "edit_article", _("Edit"))
KB_PUBLISH = Binding("p", "publish_article", _("Publish"))
KB_RETIRE = Binding("X", "retire_article", _("Retire"))
KB_HELPFUL = Binding("plus", "vote(True)", _("Helpful"))
KB_NOT_HELPFUL = Binding("minus", "vote(False)", _("Not helpful"), show=False)
KB_ALL_STATUSES = Binding("d", "toggle_statuses", _("Drafts too"))
# In the new-incident form: the highlighted suggestion linked, or sent as the first reply.
SUGGESTION_LINK = Binding("ctrl+l", "link_suggestion", _("Link article"))
SUGGESTION_REPLY = Binding("ctrl+o", "reply_with_suggestion", _("Send article"))
# The suggested articles opened (under a narrow form) or their list focused (beside a wide
# one), and back. Not ctrl+k: the text fields delete to the end of the line with it; not
# ctrl+b: tmux's prefix, so it would never reach a desk run inside tmux.
SUGGESTIONS_OPEN = Binding("ctrl+g", "open_suggestions", _("Articles"))
