"""The change board's reads: per status column the first cards in the column's order, the
count behind each column, and which changes wait for the reader's CAB vote.

Open columns run by planned start (a change without a window after those with one): a
range of `ix_changes_board` (is_open, status, planned_start) per column. The done columns
show what finished recently, newest first: a range of `ix_changes_closed_at`. Every read
is a keyset page, so a column of ten thousand scheduled changes pages like one of ten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, tuple_
from sqlalchemy.orm import Session

from itsm_tui.data.change_lists import awaiting_approval_by, service_clause
from itsm_tui.data.models import Agent, Change, Service
from itsm_tui.domain.workflow import CHANGE_DONE, CHANGE_STATUSES

# Cards read per column at a time: more than the tallest screen shows.
PER_COLUMN = 30
# The done columns (closed, rejected, cancelled) show the changes finished this recently.
RECENT_DONE = timedelta(days=30)


@dataclass(frozen=True)
class BoardFilter:
    """What the board narrows to: a change type, an affected service, the reader's votes."""

    change_type: str | None = None
    service: str | None = None
    awaiting_me: bool = False

    @property
    def narrowed(self) -> bool:
        return bool(self.change_type or self.service or self.awaiting_me)


@dataclass(frozen=True)
class CardKey:
    """Where a card sits in its column's order: continues a page after it.

    `at` is the planned start in an open column (None: no window yet, after every
    planned card) and the closing instant in a done column."""

    at: datetime | None
    id: int


@dataclass(frozen=True)
class BoardCard:
    """One change as the board draws it."""

    id: int
    number: str
    title: str
    change_type: str
    status: str
    risk: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    services: tuple[str, ...]
    version: int
    implementer: str | None
    # The reader is a CAB member whose vote on this change is still pending.
    awaiting_me: bool
    key: CardKey


@dataclass(frozen=True)
class BoardColumn:
    """One status: its first cards and how many changes it holds in all (None: not yet
    counted; a column whose first read came back short is counted by that read)."""

    status: str
    count: int | None
    cards: tuple[BoardCard, ...]
    # A done column counts only what finished since this instant.
    since: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.count is not None and len(self.cards) >= self.count


@dataclass(frozen=True)
class Board:
    columns: tuple[BoardColumn, ...]
    # Changes in authorization waiting for the reader's vote (any filter aside).
    awaiting_me: tuple[str, ...]

    def column(self, status: str) -> BoardColumn:
        for column in self.columns:
            if column.status == status:
                return column
        raise KeyError(status)


# ---------------------------------------------------------------------------
# Conditions


def service_names(session: Session) -> tuple[str, ...]:
    """Every service's name, for the board's filter (tens of rows)."""
    return tuple(session.scalars(select(Service.name).order_by(Service.name)))


def awaiting_vote(session: Session, agent_id: int | None) -> tuple[str, ...]:
    """Numbers of the changes waiting for this agent's CAB vote (change_lists' definition)."""
    if agent_id is None:
        return ()
    return tuple(awaiting_approval_by(session, agent_id))


def _filter_conditions(
    board_filter: BoardFilter, awaiting: Sequence[str]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if board_filter.change_type:
        conditions.append(Change.change_type == board_filter.change_type)
    if board_filter.service:
        conditions.append(service_clause(board_filter.service))
    if board_filter.awaiting_me:
        # What waits for a vote is a short list (the agent's pending ballots).
        conditions.append(Change.number.in_(awaiting) if awaiting else false())
    return conditions


def _column_conditions(status: str, since: datetime) -> list[ColumnElement[bool]]:
    if status in CHANGE_DONE:
        # Only a finished change has a closing time: the recent range of ix_changes_closed_at
        # (is_open would steer the planner to the board index and every change ever done).
        return [Change.closed_at >= since, Change.status == status]
    return [Change.is_open.is_(True), Change.status == status]


# ---------------------------------------------------------------------------
# Reads


_CARD_COLUMNS = (
    Change.id,
    Change.number,
    Change.title,
    Change.change_type,
    Change.status,
    Change.risk,
    Change.planned_start,
    Change.planned_end,
    Change.services,
    Change.version,
    Change.closed_at,
    Agent.username,
)


def column_page(
    session: Session,
    status: str,
    *,
    board_filter: BoardFilter = BoardFilter(),
    awaiting: Sequence[str] = (),
    now: datetime,
    after: CardKey | None = None,
    limit: int = PER_COLUMN,
) -> list[BoardCard]:
    """The cards of one column after `after` (from the top without it), in its order;
    `awaiting`: the reader's pending votes (`awaiting_vote`), marked on the cards."""
    since = now - RECENT_DONE
    conditions = [*_column_conditions(status, since), *_filter_conditions(board_filter, awaiting)]
    base = select(*_CARD_COLUMNS).outerjoin(Agent, Agent.id == Change.implementer_id)
    waiting = set(awaiting)
    if status in CHANGE_DONE:
        statement = base.where(*conditions)
        if after is not None:
            statement = statement.where(tuple_(Change.closed_at, Change.id) < (after.at, after.id))
        rows = session.execute(
            statement.order_by(Change.closed_at.desc(), Change.id.desc()).limit(limit)
        ).all()
        return [_card(row, row.closed_at, waiting) for row in rows]
    cards: list[BoardCard] = []
    if after is None or after.at is not None:
        # Planned first, by start: an index range of ix_changes_board.
        statement = base.where(*conditions, Change.planned_start.is_not(None))
        if after is not None:
            statement = statement.where(
                tuple_(Change.planned_start, Change.id) > (after.at, after.id)
            )
        rows = session.execute(
            statement.order_by(Change.planned_start, Change.id).limit(limit)
        ).all()
        cards = [_card(row, row.planned_start, waiting) for row in rows]
    if len(cards) < limit:
        # Then the ones without a window yet, oldest first.
        statement = base.where(*conditions, Change.planned_start.is_(None))
        if after is not None and after.at is None:
            statement = statement.where(Change.id > after.id)
        rows = session.execute(statement.order_by(Change.id).limit(limit - len(cards))).all()
        cards += [_card(row, None, waiting) for row in rows]
    return cards


def _card(row: Any, at: datetime | None, waiting: set[str]) -> BoardCard:
    return BoardCard(
        id=row.id,
        number=row.number,
        title=row.title,
        change_type=row.change_type,
        status=row.status,
        risk=row.risk,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        services=tuple(row.services or ()),
        version=row.version,
        implementer=row.username,
        awaiting_me=row.number in waiting,
        key=CardKey(at, row.id),
    )


def column_counts(
    session: Session,
    *,
    board_filter: BoardFilter = BoardFilter(),
    awaiting: Sequence[str] = (),
    now: datetime,
) -> dict[str, int]:
    """How many changes each column holds: open ones from the board index's (is_open,
    status) prefix, done ones from the closing-time index's recent range. `awaiting`: the
    reader's pending votes (`awaiting_vote`), for the filter on them."""
    narrowing = _filter_conditions(board_filter, awaiting)
    counts = dict.fromkeys(CHANGE_STATUSES, 0)
    open_rows = session.execute(
        select(Change.status, func.count())
        .where(Change.is_open.is_(True), *narrowing)
        .group_by(Change.status)
    ).all()
    done_rows = session.execute(
        select(Change.status, func.count())
        .where(
            Change.closed_at >= now - RECENT_DONE,
            Change.status.in_(sorted(CHANGE_DONE)),
            *narrowing,
        )
        .group_by(Change.status)
    ).all()
    for status, count in (*open_rows, *done_rows):
        if status in counts:
            counts[status] = count
    return counts


def read_board(
    session: Session,
    *,
    agent_id: int | None,
    now: datetime,
    board_filter: BoardFilter = BoardFilter(),
    depth: dict[str, int] | None = None,
    counted: bool = True,
) -> Board:
    """Every column's first cards and count; `depth` asks a column for more than
    PER_COLUMN (the reader scrolled down it: a refresh keeps those cards).

    Without `counted`, only the cards are read (an index range each): a column whose read
    came back short is counted by it, the others' counts are None, for `column_counts`
    to fill in after the board is drawn. A filter on type or service makes a count visit
    every open change's row, which the first paint should not wait for."""
    awaiting = awaiting_vote(session, agent_id)
    counts: dict[str, int] | None = None
    # The reader's votes are a short list: counted at once, only their columns are read.
    if counted or board_filter.awaiting_me:
        counts = column_counts(session, board_filter=board_filter, awaiting=awaiting, now=now)
    since = now - RECENT_DONE
    columns = []
    for status in CHANGE_STATUSES:
        limit = max(PER_COLUMN, (depth or {}).get(status, 0))
        cards: list[BoardCard] = []
        if counts is None or counts[status]:
            cards = column_page(
                session,
                status,
                board_filter=board_filter,
                awaiting=awaiting,
                now=now,
                limit=limit,
            )
        count = counts[status] if counts is not None else None
        if count is None and len(cards) < limit:
            count = len(cards)
        columns.append(
            BoardColumn(
                status=status,
                count=count,
                cards=tuple(cards),
                since=since if status in CHANGE_DONE else None,
            )
        )
    return Board(columns=tuple(columns), awaiting_me=awaiting)
