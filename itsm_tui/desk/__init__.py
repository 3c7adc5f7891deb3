"""The one write path: every write to the desk store goes through these functions."""

from itsm_tui.desk.changes import create_change
from itsm_tui.desk.errors import (
    Conflict,
    DeskError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TransitionRefused,
)
from itsm_tui.desk.identity import Acting, resolve_acting, session_marks
from itsm_tui.desk.measures import log_time, record_complaint, record_outage, record_survey
from itsm_tui.desk.tickets import (
    add_comment,
    assign_ticket,
    close_ticket,
    create_ticket,
    link_ticket,
    override_priority,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)

__all__ = [
    "Acting",
    "Conflict",
    "DeskError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "TransitionRefused",
    "add_comment",
    "assign_ticket",
    "close_ticket",
    "create_change",
    "create_ticket",
    "link_ticket",
    "log_time",
    "override_priority",
    "record_complaint",
    "record_outage",
    "record_survey",
    "reopen_ticket",
    "resolve_acting",
    "resolve_ticket",
    "session_marks",
    "transition_ticket",
    "update_ticket",
]
