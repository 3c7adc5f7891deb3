"""The risk questionnaire: one choice per question, the level computed as answers change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label, Select, Static

from itsm_tui import desk
from itsm_tui.config import risk_questionnaire
from itsm_tui.data.change_detail import ChangeDetail
from itsm_tui.desk.changes.risk import risk_facts
from itsm_tui.desk.records import get_change
from itsm_tui.domain import change_risk
from itsm_tui.i18n import _
from itsm_tui.screens.changes.forms.base import ChangeChoices, ChangeForm
from itsm_tui.screens.forms.base import FormInvalid
from itsm_tui.screens.text import printable, safe_text

# A question's choice is `risk-<question id>`.
ANSWER = "risk-"
RISK_STYLE = {
    "low": "green",
    "medium": "yellow",
    "high": "bold dark_orange",
    "very_high": "bold red",
}


@dataclass(frozen=True)
class RiskSetup:
    """The desk's questionnaire and the facts its rules judge this change by."""

    questionnaire: dict[str, Any]
    facts: Any


class RiskForm(ChangeForm):
    """Assess a change: the weighted questionnaire, and the rules the desk applies besides."""

    heading = _("Risk assessment")

    def __init__(self, change: ChangeDetail) -> None:
        super().__init__(change)
        # Answers a draft (or the last assessment) gave, until the questions are on screen.
        self._answers_kept: dict[str, str] = dict(change.risk_answers)

    def extra_choices(self, session: Session) -> Any:
        assert self.change is not None
        return RiskSetup(
            questionnaire=risk_questionnaire(session),
            facts=risk_facts(session, get_change(session, self.change.number)),
        )

    @property
    def setup(self) -> RiskSetup | None:
        return self.choices.extra if self.choices is not None else None

    def compose_fields(self) -> ComposeResult:
        yield Static(_("Reading the questionnaire…"), id="risk-level", classes="risk-level")
        yield Vertical(id="risk-questions")

    def choices_ready(self, choices: ChangeChoices) -> None:
        setup = choices.extra
        assert isinstance(setup, RiskSetup)
        widgets: list[Widget] = []
        for question in setup.questionnaire.get("questions", ()):
            qid = str(question["id"])
            widgets.append(Label(printable(question["text"]), classes="field-label", markup=False))
            options = [
                (printable(a.get("label") or a["value"], single_line=True), str(a["value"]))
                for a in question["answers"]
            ]
            kept = self._answers_kept.get(qid)
            widgets.append(
                Select(
                    options,
                    compact=True,
                    id=f"{ANSWER}{qid}",
                    prompt=_("choose an answer"),
                    value=kept if kept in {v for _l, v in options} else Select.NULL,
                )
            )
        box = self.query_one("#risk-questions", Vertical)
        box.mount_all(widgets)
        self.call_after_refresh(self._show_level)
        if widgets:
            self.call_after_refresh(widgets[1].focus)

    @property
    def answers(self) -> dict[str, str]:
        """The answers chosen on screen, by question id."""
        answers: dict[str, str] = {}
        for select in self.query("#risk-questions Select").results(Select):
            if select.value != Select.NULL and select.id:
                answers[select.id.removeprefix(ANSWER)] = str(select.value)
        return answers

    @on(Select.Changed, "#risk-questions Select")
    def _show_level(self) -> None:
        setup = self.setup
        if setup is None:
            return
        answers = self.answers
        result = change_risk.assess(setup.questionnaire, answers, setup.facts)
        questions = setup.questionnaire.get("questions", ())
        text = Text()
        text.append(_("Risk") + " ", style="bold")
        text.append(result.level.replace("_", " "), style=RISK_STYLE.get(result.level, "bold"))
        text.append("  " + _("score {score}").format(score=result.score), style="dim")
        if len(answers) < len(questions):
            text.append(
                "  " + _("{n} of {total} answered").format(n=len(answers), total=len(questions)),
                style="dim",
            )
        for reason in result.reasons:
            text.append("\n• ")
            text.append_text(safe_text(_reason_text(reason), single_line=True))
        self.query_one("#risk-level", Static).update(text)

    # -- drafts: the answers chosen

    def draft_choices(self) -> dict[str, str]:
        if self.setup is None:
            return {ANSWER + k: v for k, v in self._answers_kept.items()}
        original = self.change.risk_answers if self.change else {}
        return {ANSWER + k: v for k, v in self.answers.items() if original.get(k) != v}

    def restore_choices(self, draft: dict[str, str]) -> None:
        self._answers_kept.update(
            {k.removeprefix(ANSWER): v for k, v in draft.items() if k.startswith(ANSWER)}
        )

    @property
    def holds_text(self) -> bool:
        return not self._draft_done and bool(self.draft_choices())

    def collect(self) -> dict[str, Any]:
        setup = self.setup
        if setup is None:
            raise FormInvalid(_("the questionnaire is still being read"))
        answers = self.answers
        for question in setup.questionnaire.get("questions", ()):
            if str(question["id"]) not in answers:
                raise FormInvalid(
                    _("answer every question: '{text}' has no answer").format(
                        text=printable(question["text"], single_line=True)
                    ),
                    f"{ANSWER}{question['id']}",
                )
        return {"answers": answers}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.assess_change(
            session,
            actor,
            self.number or "",
            values["answers"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


def _reason_text(reason: Any) -> str:
    """A reason as `assess` gives it: a line of text, or a record with one."""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, dict):
        return str(reason.get("text") or reason)
    return str(getattr(reason, "text", reason))
