"""Writes to changes, one module per stage of the change process.

drafting (raise, from a template; edit before authorization), risk (the assessment and
the facts its rules read), schedule (the planned window and its conflicts), authorization
(submit to the next gate; the CAB's vote), implementation (start, complete, review,
close, cancel, caused incidents); steps (what an agent may do to a change now: the keys
the screens offer); common holds what they share.
"""

from itsm_tui.desk.changes.authorization import (
    approve_change,
    cab_members,
    reject_change,
    submit_change,
)
from itsm_tui.desk.changes.drafting import create_change, update_change
from itsm_tui.desk.changes.implementation import (
    cancel_change,
    close_change,
    complete_change,
    link_caused_incident,
    needs_review,
    review_change,
    start_change,
)
from itsm_tui.desk.changes.risk import assess_change, risk_facts
from itsm_tui.desk.changes.schedule import schedule_change
from itsm_tui.desk.changes.steps import STEPS, permitted_steps

__all__ = [
    "STEPS",
    "approve_change",
    "assess_change",
    "cab_members",
    "cancel_change",
    "close_change",
    "complete_change",
    "create_change",
    "link_caused_incident",
    "needs_review",
    "permitted_steps",
    "reject_change",
    "review_change",
    "risk_facts",
    "schedule_change",
    "start_change",
    "submit_change",
    "update_change",
]
