"""The modal action forms: each validates in place, writes in a worker and keeps its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data import directory
from itsm_tui.data.models import Agent
from itsm_tui.desk import measures, tickets
from itsm_tui.desk.errors import ChangeSince, Conflict, DeskError
from itsm_tui.desk.records import get_agent, priority_matrix
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.priority import DEFAULT_MATRIX, parse_priority, priority_for, priority_label
from itsm_tui.domain.workflow import REQUEST, RESOLUTION_CODES, workflow_for
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.drafts import DraftBox, draft_box
from itsm_tui.screens.text import printable, safe_text, when
from itsm_tui.screens.timeline import INTERNAL_FIELDS, field_label, shown_value
from itsm_tui.screens.widgets.footer import DeskFooter

# How long typing pauses before the draft on disk is brought up to date.
DRAFT_DELAY_S = 0.4

REOPEN = "reopen"


class FormInvalid(Exception):
    """A value the form itself can tell is wrong, before asking the desk."""

    def __init__(self, message: str, widget_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.widget_id = widget_id


@dataclass(frozen=True)
class WriteRequest:
    values: dict[str, Any]
    expected_version: int | None


class DeskForm(ModalScreen[str | None]):
    """One action on one ticket (or a new ticket): fields, Save, Cancel, and the desk's answer.

    Subclasses give `heading`, `compose_fields()`, `collect()` (validate in place, return
    the values) and `write()` (the one desk call, inside the worker's transaction).
    """

    CSS_PATH = "styles/forms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel")),
        Binding("ctrl+s", "submit", _("Save"), priority=True),
        # ctrl+d deletes a character in the text fields; t for trash.
        Binding("ctrl+t", "discard", _("Discard draft")),
    ]
    heading: ClassVar[str] = ""

    class Written(Message):
        def __init__(self, number: str) -> None:
            super().__init__()
            self.number = number

    class Refused(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class Stale(Message):
        def __init__(
            self, message: str, changes: tuple[ChangeSince, ...], current: int, zone: tzinfo
        ) -> None:
            super().__init__()
            self.message = message
            self.changes = changes
            self.current_version = current
            self.zone = zone

    def __init__(self, number: str | None, version: int | None = None) -> None:
        super().__init__()
        self.number = number.strip().upper() if number else None
        self.version = version
        self.busy = False
        self._stale_version: int | None = None
        # Set once the text is saved or discarded: no draft is written after that.
        self._draft_done = False
        self._draft_timer: Timer | None = None
        # The field the form's own check last complained about: editing it clears the line.
        self._invalid_field: str | None = None

    # -- layout

    def title_text(self) -> Text:
        title = Text(self.heading, style="bold")
        if self.number:
            title.append("  " + self.number, style="bold")
        return title

    def compose(self) -> ComposeResult:
        with Vertical(id="form-dialog", classes=f"desk-form {type(self).__name__}"):
            yield Label(self.title_text(), id="form-title")
            with VerticalScroll(id="form-body"):
                yield from self.compose_fields()
            yield Static("", id="form-message")
            yield Static("", id="form-conflict")
            with Horizontal(id="form-buttons"):
                yield Button(_("Save"), variant="primary", id="form-submit", compact=True)
                yield Button(_("Re-apply"), variant="warning", id="form-reapply", compact=True)
                yield Button(_("Cancel"), id="form-cancel", compact=True)
        yield DeskFooter()

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_resize(self) -> None:
        self._fit_body()

    def _fit_body(self) -> None:
        """The body scrolls inside whatever the terminal leaves after the footer, the
        dialog's frame, title, the desk's message, the conflict panel and the buttons, so
        Save / Re-apply / Cancel stay on screen (CSS has no 'the rest' for an auto height)."""
        dialog = self.query_one("#form-dialog")
        taken = dialog.styles.gutter.height + self.query_one(DeskFooter).outer_size.height
        for child in dialog.children:
            if child.id != "form-body" and child.display:
                taken += child.outer_size.height + child.styles.margin.height
        self.query_one("#form-body").styles.max_height = max(3, self.size.height - taken)

    def on_mount(self) -> None:
        self.query_one("#form-message").display = False
        self.query_one("#form-reapply").display = False
        self.query_one("#form-conflict").display = False
        self._restore_draft()
        # The first field in the form's order (queries return DOM order).
        fields = self.query(
            "#form-body Input, #form-body TextArea, #form-body Select, #form-body OptionList"
        )
        if fields:
            fields.first().focus()

    # -- drafts: nothing typed is lost, by Escape, ctrl+q, a crash or a hang-up

    @property
    def draft_key(self) -> tuple[str, str | None]:
        return (type(self).__name__, self.number)

    @property
    def draft_name(self) -> str:
        """The draft's name in the agent's draft box: the form and its ticket."""
        kind, number = self.draft_key
        return f"{kind}.{number}" if number else kind

    @property
    def drafts(self) -> DraftBox:
        ctx = desk_of(self.app)
        return draft_box(ctx.store.url, ctx.actor, ctx.drafts_root)

    def _text_fields(self) -> list[Input | TextArea]:
        return [w for w in self.query("Input, TextArea") if w.id]  # type: ignore[misc]

    def draft_fields(self) -> dict[str, str]:
        """What the form's text fields hold now, by field id (empty fields left out)."""
        values: dict[str, str] = {}
        for widget in self._text_fields():
            text = widget.value if isinstance(widget, Input) else widget.text
            if text:
                values[str(widget.id)] = text
        return values

    @property
    def holds_text(self) -> bool:
        return not self._draft_done and bool(self.draft_fields())

    def _restore_draft(self) -> None:
        # Read on mount, before the first key: a few kilobytes from a local file.
        draft = self.drafts.load(self.draft_name)
        for widget in self._text_fields():
            text = draft.get(str(widget.id))
            if text is None:
                continue
            # The cursor goes to the end, where the agent left off.
            if isinstance(widget, Input):
                widget.value = text
                widget.cursor_position = len(text)
            else:
                widget.text = text
                widget.move_cursor(widget.document.end)

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _text_changed(self) -> None:
        # Debounced: the write waits for a pause in typing and runs off the UI thread.
        if self._draft_done:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY_S, self._write_draft_later)

    def _write_draft_later(self) -> None:
        self._draft_timer = None
        if self._draft_done:
            return
        box = self.drafts
        self._store_draft(
            box, self.draft_name, self.draft_fields(), box.next_version(self.draft_name)
        )

    @work(thread=True, group="form-draft")
    def _store_draft(self, box: DraftBox, name: str, fields: dict[str, str], version: int) -> None:
        try:
            box.save(name, fields, now=desk_of(self.app).now(), version=version)
        except OSError as exc:
            self.app.call_from_thread(
                self.app.notify,
                _("The draft could not be kept on disk: {error}").format(error=exc),
                severity="warning",
                markup=False,
            )

    def flush_draft(self) -> None:
        """Write the draft now, on this thread: the app is closing or the form is leaving."""
        if self._draft_done:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        box = self.drafts
        box.save(
            self.draft_name,
            self.draft_fields(),
            now=desk_of(self.app).now(),
            version=box.next_version(self.draft_name),
        )

    def _forget_draft(self) -> None:
        self._draft_done = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        self.drafts.discard(self.draft_name)

    def action_discard(self) -> None:
        """Throw the text away, on disk too, and close the form."""
        if self.busy:
            return
        had_text = bool(self.draft_fields())
        self._forget_draft()
        if had_text:
            self.app.notify(_("Draft discarded."), title=self.heading, markup=False)
        self.dismiss(None)

    # -- the subclass's part

    def collect(self) -> dict[str, Any]:
        return {}

    def write(
        self,
        session: Session,
        actor: Agent,
        values: dict[str, Any],
        expected_version: int | None,
        now: datetime,
    ) -> str:
        raise NotImplementedError

    # -- submitting

    def show_message(self, message: str, *, error: bool = True) -> None:
        box = self.query_one("#form-message", Static)
        box.set_class(error, "-error")
        box.update(safe_text(message))
        box.display = bool(message)
        self.call_after_refresh(self._fit_body)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    def _field_edited(self, event: Input.Changed | TextArea.Changed | Select.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.control
        problem = self.problem_while_typing(widget)
        if problem is not None:
            self.show_message(problem)
            self._invalid_field = widget.id
        elif self._invalid_field is not None and widget.id == self._invalid_field:
            self._invalid_field = None
            self.show_message("")

    def problem_while_typing(self, widget: Widget) -> str | None:
        """What is wrong with a field as it reads now, said before Save (None: nothing)."""
        return None

    @on(Button.Pressed, "#form-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#form-reapply")
    def _reapply_pressed(self) -> None:
        self.action_reapply()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        if self.busy:
            return
        try:
            values = self.collect()
        except FormInvalid as invalid:
            self.show_message(invalid.message)
            self._invalid_field = invalid.widget_id
            if invalid.widget_id:
                self.query_one(f"#{invalid.widget_id}").focus()
            return
        self.busy = True
        self.query_one("#form-submit", Button).disabled = True
        self.query_one("#form-reapply", Button).disabled = True
        self.show_message(_("Saving…"), error=False)
        self._write(desk_of(self.app), WriteRequest(values, self.version))

    def action_reapply(self) -> None:
        """Submit the same values again on top of the version the other agent wrote."""
        if self._stale_version is None:
            return
        self.version = self._stale_version
        self.action_submit()

    def action_cancel(self) -> None:
        if self.busy:
            # The write is on its way; its answer decides what happens to the form.
            return
        try:
            self.flush_draft()
        except OSError as exc:
            # The text stays in the form: closing it now would lose it.
            self.show_message(_("the draft could not be kept on disk: {error}").format(error=exc))
            return
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="form-write")
    def _write(self, ctx: DeskContext, request: WriteRequest) -> None:
        try:
            with ctx.store.write() as session:
                actor = get_agent(session, ctx.actor)
                number = self.write(
                    session, actor, request.values, request.expected_version, ctx.now()
                )
        except Conflict as conflict:
            self.post_message(
                self.Stale(
                    conflict.message,
                    conflict.changes,
                    conflict.current_version,
                    self._reader_zone(ctx),
                )
            )
        except DeskError as refused:
            self.post_message(self.Refused(refused.message))
        except StaleDataError:
            self.post_message(
                self.Refused(_("the ticket changed while saving; nothing was written, try again"))
            )
        except SQLAlchemyError as exc:
            self.post_message(
                self.Refused(_("the store refused the write: {error}").format(error=exc))
            )
        else:
            self.post_message(self.Written(number))

    @staticmethod
    def _reader_zone(ctx: DeskContext) -> tzinfo:
        try:
            with ctx.store.read() as session:
                return agent_zone(session, get_agent(session, ctx.actor))
        except (DeskError, SQLAlchemyError):
            return UTC

    @property
    def holds_keys(self) -> bool:
        """While the desk writes, keys typed after the save key wait for its answer."""
        return self.busy

    def _ready_again(self) -> None:
        self.busy = False
        keys_may_go(self.app)
        self.query_one("#form-submit", Button).disabled = False
        self.query_one("#form-reapply", Button).disabled = False

    @on(Written)
    def _on_written(self, message: Written) -> None:
        self.busy = False
        self._forget_draft()
        self.dismiss(message.number)
        keys_may_go(self.app)

    @on(Refused)
    def _on_refused(self, message: Refused) -> None:
        self._ready_again()
        self.show_message(message.message)

    @on(Stale)
    def _on_stale(self, message: Stale) -> None:
        self._ready_again()
        self._stale_version = message.current_version
        self.show_message(
            _("Someone changed {number} after you opened it; nothing was written.").format(
                number=self.number or ""
            )
        )
        lines = Text(_("Changes since version {v}:").format(v=self.version), style="bold")
        now = desk_of(self.app).now()
        for change in message.changes:
            if change.field in INTERNAL_FIELDS and not change.action.startswith("comment."):
                continue
            lines.append("\n")
            lines.append(when(change.at, now, message.zone) + "  ", style="dim")
            lines.append_text(safe_text(change.actor, "bold", single_line=True))
            lines.append("  ")
            if change.action.startswith("comment."):
                said = (
                    _("added a public reply") if change.new == "reply" else _("added a work note")
                )
                lines.append(said)
            elif change.field:
                name = change.field
                old, new = shown_value(name, change.old), shown_value(name, change.new)
                lines.append_text(
                    safe_text(f"{field_label(name)}: {old} → {new}", single_line=True)
                )
            else:
                lines.append_text(safe_text(change.action, single_line=True))
        lines.append("\n")
        lines.append(
            _("Re-apply saves your values on top of version {v}.").format(
                v=message.current_version
            ),
            style="italic",
        )
        conflict = self.query_one("#form-conflict", Static)
        conflict.update(lines)
        conflict.display = True
        self.query_one("#form-reapply", Button).display = True
        self.call_after_refresh(self._fit_body)


def _text(form: DeskForm, widget_id: str) -> str:
    widget = form.query_one(f"#{widget_id}")
    if isinstance(widget, TextArea):
        return widget.text
    assert isinstance(widget, Input)
    return widget.value


def _required(form: DeskForm, widget_id: str, what: str) -> str:
    value = _text(form, widget_id)
    if not value.strip():
        raise FormInvalid(_("{what} is required").format(what=what), widget_id)
    return value


def _label(status: str) -> str:
    return status.replace("_", " ")


# ---------------------------------------------------------------------------
# Assign


class AssignForm(DeskForm):
    """A team and an agent, each picked from a list that filters as you type."""

    heading = _("Assign")
    NOBODY = "\x00nobody"

    class ChoicesLoaded(Message):
        def __init__(self, choices: directory.FormChoices) -> None:
            super().__init__()
            self.choices = choices

    def __init__(
        self,
        number: str,
        version: int | None = None,
        *,
        team: str | None = None,
        assignee: str | None = None,
    ) -> None:
        super().__init__(number, version)
        self.current_team = team
        self.current_assignee = assignee
        self.team: str | None = team
        self.assignee: str | None = assignee
        self.choices: directory.FormChoices | None = None

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Team"), classes="field-label")
        yield Input(compact=True, placeholder=_("type to filter teams"), id="team-filter")
        yield OptionList(id="team-list", classes="picker", compact=True)
        yield Label(_("Agent (this team's first)"), classes="field-label")
        yield Input(compact=True, placeholder=_("type to filter agents"), id="agent-filter")
        yield OptionList(id="agent-list", classes="picker", compact=True)
        yield Static("", id="assign-choice")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_choice()
        self._load_choices(desk_of(self.app))

    @work(thread=True, exclusive=True, group="form-choices")
    def _load_choices(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                choices = directory.form_choices(session)
        except SQLAlchemyError as exc:
            self.post_message(self.Refused(str(exc)))
            return
        self.post_message(self.ChoicesLoaded(choices))

    @on(ChoicesLoaded)
    def _on_choices(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices
        self._fill_teams()
        self._fill_agents()

    def _fill_teams(self) -> None:
        if self.choices is None:
            return
        wanted = self.query_one("#team-filter", Input).value.strip().lower()
        teams = [t for t in self.choices.teams if wanted in t.lower()]
        picker = self.query_one("#team-list", OptionList)
        picker.set_options(Option(safe_text(t, single_line=True), id=t) for t in teams)
        if self.team in teams:
            picker.highlighted = teams.index(self.team)

    def _fill_agents(self) -> None:
        if self.choices is None:
            return
        wanted = self.query_one("#agent-filter", Input).value.strip().lower()

        def matches(a: directory.AgentChoice) -> bool:
            return not wanted or any(
                wanted in (s or "").lower() for s in (a.username, a.display_name, a.team)
            )

        agents = [a for a in self.choices.agents if matches(a)]
        ours = [a for a in agents if a.team == self.team]
        others = [a for a in agents if a.team != self.team]
        options: list[Option | None] = []
        if not wanted:
            options.append(Option(Text(_("— nobody (unassign) —"), style="dim"), id=self.NOBODY))
        for a in ours + others:
            prompt = safe_text(a.username, "bold", single_line=True)
            if a.display_name:
                prompt.append("  ")
                prompt.append_text(safe_text(a.display_name, single_line=True))
            prompt.append("  ")
            prompt.append_text(safe_text(a.team or _("no team"), "dim", single_line=True))
            options.append(Option(prompt, id=a.username))
        if ours and others:
            options.insert(len(options) - len(others), None)
        picker = self.query_one("#agent-list", OptionList)
        picker.set_options(options)
        ids = [o.id if o is not None else None for o in options]
        target = self.assignee if self.assignee is not None else self.NOBODY
        if target in ids:
            picker.highlighted = ids.index(target)

    @on(Input.Changed, "#team-filter")
    def _team_typed(self) -> None:
        self._fill_teams()

    @on(Input.Changed, "#agent-filter")
    def _agent_typed(self) -> None:
        self._fill_agents()

    @on(Input.Submitted, "#team-filter")
    def _team_entered(self) -> None:
        self._pick_first("#team-list")
        self.query_one("#agent-filter").focus()

    @on(Input.Submitted, "#agent-filter")
    def _agent_entered(self) -> None:
        self._pick_first("#agent-list")

    def _pick_first(self, selector: str) -> None:
        picker = self.query_one(selector, OptionList)
        index = picker.highlighted
        if index is None and picker.option_count:
            index = 0
        if index is not None:
            self._pick(selector, picker.get_option_at_index(index).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(f"#{event.option_list.id}", event.option.id)

    def _pick(self, selector: str, value: str | None) -> None:
        if value is None:
            return
        if selector == "#team-list":
            if value != self.team:
                self.team = value
                self._fill_agents()
        else:
            self.assignee = None if value == self.NOBODY else value
            if self.assignee and self.choices is not None:
                # Giving it to a person moves it to that person's team.
                team = next(
                    (a.team for a in self.choices.agents if a.username == self.assignee), None
                )
                if team:
                    self.team = team
        self._show_choice()

    def _show_choice(self) -> None:
        line = Text(_("Will assign to: "), style="bold")
        line.append_text(safe_text(self.team or "—", single_line=True))
        line.append(" / ")
        line.append_text(safe_text(self.assignee or _("nobody"), single_line=True))
        self.query_one("#assign-choice", Static).update(line)

    def collect(self) -> dict[str, Any]:
        if self.team == self.current_team and self.assignee == self.current_assignee:
            raise FormInvalid(_("pick another team or agent"), "team-filter")
        values: dict[str, Any] = {"team": self.team, "assignee": self.assignee, "unassign": False}
        if self.assignee is None:
            values["unassign"] = self.current_assignee is not None
            if not values["unassign"] and self.team is None:
                raise FormInvalid(_("pick a team or an agent"), "team-filter")
        return values

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.assign_ticket(
            session,
            actor,
            self.number or "",
            team=values["team"] if values["team"] != self.current_team else None,
            assignee=values["assignee"],
            unassign=values["unassign"],
            expected_version=expected_version,
            now=now,
        )
        return ticket.number


# ---------------------------------------------------------------------------
# Status


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
            _("From {status} to:").format(status=_label(self.status)), classes="field-label"
        )
        options = []
        for move in self.moves:
            prompt = Text(_label(move) if move != REOPEN else _("reopen…"))
            if move == self.resolved:
                prompt.append("  " + _("(resolution code and notes)"), style="dim")
            options.append(Option(prompt, id=move))
        if not options:
            yield Static(
                _("{status} is final; nothing can move it").format(status=_label(self.status)),
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
        return {"status": target, "note": _text(self, "status-note")}

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
        return {"body": _required(self, "comment-body", _("the text"))}

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
        notes = _required(self, "resolve-notes", _("resolution notes"))
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
        return {"reason": _required(self, "reopen-reason", _("a reason"))}

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
            "reason": _required(self, "priority-reason", _("a reason")),
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
        values = {key: _text(self, f"link-{key}").strip() or None for key, _l, _e in self.KINDS}
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
        raw = _required(self, "time-minutes", _("minutes")).strip()
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
        return {"minutes": minutes, "note": _text(self, "time-note")}

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


# ---------------------------------------------------------------------------
# New incident / new request


class NewTicketForm(DeskForm):
    """Open an incident or a request; the priority the matrix gives shows as you choose."""

    class SetupLoaded(Message):
        def __init__(self, matrix: list[list[int]], choices: directory.FormChoices) -> None:
            super().__init__()
            self.matrix = matrix
            self.choices = choices

    LEVELS: ClassVar[list[tuple[str, int]]] = [
        (_("1 high"), 1),
        (_("2 medium"), 2),
        (_("3 low"), 3),
    ]

    def __init__(self, ticket_type: str = "incident") -> None:
        super().__init__(None, None)
        self.ticket_type = ticket_type
        self.matrix: list[list[int]] | None = None
        self.choices: directory.FormChoices | None = None
        self.item_fields: list[dict[str, Any]] = []

    @property
    def draft_key(self) -> tuple[str, str | None]:
        return (f"NewTicketForm.{self.ticket_type}", None)

    def title_text(self) -> Text:
        self.heading = _("New request") if self.ticket_type == REQUEST else _("New incident")
        return super().title_text()

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Title"), classes="field-label")
        yield Input(compact=True, id="new-title", placeholder=_("what is wrong, in a line"))
        with Horizontal(classes="levels"):
            with Vertical():
                yield Label(_("Impact"), classes="field-label")
                yield Select(
                    compact=True, options=self.LEVELS, id="new-impact", value=3, allow_blank=False
                )
            with Vertical():
                yield Label(_("Urgency"), classes="field-label")
                yield Select(
                    compact=True, options=self.LEVELS, id="new-urgency", value=3, allow_blank=False
                )
            with Vertical(id="new-priority-box"):
                yield Label(_("Priority"), classes="field-label")
                yield Static("…", id="new-priority")
        if self.ticket_type == REQUEST:
            yield Label(_("Catalogue item"), classes="field-label")
            yield Select(compact=True, options=[], id="new-item", prompt=_("choose an item"))
            yield Vertical(id="new-item-fields")
        yield Label(_("Service"), classes="field-label")
        yield Select(compact=True, options=[], id="new-service", prompt=_("none"))
        yield Label(_("Requester e-mail"), classes="field-label")
        yield Input(compact=True, id="new-requester", placeholder="name@example.com")
        yield Label(_("Description"), classes="field-label")
        yield TextArea(id="new-description", classes="body")

    def on_mount(self) -> None:
        super().on_mount()
        self._load_setup(desk_of(self.app))

    @work(thread=True, exclusive=True, group="form-choices")
    def _load_setup(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                matrix = priority_matrix(session)
                choices = directory.form_choices(session)
        except SQLAlchemyError as exc:
            self.post_message(self.Refused(str(exc)))
            return
        self.post_message(self.SetupLoaded(matrix, choices))

    @on(SetupLoaded)
    def _on_setup(self, message: SetupLoaded) -> None:
        self.matrix = message.matrix
        self.choices = message.choices
        self.query_one("#new-service", Select).set_options(
            (printable(s, single_line=True), s) for s in message.choices.services
        )
        if self.ticket_type == REQUEST:
            self.query_one("#new-item", Select).set_options(
                (printable(f"{c.code} — {c.name}", single_line=True), c.code)
                for c in message.choices.catalogue
            )
        self._show_priority()

    @property
    def levels(self) -> tuple[int, int]:
        impact = self.query_one("#new-impact", Select).value
        urgency = self.query_one("#new-urgency", Select).value
        return (
            impact if isinstance(impact, int) else 3,
            urgency if isinstance(urgency, int) else 3,
        )

    @property
    def priority(self) -> str:
        impact, urgency = self.levels
        return priority_label(priority_for(impact, urgency, self.matrix or DEFAULT_MATRIX))

    @on(Select.Changed, "#new-impact, #new-urgency")
    def _show_priority(self) -> None:
        if self.matrix is None:
            return
        label = self.priority
        box = self.query_one("#new-priority", Static)
        box.update(Text(label, style="bold"))
        for p in ("P1", "P2", "P3", "P4"):
            box.set_class(p == label, f"-{p.lower()}")

    @on(Select.Changed, "#new-item")
    def _item_chosen(self, event: Select.Changed) -> None:
        box = self.query_one("#new-item-fields", Vertical)
        box.remove_children()
        self.item_fields = []
        if self.choices is None or event.value == Select.NULL:
            return
        item = next((c for c in self.choices.catalogue if c.code == event.value), None)
        if item is None:
            return
        self.item_fields = list(item.form)
        widgets: list[Widget] = []
        for field in item.form:
            label = str(field.get("label") or field.get("name"))
            if field.get("required"):
                label += " *"
            widgets.append(Label(label, classes="field-label", markup=False))
            widgets.append(Input(compact=True, id=f"item-{field['name']}"))
        box.mount_all(widgets)

    def collect(self) -> dict[str, Any]:
        title = _required(self, "new-title", _("a title"))
        impact, urgency = self.levels
        service = self.query_one("#new-service", Select).value
        values: dict[str, Any] = {
            "title": title,
            "impact": impact,
            "urgency": urgency,
            "service": None if service == Select.NULL else service,
            "requester": _text(self, "new-requester").strip() or None,
            "description": _text(self, "new-description"),
            "catalogue_item": None,
            "form_data": None,
        }
        if self.ticket_type == REQUEST:
            item = self.query_one("#new-item", Select).value
            if item == Select.NULL:
                raise FormInvalid(_("choose a catalogue item"), "new-item")
            values["catalogue_item"] = item
            answers: dict[str, str] = {}
            for field in self.item_fields:
                widget_id = f"item-{field['name']}"
                answer = _text(self, widget_id)
                if field.get("required") and not answer.strip():
                    raise FormInvalid(
                        _("{what} is required").format(what=field.get("label") or field["name"]),
                        widget_id,
                    )
                if answer:
                    answers[str(field["name"])] = answer
            values["form_data"] = answers or None
        return values

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        ticket = tickets.create_ticket(session, actor, type=self.ticket_type, now=now, **values)
        return ticket.number
