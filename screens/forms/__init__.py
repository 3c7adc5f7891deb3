"""The modal action forms: each validates in place, writes in a worker and keeps its text.

One module per family: `base` (the form every action builds on), `assign`,
`ticket_actions` (status, reply/note, resolve/reopen, priority, links, time) and
`new_ticket` (new incident, new request with catalogue fields), `satisfaction` (survey,
complaint).
"""

from itsm_tui.screens.forms.assign import AssignForm
from itsm_tui.screens.forms.base import DeskForm, FormInvalid, WriteRequest
from itsm_tui.screens.forms.new_ticket import NewTicketForm
from itsm_tui.screens.forms.satisfaction import ComplaintForm, SurveyForm
from itsm_tui.screens.forms.ticket_actions import (
    CommentForm,
    LinkForm,
    PriorityForm,
    ReopenForm,
    ResolveForm,
    StatusForm,
    TimeForm,
)

__all__ = [
    "AssignForm",
    "CommentForm",
    "ComplaintForm",
    "DeskForm",
    "FormInvalid",
    "LinkForm",
    "NewTicketForm",
    "PriorityForm",
    "ReopenForm",
    "ResolveForm",
    "StatusForm",
    "SurveyForm",
    "TimeForm",
    "WriteRequest",
]
