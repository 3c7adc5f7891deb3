"""The queue: saved views, search, filters and sort over the virtual ticket table, live."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from itsm_tui.context import DeskContext
from itsm_tui.data.directory import DeskDirectory, desk_directory
from itsm_tui.data.queue_pages import QueueRow
from itsm_tui.data.queue_views import QUEUE_SORTS, QueueQuery
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.desk import DeskError, assign_ticket
from itsm_tui.desk.problems import create_problem
from itsm_tui.desk.records import get_agent
from itsm_tui.i18n import _
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.messages import DirectoryLoaded, QueueFailed, QueueLoaded, TicketWritten
from itsm_tui.screens import forms, keys
from itsm_tui.screens.detail_kept import ticket_screen
from itsm_tui.screens.one_frame import OneFramePerUpdate
from itsm_tui.screens.problems import ProblemDetailScreen
from itsm_tui.screens.queue_filter import FilterInput, FilterSuggester, apply_filter_text, describe
from itsm_tui.screens.queue_reads import (
    QueueCounted,
    QueueSource,
    RowsLoaded,
    RowsReadAgain,
    count_view,
    count_views,
    read_rows_again,
    read_top,
    read_window,
)
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader
from itsm_tui.screens.widgets.ticket_table import TicketTable


@dataclass(frozen=True)
class SavedView:
    key: str
    label: str


# The saved views, in the order of their number keys (1…7).
VIEWS: tuple[SavedView, ...] = (
    SavedView("mine", _("My tickets")),
    SavedView("team", _("My team")),
    SavedView("unassigned", _("Unassigned")),
    SavedView("soon", _("Breaching soon")),
    SavedView("breached", _("Breached")),
    SavedView("open", _("All open")),
    SavedView("resolved", _("Recently resolved")),
)
VIEW_LABELS = {v.key: v.label for v in VIEWS}
RECENTLY = timedelta(days=1)
BREACHING_WITHIN = timedelta(hours=2)
# While a view stays empty, the other views are counted again every this many polls.
ELSEWHERE_POLLS = 10
# A view whose rows depend on the time (breaching soon, breached: an SLA window against
# now) is counted again every this many polls even when the store has not changed; any
# other view only when it has (Store.change_marker).
TIMED_VIEW_POLLS = 5


def view_query(view: str, directory: DeskDirectory | None, ctx: DeskContext) -> QueueQuery:
    """A saved view as a query (the acting agent's ids come from the directory)."""
    me = directory.agent_id if directory else None
    team = directory.team_id if directory else None
    if view == "mine":
        # An agent unknown to the store sees nothing rather than everyone's tickets.
        if me is None:
            return QueueQuery(TicketFilter(statuses=("\x00none",)))
        return QueueQuery(TicketFilter(assignee_id=me, open_only=True))
    if view == "team":
        if team is None:
            return QueueQuery(TicketFilter(statuses=("\x00none",)))
        return QueueQuery(TicketFilter(team_id=team, open_only=True))
    if view == "unassigned":
        return QueueQuery(TicketFilter(unassigned=True, open_only=True))
    if view == "soon":
        return QueueQuery(
            TicketFilter(open_only=True), sla="soon", soon_within=BREACHING_WITHIN, sort="sla"
        )
    if view == "breached":
        return QueueQuery(TicketFilter(open_only=True), sla="breached")
    if view == "resolved":
        return QueueQuery(TicketFilter(), resolved_since=ctx.now() - RECENTLY, sort="age")
    return QueueQuery(TicketFilter(open_only=True))


class ViewsElsewhere(Message):
    """The counts of the other views, for the view `shown` that came back empty."""

    def __init__(self, shown: QueueQuery, counts: list[tuple[SavedView, int]]) -> None:
        super().__init__()
        self.shown = shown
        self.counts = counts


class QueueScreen(OneFramePerUpdate, Screen[None]):
    """The agent's home: one saved view at a time, refreshed every few seconds."""

    BINDINGS: list[BindingType] = [
        Binding("enter", "open", _("Open")),
        *keys.TICKET_ACTIONS,
        Binding("slash", "search", _("Search")),
        Binding("f", "filter", _("Filter")),
        keys.NEW_INCIDENT,
        keys.NEW_REQUEST,
        keys.MARK,
        keys.PROBLEM_FROM_MARKED,
        Binding("o", "cycle_sort", _("Sort")),
        Binding("O", "flip_sort", _("Reverse sort"), show=False),
        Binding("v", "next_view", _("View")),
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
        Binding("escape", "clear_input", _("Back to the queue")),
        *[
            Binding(str(i), f"view('{view.key}')", view.label, show=False)
            for i, view in enumerate(VIEWS, start=1)
        ],
    ]

    def __init__(self, ctx: DeskContext, *, poll_seconds: float = 3.0) -> None:
        super().__init__()
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.directory: DeskDirectory | None = None
        self.view_key = "open"
        self.search_text = ""
        self.filter_text = ""
        self.filters_shown: dict[str, str] = {}
        # None: the view's own order (priority; SLA for "breaching soon"; age for resolved).
        self.sort: str | None = None
        self.descending = False
        self.queue_query = view_query(self.view_key, None, ctx)
        self.count: int | None = None
        self.suggester = FilterSuggester()
        # The empty view whose other views were last counted, and polls since.
        self._elsewhere_for: QueueQuery | None = None
        self._elsewhere_polls = 0
        self._poll_timer: Timer | None = None
        # Keys typed behind a view key (Enter, t, a…) act on that view's rows: they wait
        # for its first read, as keys typed while the queue first loads do.
        self.holds_keys = True
        self._debounce: Timer | None = None
        self._reading = False
        self.polls = 0
        # The store's change marker taken before the read now shown, and that read's query:
        # a poll that finds the same marker reads only the rows on screen again.
        self._marker: object | None = None
        self._marker_query: QueueQuery | None = None
        self._polls_since_count = 0
        # Polls that found the store unchanged (instrumentation, as `polls`).
        self.polls_unchanged = 0
        self._bar_shown: tuple[str, str] | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield DeskHeader(self.ctx)
        with Horizontal(id="view-bar"):
            yield Static(id="view-name")
            yield Static(id="view-detail")
        # A search and a filter narrow the view on screen; the bar says so.
        yield Input(
            id="search", placeholder=_("search this view: number, title, description — Enter")
        )
        yield FilterInput(
            id="filter",
            placeholder=_('status:new priority:P1 team:"Service Desk" sla:breached — → completes'),
            suggester=self.suggester,
        )
        yield TicketTable(clock=self.ctx.now, id="tickets")
        yield DeskFooter()

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._show_view_bar()
        self._load_directory()

    # ------------------------------------------------------------------ reading

    @work(thread=True, exclusive=True, group="queue-directory")
    def _load_directory(self) -> None:
        try:
            with self.ctx.store.read() as session:
                directory = desk_directory(session, self.ctx.actor)
        except Exception as exc:  # the store went away: say so, keep the screen
            self.post_message(QueueFailed(str(exc), poll=False))
            return
        self.post_message(DirectoryLoaded(directory))

    @on(DirectoryLoaded)
    def _directory_loaded(self, message: DirectoryLoaded) -> None:
        self.directory = message.directory
        self.suggester.directory = message.directory
        if self.directory.agent_id is not None:
            self.view_key = "mine"
        self._requery(keep_selection=False)

    def _build_query(self) -> QueueQuery:
        query, self.filters_shown = self._view_with_filters(self.view_key)
        if self.sort is not None:
            query = replace(query, sort=self.sort, descending=self.descending)
        return query

    def _view_with_filters(self, view: str) -> tuple[QueueQuery, dict[str, str]]:
        """A saved view narrowed by the filter line and the search (raises ValueError)."""
        base = view_query(view, self.directory, self.ctx)
        chosen: dict[str, str] = {}
        if self.filter_text:
            base, chosen = apply_filter_text(base, self.filter_text, self.directory)
        return replace(base, text=self.search_text or None), chosen

    def reload(
        self, *, keep_selection: bool = True, poll: bool = False, centre: bool = False
    ) -> None:
        """Read the view again (count and the rows on screen) in a worker. The selected
        ticket stays selected at the same height of the screen, or in its middle with
        `centre` (a new order: the rows around it are new too)."""
        table = self.table
        selected = table.selected if keep_selection else None
        screen_row = (table.cursor - table.top_row) if keep_selection else 0
        # Within the window as it is now (a return from a ticket after the terminal shrank).
        screen_row = max(0, min(screen_row, table.visible_rows - 1))
        if centre:
            screen_row = (table.visible_rows - 1) // 2
        # A poll of the view already shown may skip the count if nothing was committed
        # since its read; a view against the clock is counted every TIMED_VIEW_POLLS.
        unchanged_since = None
        if (
            poll
            and self._marker is not None
            and self._marker_query == self.queue_query
            and (self.queue_query.sla is None or self._polls_since_count < TIMED_VIEW_POLLS - 1)
        ):
            unchanged_since = (self._marker, table.shown_pages(), table.generation)
        self._read_queue(
            self.queue_query,
            selected_id=selected.id if selected else None,
            cursor=table.cursor if keep_selection else 0,
            screen_row=screen_row,
            visible=table.visible_rows,
            poll=poll,
            asked_at=(table.cursor, table.top_row),
            unchanged_since=unchanged_since,
        )

    @work(thread=True, exclusive=True, group="queue-read")
    def _read_queue(
        self,
        query: QueueQuery,
        *,
        selected_id: int | None,
        cursor: int,
        screen_row: int,
        visible: int,
        poll: bool,
        asked_at: tuple[int, int],
        unchanged_since: tuple[object, dict[int, list[QueueRow]], int] | None = None,
    ) -> None:
        worker = get_current_worker()
        try:
            # Taken before the read: a commit after it moves the marker, so the next poll
            # reads again whatever this read saw of that commit.
            marker = self.ctx.store.change_marker()
            if unchanged_since is not None and marker == unchanged_since[0]:
                _marker, shown, generation = unchanged_since
                again = read_rows_again(self.ctx, shown)
                if again is not None:
                    self.post_message(
                        RowsReadAgain(query, again, generation=generation, asked_at=asked_at)
                    )
                    return
            if selected_id is None and cursor == 0 and not poll:
                # A new view, search or filter: the rows first, the count after them.
                read, counted, pages = read_top(self.ctx, query, visible=visible)
                self.post_message(RowsLoaded(query, read, pages, counted=counted, marker=marker))
                if not counted and not worker.is_cancelled:
                    self.post_message(QueueCounted(query, count_view(self.ctx, query)))
                return
            total, position, top, pages = read_window(
                self.ctx,
                query,
                selected_id=selected_id,
                cursor=cursor,
                screen_row=screen_row,
                visible=visible,
            )
        except Exception as exc:
            self.post_message(QueueFailed(str(exc), poll=poll))
            return
        self.post_message(
            QueueLoaded(
                query, total, position, top, pages, poll=poll, asked_at=asked_at, marker=marker
            )
        )

    def _keys_may_go(self) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        counted = not isinstance(message, RowsLoaded) or message.counted
        table = self.table
        if message.poll and message.asked_at != (table.cursor, table.top_row):
            # The agent moved while the poll read: its window would put the cursor back
            # (a page-down undone, seen at 20 sessions on a slow store). The next poll
            # reads from where the cursor is now.
            self._arm_poll()
            return
        if message.query == self.queue_query:
            self._keys_may_go()
            table.loader = QueueSource(self.ctx, self.queue_query)
            table.sort_column = self.queue_query.sort
            table.sort_descending = self.queue_query.descending
            table.note_fetched(message.pages)
            table.replace(
                message.total,
                message.pages,
                cursor=message.cursor,
                top=message.top,
                counted=counted,
            )
            self.count = message.total if counted else None
            self._show_view_bar()
            self._marker, self._marker_query = message.marker, message.query
            self._polls_since_count = 0
            if counted:
                self._look_elsewhere_if_empty(poll=message.poll)
        if message.poll:
            self.polls += 1
        if counted:
            self._arm_poll()

    @on(RowsReadAgain)
    def _rows_read_again(self, message: RowsReadAgain) -> None:
        table = self.table
        # Only onto the very rows it read: not after a move, a new view or a fuller read
        # (as a stale poll's window, it is dropped, and the next poll reads from there).
        if (
            message.query != self.queue_query
            or message.generation != table.generation
            or message.asked_at != (table.cursor, table.top_row)
        ):
            self._arm_poll()
            return
        table.refresh_pages(message.pages)
        self.polls += 1
        self.polls_unchanged += 1
        self._polls_since_count += 1
        if self.count == 0:
            self._look_elsewhere_if_empty(poll=True)
        self._arm_poll()

    @on(QueueCounted)
    def _queue_counted(self, message: QueueCounted) -> None:
        if message.query == self.queue_query and self.count is None:
            self.table.set_total(message.total)
            self.count = message.total
            self._show_view_bar()
            self._look_elsewhere_if_empty(poll=False)
        self._arm_poll()

    # ------------------------------------------------------------------ an empty view

    def _look_elsewhere_if_empty(self, *, poll: bool) -> None:
        """An empty view says where the work is: the other views, with the same filter and
        search, and their counts (read in a worker; again every ELSEWHERE_POLLS polls)."""
        if self.count != 0:
            self._elsewhere_for = None
            return
        if poll and self._elsewhere_for == self.queue_query:
            self._elsewhere_polls += 1
            if self._elsewhere_polls < ELSEWHERE_POLLS:
                return
        self._elsewhere_for = self.queue_query
        self._elsewhere_polls = 0
        others = [
            (view, self._view_with_filters(view.key)[0])
            for view in VIEWS
            if view.key != self.view_key
        ]
        self._count_elsewhere(self.queue_query, others)

    @work(thread=True, exclusive=True, group="queue-elsewhere")
    def _count_elsewhere(
        self, shown: QueueQuery, others: list[tuple[SavedView, QueueQuery]]
    ) -> None:
        try:
            counts = count_views(self.ctx, [query for _view, query in others])
        except Exception as exc:  # the store went away: the next poll says so
            self.post_message(QueueFailed(str(exc), poll=True))
            return
        views = [view for view, _query in others]
        self.post_message(ViewsElsewhere(shown, list(zip(views, counts, strict=True))))

    @on(ViewsElsewhere)
    def _views_elsewhere(self, message: ViewsElsewhere) -> None:
        if message.shown != self.queue_query or self.count != 0:
            return
        self.table.set_empty_note(self._empty_note(message.counts))

    def _empty_note(self, counts: list[tuple[SavedView, int]]) -> list[str]:
        label = VIEW_LABELS.get(self.view_key, self.view_key)
        narrowed = bool(self.search_text or self.filter_text)
        if narrowed:
            lines = [_("Nothing in {view} matches this search or filter.").format(view=label)]
        else:
            lines = [_("No tickets in {view}.").format(view=label)]
        if not any(n for _view, n in counts):
            lines.append(_("Nothing in the other views either."))
            return lines
        lines.append("")
        if narrowed:
            lines.append(_("With this search and filter, the other views hold:"))
        else:
            lines.append(_("The other views hold:"))
        keys = {view.key: str(i) for i, view in enumerate(VIEWS, start=1)}
        width = max(len(view.label) for view, _n in counts)
        for view, n in counts:
            lines.append(f"  {keys[view.key]}  {view.label:<{width}}  {n:>9,}")
        lines.append("")
        lines.append(_("Press a view's number to go there."))
        return lines

    @on(QueueFailed)
    def _queue_failed(self, message: QueueFailed) -> None:
        self._keys_may_go()
        self.notify(
            _("Cannot read the queue: {why}").format(why=message.reason[:200]),
            severity="error",
            markup=False,
        )
        self._arm_poll()

    def _requery(self, *, keep_selection: bool = True, centre: bool = False) -> None:
        try:
            query = self._build_query()
        except ValueError as exc:
            self._keys_may_go()
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.queue_query = query
        self.count = None
        self.table.set_empty_note(())
        self._show_view_bar()
        self.reload(keep_selection=keep_selection, centre=centre)

    # ------------------------------------------------------------------ live refresh

    def _arm_poll(self) -> None:
        """One-shot: the next poll is armed only once this one answered (never overlap)."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
        if self.poll_seconds > 0:
            self._poll_timer = self.set_timer(self.poll_seconds, self.poll_now)

    def poll_now(self) -> None:
        self._poll_timer = None
        # A modal (a form, help) is open, or another screen is on top: look again later.
        if self.app.screen is not self:
            self._arm_poll()
            return
        self.reload(poll=True)

    # ------------------------------------------------------------------ the bar

    def _show_view_bar(self) -> None:
        label = VIEW_LABELS.get(self.view_key, self.view_key)
        count = "…" if self.count is None else f"{self.count:,}"
        arrow = " ▼" if self.queue_query.descending else " ▲"
        details = [_("sorted by {column}").format(column=self.queue_query.sort) + arrow]
        if self.search_text:
            details.append(_("search in this view: {text}").format(text=self.search_text))
        if self.filters_shown:
            details.append(describe(self.filters_shown))
        shown = (f" {label} · {count} ", " · ".join(details))
        # Every poll comes here: the same bar is not drawn (sent to the terminal) again.
        if shown == self._bar_shown:
            return
        self._bar_shown = shown
        self.query_one("#view-name", Static).update(shown[0])
        # Search and filter text are the user's: drawn as plain Text, never markup.
        self.query_one("#view-detail", Static).update(Text(shown[1]))

    # ------------------------------------------------------------------ views, search, sort

    def action_view(self, key: str) -> None:
        if key not in VIEW_LABELS:
            return
        self.view_key = key
        self.sort = None
        self.descending = False
        self.holds_keys = True
        self._requery(keep_selection=False)

    def action_next_view(self) -> None:
        keys = [v.key for v in VIEWS]
        self.action_view(keys[(keys.index(self.view_key) + 1) % len(keys)])

    def action_cycle_sort(self) -> None:
        current = self.queue_query.sort
        self.set_sort(QUEUE_SORTS[(QUEUE_SORTS.index(current) + 1) % len(QUEUE_SORTS)])

    def action_flip_sort(self) -> None:
        self.sort = self.queue_query.sort
        self.descending = not self.queue_query.descending
        self._requery(centre=True)

    def set_sort(self, column: str, *, descending: bool = False) -> None:
        """Sort by `column`; the selected ticket stays selected, with its new neighbours
        above and below it."""
        self.sort = column
        self.descending = descending
        self._requery(centre=True)

    @on(TicketTable.SortClicked)
    def _sort_clicked(self, message: TicketTable.SortClicked) -> None:
        if message.column == self.queue_query.sort:
            self.action_flip_sort()
        else:
            self.set_sort(message.column)

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.add_class("shown")
        box.focus()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape leaves the search or filter box: offered (and shown) only from one.
        if action == "clear_input":
            return isinstance(self.focused, Input)
        return True

    def action_clear_input(self) -> None:
        for box in self.query(Input):
            if box.has_focus or box.has_class("shown"):
                box.remove_class("shown")
        self.table.focus()

    @on(Input.Changed, "#search")
    def _search_typed(self, _event: Input.Changed) -> None:
        # Not every keystroke: the view is read again once typing pauses.
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.4, self._apply_search)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._apply_search()
        self._leave_box(event.input)

    def _apply_search(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        text = self.query_one("#search", Input).value.strip()
        if text != self.search_text:
            self.search_text = text
            self._requery(keep_selection=False)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        previous = self.filter_text
        self.filter_text = event.value.strip()
        try:
            self._build_query()
        except ValueError as exc:
            self.filter_text = previous
            self.notify(str(exc), severity="warning", markup=False)
            return
        self._requery(keep_selection=False)
        self._leave_box(event.input)

    def show_filter(self, view: str, text: str) -> None:
        """A view with a filter line in force and shown (the dashboard's drill-downs): the
        line says which tickets these are, and can be edited or emptied like a typed one."""
        self.view_key = view if view in VIEW_LABELS else self.view_key
        self.sort = None
        self.descending = False
        self.filter_text = text
        box = self.query_one("#filter", Input)
        box.value = text
        box.set_class(bool(text), "shown")
        self._requery(keep_selection=False)
        self.table.focus()

    def _leave_box(self, box: Input) -> None:
        """Back to the table; a box left empty goes (one with text stays: it is in force)."""
        if not box.value.strip():
            box.remove_class("shown")
        self.table.focus()

    def action_refresh(self) -> None:
        self.reload()

    # ------------------------------------------------------------------ ticket actions

    @on(TicketTable.Opened)
    def _opened(self, message: TicketTable.Opened) -> None:
        self.open_ticket(message.row.number)

    def action_open(self) -> None:
        row = self.table.selected
        if row is not None:
            self.open_ticket(row.number)

    def open_ticket(self, number: str) -> None:
        self.app.push_screen(ticket_screen(self.app, number), lambda _r: self.reload())

    def _selected_or_say(self) -> QueueRow | None:
        row = self.table.selected
        if row is None:
            self.notify(_("No ticket selected."), severity="warning")
        return row

    def action_take(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self._take(row.number, row.version)

    @work(thread=True, exclusive=True, group="queue-write")
    def _take(self, number: str, version: int) -> None:
        try:
            with self.ctx.store.write() as session:
                actor = get_agent(session, self.ctx.actor)
                assign_ticket(
                    session,
                    actor,
                    number,
                    assignee=actor.username,
                    expected_version=version,
                    now=self.ctx.now(),
                )
        except DeskError as exc:
            self.post_message(TicketWritten(number, "take", str(exc)))
            return
        self.post_message(TicketWritten(number, "take", None))

    @on(TicketWritten)
    def _written(self, message: TicketWritten) -> None:
        if message.error is not None:
            self.notify(message.error, title=message.number, severity="error", markup=False)
            return
        if message.done == "problem":
            self._problem_opened(message.number)
            return
        self.notify(_("{number} is yours.").format(number=message.number), markup=False)
        self.reload()

    def _open_form(self, form: Screen[str | None]) -> None:
        def done(number: str | None) -> None:
            if number:
                self.notify(_("{number} saved.").format(number=number), markup=False)
                self.reload()

        self.app.push_screen(form, done)

    def action_assign(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self._open_form(
                forms.AssignForm(row.number, row.version, team=row.team, assignee=row.assignee)
            )

    def action_status(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self._open_form(forms.StatusForm(row.number, row.version, row.type, row.status))

    def action_reply(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self._open_form(forms.CommentForm(row.number, row.version, kind="reply"))

    def action_work_note(self) -> None:
        row = self._selected_or_say()
        if row is not None:
            self._open_form(forms.CommentForm(row.number, row.version, kind="work_note"))

    def action_new_incident(self) -> None:
        self._open_form(forms.NewTicketForm("incident"))

    # ------------------------------------------------------------------ problems

    def action_mark(self) -> None:
        """Mark (or unmark) the selected incident for a problem, and step down."""
        row = self._selected_or_say()
        if row is None:
            return
        if row.type != "incident":
            self.notify(_("Only incidents go into a problem."), severity="warning")
            return
        marked = self.table.marked
        if row.number in marked:
            marked.remove(row.number)
        else:
            marked.append(row.number)
        self.table.action_cursor_down()
        self.table.refresh()

    def action_problem_from_marked(self) -> None:
        """Open a problem for the marked incidents (or the selected one)."""
        numbers = list(self.table.marked)
        if not numbers:
            row = self._selected_or_say()
            if row is None:
                return
            numbers = [row.number]
        self._create_problem(numbers)

    @work(thread=True, exclusive=True, group="queue-write")
    def _create_problem(self, numbers: list[str]) -> None:
        try:
            with self.ctx.store.write() as session:
                actor = get_agent(session, self.ctx.actor)
                now = self.ctx.now()
                number = create_problem(session, actor, incidents=numbers, now=now).number
        except DeskError as exc:
            self.post_message(TicketWritten(numbers[0], "problem", str(exc)))
            return
        self.post_message(TicketWritten(number, "problem", None))

    def _problem_opened(self, number: str) -> None:
        self.table.marked.clear()
        self.notify(_("{number} opened.").format(number=number), markup=False)
        self.app.push_screen(ProblemDetailScreen(number), lambda _r: self.reload())

    def action_new_request(self) -> None:
        self._open_form(forms.NewTicketForm("request"))
