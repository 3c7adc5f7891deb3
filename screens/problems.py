"""Problems: the list (open problems and known errors, or the recurring incidents no
problem holds yet) and one problem's detail (its analysis, workaround, incidents, changes
and articles), with the step that resolves its open incidents together.

Reads and writes run in thread workers and come back as messages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, SelectionList, Static
from textual.widgets.selection_list import Selection

from itsm_tui.context import DeskContext
from itsm_tui.data import problem_reads
from itsm_tui.data.recurring import RecurringCluster, find_recurring
from itsm_tui.desk import DeskError
from itsm_tui.desk import problems as desk_problems
from itsm_tui.desk.records import get_agent
from itsm_tui.i18n import _, ngettext
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens import keys
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.text import printable, safe_text
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

# The screen's scan: the recurring incidents of the last quarter (the command line's
# `itsm problem suggest` reads a year).
SUGGEST_PERIOD = timedelta(days=90)
SUGGESTIONS_SHOWN = 50


def _cell(value: object, limit: int = 60) -> Text:
    text = printable(value, single_line=True)
    return Text(text if len(text) <= limit else text[: limit - 1] + "…")


class ProblemsRead(Message):
    def __init__(self, rows: list[Any], suggestions: bool) -> None:
        super().__init__()
        self.rows = rows
        self.suggestions = suggestions


class ProblemWritten(Message):
    """A write from a problem screen: `error` is the desk's refusal, None on success."""

    def __init__(self, number: str | None, error: str | None, done: str = "") -> None:
        super().__init__()
        self.number = number
        self.error = error
        self.done = done


class ProblemListScreen(Screen[None]):
    """Open problems by priority (known errors marked), or the recurring incidents."""

    CSS_PATH = "styles/problems.tcss"
    BINDINGS: list[BindingType] = [
        Binding("enter", "open", _("Open")),
        Binding("v", "toggle_view", _("Recurring")),
        Binding("a", "toggle_all", _("All/open")),
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
        Binding("escape", "app.pop_screen", _("Back")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.suggestions = False
        self.everything = False
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        with Horizontal(id="problems-bar"):
            yield Static("", id="problems-name")
            yield Static("", id="problems-detail")
        yield DataTable(id="problems-table", cursor_type="row", zebra_stripes=False)
        yield DeskFooter()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._show_bar(reading=True)
        self._read(desk_of(self.app), self.suggestions, self.everything)

    def _show_bar(self, *, reading: bool = False) -> None:
        name = _("Recurring incidents") if self.suggestions else _("Problems")
        if reading:
            detail = _("reading…")
        elif self.suggestions:
            detail = ngettext(
                "{n} cluster without a problem in the last {days} days",
                "{n} clusters without a problem in the last {days} days",
                len(self.rows),
            ).format(n=len(self.rows), days=SUGGEST_PERIOD.days)
        else:
            detail = (_("{n} problems") if self.everything else _("{n} open")).format(
                n=len(self.rows)
            )
        self.query_one("#problems-name", Static).update(Text(f" {name} "))
        self.query_one("#problems-detail", Static).update(Text(detail))

    @work(thread=True, exclusive=True, group="problems-read")
    def _read(self, ctx: DeskContext, suggestions: bool, everything: bool) -> None:
        rows: list[Any]
        try:
            with ctx.store.read() as session:
                if suggestions:
                    now = ctx.now()
                    rows = find_recurring(
                        session, since=now - SUGGEST_PERIOD, until=now, limit=SUGGESTIONS_SHOWN
                    )
                else:
                    rows = problem_reads.problem_list(session, open_only=not everything)
        except SQLAlchemyError as exc:
            self.post_message(ProblemWritten(None, str(exc).splitlines()[0]))
            return
        self.post_message(ProblemsRead(rows, suggestions))

    @on(ProblemsRead)
    def _shown(self, message: ProblemsRead) -> None:
        if message.suggestions != self.suggestions:
            return
        self.rows = message.rows
        table = self.query_one("#problems-table", DataTable)
        table.clear(columns=True)
        if self.suggestions:
            # Fixed widths: a column sized from its cells is sized again as rows arrive.
            for label, width in (
                (_("Size"), 5),
                (_("Last"), 6),
                (_("Service"), 24),
                (_("Title"), 60),
            ):
                table.add_column(label, width=width)
            for c in self.rows:
                table.add_row(
                    Text(str(c.size), justify="right"),
                    Text(c.last_opened.strftime("%d %b")),
                    _cell(c.service, 24),
                    _cell(c.title),
                )
        else:
            for label, width in (
                (_("Number"), 10),
                (_("Pri"), 3),
                (_("Status"), 13),
                ("KE", 2),
                (_("Inc"), 5),
                (_("Title"), 60),
            ):
                table.add_column(label, width=width)
            for r in self.rows:
                table.add_row(
                    Text(r.number),
                    Text(f"P{r.priority}"),
                    Text(r.status),
                    Text("✓" if r.known_error else ""),
                    Text(str(r.incidents), justify="right"),
                    _cell(r.title),
                )
        self._show_bar()
        table.focus()

    def action_toggle_view(self) -> None:
        self.suggestions = not self.suggestions
        self.reload()

    def action_toggle_all(self) -> None:
        if not self.suggestions:
            self.everything = not self.everything
            self.reload()

    def action_refresh(self) -> None:
        self.reload()

    def _selected(self) -> Any | None:
        table = self.query_one("#problems-table", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self._selected()
        if row is None:
            return
        if isinstance(row, RecurringCluster):
            self._create(desk_of(self.app), row)
        else:
            self.app.push_screen(ProblemDetailScreen(row.number), lambda _r: self.reload())

    @work(thread=True, exclusive=True, group="problems-write")
    def _create(self, ctx: DeskContext, cluster: RecurringCluster) -> None:
        try:
            with ctx.store.write() as session:
                problem = desk_problems.create_problem(
                    session,
                    get_agent(session, ctx.actor),
                    incidents=list(cluster.incidents),
                    now=ctx.now(),
                )
                number = problem.number
        except DeskError as exc:
            self.post_message(ProblemWritten(None, exc.message))
            return
        self.post_message(ProblemWritten(number, None, "created"))

    @on(ProblemWritten)
    def _written(self, message: ProblemWritten) -> None:
        if message.error is not None:
            self.notify(message.error, severity="error", markup=False)
            return
        assert message.number is not None
        self.notify(_("{number} opened.").format(number=message.number), markup=False)
        self.app.push_screen(ProblemDetailScreen(message.number), lambda _r: self.reload())


class ProblemRead(Message):
    def __init__(self, record: dict[str, Any] | None, error: str | None = None) -> None:
        super().__init__()
        self.record = record
        self.error = error


class ProblemDetailScreen(Screen[None]):
    """One problem: root cause and analysis, workaround, incidents, changes, articles."""

    CSS_PATH = "styles/problems.tcss"
    BINDINGS: list[BindingType] = [
        # First, as on the ticket screen: a narrow footer drops its last keys, never Back.
        Binding("escape", "app.pop_screen", _("Back")),
        keys.PROBLEM_ROOT_CAUSE,
        keys.PROBLEM_WORKAROUND,
        keys.RESOLVE_INCIDENTS,
        keys.PROBLEM_FIX,
        keys.PROBLEM_ARTICLE,
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number.strip().upper()
        self.record: dict[str, Any] | None = None
        # Keys typed behind the key that opened the problem (or a form's save) act on the
        # problem as read (as saved): they wait for the read.
        self.holds_keys = True

    def compose(self) -> ComposeResult:
        yield DeskHeader()
        with Vertical(id="problem-top"):
            yield Static(safe_text(self.number, "bold"), id="problem-heading")
            yield Static(_("Loading…"), id="problem-title")
        with VerticalScroll(id="problem-scroll"):
            yield Static("", id="problem-fields")
            yield Static(_("Root cause"), classes="problem-section")
            yield Static("", id="problem-rca")
            yield Static(_("Workaround"), classes="problem-section")
            yield Static("", id="problem-workaround")
            yield Static("", classes="problem-section", id="problem-incidents-heading")
            yield DataTable(id="problem-incidents", cursor_type="row", show_cursor=False)
            yield Static(_("Changes and articles"), classes="problem-section")
            yield Static("", id="problem-links")
        yield DeskFooter()

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        self._load(desk_of(self.app))

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="problem-load")
    def _load(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                record = problem_reads.problem_detail(
                    session, desk_problems.get_problem(session, self.number)
                )
        except DeskError as exc:
            self.post_message(ProblemRead(None, exc.message))
            return
        except SQLAlchemyError as exc:
            self.post_message(ProblemRead(None, str(exc).splitlines()[0]))
            return
        self.post_message(ProblemRead(record))

    def _keys_may_go(self) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)

    @on(ProblemRead)
    def _read(self, message: ProblemRead) -> None:
        self.call_after_refresh(self._keys_may_go)
        if message.record is None:
            self.query_one("#problem-title", Static).update(safe_text(message.error or ""))
            return
        r = self.record = message.record
        # The status says it already when the problem sits in known_error.
        known = _("  known error") if r["known_error"] and r["status"] != "known_error" else ""
        self.query_one("#problem-title", Static).update(
            Text.assemble(
                safe_text(r["title"], single_line=True), (f"  {r['status']}{known}", "italic")
            )
        )
        self.query_one("#problem-fields", Static).update(
            safe_text(
                _("{priority} · {service} · held by {assignee} · team {team}").format(
                    priority=r["priority"],
                    service=r["service"] or "—",
                    assignee=r["assignee"] or "—",
                    team=r["team"] or "—",
                ),
                single_line=True,
            )
        )
        self.query_one("#problem-rca", Static).update(safe_text(_rca_text(r)))
        self.query_one("#problem-workaround", Static).update(safe_text(r["workaround"] or "—"))
        self.query_one("#problem-incidents-heading", Static).update(
            _("Incidents: {total}, {open} open").format(
                total=r["incident_count"], open=r["open_incident_count"]
            )
        )
        table = self.query_one("#problem-incidents", DataTable)
        table.clear(columns=True)
        for label, width in (
            (_("Number"), 10),
            (_("Pri"), 3),
            (_("Status"), 11),
            (_("Held by"), 16),
            (_("Title"), 60),
        ):
            table.add_column(label, width=width)
        for i in r["incidents"]:
            table.add_row(
                Text(i["number"]),
                Text(i["priority"]),
                Text(i["status"]),
                _cell(i["assignee"] or "—", 16),
                _cell(i["title"]),
            )
        links = [f"{c['number']}  {c['status']}  {c['title']}" for c in r["changes"]]
        links += [f"{a['number']}  {a['status']}  {a['title']}" for a in r["articles"]]
        self.query_one("#problem-links", Static).update(safe_text("\n".join(links) or "—"))
        self.refresh_bindings()

    # -- the forms: root cause, workaround, fix change, article

    def _open_form(self, form: type[Widget]) -> None:
        if self.record is None:
            self.notify(_("Still loading {number}").format(number=self.number))
            return
        # Back from the form, keys wait for the problem read again (as saved, if it was).
        self.holds_keys = True
        self.app.push_screen(form(self.record), self._after_form)  # type: ignore[call-arg]

    def _after_form(self, result: str | None) -> None:
        if result and result != self.number:
            self.notify(
                _("{number} written for {problem}.").format(number=result, problem=self.number),
                markup=False,
            )
        elif result:
            self.notify(_("{number} saved").format(number=result), markup=False)
        self.load()

    def action_root_cause(self) -> None:
        from itsm_tui.screens.problem_forms import RootCauseForm

        self._open_form(RootCauseForm)

    def action_workaround(self) -> None:
        from itsm_tui.screens.problem_forms import WorkaroundForm

        self._open_form(WorkaroundForm)

    def action_fix_change(self) -> None:
        from itsm_tui.screens.problem_forms import FixChangeForm

        self._open_form(FixChangeForm)

    def action_problem_article(self) -> None:
        from itsm_tui.screens.problem_forms import ProblemArticleForm

        self._open_form(ProblemArticleForm)

    def action_resolve_incidents(self) -> None:
        r = self.record
        if r is None:
            return
        still_open = [i for i in r["incidents"] if i["is_open"]]
        if not still_open:
            self.notify(_("No open incidents on {number}.").format(number=r["number"]))
            return
        if not (r["status"] in ("resolved", "closed") or (r["known_error"] and r["workaround"])):
            self.notify(
                _("Resolve {number} or publish its workaround first.").format(number=r["number"]),
                severity="warning",
                markup=False,
            )
            return

        def chosen(numbers: list[str] | None) -> None:
            if numbers:
                self._resolve(desk_of(self.app), numbers)

        self.app.push_screen(ResolveIncidentsDialog(r["number"], still_open), chosen)

    @work(thread=True, exclusive=True, group="problem-write")
    def _resolve(self, ctx: DeskContext, numbers: list[str]) -> None:
        try:
            with ctx.store.write() as session:
                desk_problems.resolve_incidents(
                    session, get_agent(session, ctx.actor), self.number, numbers, now=ctx.now()
                )
        except DeskError as exc:
            self.post_message(ProblemWritten(self.number, exc.message))
            return
        self.post_message(ProblemWritten(self.number, None, str(len(numbers))))

    @on(ProblemWritten)
    def _written(self, message: ProblemWritten) -> None:
        if message.error is not None:
            self.notify(message.error, title=self.number, severity="error", markup=False)
            return
        n = int(message.done)
        self.notify(
            ngettext("{n} incident resolved.", "{n} incidents resolved.", n).format(n=n),
            markup=False,
        )
        self.load()


def _rca_text(r: dict[str, Any]) -> str:
    lines = [r["root_cause"] or "—"]
    analysis = r.get("analysis") or {}
    if analysis.get("method") == desk_problems.FIVE_WHYS:
        lines += [
            _("Why {n}: {answer}").format(n=n, answer=why)
            for n, why in enumerate(analysis["whys"], 1)
        ]
    elif analysis.get("method") == desk_problems.FREE_TEXT:
        lines.append(analysis["text"])
    return "\n".join(lines)


class ResolveIncidentsDialog(ModalScreen[list[str] | None]):
    """Which of the problem's open incidents to resolve with its fix or workaround (all
    chosen to begin with): one step, all or nothing."""

    CSS_PATH = "styles/problems.tcss"
    BINDINGS: list[BindingType] = [
        Binding("ctrl+s", "save", _("Resolve")),
        Binding("escape", "cancel", _("Cancel")),
    ]

    def __init__(self, number: str, incidents: list[dict[str, Any]]) -> None:
        super().__init__()
        self.number = number
        self.incidents = incidents

    def compose(self) -> ComposeResult:
        with Vertical(id="resolve-dialog"):
            yield Static(
                _("Resolve the open incidents of {number} (space: choose, ctrl+s: resolve)").format(
                    number=self.number
                ),
                id="resolve-heading",
            )
            yield SelectionList[str](
                *[
                    Selection(
                        Text(f"{i['number']}  {printable(i['title'], single_line=True)[:60]}"),
                        i["number"],
                        True,
                    )
                    for i in self.incidents
                ],
                id="resolve-choices",
            )

    def action_save(self) -> None:
        chosen = list(self.query_one("#resolve-choices", SelectionList).selected)
        self.dismiss(chosen or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
