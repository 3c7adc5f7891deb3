"""The forms of a change's steps: submit, approve, reject, start, complete, review, close,
cancel, and link an incident the change caused."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from itsm_tui import desk
from itsm_tui.data.change_detail import ChangeDetail
from itsm_tui.domain.workflow import (
    CHANGE_OUTCOMES,
    CHANGE_WORKFLOWS,
    EMERGENCY_CHANGE,
    STANDARD_CHANGE,
)
from itsm_tui.i18n import _
from itsm_tui.screens.changes.forms.base import TIME_HINT, ChangeForm, time_problem, typed_time
from itsm_tui.screens.forms.base import FormInvalid, field_text, required_text
from itsm_tui.screens.text import printable, safe_text

# What each gate asks of a change before it is submitted to it (the desk checks).
GATE_NEEDS = {
    "assessment": _("The change manager assesses it next; answer the risk questionnaire."),
    "authorization": _(
        "The CAB votes next: it needs an assessed risk, the three plans and a planned window."
    ),
    "scheduled": _("A standard change is pre-approved: it needs a planned window."),
}


def next_gate(change: ChangeDetail) -> str | None:
    """Where submitting takes the change: the first forward move from its status."""
    flow = CHANGE_WORKFLOWS.get(change.change_type)
    if flow is None:
        return None
    for move in flow.allowed(change.status):
        if move in GATE_NEEDS:
            return move
    return None


class SubmitForm(ChangeForm):
    heading = _("Submit")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        gate = next_gate(c)
        text = Text()
        if gate is None:
            text.append(
                _("A {type} change in {status} has no gate to go to.").format(
                    type=c.change_type, status=c.status
                )
            )
        else:
            text.append(_("Submit to {gate}.").format(gate=gate), style="bold")
            text.append("\n" + GATE_NEEDS[gate])
            if c.change_type == EMERGENCY_CHANGE:
                text.append(
                    "\n"
                    + _("Emergency: the emergency CAB votes; it may start before every vote is in.")
                )
        yield Static(text, id="submit-gate")

    def collect(self) -> dict[str, Any]:
        return {}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.submit_change(
            session, actor, self.number or "", expected_version=expected_version, now=now
        )
        return self.number or ""


class ApproveForm(ChangeForm):
    heading = _("Approve")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        yield Static(
            _("Your vote counts towards {quorum} approvals; {approved} in so far.").format(
                quorum=c.quorum, approved=c.approved_count
            ),
            classes="field-hint",
        )
        yield Label(_("Comment (optional, audited)"), classes="field-label")
        yield TextArea(id="approve-comment", classes="note")

    def collect(self) -> dict[str, Any]:
        return {"comment": field_text(self, "approve-comment")}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.approve_change(session, actor, self.number or "", comment=values["comment"], now=now)
        return self.number or ""


class RejectForm(ChangeForm):
    heading = _("Reject")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        yield Static(_("One rejection rejects the change."), classes="field-hint")
        yield Label(_("Reason (the requester reads it)"), classes="field-label")
        yield TextArea(id="reject-reason", classes="body")

    def collect(self) -> dict[str, Any]:
        return {"reason": required_text(self, "reject-reason", _("a reason"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.reject_change(session, actor, self.number or "", reason=values["reason"], now=now)
        return self.number or ""


class _TimedStep(ChangeForm):
    """A step that happened at a time the agent may give (empty: now)."""

    time_field: ClassVar[str] = ""

    def problem_while_typing(self, widget: Widget) -> str | None:
        if isinstance(widget, Input) and widget.id == self.time_field:
            return time_problem(widget.value)
        return None

    def typed_at(self) -> Any:
        return typed_time(self, self.time_field, self.zone, _("the time"))


class StartForm(_TimedStep):
    heading = _("Start implementing")
    time_field = "start-at"

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        if c.change_type == EMERGENCY_CHANGE and c.status == "authorization":
            yield Static(
                _("Emergency: starting before every approval is in; the review is required."),
                classes="field-hint",
            )
        yield Label(
            _("Started at ({hint}; empty: now)").format(hint=TIME_HINT), classes="field-label"
        )
        yield Input(compact=True, id="start-at", placeholder=TIME_HINT)

    def collect(self) -> dict[str, Any]:
        return {"at": self.typed_at()}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.start_change(
            session,
            actor,
            self.number or "",
            at=values["at"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


class CompleteForm(_TimedStep):
    heading = _("Complete")
    time_field = "complete-at"

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Outcome"), classes="field-label")
        yield Select(
            [(o.replace("_", " "), o) for o in CHANGE_OUTCOMES],
            compact=True,
            id="complete-outcome",
            prompt=_("how did it go?"),
        )
        yield Label(
            _("Ended at ({hint}; empty: now)").format(hint=TIME_HINT), classes="field-label"
        )
        yield Input(compact=True, id="complete-at", placeholder=TIME_HINT)
        yield Label(_("Notes"), classes="field-label")
        yield TextArea(id="complete-notes", classes="body")

    def draft_choices(self) -> dict[str, str]:
        outcome = self.selected("complete-outcome")
        return {"complete-outcome": str(outcome)} if outcome else {}

    def restore_choices(self, draft: dict[str, str]) -> None:
        if draft.get("complete-outcome") in CHANGE_OUTCOMES:
            self.query_one("#complete-outcome", Select).value = draft["complete-outcome"]

    def collect(self) -> dict[str, Any]:
        outcome = self.selected("complete-outcome")
        if outcome is None:
            raise FormInvalid(_("choose the outcome"), "complete-outcome")
        notes = field_text(self, "complete-notes")
        if outcome != "successful" and not notes.strip():
            raise FormInvalid(
                _("say what went wrong: a {outcome} change needs notes").format(
                    outcome=outcome.replace("_", " ")
                ),
                "complete-notes",
            )
        return {"outcome": outcome, "notes": notes, "at": self.typed_at()}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.complete_change(
            session,
            actor,
            self.number or "",
            outcome=values["outcome"],
            notes=values["notes"],
            at=values["at"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


class ReviewForm(ChangeForm):
    """The post-implementation review: what happened, and what the desk learns from it."""

    heading = _("Post-implementation review")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        outcome = (c.outcome or _("no outcome yet")).replace("_", " ")
        hint = Text(_("Outcome: "))
        hint.append(outcome, style="bold")
        if c.caused_incidents:
            hint.append(
                "  " + _("{n} incident(s) caused").format(n=len(c.caused_incidents)),
                style="bold red",
            )
        yield Static(hint, classes="field-hint")
        yield Label(_("Review notes"), classes="field-label")
        yield TextArea(id="review-notes", classes="body")
        yield Label(_("Lessons learned"), classes="field-label")
        yield TextArea(id="review-lessons", classes="body")

    def on_mount(self) -> None:
        c = self.change
        assert c is not None
        # A review is written over days: what was saved before is the starting text.
        self.query_one("#review-notes", TextArea).text = c.review_notes
        self.query_one("#review-lessons", TextArea).text = c.lessons_learned
        super().on_mount()

    def typed_text(self) -> dict[str, str]:
        c = self.change
        assert c is not None
        saved = {"review-notes": c.review_notes, "review-lessons": c.lessons_learned}
        return {k: v for k, v in super().typed_text().items() if saved.get(k) != v}

    def collect(self) -> dict[str, Any]:
        return {
            "review_notes": required_text(self, "review-notes", _("review notes")),
            "lessons_learned": required_text(self, "review-lessons", _("lessons learned")),
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.review_change(
            session,
            actor,
            self.number or "",
            expected_version=expected_version,
            now=now,
            **values,
        )
        return self.number or ""


class CloseForm(ChangeForm):
    heading = _("Close")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        hint = Text(_("Closing ends the change's record."))
        if c.change_type != STANDARD_CHANGE and not c.reviewed_at:
            hint.append(
                "\n" + _("An emergency, failed or backed-out change needs its review first.")
            )
        yield Static(hint, classes="field-hint")
        if c.problem and c.outcome == "successful":
            yield Checkbox(
                Text(
                    _("Resolve the known error of {problem}: the change fixed it").format(
                        problem=printable(c.problem, single_line=True)
                    )
                ),
                id="close-resolve-problem",
                compact=True,
            )

    def collect(self) -> dict[str, Any]:
        found = self.query("#close-resolve-problem")
        return {"resolve_problem": bool(found and found.first(Checkbox).value)}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.close_change(
            session,
            actor,
            self.number or "",
            resolve_problem=values["resolve_problem"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


class CancelForm(ChangeForm):
    heading = _("Cancel the change")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Why is it cancelled? (audited)"), classes="field-label")
        yield TextArea(id="cancel-reason", classes="note")

    def collect(self) -> dict[str, Any]:
        return {"reason": required_text(self, "cancel-reason", _("a reason"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.cancel_change(
            session,
            actor,
            self.number or "",
            reason=values["reason"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


class LinkIncidentForm(ChangeForm):
    """An incident the change caused: it counts against first-time success."""

    heading = _("Link a caused incident")
    reads_choices = False

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        if c.caused_incidents:
            linked = ", ".join(i.number for i in c.caused_incidents)
            yield Static(
                Text(_("Linked already: ")).append_text(safe_text(linked, single_line=True)),
                classes="field-hint",
            )
        yield Label(_("Incident number"), classes="field-label")
        yield Input(compact=True, id="link-incident", placeholder="INC…")

    def collect(self) -> dict[str, Any]:
        number = required_text(self, "link-incident", _("an incident number")).strip().upper()
        if not number.startswith("INC"):
            raise FormInvalid(
                _("'{text}' is not an incident number (INC…)").format(
                    text=printable(number, single_line=True)
                ),
                "link-incident",
            )
        return {"incident": number}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.link_caused_incident(session, actor, self.number or "", values["incident"], now=now)
        return self.number or ""
