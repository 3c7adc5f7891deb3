"""The forms of a problem's detail screen: its root cause and analysis, the workaround that
makes it a known error, the change that fixes it and the article that documents it.

Each is a DeskForm: it keeps a draft on disk, keeps what was typed when the desk refuses
it, and writes through `itsm_tui.desk.problems` in a thread worker.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, TextArea

from itsm_tui.desk import problems as desk_problems
from itsm_tui.desk.errors import DeskError
from itsm_tui.i18n import _
from itsm_tui.screens.forms.base import DeskForm, FormInvalid, field_text, required_text

# The five whys are typed one a field; the desk keeps up to seven, the form offers five.
WHYS_SHOWN = 5


class ProblemForm(DeskForm):
    """A form on one problem as its detail screen last read it (`record`)."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__(record["number"], record.get("version"))
        self.record = record


class RootCauseForm(ProblemForm):
    """The root cause and how it was found: five whys, or a free-text analysis."""

    heading = _("Root cause")

    def compose_fields(self) -> ComposeResult:
        r = self.record
        analysis = r.get("analysis") or {}
        whys = list(analysis.get("whys") or []) if analysis.get("method") == "five_whys" else []
        text = analysis.get("text", "") if analysis.get("method") == "free_text" else ""
        yield Label(_("Root cause"), classes="field-label")
        yield Input(r.get("root_cause") or "", compact=True, id="rca-cause")
        yield Label(
            _("Five whys (each answer asks the next why; leave the rest empty)"),
            classes="field-label",
        )
        for n in range(1, WHYS_SHOWN + 1):
            yield Input(
                whys[n - 1] if n <= len(whys) else "",
                compact=True,
                id=f"rca-why-{n}",
                placeholder=_("Why {n}?").format(n=n),
            )
        yield Label(_("…or the analysis in free text"), classes="field-label")
        yield TextArea(text, id="rca-analysis", classes="body")

    def collect(self) -> dict[str, Any]:
        cause = required_text(self, "rca-cause", _("the root cause"))
        answers = [field_text(self, f"rca-why-{n}").strip() for n in range(1, WHYS_SHOWN + 1)]
        while answers and not answers[-1]:
            answers.pop()
        for n, answer in enumerate(answers, 1):
            if not answer:
                raise FormInvalid(
                    _("why {n} is empty; answer it or leave out the ones after it").format(n=n),
                    f"rca-why-{n}",
                )
        analysis = field_text(self, "rca-analysis").strip()
        if answers and analysis:
            raise FormInvalid(
                _("give the five whys or a free-text analysis, not both"), "rca-analysis"
            )
        return {
            "root_cause": cause,
            "whys": answers or None,
            "analysis": analysis or None,
        }

    def field_refused(self, refused: DeskError) -> str | None:
        return "rca-cause" if "root cause" in refused.message else None

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk_problems.record_root_cause(
            session, actor, self.number or "", expected_version=expected_version, now=now, **values
        )
        return self.number or ""


class WorkaroundForm(ProblemForm):
    """Publish the workaround: the problem becomes a known error."""

    heading = _("Known error: workaround")

    def compose_fields(self) -> ComposeResult:
        yield Label(
            _("Workaround (publishing it makes the problem a known error)"),
            classes="field-label",
        )
        yield TextArea(self.record.get("workaround") or "", id="ke-workaround", classes="body")

    def collect(self) -> dict[str, Any]:
        return {"workaround": required_text(self, "ke-workaround", _("the workaround"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk_problems.publish_workaround(
            session, actor, self.number or "", expected_version=expected_version, now=now, **values
        )
        return self.number or ""


# A standard change comes from a template (the change board's form); a fix is planned.
CHANGE_TYPES = ("normal", "emergency")


class FixChangeForm(ProblemForm):
    """Raise the change that removes the root cause, linked to the problem."""

    heading = _("Raise the fix")

    def compose_fields(self) -> ComposeResult:
        r = self.record
        yield Label(_("Change title"), classes="field-label")
        yield Input(
            _("Fix: {title}").format(title=r["title"])[: desk_problems.MAX_TITLE],
            compact=True,
            id="fix-title",
        )
        yield Label(_("Type"), classes="field-label")
        yield Select(
            [(t, t) for t in CHANGE_TYPES], value="normal", allow_blank=False, id="fix-type"
        )
        yield Label(_("Description"), classes="field-label")
        yield TextArea(
            _("Removes the root cause of {number}: {cause}").format(
                number=r["number"], cause=r["root_cause"]
            )
            if r.get("root_cause")
            else "",
            id="fix-description",
            classes="body",
        )

    def draft_choices(self) -> dict[str, str]:
        value = self.query_one("#fix-type", Select).value
        return {"fix-type": str(value)} if value != "normal" else {}

    def restore_choices(self, draft: dict[str, str]) -> None:
        if draft.get("fix-type") in CHANGE_TYPES:
            self.query_one("#fix-type", Select).value = draft["fix-type"]

    def collect(self) -> dict[str, Any]:
        return {
            "title": required_text(self, "fix-title", _("a title")).strip(),
            "change_type": str(self.query_one("#fix-type", Select).value),
            "description": field_text(self, "fix-description").strip() or None,
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        change = desk_problems.raise_fix_change(
            session, actor, self.number or "", now=now, **values
        )
        return change.number


class ProblemArticleForm(ProblemForm):
    """Write the knowledge article from the problem (a draft, published from the knowledge
    base) or publish it at once."""

    heading = _("Article from the problem")

    def compose_fields(self) -> ComposeResult:
        r = self.record
        yield Label(_("Title"), classes="field-label")
        yield Input(
            _("Known error: {title}").format(title=r["title"])[: desk_problems.MAX_TITLE],
            compact=True,
            id="pa-title",
        )
        yield Label(_("Tags, separated by commas"), classes="field-label")
        yield Input("known-error", compact=True, id="pa-tags")
        yield Label(_("Then"), classes="field-label")
        yield Select(
            [(_("keep it a draft"), "draft"), (_("publish it now"), "publish")],
            value="draft",
            allow_blank=False,
            id="pa-publish",
        )

    def draft_choices(self) -> dict[str, str]:
        value = self.query_one("#pa-publish", Select).value
        return {"pa-publish": str(value)} if value == "publish" else {}

    def restore_choices(self, draft: dict[str, str]) -> None:
        if draft.get("pa-publish") == "publish":
            self.query_one("#pa-publish", Select).value = "publish"

    def collect(self) -> dict[str, Any]:
        return {
            "title": required_text(self, "pa-title", _("a title")).strip(),
            "tags": [t for t in field_text(self, "pa-tags").split(",") if t.strip()],
            "publish": self.query_one("#pa-publish", Select).value == "publish",
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        from itsm_tui.desk import knowledge as kb

        publish = values.pop("publish")
        article = desk_problems.article_from_problem(
            session, actor, self.number or "", now=now, **values
        )
        if publish:
            kb.publish_article(session, actor, article.number, now=now)
        return article.number
