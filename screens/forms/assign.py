"""Assign: a team and an agent, each picked from a list that filters as you type."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from itsm_tui.context import DeskContext
from itsm_tui.data import directory
from itsm_tui.desk import tickets
from itsm_tui.i18n import _
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.forms.base import (
    DeskForm,
    FormInvalid,
)
from itsm_tui.screens.text import safe_text


class AssignForm(DeskForm):
    """A team and an agent, each picked from a list that filters as you type."""

    heading = _("Assign")
    reads_choices = True
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
            self.post_message(self.ChoicesUnread(str(exc)))
            return
        self.post_message(self.ChoicesLoaded(choices))

    @on(ChoicesLoaded)
    def _on_choices(self, message: ChoicesLoaded) -> None:
        self.choices = message.choices
        self._fill_teams()
        self._fill_agents()
        self.choices_arrived()

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
