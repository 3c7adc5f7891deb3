"""The form every action builds on: fields, Save, Cancel, the answer and the draft on disk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
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
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from itsm_tui.context import DeskContext
from itsm_tui.data.models import Agent
from itsm_tui.desk.errors import ChangeSince, Conflict, DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.drafts import DraftBox, draft_box
from itsm_tui.screens.text import safe_text, when
from itsm_tui.screens.timeline import INTERNAL_FIELDS, field_label, shown_value
from itsm_tui.screens.widgets.footer import DeskFooter

# How long typing pauses before the draft on disk is brought up to date.
DRAFT_DELAY_S = 0.4


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

    # Absolute: Textual reads a relative path beside each subclass's module.
    CSS_PATH = Path(__file__).resolve().parent.parent / "styles" / "forms.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", _("Cancel")),
        Binding("ctrl+s", "submit", _("Save"), priority=True),
        # ctrl+d deletes a character in the text fields; t for trash.
        Binding("ctrl+t", "discard", _("Discard draft")),
    ]
    heading: ClassVar[str] = ""
    # A form whose fields are lists read from the store (teams, agents, the catalogue)
    # holds the keys typed before they arrive: Enter then picks from the list, as typed.
    reads_choices: ClassVar[bool] = False

    class Written(Message):
        def __init__(self, number: str) -> None:
            super().__init__()
            self.number = number

    class Refused(Message):
        def __init__(self, message: str, widget_id: str | None = None) -> None:
            super().__init__()
            self.message = message
            # The field the desk named, marked as Save's own checks mark one.
            self.widget_id = widget_id

    class ChoicesUnread(Message):
        """The form's lists could not be read: said in the form, the keys let go."""

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
        self.reading_choices = self.reads_choices
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

    def typed_text(self) -> dict[str, str]:
        """What the form's text fields hold now, by field id (empty fields left out)."""
        values: dict[str, str] = {}
        for widget in self._text_fields():
            text = widget.value if isinstance(widget, Input) else widget.text
            if text:
                values[str(widget.id)] = text
        return values

    def draft_fields(self) -> dict[str, str]:
        """Everything the draft keeps: the typed text and the choices made."""
        return {**self.draft_choices(), **self.typed_text()}

    def draft_choices(self) -> dict[str, str]:
        """The choices (beyond the form's defaults) a draft brings back, by field id."""
        return {}

    def restore_choices(self, draft: dict[str, str]) -> None:
        """Bring back the choices `draft_choices` kept (the text fields are done already)."""

    @property
    def holds_text(self) -> bool:
        return not self._draft_done and bool(self.typed_text())

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
        self.restore_choices(draft)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
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
        had_text = bool(self.typed_text())
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

    def field_refused(self, refused: DeskError) -> str | None:
        """The id of the field a desk refusal names (None: it is about the form as a whole)."""
        return None

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
            self.post_message(self.Refused(refused.message, self.field_refused(refused)))
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
        """While the desk writes, keys typed after the save key wait for its answer; while
        the form's lists are read, keys typed into it wait for them."""
        return self.busy or self.reading_choices

    def choices_arrived(self) -> None:
        """The lists are in their fields: the keys typed meanwhile go on."""
        if self.reading_choices:
            self.reading_choices = False
            keys_may_go(self.app)

    @on(ChoicesUnread)
    def _on_choices_unread(self, message: ChoicesUnread) -> None:
        self.choices_arrived()
        self.show_message(message.message)

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
        named = self.query(f"#{message.widget_id}") if message.widget_id else None
        if named:
            self._invalid_field = message.widget_id
            named.first().focus()

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


def field_text(form: DeskForm, widget_id: str) -> str:
    widget = form.query_one(f"#{widget_id}")
    if isinstance(widget, TextArea):
        return widget.text
    assert isinstance(widget, Input)
    return widget.value


def required_text(form: DeskForm, widget_id: str, what: str) -> str:
    value = field_text(form, widget_id)
    if not value.strip():
        raise FormInvalid(_("{what} is required").format(what=what), widget_id)
    return value


def status_label(status: str) -> str:
    return status.replace("_", " ")
