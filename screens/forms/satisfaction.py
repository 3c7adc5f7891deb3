"""What the requester thought: a survey entered after a call, and a formal complaint."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from itsm_tui.desk import measures
from itsm_tui.i18n import _
from itsm_tui.screens.forms.base import DeskForm, FormInvalid, field_text, required_text


class SurveyForm(DeskForm):
    """The requester's 1–5 rating of a resolved ticket, taken by phone; one per ticket."""

    heading = _("Survey")
    RATINGS: ClassVar[list[tuple[str, int]]] = [
        (_("5 excellent"), 5),
        (_("4 good"), 4),
        (_("3 fair"), 3),
        (_("2 poor"), 2),
        (_("1 very poor"), 1),
    ]

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Rating"), classes="field-label")
        yield Select(self.RATINGS, prompt=_("the requester's rating"), id="survey-rating")
        yield Label(_("Comment"), classes="field-label")
        yield Input(compact=True, placeholder=_("in the requester's words"), id="survey-comment")

    def collect(self) -> dict[str, Any]:
        rating = self.query_one("#survey-rating", Select).value
        if not isinstance(rating, int):
            raise FormInvalid(_("choose the rating"), "survey-rating")
        return {"rating": rating, "comment": field_text(self, "survey-comment")}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        measures.record_survey(
            session,
            actor,
            self.number or "",
            values["rating"],
            comment=values["comment"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


class ComplaintForm(DeskForm):
    """A formal complaint about this ticket, from its requester (the complaint KPI counts it)."""

    heading = _("Complaint")

    def compose_fields(self) -> ComposeResult:
        yield Label(_("What the requester complains about"), classes="field-label")
        yield Input(compact=True, id="complaint-summary")

    def collect(self) -> dict[str, Any]:
        return {"summary": required_text(self, "complaint-summary", _("a summary"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        measures.record_complaint(
            session, actor, summary=values["summary"], number=self.number, now=now
        )
        return self.number or ""
