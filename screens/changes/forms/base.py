"""What every change form shares: the change it acts on, times typed in the agent's zone,
and the desk's lists (agents, services) read once in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, ClassVar, Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual import on, work
from textual.message import Message
from textual.widgets import Select, SelectionList

from itsm_tui.context import DeskContext
from itsm_tui.data import directory
from itsm_tui.data.change_detail import ChangeDetail
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.forms.base import DeskForm, FormInvalid, field_text
from itsm_tui.screens.text import printable

# How a window's ends are typed and shown in the forms: the agent's own zone.
TIME_FORMAT = "%Y-%m-%d %H:%M"
TIME_HINT = "YYYY-MM-DD HH:MM"

CHANGE_FORMS_CSS = Path(__file__).resolve().parent.parent.parent / "styles" / "change_detail.tcss"


def parse_local(text: str, zone: tzinfo) -> datetime | None:
    """`2026-11-25 22:00` in `zone` as an aware UTC instant; None when not in that form."""
    try:
        naive = datetime.strptime(" ".join(text.split()), TIME_FORMAT)
    except ValueError:
        return None
    return naive.replace(tzinfo=zone).astimezone(UTC)


def local_text(at: datetime | None, zone: tzinfo) -> str:
    return "" if at is None else at.astimezone(zone).strftime(TIME_FORMAT)


def window_text(start: datetime, end: datetime, zone: tzinfo) -> str:
    first, last = local_text(start, zone), local_text(end, zone)
    return f"{first} – {last[11:] if first[:10] == last[:10] else last}"


def typed_time(form: DeskForm, widget_id: str, zone: tzinfo, what: str) -> datetime | None:
    """The instant typed in `widget_id` (None when empty); FormInvalid when unreadable."""
    raw = field_text(form, widget_id).strip()
    if not raw:
        return None
    at = parse_local(raw, zone)
    if at is None:
        raise FormInvalid(
            _("{what} '{text}' is not a time; type {hint}").format(
                what=what, text=printable(raw, single_line=True), hint=TIME_HINT
            ),
            widget_id,
        )
    return at


def time_problem(text: str) -> str | None:
    """What is wrong with a time as typed so far, once it is long enough to judge."""
    text = text.strip()
    if len(text) >= len("2026-01-01 00:00") and parse_local(text, UTC) is None:
        return _("'{text}' is not a time; type {hint}").format(
            text=printable(text, single_line=True), hint=TIME_HINT
        )
    return None


def duration_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


@dataclass(frozen=True)
class ChangeChoices:
    """The desk's lists a change form picks from, and the zone its times are typed in."""

    agents: tuple[directory.AgentChoice, ...]
    services: tuple[str, ...]
    zone: tzinfo
    extra: Any = None


class ChangeForm(DeskForm):
    """A form acting on one change (or raising one), written through the desk's change calls."""

    CSS_PATH = [DeskForm.CSS_PATH, CHANGE_FORMS_CSS]  # type: ignore[assignment]

    # The forms that pick agents or services, or show times, read these lists first.
    reads_choices: ClassVar[bool] = True

    class ChoicesLoaded(Message):
        def __init__(self, choices: ChangeChoices) -> None:
            super().__init__()
            self.choices = choices

    def __init__(self, change: ChangeDetail | None) -> None:
        super().__init__(change.number if change else None, change.version if change else None)
        self.change = change
        self.choices: ChangeChoices | None = None

    @classmethod
    def of(cls, change: ChangeDetail) -> Self:
        """The form for `change` as the detail screen last read it."""
        return cls(change)

    @property
    def zone(self) -> tzinfo:
        return self.choices.zone if self.choices is not None else desk_of(self.app).zone

    def on_mount(self) -> None:
        super().on_mount()
        if self.reads_choices:
            self._read_choices(desk_of(self.app))

    def extra_choices(self, session: Session) -> Any:
        """What else the form reads with the lists (a questionnaire, the templates)."""
        return None

    @work(thread=True, exclusive=True, group="form-choices")
    def _read_choices(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                lists = directory.form_choices(session)
                try:
                    zone = agent_zone(session, get_agent(session, ctx.actor))
                except DeskError:
                    zone = agent_zone(session, None)
                choices = ChangeChoices(
                    lists.agents, lists.services, zone, self.extra_choices(session)
                )
        except (SQLAlchemyError, DeskError) as exc:
            self.post_message(self.ChoicesUnread(str(exc)))
            return
        self.post_message(self.ChoicesLoaded(choices))

    @on(ChoicesLoaded)
    def _on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices
        self.choices_ready(message.choices)
        self.choices_arrived()

    def choices_ready(self, choices: ChangeChoices) -> None:
        """Fill the form's lists (and what a draft chose in them)."""

    # -- small helpers for the subclasses

    def implementer_options(self) -> list[tuple[str, str]]:
        assert self.choices is not None
        return [
            (printable(f"{a.username} — {a.display_name}", single_line=True), a.username)
            for a in self.choices.agents
        ]

    def selected(self, widget_id: str) -> Any:
        value = self.query_one(f"#{widget_id}", Select).value
        return None if value == Select.NULL else value

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        # The services chosen belong to the draft like typed text does.
        self._text_changed()
