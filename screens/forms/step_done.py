"""A catalogue request's current fulfilment step completed from the ticket screen, with an
optional note: the same desk function as `itsm catalog done` (fulfilment.complete_task),
written in the form's worker. A refusal (another team's step, no open step any more) is
said in a toast as well as in the form, and nothing is written."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Label, Static, TextArea

from itsm_tui.desk.fulfilment import complete_task
from itsm_tui.i18n import _
from itsm_tui.screens.forms.base import DeskForm, field_text


class StepDoneForm(DeskForm):
    """Complete the request's open step: the next goes to its team, the last fulfils it."""

    heading = _("Step done")

    def __init__(self, number: str, version: int | None, step: str) -> None:
        super().__init__(number, version)
        # "2 of 3: Prepare the laptop (Desktop Support)", as read with the ticket.
        self.step = step

    def compose_fields(self) -> ComposeResult:
        yield Static(self.step, classes="field-hint", markup=False)
        yield Label(_("Note (optional, kept with the step)"), classes="field-label")
        yield TextArea(id="step-note", classes="body")

    def collect(self) -> dict[str, Any]:
        return {"note": field_text(self, "step-note").strip()}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        complete_task(
            session,
            actor,
            self.number or "",
            note=values["note"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""

    @on(DeskForm.Refused)
    def _toast_refusal(self, message: DeskForm.Refused) -> None:
        # The form says it too (and keeps the note); the toast outlives the form.
        self.app.notify(message.message, title=self.number, severity="error", markup=False)
