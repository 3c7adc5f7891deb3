"""Every form of a change: raising and editing it, its risk questionnaire, its schedule and
each step of its process. Each keeps what was typed when the desk refuses it, and a draft.

`plan` (new change, edit), `risk` (the questionnaire, the level live), `schedule` (window,
implementer, next free slot, conflicts and their override), `steps` (submit, approve,
reject, start, complete, review, close, cancel, link a caused incident).
"""

from itsm_tui.screens.changes.forms.base import ChangeForm
from itsm_tui.screens.changes.forms.plan import EditChangeForm, NewChangeScreen
from itsm_tui.screens.changes.forms.risk import RiskForm
from itsm_tui.screens.changes.forms.schedule import ScheduleForm
from itsm_tui.screens.changes.forms.steps import (
    ApproveForm,
    CancelForm,
    CloseForm,
    CompleteForm,
    LinkIncidentForm,
    RejectForm,
    ReviewForm,
    StartForm,
    SubmitForm,
)

__all__ = [
    "ApproveForm",
    "CancelForm",
    "ChangeForm",
    "CloseForm",
    "CompleteForm",
    "EditChangeForm",
    "LinkIncidentForm",
    "NewChangeScreen",
    "RejectForm",
    "ReviewForm",
    "RiskForm",
    "ScheduleForm",
    "StartForm",
    "SubmitForm",
]
