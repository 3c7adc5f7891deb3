"""Raising a change (type, a standard change's template, services, plans, window,
implementer) and editing one before the CAB is asked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.orm import Session
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static, TextArea

from itsm_tui import desk
from itsm_tui.data.change_detail import ChangeDetail
from itsm_tui.domain.workflow import CHANGE_TYPES, NORMAL_CHANGE, STANDARD_CHANGE
from itsm_tui.i18n import _
from itsm_tui.screens.changes.forms.base import (
    TIME_HINT,
    ChangeChoices,
    ChangeForm,
    local_text,
    parse_local,
    time_problem,
    typed_time,
)
from itsm_tui.screens.forms.base import FormInvalid, field_text, required_text
from itsm_tui.screens.text import printable, safe_text

IMPACTS: list[tuple[str, int]] = [(_("1 high"), 1), (_("2 medium"), 2), (_("3 low"), 3)]
DEFAULT_IMPACT = 3
# The text boxes a standard change's template fills, by the template's field name.
TEMPLATE_TEXTS = {
    "title": "plan-title",
    "category": "plan-category",
    "description": "plan-description",
    "implementation_plan": "plan-implementation",
    "backout_plan": "plan-backout",
    "test_plan": "plan-test",
}
SERVICES_SEP = "\n"


def template_value(template: Any, name: str) -> Any:
    """A template's field whether the desk hands templates over as mappings or objects."""
    if isinstance(template, Mapping):
        return template.get(name)
    return getattr(template, name, None)


def template_duration(template: Any) -> timedelta | None:
    for name in ("duration", "expected_duration"):
        value = template_value(template, name)
        if isinstance(value, timedelta):
            return value
    minutes = template_value(template, "duration_minutes") or template_value(
        template, "expected_minutes"
    )
    return timedelta(minutes=int(minutes)) if minutes else None


class ChangePlanForm(ChangeForm):
    """The fields a change is planned with; the new-change and edit forms add their own."""

    # Raising a change also takes its type, template and window.
    raising: ClassVar[bool] = False

    def __init__(self, change: ChangeDetail | None) -> None:
        super().__init__(change)
        # Choices a draft made in lists not read yet (services, implementer, template).
        self._restore: dict[str, str] = {}

    def compose_fields(self) -> ComposeResult:
        c = self.change
        if self.raising:
            with Horizontal(classes="levels"):
                with Vertical():
                    yield Label(_("Type"), classes="field-label")
                    yield Select(
                        [(kind, kind) for kind in CHANGE_TYPES],
                        compact=True,
                        id="plan-type",
                        value=NORMAL_CHANGE,
                        allow_blank=False,
                    )
                with Vertical(id="plan-template-box"):
                    yield Label(_("Template (standard changes)"), classes="field-label")
                    yield Select(
                        [], compact=True, id="plan-template", prompt=_("choose a template")
                    )
            yield Static("", id="plan-template-facts", classes="field-hint")
        yield Label(_("Title"), classes="field-label")
        yield Input(compact=True, id="plan-title", placeholder=_("what changes, in a line"))
        with Horizontal(classes="levels"):
            with Vertical():
                yield Label(_("Impact"), classes="field-label")
                yield Select(
                    IMPACTS,
                    compact=True,
                    id="plan-impact",
                    value=c.impact if c else DEFAULT_IMPACT,
                    allow_blank=False,
                )
            with Vertical():
                yield Label(_("Category"), classes="field-label")
                yield Input(compact=True, id="plan-category", placeholder=_("e.g. network"))
            with Vertical():
                yield Label(_("Implementer"), classes="field-label")
                yield Select([], compact=True, id="plan-implementer", prompt=_("nobody yet"))
        yield Label(_("Services affected"), classes="field-label")
        yield SelectionList[str](id="plan-services", compact=True, classes="services")
        if self.raising:
            with Horizontal(classes="levels"):
                with Vertical():
                    yield Label(
                        _("Planned start ({hint})").format(hint=TIME_HINT), classes="field-label"
                    )
                    yield Input(compact=True, id="plan-start", placeholder=TIME_HINT)
                with Vertical():
                    yield Label(_("Planned end"), classes="field-label")
                    yield Input(compact=True, id="plan-end", placeholder=TIME_HINT)
        yield Label(_("Description"), classes="field-label")
        yield TextArea(id="plan-description", classes="note")
        yield Label(_("Implementation plan"), classes="field-label")
        yield TextArea(id="plan-implementation", classes="note")
        yield Label(_("Back-out plan"), classes="field-label")
        yield TextArea(id="plan-backout", classes="note")
        yield Label(_("Test plan"), classes="field-label")
        yield TextArea(id="plan-test", classes="note")

    def problem_while_typing(self, widget: Widget) -> str | None:
        if isinstance(widget, Input) and widget.id in ("plan-start", "plan-end"):
            return time_problem(widget.value)
        return None

    # -- the lists, and what a draft chose in them

    def choices_ready(self, choices: ChangeChoices) -> None:
        self.query_one("#plan-implementer", Select).set_options(self.implementer_options())
        services = self.query_one("#plan-services", SelectionList)
        services.clear_options()
        chosen = set(self._chosen_services())
        services.add_options(
            [(printable(s, single_line=True), s, s in chosen) for s in choices.services]
        )
        if services.option_count:
            # Space toggles the highlighted service: the first one, when the list is reached.
            services.highlighted = 0
        implementer = self._restore.get("plan-implementer") or (
            self.change.implementer if self.change else None
        )
        if implementer in {a.username for a in choices.agents}:
            self.query_one("#plan-implementer", Select).value = implementer

    def _chosen_services(self) -> list[str]:
        if "plan-services" in self._restore:
            return [s for s in self._restore["plan-services"].split(SERVICES_SEP) if s]
        return list(self.change.services) if self.change else []

    def draft_choices(self) -> dict[str, str]:
        kept: dict[str, str] = dict(self._restore)
        if self.choices is None:
            return kept  # the lists are not on screen yet: the draft's choices stand
        services = self.query_one("#plan-services", SelectionList).selected
        original = list(self.change.services) if self.change else []
        if sorted(services) != sorted(original):
            kept["plan-services"] = SERVICES_SEP.join(str(s) for s in services)
        else:
            kept.pop("plan-services", None)
        implementer = self.selected("plan-implementer")
        if implementer and implementer != (self.change.implementer if self.change else None):
            kept["plan-implementer"] = str(implementer)
        else:
            kept.pop("plan-implementer", None)
        impact = self.selected("plan-impact")
        if impact != (self.change.impact if self.change else DEFAULT_IMPACT):
            kept["plan-impact"] = str(impact)
        return kept

    def restore_choices(self, draft: dict[str, str]) -> None:
        self._restore = {
            k: v for k, v in draft.items() if k in ("plan-services", "plan-implementer")
        }
        impact = draft.get("plan-impact", "")
        if impact.isdigit() and int(impact) in {v for _l, v in IMPACTS}:
            self.query_one("#plan-impact", Select).value = int(impact)

    # -- values

    def plan_values(self) -> dict[str, Any]:
        if self.choices is None:
            raise FormInvalid(_("the desk's services and agents are still being read"))
        return {
            "title": required_text(self, "plan-title", _("a title")).strip(),
            "description": field_text(self, "plan-description"),
            "category": field_text(self, "plan-category").strip(),
            "impact": int(self.selected("plan-impact") or DEFAULT_IMPACT),
            "services": [str(s) for s in self.query_one("#plan-services", SelectionList).selected],
            "implementer": self.selected("plan-implementer"),
            "implementation_plan": field_text(self, "plan-implementation"),
            "backout_plan": field_text(self, "plan-backout"),
            "test_plan": field_text(self, "plan-test"),
        }


class NewChangeScreen(ChangePlanForm):
    """Raise a change: a standard change from a template (its fields filled in), a normal or
    an emergency one from scratch."""

    heading = _("New change")
    raising = True

    def __init__(self, *, problem: str | None = None) -> None:  # type: ignore[override]
        super().__init__(None)
        # Raised from a problem: the change carries the link (and may resolve it later).
        self.problem = problem.strip().upper() if problem else None
        self._template_filled: dict[str, str] = {}

    def extra_choices(self, session: Session) -> Any:
        from itsm_tui.config import change_templates

        return dict(change_templates(session))

    @property
    def draft_key(self) -> tuple[str, str | None]:
        # One draft per problem a change is raised from (and one for a change from scratch).
        return ("NewChangeScreen", self.problem)

    def title_text(self) -> Text:
        title = super().title_text()
        if self.problem:
            title.append("  " + _("fixes") + " ")
            title.append_text(safe_text(self.problem, "bold", single_line=True))
        return title

    @property
    def templates(self) -> dict[str, Any]:
        """Standard-change templates by name (title, services, plans, duration, risk)."""
        found = self.choices.extra if self.choices is not None else None
        return dict(found or {})

    def choices_ready(self, choices: ChangeChoices) -> None:
        super().choices_ready(choices)
        picker = self.query_one("#plan-template", Select)
        picker.set_options(
            (printable(f"{name} — {template_value(t, 'title') or ''}", single_line=True), name)
            for name, t in self.templates.items()
        )
        template = self._restore.pop("plan-template", None)
        if template in self.templates:
            picker.value = template
        self._show_template_box()

    def restore_choices(self, draft: dict[str, str]) -> None:
        super().restore_choices(draft)
        kind = draft.get("plan-type")
        if kind in CHANGE_TYPES:
            self.query_one("#plan-type", Select).value = kind
        if draft.get("plan-template"):
            self._restore["plan-template"] = draft["plan-template"]

    def draft_choices(self) -> dict[str, str]:
        kept = super().draft_choices()
        kind = self.selected("plan-type")
        if kind and kind != NORMAL_CHANGE:
            kept["plan-type"] = str(kind)
        template = self.selected("plan-template")
        if template:
            kept["plan-template"] = str(template)
        return kept

    @on(Select.Changed, "#plan-type")
    def _show_template_box(self) -> None:
        standard = self.selected("plan-type") == STANDARD_CHANGE
        self.query_one("#plan-template-box").display = standard
        self.query_one("#plan-template-facts").display = standard

    @on(Select.Changed, "#plan-template")
    def _template_chosen(self, event: Select.Changed) -> None:
        template = self.templates.get(str(event.value)) if event.value != Select.NULL else None
        facts = self.query_one("#plan-template-facts", Static)
        if template is None:
            facts.update("")
            return
        # A field still holding what the last template put there (or nothing) takes the new
        # template's text; what the agent typed stays.
        for name, widget_id in TEMPLATE_TEXTS.items():
            value = template_value(template, name)
            if not value:
                continue
            widget = self.query_one(f"#{widget_id}")
            current = widget.value if isinstance(widget, Input) else widget.text  # type: ignore[union-attr]
            if current and current != self._template_filled.get(widget_id):
                continue
            if isinstance(widget, Input):
                widget.value = str(value)
            elif isinstance(widget, TextArea):
                widget.text = str(value)
            self._template_filled[widget_id] = str(value)
        services = self.query_one("#plan-services", SelectionList)
        wanted = {str(s) for s in template_value(template, "services") or ()}
        if wanted and not services.selected:
            for name in wanted:
                services.select(name)
        duration = template_duration(template)
        start = self.query_one("#plan-start", Input).value
        if duration is not None and start and not self.query_one("#plan-end", Input).value:
            at = parse_local(start, self.zone)
            if at is not None:
                self.query_one("#plan-end", Input).value = local_text(at + duration, self.zone)
        said = Text(_("Pre-approved; no CAB."))
        risk = template_value(template, "risk")
        if risk:
            said.append("  " + _("Risk {level}.").format(level=str(risk).replace("_", " ")))
        if duration is not None:
            hours = duration.total_seconds() / 3600
            said.append("  " + _("Takes about {hours:g} h.").format(hours=round(hours, 1)))
        facts.update(said)

    def collect(self) -> dict[str, Any]:
        kind = self.selected("plan-type") or NORMAL_CHANGE
        template = self.selected("plan-template") if kind == STANDARD_CHANGE else None
        if kind == STANDARD_CHANGE and template is None:
            raise FormInvalid(
                _("a standard change comes from a template: choose one"), "plan-template"
            )
        values = self.plan_values()
        start = typed_time(self, "plan-start", self.zone, _("the planned start"))
        end = typed_time(self, "plan-end", self.zone, _("the planned end"))
        if (start is None) != (end is None):
            missing = "plan-end" if end is None else "plan-start"
            raise FormInvalid(_("a planned window needs a start and an end"), missing)
        if start is not None and end is not None and end <= start:
            raise FormInvalid(_("the planned window must end after it starts"), "plan-end")
        values.update(
            change_type=kind,
            template=template,
            planned_start=start,
            planned_end=end,
            problem=self.problem,
        )
        return values

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        change = desk.create_change(session, actor, now=now, **values)
        return change.number


class EditChangeForm(ChangePlanForm):
    """Edit a change's fields and plans; only before the CAB is asked (the desk says so)."""

    heading = _("Edit change")

    def on_mount(self) -> None:
        # The change's own text first; a draft left on this change then brings back its own.
        c = self.change
        assert c is not None
        for widget_id, value in (
            ("plan-title", c.title),
            ("plan-category", c.category),
            ("plan-description", c.description),
            ("plan-implementation", c.implementation_plan),
            ("plan-backout", c.backout_plan),
            ("plan-test", c.test_plan),
        ):
            widget = self.query_one(f"#{widget_id}")
            if isinstance(widget, Input):
                widget.value = value
            elif isinstance(widget, TextArea):
                widget.text = value
        super().on_mount()

    def typed_text(self) -> dict[str, str]:
        # Only what differs from the change is the agent's text (a draft of nothing new
        # would otherwise be kept for every change ever opened for editing).
        c = self.change
        assert c is not None
        original = {
            "plan-title": c.title,
            "plan-category": c.category,
            "plan-description": c.description,
            "plan-implementation": c.implementation_plan,
            "plan-backout": c.backout_plan,
            "plan-test": c.test_plan,
        }
        return {k: v for k, v in super().typed_text().items() if original.get(k) != v}

    def collect(self) -> dict[str, Any]:
        values = self.plan_values()
        # The desk reads "" as "nobody" (None would leave the implementer as it is).
        values["implementer"] = values["implementer"] or ""
        return values

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        desk.update_change(
            session, actor, self.number or "", expected_version=expected_version, now=now, **values
        )
        return self.number or ""
