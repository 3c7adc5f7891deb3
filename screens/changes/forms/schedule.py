"""Scheduling a change: its window and implementer, the next free slot, and the conflicts
the desk found, which a change manager may override with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from itsm_tui import desk
from itsm_tui.config import change_types
from itsm_tui.context import DeskContext
from itsm_tui.data.change_schedule import Conflict, next_free_slot
from itsm_tui.desk.errors import DeskError, ScheduleConflict
from itsm_tui.desk.records import get_agent
from itsm_tui.domain.roles import can
from itsm_tui.i18n import _
from itsm_tui.screens.changes.forms.base import (
    TIME_HINT,
    ChangeChoices,
    ChangeForm,
    duration_text,
    local_text,
    time_problem,
    typed_time,
    window_text,
)
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.forms.base import DeskForm, FormInvalid, field_text
from itsm_tui.screens.text import safe_text

# The length a next free slot is looked for when no window is typed yet.
DEFAULT_DURATION = timedelta(hours=2)


def conflict_list(head: str, conflicts: Iterable[Conflict]) -> Text:
    text = Text(head, style="bold")
    for conflict in conflicts:
        text.append("\n⚠ ", style="bold red")
        text.append_text(safe_text(conflict.message, single_line=True))
    return text


@dataclass(frozen=True)
class ScheduleSetup:
    # A change manager may accept a conflict (with a reason); others only see it.
    may_override: bool
    # The change type's lead time from now: no free slot is looked for before it.
    earliest: datetime


class ScheduleForm(ChangeForm):
    heading = _("Schedule")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next_slot", _("Next free slot")),
    ]

    class SlotFound(Message):
        def __init__(self, slot: tuple[datetime, datetime] | None, error: str | None) -> None:
            super().__init__()
            self.slot = slot
            self.error = error

    def __init__(self, change: Any) -> None:
        super().__init__(change)
        # The conflicts of the last refused save (set by the write, read by its answer).
        self.conflicts: tuple[Conflict, ...] = ()

    def extra_choices(self, session: Session) -> Any:
        assert self.change is not None
        ctx = desk_of(self.app)
        actor = get_agent(session, ctx.actor)
        rules = change_types(session).get(self.change.change_type, {})
        lead = timedelta(hours=int(rules.get("lead_time_hours") or 0))
        return ScheduleSetup(
            may_override=can(actor.role_set, "change.manage"), earliest=ctx.now() + lead
        )

    def compose_fields(self) -> ComposeResult:
        c = self.change
        assert c is not None
        services = ", ".join(c.services) or _("no service")
        yield Static(
            Text(_("Services: ")).append_text(safe_text(services, single_line=True)),
            classes="field-hint",
        )
        with Horizontal(classes="levels"):
            with Vertical():
                yield Label(_("Start ({hint})").format(hint=TIME_HINT), classes="field-label")
                yield Input(compact=True, id="schedule-start", placeholder=TIME_HINT)
            with Vertical():
                yield Label(_("End"), classes="field-label")
                yield Input(compact=True, id="schedule-end", placeholder=TIME_HINT)
        yield Label(_("Implementer"), classes="field-label")
        yield Select([], compact=True, id="schedule-implementer", prompt=_("nobody yet"))
        yield Button(_("Next free slot (ctrl+n)"), id="schedule-next", compact=True)
        yield Static("", id="schedule-slot", classes="field-hint")
        yield Static("", id="schedule-conflicts", classes="conflicts")
        yield Label(
            _("Override the conflicts: why (audited)"),
            classes="field-label",
            id="schedule-override-label",
        )
        yield TextArea(id="schedule-override", classes="note")

    def on_mount(self) -> None:
        c = self.change
        assert c is not None
        # The planned window as the change holds it (in the desk's zone until the agent's
        # zone is read); a draft's typed text then takes its place.
        zone = desk_of(self.app).zone
        self.query_one("#schedule-start", Input).value = local_text(c.planned_start, zone)
        self.query_one("#schedule-end", Input).value = local_text(c.planned_end, zone)
        self._planned = (
            self.query_one("#schedule-start", Input).value,
            self.query_one("#schedule-end", Input).value,
        )
        for widget_id in ("#schedule-conflicts", "#schedule-override-label", "#schedule-override"):
            self.query_one(widget_id).display = False
        super().on_mount()

    def choices_ready(self, choices: ChangeChoices) -> None:
        c = self.change
        assert c is not None
        picker = self.query_one("#schedule-implementer", Select)
        picker.set_options(self.implementer_options())
        chosen = self._implementer_kept or c.implementer
        if chosen in {a.username for a in choices.agents}:
            picker.value = chosen
        if c.conflicts and not self.conflicts:
            # What the planned window clashes with as it stands (a freeze set since, a
            # change moved into it): said before the agent picks another window.
            box = self.query_one("#schedule-conflicts", Static)
            box.update(conflict_list(_("The planned window clashes with:"), c.conflicts))
            box.display = True
        # The window in the agent's own zone, unless the agent typed over it.
        start, end = (
            self.query_one("#schedule-start", Input),
            self.query_one("#schedule-end", Input),
        )
        if (start.value, end.value) == self._planned:
            start.value = local_text(c.planned_start, choices.zone)
            end.value = local_text(c.planned_end, choices.zone)
            self._planned = (start.value, end.value)

    _implementer_kept: str | None = None

    def typed_text(self) -> dict[str, str]:
        typed = super().typed_text()
        # The planned window as read is the change's, not the agent's text.
        for widget_id, planned in zip(
            ("schedule-start", "schedule-end"), self._planned, strict=True
        ):
            if typed.get(widget_id) == planned:
                del typed[widget_id]
        return typed

    def draft_choices(self) -> dict[str, str]:
        if self.choices is None:
            return (
                {"schedule-implementer": self._implementer_kept} if self._implementer_kept else {}
            )
        chosen = self.selected("schedule-implementer")
        if chosen and chosen != (self.change.implementer if self.change else None):
            return {"schedule-implementer": str(chosen)}
        return {}

    def restore_choices(self, draft: dict[str, str]) -> None:
        self._implementer_kept = draft.get("schedule-implementer")

    def problem_while_typing(self, widget: Widget) -> str | None:
        if isinstance(widget, Input) and widget.id in ("schedule-start", "schedule-end"):
            return time_problem(widget.value)
        return None

    # -- the next free slot

    @on(Button.Pressed, "#schedule-next")
    def action_next_slot(self) -> None:
        if self.choices is None:
            return
        c = self.change
        assert c is not None
        try:
            start = typed_time(self, "schedule-start", self.zone, _("the start"))
            end = typed_time(self, "schedule-end", self.zone, _("the end"))
        except FormInvalid as invalid:
            self.show_message(invalid.message)
            return
        duration = end - start if start and end and end > start else DEFAULT_DURATION
        earliest = self.setup.earliest if self.setup else desk_of(self.app).now()
        after = max(start or earliest, earliest)
        self.query_one("#schedule-slot", Static).update(_("Looking for a free slot…"))
        self._find_slot(
            desk_of(self.app),
            list(c.services),
            duration,
            after,
            self.selected("schedule-implementer"),
        )

    @work(thread=True, exclusive=True, group="form-slot")
    def _find_slot(
        self,
        ctx: DeskContext,
        services: list[str],
        duration: timedelta,
        after: datetime,
        implementer: str | None,
    ) -> None:
        try:
            with ctx.store.read() as session:
                implementer_id = get_agent(session, implementer).id if implementer else None
                slot = next_free_slot(
                    session,
                    services=services,
                    duration=duration,
                    after=after,
                    implementer_id=implementer_id,
                )
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(self.SlotFound(None, str(exc)))
            return
        self.post_message(self.SlotFound(slot, None))

    @on(SlotFound)
    def _on_slot(self, message: SlotFound) -> None:
        said = self.query_one("#schedule-slot", Static)
        if message.error is not None:
            said.update(safe_text(message.error))
            return
        if message.slot is None:
            said.update(_("No free slot of that length in the next 90 days."))
            return
        start, end = message.slot
        # What the old window clashed with no longer applies to the free one.
        self.conflicts = ()
        for widget_id in ("#schedule-conflicts", "#schedule-override-label", "#schedule-override"):
            self.query_one(widget_id).display = False
        self.query_one("#schedule-start", Input).value = local_text(start, self.zone)
        self.query_one("#schedule-end", Input).value = local_text(end, self.zone)
        said.update(
            _("Free: {window} ({length}).").format(
                window=window_text(start, end, self.zone), length=duration_text(end - start)
            )
        )

    # -- saving

    def collect(self) -> dict[str, Any]:
        if self.choices is None:
            raise FormInvalid(_("the desk's agents are still being read"))
        start = typed_time(self, "schedule-start", self.zone, _("the start"))
        end = typed_time(self, "schedule-end", self.zone, _("the end"))
        if start is None:
            raise FormInvalid(_("the start is required"), "schedule-start")
        if end is None:
            raise FormInvalid(_("the end is required"), "schedule-end")
        if end <= start:
            raise FormInvalid(_("the window must end after it starts"), "schedule-end")
        reason = field_text(self, "schedule-override").strip()
        return {
            "start": start,
            "end": end,
            "implementer": self.selected("schedule-implementer"),
            "override_reason": reason if self.conflicts and reason else None,
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        try:
            desk.schedule_change(
                session,
                actor,
                self.number or "",
                expected_version=expected_version,
                now=now,
                **values,
            )
        except ScheduleConflict as refused:
            self.conflicts = tuple(refused.conflicts)
            raise
        self.conflicts = ()
        return self.number or ""

    @on(DeskForm.Refused)
    def _show_conflicts(self) -> None:
        box = self.query_one("#schedule-conflicts", Static)
        box.display = bool(self.conflicts)
        if not self.conflicts:
            return
        setup = self.setup
        may_override = bool(setup and setup.may_override)
        text = conflict_list(_("The window clashes with:"), self.conflicts)
        text.append("\n")
        text.append(
            _("Give a reason below and save again to override them.")
            if may_override
            else _("Only a change manager may override a conflict; choose another window."),
            style="italic",
        )
        box.update(text)
        for widget_id in ("#schedule-override-label", "#schedule-override"):
            self.query_one(widget_id).display = may_override
        self.call_after_refresh(self._fit_body)

    @property
    def setup(self) -> ScheduleSetup | None:
        extra = self.choices.extra if self.choices is not None else None
        return extra if isinstance(extra, ScheduleSetup) else None
