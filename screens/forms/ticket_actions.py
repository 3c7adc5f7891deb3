"""Forms acting on one ticket: status, reply and note, resolve, reopen, priority, links, time."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from itsm_tui.desk import measures, tickets
from itsm_tui.domain.priority import parse_priority, priority_label
from itsm_tui.domain.workflow import REQUEST, RESOLUTION_CODES, workflow_for
from itsm_tui.i18n import _
from itsm_tui.screens.forms.base import (
    DeskForm,
    FormInvalid,
    field_text,
    required_text,
    status_label,
)
from itsm_tui.screens.text import printable

REOPEN = "reopen"


class StatusForm(DeskForm):
    """The moves the state machine allows from here, and only those."""

    heading = _("Change status")

    def __init__(self, number: str, version: int | None, ticket_type: str, status: str) -> None:
        super().__init__(number, version)
        self.ticket_type = ticket_type
        self.status = status
        flow = workflow_for(ticket_type)
        self.moves: list[str] = list(flow.allowed(status))
        if status in flow.reopenable:
            self.moves.append(REOPEN)
        self.resolved = flow.resolved

    def compose_fields(self) -> ComposeResult:
        yield Label(
            _("From {status} to:").format(status=status_label(self.status)), classes="field-label"
        )
        options = []
        for move in self.moves:
            prompt = Text(status_label(move) if move != REOPEN else _("reopen…"))
            if move == self.resolved:
                prompt.append("  " + _("(resolution code and notes)"), style="dim")
            options.append(Option(prompt, id=move))
        if not options:
            yield Static(
                _("{status} is final; nothing can move it").format(
                    status=status_label(self.status)
                ),
                classes="field-hint",
            )
        yield OptionList(*options, id="status-list", classes="picker", compact=True)
        yield Label(_("Work note (optional)"), classes="field-label")
        yield TextArea(id="status-note", classes="note")

    def on_mount(self) -> None:
        super().on_mount()
        picker = self.query_one("#status-list", OptionList)
        if picker.option_count:
            picker.highlighted = 0

    @property
    def chosen(self) -> str | None:
        picker = self.query_one("#status-list", OptionList)
        if picker.highlighted is None:
            return None
        return picker.get_option_at_index(picker.highlighted).id

    @on(OptionList.OptionSelected, "#status-list")
    def _selected(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        target = self.chosen
        if target is not None and (target == self.resolved or target == REOPEN):
            # Resolving and reopening ask for more: their own form takes over.
            form: DeskForm = (
                ResolveForm(self.number or "", self.version, self.ticket_type)
                if target == self.resolved
                else ReopenForm(self.number or "", self.version)
            )
            self.app.push_screen(form, self._after_next_form)
            return
        super().action_submit()

    def _after_next_form(self, result: str | None) -> None:
        if result:
            self.dismiss(result)

    def collect(self) -> dict[str, Any]:
        target = self.chosen
        if target is None:
            raise FormInvalid(_("choose the new status"), "status-list")
        return {"status": target, "note": field_text(self, "status-note")}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        note = values["note"] if values["note"].strip() else None
        ticket = tickets.transition_ticket(
            session,
            actor,
            self.number or "",
            values["status"],
            note=note,
            expected_version=expected_version,
            now=now,
        )
        return ticket.number


# ---------------------------------------------------------------------------
# Comments


class CommentForm(DeskForm):
    """A public reply to the requester, or an internal work note."""

    def __init__(self, number: str, version: int | None = None, *, kind: str = "reply") -> None:
        super().__init__(number, version)
        self.kind = kind

    @property
    def draft_key(self) -> tuple[str, str | None]:
        return (f"CommentForm.{self.kind}", self.number)

    def title_text(self) -> Text:
        self.heading = _("Reply to the requester") if self.kind == "reply" else _("Work note")
        return super().title_text()

    def compose_fields(self) -> ComposeResult:
        hint = (
            _("The requester sees this.") if self.kind == "reply" else _("Internal: agents only.")
        )
        yield Static(hint, classes="field-hint")
        yield TextArea(id="comment-body", classes="body")

    def collect(self) -> dict[str, Any]:
        return {"body": required_text(self, "comment-body", _("the text"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        tickets.add_comment(
            session,
            actor,
            self.number or "",
            values["body"],
            kind=self.kind,
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""


# ---------------------------------------------------------------------------
# Resolve and reopen


class ResolveForm(DeskForm):
    heading = _("Resolve")

    def __init__(self, number: str, version: int | None = None, ticket_type: str = "") -> None:
        super().__init__(number, version)
        self.ticket_type = ticket_type

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Resolution code"), classes="field-label")
        yield Select(
            compact=True,
            options=[(code.replace("_", " "), code) for code in RESOLUTION_CODES],
            prompt=_("choose a code"),
            id="resolve-code",
            value="fulfilled" if self.ticket_type == REQUEST else Select.NULL,
        )
        yield Label(_("Resolution notes"), classes="field-label")
        yield TextArea(id="resolve-notes", classes="body")

    def collect(self) -> dict[str, Any]:
        code = self.query_one("#resolve-code", Select).value
        if code == Select.NULL:
            raise FormInvalid(_("choose a resolution code"), "resolve-code")
        notes = required_text(self, "resolve-notes", _("resolution notes"))
        return {"code": code, "notes": notes}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.resolve_ticket(
            session,
            actor,
            self.number or "",
            code=values["code"],
            notes=values["notes"],
            expected_version=expected_version,
            now=now,
        )
        return ticket.number


class ReopenForm(DeskForm):
    heading = _("Reopen")

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Why does it need more work?"), classes="field-label")
        yield TextArea(id="reopen-reason", classes="body")

    def collect(self) -> dict[str, Any]:
        return {"reason": required_text(self, "reopen-reason", _("a reason"))}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.reopen_ticket(
            session,
            actor,
            self.number or "",
            reason=values["reason"],
            expected_version=expected_version,
            now=now,
        )
        return ticket.number


# ---------------------------------------------------------------------------
# Priority override


class PriorityForm(DeskForm):
    """Set the priority against the matrix: supervisors only (the desk checks), with a reason."""

    heading = _("Override priority")

    def __init__(self, number: str, version: int | None = None, current: str = "") -> None:
        super().__init__(number, version)
        self.current = current

    def compose_fields(self) -> ComposeResult:
        yield Static(
            _("Supervisors only. Now {priority}.").format(priority=self.current or "—"),
            classes="field-hint",
        )
        yield Label(_("Priority"), classes="field-label")
        try:
            value: Any = parse_priority(self.current)
        except ValueError:
            value = Select.NULL
        yield Select(
            compact=True,
            options=[(priority_label(p), p) for p in (1, 2, 3, 4)],
            id="priority-value",
            value=value,
            allow_blank=False,
        )
        yield Label(_("Reason (audited)"), classes="field-label")
        yield TextArea(id="priority-reason", classes="note")

    def collect(self) -> dict[str, Any]:
        priority = self.query_one("#priority-value", Select).value
        if priority == Select.NULL:
            raise FormInvalid(_("choose a priority"), "priority-value")
        return {
            "priority": priority,
            "reason": required_text(self, "priority-reason", _("a reason")),
        }

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.override_priority(
            session,
            actor,
            self.number or "",
            int(values["priority"]),
            reason=values["reason"],
            expected_version=expected_version,
            now=now,
        )
        return ticket.number


# ---------------------------------------------------------------------------
# Links


class LinkForm(DeskForm):
    heading = _("Link")
    KINDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("parent", _("Parent incident"), "INC…"),
        ("problem", _("Problem"), "PRB…"),
        ("change", _("Change"), "CHG…"),
        ("article", _("Knowledge article"), "KB…"),
    )

    def __init__(
        self, number: str, version: int | None = None, *, current: dict[str, Any] | None = None
    ) -> None:
        super().__init__(number, version)
        self.current = current or {}

    def compose_fields(self) -> ComposeResult:
        for key, label, example in self.KINDS:
            now = self.current.get(key)
            yield Label(
                label + (f" ({_('now')} {printable(now, single_line=True)})" if now else ""),
                classes="field-label",
                markup=False,
            )
            yield Input(compact=True, placeholder=example, id=f"link-{key}")

    def collect(self) -> dict[str, Any]:
        values = {
            key: field_text(self, f"link-{key}").strip() or None for key, _l, _e in self.KINDS
        }
        if not any(values.values()):
            raise FormInvalid(_("enter at least one number to link"), "link-parent")
        return values

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.link_ticket(
            session, actor, self.number or "", expected_version=expected_version, now=now, **values
        )
        return ticket.number


# ---------------------------------------------------------------------------
# Time


def minutes_in(text: str) -> int | None:
    """Whole minutes as typed (`45`, `+45`), or None when the text is not a number of them."""
    text = text.strip()
    if not text.lstrip("+-").isascii() or not text.lstrip("+-").isdigit():
        return None
    return int(text)


class TimeForm(DeskForm):
    heading = _("Log time")

    def problem_while_typing(self, widget: Widget) -> str | None:
        # Said while typing, so "abc" is answered, never swallowed.
        if widget.id != "time-minutes" or not isinstance(widget, Input):
            return None
        text = widget.value.strip()
        if text and minutes_in(text) is None:
            return _("'{text}' is not a number of minutes").format(
                text=printable(text, single_line=True)
            )
        return None

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Minutes"), classes="field-label")
        # No `type="integer"`: it drops letters silently; the form says what is wrong instead.
        yield Input(compact=True, placeholder=_("whole minutes, e.g. 45"), id="time-minutes")
        yield Label(_("Note"), classes="field-label")
        yield Input(compact=True, placeholder=_("what was done"), id="time-note")

    def collect(self) -> dict[str, Any]:
        raw = required_text(self, "time-minutes", _("minutes")).strip()
        minutes = minutes_in(raw)
        if minutes is None:
            raise FormInvalid(
                _("'{text}' is not a number of minutes; type whole minutes, e.g. 45").format(
                    text=printable(raw, single_line=True)
                ),
                "time-minutes",
            )
        if minutes <= 0:
            raise FormInvalid(_("minutes must be more than 0"), "time-minutes")
        return {"minutes": minutes, "note": field_text(self, "time-note")}

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        measures.log_time(
            session,
            actor,
            self.number or "",
            values["minutes"],
            note=values["note"],
            expected_version=expected_version,
            now=now,
        )
        return self.number or ""
