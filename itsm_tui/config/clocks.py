"""What a desk file does to open SLA clocks: the due times a calendar or policy change moves.

A clock counts on its policy's calendar and target, so a change to either re-times the
clocks still open on that policy by the rule a re-target by priority follows
(`retarget_clock`, docs/sla.md): the time spent so far stays as counted on the old
calendar and is measured against the target that applies now, the rest counts on the
new calendar. The dry run reports what would move; applying moves it. Both run the write
path's clock arithmetic (itsm_tui.desk.sla), one clock at a time over the open clocks of
the policies touched, read and written in batches so a large backlog is never held in
memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from itsm_tui.config.model import CalendarConfig, DeskConfig
from itsm_tui.data.models import AuditEvent, CatalogueItem, SlaClock, SlaPolicy, Ticket
from itsm_tui.data.sla_standing import BREACHED, PAUSED, RUNNING
from itsm_tui.desk.sla import (
    DUE_MOVED,
    RESOLUTION,
    RESPONSE,
    TicketKey,
    all_rules,
    calendar_of,
    events_of,
    refresh_sla_due,
    retarget_clock,
    schedule,
    standard_of,
)
from itsm_tui.domain.calendar import BusinessCalendar
from itsm_tui.i18n import _

# Fields whose change re-times the open clocks counting on a calendar or a policy
# (pause statuses act at the next status change, the match at the next ticket).
CALENDAR_TIMING = frozenset(
    {"timezone", "always_open", "hours", "holidays", "workdays", "workdays_as"}
)
POLICY_TIMING = frozenset({"calendar", "response_minutes", "resolution_minutes", "warn_at_percent"})
_BATCH = 1000
# Banking the time spent keeps whole seconds: a due time that moves by less is not moved.
_JITTER = timedelta(seconds=1)


@dataclass(frozen=True)
class Retiming:
    """How the open clocks of one policy count after the change."""

    policy_id: int
    old_calendar: BusinessCalendar
    new_calendar: BusinessCalendar
    # Clock kind → the policy's new target; a kind the policy no longer sets keeps its own.
    targets: Mapping[str, int | None]
    # What changed, for the ticket's timeline: "calendar 'business-hours'".
    cause: str = ""


@dataclass(frozen=True)
class DueTimeMoves:
    """The open due times a change moves, and the largest move (what the dry run says)."""

    count: int = 0
    earlier: int = 0
    largest: timedelta = timedelta(0)
    ticket: str | None = None
    old_due: datetime | None = None
    new_due: datetime | None = None

    def line(self) -> str:
        if not self.count:
            return _("No open due time moves.")
        if not self.earlier:
            which = _("all later")
        elif self.earlier == self.count:
            which = _("all earlier")
        else:
            which = _("{earlier} earlier, {later} later").format(
                earlier=self.earlier, later=self.count - self.earlier
            )
        return _(
            "{n} open due times move ({which}), the most by {span}: {ticket} due {old} → {new} UTC"
        ).format(
            n=self.count,
            which=which,
            span=_span(self.largest),
            ticket=self.ticket,
            old=_minute(self.old_due),
            new=_minute(self.new_due),
        )


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins:02d}m" if mins else f"{hours}h"
    if minutes:
        return f"{mins}m"
    return _("under a minute")


def _minute(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "—"


def domain_calendar(c: CalendarConfig) -> BusinessCalendar:
    return BusinessCalendar.from_config(
        c.name,
        c.timezone,
        {day: [list(interval) for interval in intervals] for day, intervals in c.hours.items()},
        c.holidays,
        always_open=c.always_open,
        workdays=c.workdays,
        workdays_as=c.workdays_as,
    )


def retimings(
    session: Session,
    merged: DeskConfig,
    changed_calendars: Iterable[str],
    changed_policies: Iterable[str],
) -> list[Retiming]:
    """The stored policies whose open clocks count differently once `merged` is the desk."""
    calendars = set(changed_calendars)
    policies = set(changed_policies)
    if not calendars and not policies:
        return []
    new_policies = {p.name: p for p in merged.sla_policies or ()}
    new_calendars = {c.name: c for c in merged.calendars or ()}
    found: list[Retiming] = []
    for row in session.scalars(select(SlaPolicy).order_by(SlaPolicy.id)):
        new = new_policies.get(row.name)
        if new is None or new.calendar not in new_calendars:
            continue  # removed: only allowed when no open clock runs on it
        if (
            row.name not in policies
            and new.calendar not in calendars
            and row.calendar.name not in calendars
        ):
            continue
        causes = [_("sla '{name}'").format(name=row.name)] if row.name in policies else []
        causes += [
            _("calendar '{name}'").format(name=name)
            for name in dict.fromkeys((row.calendar.name, new.calendar))
            if name in calendars
        ]
        found.append(
            Retiming(
                policy_id=row.id,
                old_calendar=calendar_of(row.calendar),
                new_calendar=domain_calendar(new_calendars[new.calendar]),
                targets={RESPONSE: new.response_minutes, RESOLUTION: new.resolution_minutes},
                cause=", ".join(causes),
            )
        )
    return found


# What the clock arithmetic reads of a clock, and what re-timing may write back.
_READ = (
    SlaClock.id,
    SlaClock.ticket_id,
    SlaClock.kind,
    SlaClock.state,
    SlaClock.target_minutes,
    SlaClock.spent_seconds,
    SlaClock.running_since,
    SlaClock.paused_at,
    SlaClock.stopped_at,
    SlaClock.breached_at,
    SlaClock.fired_percent,
    SlaClock.escalation_level,
    SlaClock.due_at,
    SlaClock.next_event_at,
)
_WRITTEN = (
    "state",
    "target_minutes",
    "spent_seconds",
    "running_since",
    "breached_at",
    "due_at",
    "next_event_at",
)


@dataclass
class _ClockState:
    """A clock as the clock arithmetic sees it, off the session: rows are read as columns
    and written back in bulk, not loaded as objects one by one."""

    id: int
    ticket_id: int
    kind: str
    state: str
    target_minutes: int
    spent_seconds: int
    running_since: datetime | None
    paused_at: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None
    fired_percent: int
    escalation_level: int
    due_at: datetime | None
    next_event_at: datetime | None
    paused_seconds: int = 0
    # Set by the re-target rule; the policy itself does not change.
    policy: Any = None
    policy_id: int | None = None

    def written(self) -> dict[str, Any]:
        return {"id": self.id, **{name: getattr(self, name) for name in _WRITTEN}}


def _retime(
    clock: Any,
    r: Retiming,
    policy: SlaPolicy,
    now: datetime,
    events: Sequence[Any],
    standard: int | None = None,
) -> None:
    """Re-time one open clock by the write path's re-target rule (docs/sla.md,
    "Re-targeting"): the time spent so far banked on the old calendar and measured
    against the target that applies now, the rest counted on the new calendar. A
    request's resolution keeps its item's delivery standard (`standard`, sla.target_of)
    whatever the policy's resolution target becomes."""
    if clock.kind == RESOLUTION and standard:
        target = standard
    else:
        target = r.targets.get(clock.kind) or clock.target_minutes
    if r.old_calendar != r.new_calendar or target != clock.target_minutes:
        retarget_clock(clock, r.old_calendar, policy, target, now)
    schedule(clock, r.new_calendar, events)


class _Tally:
    """Counts due times that moved and keeps the largest move."""

    def __init__(self) -> None:
        self.count = self.earlier = 0
        self.largest = timedelta(0)
        self.where: tuple[int, datetime, datetime] | None = None

    def add(self, ticket_id: int, old_due: datetime | None, new_due: datetime | None) -> bool:
        """Count a due time if it moved; whether it did."""
        if old_due is None or new_due is None:
            return False
        move = new_due - old_due
        if abs(move) < _JITTER:
            return False
        self.count += 1
        self.earlier += move < timedelta(0)
        if abs(move) > self.largest:
            self.largest, self.where = abs(move), (ticket_id, old_due, new_due)
        return True

    def moves(self, session: Session) -> DueTimeMoves:
        if self.where is None:
            return DueTimeMoves()
        ticket_id, old_due, new_due = self.where
        number = session.scalar(select(Ticket.number).where(Ticket.id == ticket_id))
        return DueTimeMoves(self.count, self.earlier, self.largest, number, old_due, new_due)


def due_time_moves(session: Session, found: Sequence[Retiming], now: datetime) -> DueTimeMoves:
    """What `apply_retimings` would do to due times, computed the same way; writes nothing.

    Only running clocks have a due time that can move: a breached one stays due when it
    was due, a paused one has none until it resumes.
    """
    tally = _Tally()
    for r in found:
        policy = session.get(SlaPolicy, r.policy_id)
        assert policy is not None
        query = (
            select(*_READ, Ticket.type, CatalogueItem.fulfilment_minutes)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .outerjoin(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
            .where(
                SlaClock.policy_id == r.policy_id,
                SlaClock.state == RUNNING,
                SlaClock.stopped_at.is_(None),
            )
            .execution_options(yield_per=_BATCH)
        )
        for row in session.execute(query):
            *columns, ticket_type, item_minutes = row
            clock = _ClockState(*columns)
            # The events only place the next warning, not the due time.
            _retime(clock, r, policy, now, (), standard_of(ticket_type, item_minutes))
            tally.add(row.ticket_id, row.due_at, clock.due_at)
    return tally.moves(session)


def apply_retimings(
    session: Session, found: Sequence[Retiming], now: datetime, actor_id: int | None
) -> DueTimeMoves:
    """Re-time every open clock of the policies touched; call once the desk rows are written.

    Each due time that moves is in its ticket's timeline (as a re-target's is, with the
    desk-file change as the reason). Returns the moves, counted as `due_time_moves` does.
    """
    tally = _Tally()
    if not found:
        return tally.moves(session)
    rules = all_rules(session)
    for r in found:
        policy = session.get(SlaPolicy, r.policy_id)
        assert policy is not None
        events: dict[tuple[str, str, int], list[Any]] = {}
        for ids in _batches(session, r.policy_id):
            rows = session.execute(
                select(
                    *_READ,
                    Ticket.type,
                    Ticket.priority,
                    Ticket.number,
                    CatalogueItem.fulfilment_minutes,
                )
                .join(Ticket, Ticket.id == SlaClock.ticket_id)
                .outerjoin(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
                .where(SlaClock.id.in_(ids))
            ).all()
            written, timeline = [], []
            for *columns, ticket_type, priority, number, item_minutes in rows:
                clock = _ClockState(*columns)
                key = (clock.kind, ticket_type, priority)
                if key not in events:
                    events[key] = events_of(
                        policy, rules, clock.kind, TicketKey(ticket_type, priority)
                    )
                was_running, old_due = clock.state == RUNNING, clock.due_at
                _retime(clock, r, policy, now, events[key], standard_of(ticket_type, item_minutes))
                if was_running and tally.add(clock.ticket_id, old_due, clock.due_at):
                    timeline.append(
                        {
                            "at": now,
                            "actor_id": actor_id,
                            "record_type": "ticket",
                            "record_id": clock.ticket_id,
                            "record_number": number,
                            # Not a write to the ticket: its version stays, and names no
                            # priority move of that version.
                            "record_version": None,
                            "action": DUE_MOVED,
                            "field": f"sla.{clock.kind}",
                            "old_value": old_due.isoformat() if old_due else None,
                            "new_value": clock.due_at.isoformat() if clock.due_at else None,
                            "reason": _("desk file: {cause}").format(cause=r.cause),
                        }
                    )
                written.append(clock.written())
            # One UPDATE by primary key for the batch (executemany), one INSERT of its events.
            session.execute(update(SlaClock), written)
            if timeline:
                session.execute(insert(AuditEvent), timeline)
            refresh_sla_due(session, [row.ticket_id for row in rows])
    return tally.moves(session)


def _batches(session: Session, policy_id: int) -> Iterator[list[int]]:
    # The ids first (integers, the open backlog of one policy), then rows a batch at a time:
    # the rows change while they are read.
    ids = list(
        session.scalars(
            select(SlaClock.id)
            .where(
                SlaClock.policy_id == policy_id,
                SlaClock.state.in_((RUNNING, BREACHED, PAUSED)),
                SlaClock.stopped_at.is_(None),
            )
            .order_by(SlaClock.id)
        )
    )
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]
