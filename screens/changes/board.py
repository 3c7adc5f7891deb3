"""The change board: changes in columns by state, live, with a key per step of the process.

Reads run in a thread worker and come back as messages; a one-shot timer reads again a few
seconds after each answer (never two reads at once), and each column keeps the card under
its cursor. A step that needs nothing typed (submit, start) is written from here through
the desk; one that needs input (a vote's comment, a window, an outcome, a review, a
reason) opens the change's own form. A refusal is the desk's own sentence, as a toast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from itsm_tui.context import DeskContext
from itsm_tui.data import change_board
from itsm_tui.data.change_board import Board, BoardCard, BoardFilter, CardKey
from itsm_tui.data.change_detail import ChangeDetail, change_detail
from itsm_tui.data.models import Agent, Change
from itsm_tui.desk import DeskError, permitted_steps, start_change, submit_change
from itsm_tui.desk.records import get_agent
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.workflow import CHANGE_TYPES
from itsm_tui.i18n import _, ngettext
from itsm_tui.keys_in_order import keys_may_go
from itsm_tui.screens import keys
from itsm_tui.screens.changes import forms
from itsm_tui.screens.changes.board_view import BoardView, status_label
from itsm_tui.screens.changes.detail import ChangeDetailScreen
from itsm_tui.screens.queue_filter import describe, split_terms
from itsm_tui.screens.refresh import LiveRefresh
from itsm_tui.screens.widgets.footer import DeskFooter
from itsm_tui.screens.widgets.header import DeskHeader

# The steps the board takes, by the desk's names. Which the reader is offered is the desk's
# rule (`permitted_steps`, read for the selected card in a worker); the desk judges each
# again when it is written. Those that need nothing typed are
# written from here; the others open the change's own form over the board.
DIRECT_STEPS: dict[str, Callable[..., Any]] = {"submit": submit_change, "start": start_change}
FORM_STEPS: dict[str, Callable[[ChangeDetail], Screen[Any]]] = {
    "approve": forms.ApproveForm.of,
    "reject": forms.RejectForm.of,
    "schedule": forms.ScheduleForm.of,
    "complete": forms.CompleteForm.of,
    "review": forms.ReviewForm.of,
    "cancel": forms.CancelForm.of,
}
# Their keys are the change screen's (one meaning per key); editing, the risk questionnaire,
# closing and linking an incident are taken there (Enter).
BOARD_STEPS = ("submit", "approve", "reject", "schedule", "start", "complete", "review", "cancel")
STEP_KEYS = tuple(keys.CHANGE_KEY_OF_STEP[step] for step in BOARD_STEPS)
STEP_OF_ACTION = {keys.CHANGE_KEY_OF_STEP[step].action: step for step in BOARD_STEPS}
# What a filter line's bare word means: the changes that wait for the reader's vote.
MY_VOTES = ("votes", "mine")
# Read the next page of a column when the cursor comes this close to its last card read.
READ_AHEAD = 5


@dataclass(frozen=True)
class Reader:
    """Who reads the board: their agent id and time zone (read with the first board)."""

    agent_id: int | None
    zone: tzinfo


def parse_board_filter(text: str, services: tuple[str, ...]) -> BoardFilter:
    """`type:emergency service:"Mail relay" votes` as a filter; ValueError says what is wrong."""
    change_type = service = None
    awaiting = False
    for term in split_terms(text):
        key, value = term.key.lower(), term.value
        if not key and value.lower() in MY_VOTES:
            awaiting = True
        elif key == "type":
            if value not in CHANGE_TYPES:
                raise ValueError(
                    _("unknown change type {value!r}; use one of: {types}").format(
                        value=value, types=", ".join(CHANGE_TYPES)
                    )
                )
            change_type = value
        elif key == "service":
            match = next((s for s in services if s.lower() == value.lower()), None)
            if match is None:
                raise ValueError(_("no service is named {value!r}").format(value=value))
            service = match
        else:
            raise ValueError(
                _("the board filters by type:…, service:… and votes; not {term!r}").format(
                    term=f"{term.key}:{term.value}" if term.key else term.value
                )
            )
    return BoardFilter(change_type=change_type, service=service, awaiting_me=awaiting)


def describe_filter(board_filter: BoardFilter) -> str:
    chosen = {}
    if board_filter.change_type:
        chosen["type"] = board_filter.change_type
    if board_filter.service:
        chosen["service"] = board_filter.service
    text = describe(chosen)
    return f"{text} votes".strip() if board_filter.awaiting_me else text


class BoardLoaded(Message):
    def __init__(
        self,
        board: Board,
        board_filter: BoardFilter,
        reader: Reader,
        services: tuple[str, ...],
        *,
        follow: int | None,
    ) -> None:
        super().__init__()
        self.services = services
        self.board = board
        self.board_filter = board_filter
        self.reader = reader
        self.follow = follow


class BoardCounted(Message):
    """The counts of the columns whose first read was full (drawn before they were counted)."""

    def __init__(self, board_filter: BoardFilter, counts: dict[str, int]) -> None:
        super().__init__()
        self.board_filter = board_filter
        self.counts = counts


class BoardFailed(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ColumnPageLoaded(Message):
    def __init__(self, status: str, board_filter: BoardFilter, cards: list[BoardCard]) -> None:
        super().__init__()
        self.status = status
        self.board_filter = board_filter
        self.cards = cards


class StepsRead(Message):
    """The steps the desk permits the reader on `card`, as the card stood when read."""

    def __init__(self, card: BoardCard, steps: frozenset[str]) -> None:
        super().__init__()
        self.card = card
        self.steps = steps


class StepWritten(Message):
    """A step from the board finished: `error` is the desk's refusal, None when written."""

    def __init__(self, card: BoardCard, step: str, error: str | None) -> None:
        super().__init__()
        self.card = card
        self.step = step
        self.error = error


class StepFormReady(Message):
    """The change as its form needs it, read for a step that takes input."""

    def __init__(self, step: str, detail: ChangeDetail) -> None:
        super().__init__()
        self.step = step
        self.detail = detail


class ChangeBoardScreen(Screen[None]):
    """Every change by state; `B` from anywhere, Enter opens one, its step keys move it on."""

    CSS_PATH = "../styles/changes.tcss"
    # Keys go to the cards (the hidden filter line would otherwise take the first focus).
    AUTO_FOCUS = "#board"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", _("Open")),
        Binding("n", "new_change", _("New change")),
        *STEP_KEYS,
        Binding("f", "filter", _("Filter")),
        keys.CHANGE_CALENDAR,
        Binding("left", "column(-1)", _("Previous column"), show=False),
        Binding("right", "column(1)", _("Next column"), show=False),
        Binding("up", "card(-1)", _("Previous card"), show=False),
        Binding("down", "card(1)", _("Next card"), show=False),
        Binding("pageup", "page(-1)", _("Page up"), show=False),
        Binding("pagedown", "page(1)", _("Page down"), show=False),
        Binding("home", "first_card", _("First card"), show=False),
        Binding("end", "last_card", _("Last card"), show=False),
        Binding("ctrl+r", "refresh", _("Refresh"), show=False),
        Binding("escape", "back", _("Back")),
    ]

    def __init__(
        self, ctx: DeskContext | None = None, *, poll_seconds: float | None = None
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._poll_seconds = poll_seconds
        self.board_filter = BoardFilter()
        self.filter_text = ""
        self.reader: Reader | None = None
        self.board: Board | None = None
        self.services: tuple[str, ...] = ()
        self.live = LiveRefresh(self, self.reload, lambda: self.poll_seconds)
        # The selected card as read and the steps the desk permits on it: a card that has
        # moved on since (another version, status or vote) is offered nothing until re-read.
        self._card_steps: tuple[BoardCard, frozenset[str]] | None = None
        self._reading_page: str | None = None
        self.polls = 0
        # Keys typed behind `B` act on the board as read: they wait for its first read.
        self.holds_keys = True

    @property
    def ctx(self) -> DeskContext:
        return self._ctx or self.app.desk  # type: ignore[attr-defined,no-any-return]

    @property
    def poll_seconds(self) -> float:
        if self._poll_seconds is not None:
            return self._poll_seconds
        return float(getattr(self.app, "poll_seconds", 3.0))

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield DeskHeader(self._ctx)
        with Horizontal(id="board-bar"):
            yield Static(_(" Change board "), id="board-name")
            yield Static(id="board-detail")
        yield Input(
            id="board-filter",
            placeholder=_('type:emergency service:"Email" votes — Enter; empty shows all'),
        )
        yield BoardView(clock=self.ctx.now, id="board")
        yield DeskFooter()

    @property
    def view(self) -> BoardView:
        return self.query_one(BoardView)

    def on_mount(self) -> None:
        self.reload()

    # ------------------------------------------------------------------ reading

    def reload(self, *, follow: int | None = None) -> None:
        self._read_board(self.board_filter, self.view.loaded_depth(), follow)

    @work(thread=True, exclusive=True, group="board-read")
    def _read_board(
        self, board_filter: BoardFilter, depth: dict[str, int], follow: int | None
    ) -> None:
        ctx = self.ctx
        try:
            with ctx.store.read() as session:
                reader = self.reader or self._read_reader(session, ctx)
                services = self.services or change_board.service_names(session)
                now = ctx.now()
                board = change_board.read_board(
                    session,
                    agent_id=reader.agent_id,
                    now=now,
                    board_filter=board_filter,
                    depth=depth,
                    counted=False,
                )
                # The cards first: the board is drawn while the long columns are counted.
                self.post_message(BoardLoaded(board, board_filter, reader, services, follow=follow))
                if any(column.count is None for column in board.columns):
                    counts = change_board.column_counts(
                        session, board_filter=board_filter, awaiting=board.awaiting_me, now=now
                    )
                    self.post_message(BoardCounted(board_filter, counts))
        except (SQLAlchemyError, DeskError) as exc:
            self.post_message(BoardFailed(str(exc)))

    @staticmethod
    def _read_reader(session: Any, ctx: DeskContext) -> Reader:
        try:
            agent = get_agent(session, ctx.actor)
        except DeskError:
            # Not an agent of this desk: the board reads, every step is the desk's to refuse.
            return Reader(None, agent_zone(session, None))
        return Reader(agent.id, agent_zone(session, agent))

    @on(BoardLoaded)
    def _board_loaded(self, message: BoardLoaded) -> None:
        board = message.board
        # A board drawn before its long columns were counted: a BoardCounted follows.
        counted = all(column.count is not None for column in board.columns)
        if message.board_filter == self.board_filter:
            first = self.board is None
            view = self.view
            if not first:
                # Until this read is counted, a long column shows its last count.
                board = replace(board, columns=view.counted_as_before(board.columns))
            self.board = board
            self.reader = message.reader
            self.services = message.services
            waiting = [
                i for i, c in enumerate(board.columns) if any(card.awaiting_me for card in c.cards)
            ]
            if first and waiting and message.follow is None:
                # A CAB member opens the board on the first change waiting for their vote.
                column = board.columns[waiting[0]]
                view.focus_column = waiting[0]
                view.cursor[column.status] = next(
                    i for i, card in enumerate(column.cards) if card.awaiting_me
                )
            view.show(board.columns, follow=message.follow, zone=message.reader.zone)
            self._show_bar()
            self.refresh_bindings()
            # Keys typed behind `B` wait for the steps of the card they act on.
            self._read_selected_steps()
        if counted:
            self._read_done()

    @on(BoardCounted)
    def _board_counted(self, message: BoardCounted) -> None:
        if message.board_filter == self.board_filter and self.board is not None:
            self.view.set_counts(message.counts)
            self.board = replace(self.board, columns=tuple(self.view.columns))
            self._show_bar()
        self._read_done()

    def _read_done(self) -> None:
        self.polls += 1
        self.live.answered()

    @on(BoardFailed)
    def _board_failed(self, message: BoardFailed) -> None:
        self._keys_may_go()
        self.notify(
            _("Cannot read the change board: {why}").format(why=message.reason[:200]),
            severity="error",
            markup=False,
        )
        self.live.answered()

    def _keys_may_go(self) -> None:
        if self.holds_keys:
            self.holds_keys = False
            keys_may_go(self.app)

    @on(BoardView.Moved)
    def _moved(self, message: BoardView.Moved) -> None:
        self.refresh_bindings()
        self._read_selected_steps()
        column = self.view.column
        cards = self.view.cards.get(message.status, [])
        if (
            column is not None
            and (column.count is None or len(cards) < column.count)
            and message.index >= len(cards) - READ_AHEAD
            and self._reading_page is None
        ):
            self._reading_page = message.status
            self._read_page(message.status, self.board_filter, cards[-1].key if cards else None)

    @work(thread=True, group="board-page")
    def _read_page(self, status: str, board_filter: BoardFilter, after: CardKey | None) -> None:
        ctx = self.ctx
        try:
            with ctx.store.read() as session:
                cards = change_board.column_page(
                    session,
                    status,
                    board_filter=board_filter,
                    awaiting=self.board.awaiting_me if self.board else (),
                    now=ctx.now(),
                    after=after,
                )
        except SQLAlchemyError as exc:
            self.post_message(BoardFailed(str(exc)))
            cards = []
        self.post_message(ColumnPageLoaded(status, board_filter, cards))

    @on(ColumnPageLoaded)
    def _page_loaded(self, message: ColumnPageLoaded) -> None:
        self._reading_page = None
        if message.board_filter == self.board_filter:
            self.view.add_cards(message.status, message.cards)

    # ------------------------------------------------------------------ live refresh

    def poll_now(self) -> None:
        """The refresh interval has passed (the tests call it to skip the wait)."""
        self.live.due()

    # ------------------------------------------------------------------ the bar

    def _show_bar(self) -> None:
        board = self.board
        if board is None:
            return
        view = self.view
        first, last = view.shown_range()
        open_counts = [c.count for c in board.columns if c.since is None]
        # What matters most first: at 80 columns the end of the line may not show.
        if None in open_counts:
            parts = [_("counting…")]
        else:
            total = sum(c or 0 for c in open_counts)
            parts = [ngettext("{n} open", "{n} open", total).format(n=f"{total:,}")]
        if board.awaiting_me:
            parts.append(
                ngettext(
                    "★ {n} waits for your vote", "★ {n} wait for your vote", len(board.awaiting_me)
                ).format(n=len(board.awaiting_me))
            )
        if self.board_filter.narrowed:
            parts.append(_("filter: {text}").format(text=describe_filter(self.board_filter)))
        if last - first < len(board.columns):
            parts.append(
                _("{first}–{last} of {all} columns ◂ ▸").format(
                    first=status_label(board.columns[first].status),
                    last=status_label(board.columns[last - 1].status),
                    all=len(board.columns),
                )
            )
        # The filter holds service names from the store: plain Text, never markup.
        self.query_one("#board-detail", Static).update(Text(" · ".join(parts)))

    # ------------------------------------------------------------------ moving the cursor

    def action_column(self, step: int) -> None:
        self.view.move_column(step)
        self._show_bar()

    def action_card(self, step: int) -> None:
        self.view.move_card(step)

    def action_page(self, step: int) -> None:
        self.view.move_card(step * self.view.visible_cards)

    def action_first_card(self) -> None:
        self.view.first_card()

    def action_last_card(self) -> None:
        self.view.last_card()

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        box = self.query_one("#board-filter", Input)
        if box.has_focus:
            if not box.value.strip():
                box.remove_class("shown")
            self.view.focus()
            return
        self.dismiss(None)

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        box.suggester = SuggestFromList(
            [f'service:"{s}"' for s in self.services]
            + [f"type:{t}" for t in CHANGE_TYPES]
            + list(MY_VOTES[:1]),
            case_sensitive=False,
        )
        box.add_class("shown")
        box.focus()

    @on(Input.Submitted, "#board-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            board_filter = parse_board_filter(text, self.services)
        except ValueError as exc:
            # One line on what is wrong; the text stays in the box to be corrected.
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.filter_text = text
        if not text:
            event.input.remove_class("shown")
        self.view.focus()
        if board_filter != self.board_filter:
            self.board_filter = board_filter
            self.board = None
            self.view.cards = {}
            self.view.cursor = {}
            self.view.top = {}
            self.view.loading = True
            self.view.refresh()
            self.reload()

    # ------------------------------------------------------------------ steps

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEP_OF_ACTION:
            return STEP_OF_ACTION[action] in self.steps_here()
        if action == "open":
            return self.is_mounted and self.view.selected is not None
        return True

    def steps_here(self) -> frozenset[str]:
        """The desk's steps the reader is offered on the selected change."""
        card = self.view.selected if self.is_mounted else None
        if card is None or self._card_steps is None or self._card_steps[0] != card:
            return frozenset()
        return self._card_steps[1]

    def _read_selected_steps(self) -> None:
        card = self.view.selected
        agent_id = self.reader.agent_id if self.reader is not None else None
        if card is None or agent_id is None:
            # No card, or a reader who is no agent of this desk: no step to offer.
            self._card_steps = None
            self._keys_may_go()
        elif self._card_steps is None or self._card_steps[0] != card:
            self._read_steps(card, agent_id)
        else:
            self._keys_may_go()

    @work(thread=True, exclusive=True, group="board-steps")
    def _read_steps(self, card: BoardCard, agent_id: int) -> None:
        ctx = self.ctx
        try:
            with ctx.store.read() as session:
                agent = session.get(Agent, agent_id)
                change = session.get(Change, card.id)
                steps = (
                    permitted_steps(session, agent, change)
                    if agent is not None and change is not None
                    else ()
                )
        except SQLAlchemyError as exc:
            self.post_message(BoardFailed(str(exc)))
            steps = ()
        self.post_message(StepsRead(card, frozenset(steps)))

    @on(StepsRead)
    def _steps_read(self, message: StepsRead) -> None:
        if message.card != self.view.selected:
            return  # the cursor moved on; the read for the card under it follows
        # Editing, the questionnaire, closing and linking are the change screen's (Enter).
        self._card_steps = (message.card, message.steps & frozenset(BOARD_STEPS))
        self.refresh_bindings()
        self._keys_may_go()

    def run_step(self, action: str) -> None:
        card = self.view.selected
        step = STEP_OF_ACTION[action]
        if card is None or step not in self.steps_here():
            return
        if step in DIRECT_STEPS:
            # Keys typed behind the step act on the board as written.
            self.holds_keys = True
            self._write_step(card, step)
        else:
            self._read_for_form(card.number, step)

    def action_submit_change(self) -> None:
        self.run_step("submit_change")

    def action_start_change(self) -> None:
        self.run_step("start_change")

    def action_approve_change(self) -> None:
        self.run_step("approve_change")

    def action_reject_change(self) -> None:
        self.run_step("reject_change")

    def action_schedule_change(self) -> None:
        self.run_step("schedule_change")

    def action_complete_change(self) -> None:
        self.run_step("complete_change")

    def action_review_change(self) -> None:
        self.run_step("review_change")

    def action_cancel_change(self) -> None:
        self.run_step("cancel_change")

    @work(thread=True, exclusive=True, group="board-write")
    def _write_step(self, card: BoardCard, step: str) -> None:
        ctx = self.ctx
        try:
            with ctx.store.write() as session:
                actor = get_agent(session, ctx.actor)
                DIRECT_STEPS[step](
                    session, actor, card.number, expected_version=card.version, now=ctx.now()
                )
        except DeskError as exc:
            self.post_message(StepWritten(card, step, str(exc)))
            return
        except SQLAlchemyError as exc:
            self.post_message(StepWritten(card, step, str(exc)[:200]))
            return
        self.post_message(StepWritten(card, step, None))

    @on(StepWritten)
    def _step_written(self, message: StepWritten) -> None:
        card = message.card
        if message.error is not None:
            # The desk's own sentence; the board is read again (it may be what changed).
            self.notify(message.error, title=card.number, severity="error", markup=False)
            self.reload(follow=card.id)
            return
        done = {
            "submit": _("{number} submitted."),
            "start": _("{number} is being implemented."),
        }[message.step]
        self.notify(done.format(number=card.number), markup=False)
        # The change sits in another column now: the cursor goes with it.
        self.reload(follow=card.id)

    @work(thread=True, exclusive=True, group="board-form")
    def _read_for_form(self, number: str, step: str) -> None:
        ctx = self.ctx
        try:
            with ctx.store.read() as session:
                detail = change_detail(session, number)
        except (DeskError, SQLAlchemyError) as exc:
            self.post_message(BoardFailed(str(exc)))
            return
        self.post_message(StepFormReady(step, detail))

    @on(StepFormReady)
    def _form_ready(self, message: StepFormReady) -> None:
        if self.app.screen is not self:
            return  # the reader went elsewhere meanwhile
        change_id = self.view.selected.id if self.view.selected else None

        def done(result: str | None) -> None:
            if result:
                self.notify(_("{number} saved.").format(number=result), markup=False)
            self.reload(follow=change_id)

        self.app.push_screen(FORM_STEPS[message.step](message.detail), done)

    # ------------------------------------------------------------------ other screens

    def action_open(self) -> None:
        card = self.view.selected
        if card is not None:
            self.open_change(card.number, card.id)

    @on(BoardView.Opened)
    def _opened(self, message: BoardView.Opened) -> None:
        self.open_change(message.card.number, message.card.id)

    def open_change(self, number: str, change_id: int | None = None) -> None:
        self.app.push_screen(ChangeDetailScreen(number), lambda _r: self.reload(follow=change_id))

    def action_new_change(self) -> None:
        def done(number: str | None) -> None:
            if number:
                self.notify(_("{number} saved.").format(number=number), markup=False)
            self.reload()

        self.app.push_screen(forms.NewChangeScreen(), done)

    def action_calendar(self) -> None:
        from itsm_tui.screens.changes.calendar import ChangeCalendarScreen

        self.app.push_screen(ChangeCalendarScreen(), lambda _r: self.reload())
