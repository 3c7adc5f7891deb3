"""A change's own screen: fields, risk and its reasons, impact, approvals, conflicts, plans,
review and timeline, with one key per step of its process where the step may be taken."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static

from itsm_tui.context import DeskContext
from itsm_tui.data.change_detail import ChangeDetail, change_detail
from itsm_tui.data.history import PAGE_SIZE, HistoryPage, history_page
from itsm_tui.data.models import Change
from itsm_tui.desk import permitted_steps
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone, zone_label
from itsm_tui.domain.workflow import STANDARD_CHANGE
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens import keys
from itsm_tui.screens.detail import TicketLink, desk_of
from itsm_tui.screens.refresh import LiveRefresh
from itsm_tui.screens.text import safe_text, shown_time
from itsm_tui.screens.timeline import LoadedHistory, entry_renderable
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

__all__ = ["ChangeDetailScreen", "LoadedChange"]

RISK_STYLE = {
    "low": "green",
    "medium": "yellow",
    "high": "bold dark_orange",
    "very_high": "bold red",
}
DECISION_STYLE = {"approved": "green", "rejected": "bold red", "pending": "dim"}
# From this many columns the plans and the timeline stand beside the fields.
WIDE_FROM = 120
OUTCOME_STYLE = {"successful": "green", "failed": "bold red", "backed_out": "bold yellow"}


@dataclass(frozen=True)
class LoadedChange:
    change: ChangeDetail
    zone: tzinfo
    # The newest page of the change's audit history; older pages are read on request.
    history: HistoryPage
    # The key actions of the steps the desk permits the reader (`permitted_steps`).
    steps: frozenset[str]


class IncidentLink(TicketLink):
    """A ticket named on the change (its problem, an incident it caused): Enter opens it."""

    def action_open_link(self) -> None:
        from itsm_tui.screens.detail_kept import ticket_screen

        self.app.push_screen(ticket_screen(self.app, self.number))


def _window(start: datetime | None, end: datetime | None, zone: tzinfo) -> Text:
    if start is None and end is None:
        return Text("—", style="dim")
    first = shown_time(start, zone)
    last = shown_time(end, zone)
    if first[:10] == last[:10]:
        last = last[11:]  # the same day: its date once
    return Text(f"{first} – {last}")


def _value(value: Any) -> Text:
    if value is None or value == "":
        return Text("—", style="dim")
    return safe_text(value, single_line=True)


def _names(values: tuple[str, ...]) -> Text:
    return _value(", ".join(values)) if values else Text("—", style="dim")


class ChangeDetailScreen(Screen[None]):
    """One change: everything about it, kept fresh, with a key per step it may take next."""

    CSS_PATH = "../styles/change_detail.tcss"
    RELOAD_SECONDS: ClassVar[float] = 5.0
    HISTORY_PAGE: ClassVar[int] = PAGE_SIZE

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Back")),
        *keys.CHANGE_ACTIONS,
        Binding("f5,ctrl+r", "reload", _("Reload")),
    ]

    class Loaded(Message):
        def __init__(self, loaded: LoadedChange) -> None:
            super().__init__()
            self.loaded = loaded

    class LoadFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class OlderLoaded(Message):
        def __init__(self, page: HistoryPage) -> None:
            super().__init__()
            self.page = page

    def __init__(self, number: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.number = number.strip().upper()
        self.loaded: LoadedChange | None = None
        self.history = LoadedHistory()
        self._zone: tzinfo = UTC
        self._timeline_key: tuple[Any, ...] | None = None
        self._links_key: tuple[Any, ...] | None = None
        self.live = LiveRefresh(self, self.load, lambda: self.RELOAD_SECONDS)
        self._narrow_drawn: bool | None = None
        # Keys typed behind the key that opened the change (or a form's save) act on the
        # change as read (as saved): they wait for the read.
        self.holds_keys = True

    # -- layout

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        with Vertical(id="change-top"):
            yield Static(safe_text(self.number, "bold"), id="change-heading")
            yield Static(_("Loading…"), id="change-title")
        with VerticalScroll(id="change-scroll"), Horizontal(id="change-columns"):
            # Side by side on a wide terminal; one column under the other on a narrow one.
            with Vertical(id="change-left"):
                yield Static("", id="change-fields")
                yield Horizontal(id="change-links")
                yield Static(_("Risk"), classes="change-section")
                yield Static("", id="change-risk")
                yield Static(
                    _("Schedule conflicts"), classes="change-section", id="conflicts-heading"
                )
                yield Static("", id="change-conflicts")
                yield Static(_("Approvals"), classes="change-section", id="approvals-heading")
                yield Static("", id="change-approvals")
                yield Static(_("Review"), classes="change-section", id="review-heading")
                yield Static("", id="change-review")
            with Vertical(id="change-right"):
                yield Static(_("Plans"), classes="change-section")
                yield Static("", id="change-plans")
                yield Static(
                    _("Timeline (newest first)"), id="timeline-heading", classes="change-section"
                )
                yield Vertical(id="change-timeline")
                yield Button(_("Older entries"), id="timeline-older", compact=True)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.query_one("#timeline-older").display = False
        # Nothing but the heading until the change is read (or found missing).
        self.query_one("#change-columns").display = False
        self._fit_columns()
        self.load()

    def on_resize(self) -> None:
        narrow = self._fit_columns()
        if self.loaded is not None and narrow != self._narrow_drawn:
            self.query_one("#change-fields", Static).update(self._fields_table(self.loaded.change))

    def _fit_columns(self) -> bool:
        narrow = self.app.size.width < WIDE_FROM
        self.set_class(narrow, "-narrow")
        return narrow

    @property
    def _column_width(self) -> int:
        width = self.app.size.width
        return width if width < WIDE_FROM else width // 2

    # -- which keys the footer shows

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _STEP_ACTIONS:
            return self.loaded is not None and action in self.loaded.steps
        return True

    # -- loading

    def load(self) -> None:
        self._load(desk_of(self.app))

    @work(thread=True, exclusive=True, group="change-load")
    def _load(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                change = change_detail(session, self.number)
                try:
                    agent = get_agent(session, ctx.actor)
                except DeskError:
                    agent = None
                zone = agent_zone(session, agent)
                history = history_page(
                    session, change.id, record_type="change", size=self.HISTORY_PAGE
                )
                record = session.get(Change, change.id)
                steps = (
                    keys.change_step_actions(permitted_steps(session, agent, record))
                    if agent is not None and record is not None
                    else frozenset()
                )
                loaded = LoadedChange(
                    change=change,
                    zone=zone,
                    history=history,
                    steps=steps,
                )
        except DeskError as exc:
            self.post_message(self.LoadFailed(exc.message))
            return
        except SQLAlchemyError as exc:
            self.post_message(
                self.LoadFailed(_("the store could not be read: {error}").format(error=exc))
            )
            return
        self.post_message(self.Loaded(loaded))

    def _keys_may_go(self) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)

    @on(Loaded)
    def _on_loaded(self, message: Loaded) -> None:
        self.loaded = message.loaded
        self._zone = message.loaded.zone
        self.history.add(message.loaded.history, newest=True)
        self._render_change()
        self.refresh_bindings()
        self._keys_may_go()
        self.live.answered()

    @on(LoadFailed)
    def _on_load_failed(self, message: LoadFailed) -> None:
        self._keys_may_go()
        self.query_one("#change-title", Static).update(safe_text(message.message, "bold red"))
        self.live.answered()

    @on(Button.Pressed, "#timeline-older")
    def _older_pressed(self) -> None:
        if self.loaded is not None and self.history.older_than is not None:
            self._load_older(desk_of(self.app), self.loaded.change.id, self.history.older_than)

    @work(thread=True, exclusive=True, group="change-older")
    def _load_older(self, ctx: DeskContext, change_id: int, before: datetime) -> None:
        try:
            with ctx.store.read() as session:
                page = history_page(
                    session, change_id, before=before, size=self.HISTORY_PAGE, record_type="change"
                )
        except SQLAlchemyError as exc:
            self.post_message(
                self.LoadFailed(_("the store could not be read: {error}").format(error=exc))
            )
            return
        self.post_message(self.OlderLoaded(page))

    @on(OlderLoaded)
    def _on_older(self, message: OlderLoaded) -> None:
        self.history.add(message.page, newest=False)
        self._render_timeline()

    # -- rendering

    def _render_change(self) -> None:
        assert self.loaded is not None
        c = self.loaded.change
        self.query_one("#change-columns").display = True
        heading = Text()
        heading.append(c.number, style="bold")
        heading.append("  ")
        heading.append(c.status.replace("_", " "), style="bold reverse")
        heading.append("  " + _("{type} change").format(type=c.change_type), style="dim")
        if c.risk:
            heading.append("  " + _("risk") + " ", style="dim")
            heading.append(c.risk.replace("_", " "), style=RISK_STYLE.get(c.risk, ""))
        if c.outcome:
            heading.append(
                "  " + c.outcome.replace("_", " "), style=OUTCOME_STYLE.get(c.outcome, "")
            )
        heading.append(f"  v{c.version}", style="dim")
        self.query_one("#change-heading", Static).update(heading)
        self.query_one("#change-title", Static).update(safe_text(c.title, "bold"))
        self.query_one("#change-fields", Static).update(self._fields_table(c))
        self._render_links(c)
        self.query_one("#change-risk", Static).update(self._risk_text(c))
        conflicts = self._conflicts_text(c)
        for widget_id in ("#conflicts-heading", "#change-conflicts"):
            self.query_one(widget_id).display = conflicts is not None
        if conflicts is not None:
            self.query_one("#change-conflicts", Static).update(conflicts)
        approvals = self._approvals_text(c)
        for widget_id in ("#approvals-heading", "#change-approvals"):
            self.query_one(widget_id).display = approvals is not None
        if approvals is not None:
            self.query_one("#change-approvals", Static).update(approvals)
        self.query_one("#change-plans", Static).update(self._plans(c))
        review = self._review(c)
        for widget_id in ("#review-heading", "#change-review"):
            self.query_one(widget_id).display = review is not None
        if review is not None:
            self.query_one("#change-review", Static).update(review)
        self._render_timeline()

    def _fields_table(self, c: ChangeDetail) -> Group:
        zone = self._zone
        also = tuple(s for s in c.impacted if s not in c.services)
        # Type and status are in the heading; what is not set yet is left out.
        rows: list[tuple[str, Text]] = [
            (_("Impact"), _value(c.impact)),
            (_("Category"), _value(c.category)),
            (_("Implementer"), _value(c.implementer)),
            (_("Owner"), _value(c.owner)),
            (_("Requester"), _value(c.requester)),
            (_("Team"), _value(c.team)),
            (_("Opened"), Text(shown_time(c.opened_at, zone))),
            (_("Submitted"), Text(shown_time(c.submitted_at, zone))),
        ]
        rows += [
            (label, value)
            for label, value, present in (
                (_("Authorized"), Text(shown_time(c.authorized_at, zone)), c.authorized_at),
                (_("Closed"), Text(shown_time(c.closed_at, zone)), c.closed_at),
                (_("Template"), _value(c.template), c.template),
            )
            if present
        ]
        # Windows and lists get a line of their own: the services and what rides on them.
        long_rows: list[tuple[str, Text]] = [
            (_("Planned"), _window(c.planned_start, c.planned_end, zone)),
        ]
        if c.actual_start or c.actual_end:
            long_rows.append((_("Actual"), _window(c.actual_start, c.actual_end, zone)))
        long_rows += [
            (_("Services"), _names(c.services)),
            (
                _("Also affects"),
                _names(also)
                if also or not c.services
                else Text(_("nothing depends on them"), "dim"),
            ),
        ]
        self._narrow_drawn = self.has_class("-narrow")
        pairs = 2 if self._column_width >= 70 else 1
        table = Table.grid(padding=(0, 1), expand=True)
        for _i in range(pairs):
            table.add_column(style="bold", no_wrap=True, min_width=12)
            table.add_column(ratio=1, overflow="fold")
        for start in range(0, len(rows), pairs):
            cells: list[RenderableType] = []
            for label, value in rows[start : start + pairs]:
                cells += [Text(label), value]
            table.add_row(*cells)
        lines = Table.grid(padding=(0, 1), expand=True)
        lines.add_column(style="bold", no_wrap=True, min_width=12)
        lines.add_column(ratio=1, overflow="fold")
        for label, value in long_rows:
            lines.add_row(Text(label), value)
        return Group(table, lines)

    def _render_links(self, c: ChangeDetail) -> None:
        present = (("problem", c.problem),) if c.problem else ()
        present += tuple(("caused", i.number) for i in c.caused_incidents)
        if present == self._links_key:
            return  # rebuilding would drop the focus from a link every reload
        self._links_key = present
        box = self.query_one("#change-links", Horizontal)
        widgets: list[Static] = [
            Static(Text(_("Links"), style="bold"), classes="change-links-label")
        ]
        labels = {"problem": _("fixes"), "caused": _("caused")}
        widgets += [IncidentLink(labels[kind], number) for kind, number in present]
        if not present:
            widgets.append(Static(Text(_("no problem, no caused incident"), style="dim")))
        with self.app.batch_update():
            box.remove_children()
            box.mount_all(widgets)

    def _risk_text(self, c: ChangeDetail) -> Text:
        if c.risk is None:
            if c.change_type == STANDARD_CHANGE:
                return Text(_("Pre-approved standard change: no assessment."), style="dim")
            return Text(_("Not assessed yet (k answers the questionnaire)."), style="dim")
        text = Text()
        text.append(c.risk.replace("_", " "), style=RISK_STYLE.get(c.risk, "bold"))
        if c.risk_score is not None:
            text.append("  " + _("score {score}").format(score=c.risk_score), style="dim")
        for reason in c.risk_reasons:
            text.append("\n• ")
            level = str(reason.get("level") or "")
            text.append(level.replace("_", " "), style=RISK_STYLE.get(level, ""))
            text.append("  ")
            text.append_text(safe_text(reason.get("text") or "", single_line=True))
        return text

    def _conflicts_text(self, c: ChangeDetail) -> Text | None:
        if not c.conflicts and not c.schedule_overrides:
            return None
        text = Text()
        for i, conflict in enumerate(c.conflicts):
            if i:
                text.append("\n")
            text.append("⚠ ", style="bold red")
            text.append_text(safe_text(conflict.message, single_line=True))
        for override in c.schedule_overrides:
            if text:
                text.append("\n")
            text.append("✓ ", style="yellow")
            said = _("overridden by {who}: {reason}").format(
                who=override.get("by") or "—", reason=override.get("reason") or ""
            )
            text.append_text(safe_text(said, "dim", single_line=True))
            clash = override.get("conflict")
            if clash:
                text.append("\n   ")
                text.append_text(safe_text(clash, "dim", single_line=True))
        return text

    def _approvals_text(self, c: ChangeDetail) -> Text | None:
        if not c.approvals and c.status not in ("authorization",) and not c.authorized_at:
            return None
        text = Text()
        text.append(
            _("{approved} of {quorum} approvals in").format(
                approved=c.approved_count, quorum=c.quorum
            ),
            style="bold",
        )
        loaded = self.loaded
        if loaded is not None and "approve_change" in loaded.steps:
            # A CAB member's own pending vote stands out: it is what the change waits for.
            text.append("  " + _("your vote is awaited: y approves, d rejects"), "bold yellow")
        for a in c.approvals:
            text.append("\n")
            text.append(f"{a.decision:<9}", style=DECISION_STYLE.get(a.decision, ""))
            text.append_text(safe_text(a.approver, "bold", single_line=True))
            if a.decided_at is not None:
                text.append("  " + shown_time(a.decided_at, self._zone), style="dim")
            if a.comment:
                text.append("  ")
                text.append_text(safe_text(a.comment, single_line=True))
        return text

    def _plans(self, c: ChangeDetail) -> Group:
        parts: list[RenderableType] = []
        for label, body in (
            (_("Description"), c.description),
            (_("Implementation"), c.implementation_plan),
            (_("Back-out"), c.backout_plan),
            (_("Test"), c.test_plan),
        ):
            parts.append(Text(label, style="bold"))
            parts.append(safe_text(body) if body.strip() else Text(_("(none)"), style="dim"))
        return Group(*parts)

    def _review(self, c: ChangeDetail) -> Group | None:
        if not (c.review_notes or c.lessons_learned or c.reviewed_at):
            return None
        head = Text(
            _("Reviewed {at}").format(at=shown_time(c.reviewed_at, self._zone)), style="dim"
        )
        parts: list[RenderableType] = [head]
        for label, body in (
            (_("Notes"), c.review_notes),
            (_("Lessons learned"), c.lessons_learned),
        ):
            parts.append(Text(label, style="bold"))
            parts.append(safe_text(body) if body.strip() else Text(_("(none)"), style="dim"))
        return Group(*parts)

    def _render_timeline(self) -> None:
        now = desk_of(self.app).now()
        key = (
            len(self.history.audit),
            self.history.older_than,
            self._zone,
            now.replace(second=0, microsecond=0),
        )
        if key == self._timeline_key:
            return
        self._timeline_key = key
        self.query_one("#timeline-heading", Static).update(
            _("Timeline (newest first, times in {zone})").format(zone=zone_label(self._zone))
        )
        widgets = [
            Static(entry_renderable(e, now, self._zone), classes=f"entry entry-{e.kind}")
            for e in self.history.entries(self._zone)
        ]
        if not widgets:
            widgets.append(Static(_("nothing yet"), classes="entry entry-change"))
        box = self.query_one("#change-timeline", Vertical)
        with self.app.batch_update():
            box.remove_children()
            box.mount_all(widgets)
        self.query_one("#timeline-older").display = self.history.older_than is not None

    # -- actions

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    def _open_form(self, factory: Callable[[ChangeDetail], Any]) -> None:
        if self.loaded is None:
            self.notify(_("Still loading {number}").format(number=self.number))
            return
        # Back from the form, keys wait for the change read again (as saved, if it was).
        self.holds_keys = True
        self.app.push_screen(factory(self.loaded.change), self._after_form)

    def _after_form(self, result: str | None) -> None:
        if result:
            self.notify(_("{number} saved").format(number=result), markup=False)
        self.load()

    def action_edit_change(self) -> None:
        from itsm_tui.screens.changes.forms import EditChangeForm

        self._open_form(EditChangeForm.of)

    def action_assess_change(self) -> None:
        from itsm_tui.screens.changes.forms import RiskForm

        self._open_form(RiskForm.of)

    def action_submit_change(self) -> None:
        from itsm_tui.screens.changes.forms import SubmitForm

        self._open_form(SubmitForm.of)

    def action_approve_change(self) -> None:
        from itsm_tui.screens.changes.forms import ApproveForm

        self._open_form(ApproveForm.of)

    def action_reject_change(self) -> None:
        from itsm_tui.screens.changes.forms import RejectForm

        self._open_form(RejectForm.of)

    def action_schedule_change(self) -> None:
        from itsm_tui.screens.changes.forms import ScheduleForm

        self._open_form(ScheduleForm.of)

    def action_start_change(self) -> None:
        from itsm_tui.screens.changes.forms import StartForm

        self._open_form(StartForm.of)

    def action_complete_change(self) -> None:
        from itsm_tui.screens.changes.forms import CompleteForm

        self._open_form(CompleteForm.of)

    def action_review_change(self) -> None:
        from itsm_tui.screens.changes.forms import ReviewForm

        self._open_form(ReviewForm.of)

    def action_close_change(self) -> None:
        from itsm_tui.screens.changes.forms import CloseForm

        self._open_form(CloseForm.of)

    def action_cancel_change(self) -> None:
        from itsm_tui.screens.changes.forms import CancelForm

        self._open_form(CancelForm.of)

    def action_link_incident(self) -> None:
        from itsm_tui.screens.changes.forms import LinkIncidentForm

        self._open_form(LinkIncidentForm.of)


_STEP_ACTIONS = frozenset(b.action for b in keys.CHANGE_ACTIONS)
