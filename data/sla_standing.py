"""Where an SLA clock and a ticket stand at an instant — one definition for every view.

breached: a counting clock's due instant has come (`due_at <= now`), whether or not the
          sweep has recorded the breach yet; at the due instant itself the target is
          used up, so "due exactly now" is breached.
warned:   counting, not yet due, and past its first warning threshold: a warning has
          fired (`fired_percent > 0`), or the first event's instant has come and the
          sweep is about to fire it (`next_event_at <= now` while nothing has fired:
          the write path stores that instant, computed in the policy's calendar).
running:  counting, not yet due, no warning fired.
paused:   in a pause status: no due instant, counts nothing.
A stopped clock stands where it stopped: met, breached or cancelled.

A ticket stands where its nearest counting clock stands (the one whose due instant is
the ticket's stored key `tickets.sla_due_at`); with no counting clock it is paused if a
clock is paused, else it has no SLA standing. The SQL below reads that stored key, so
"Breached" and "Breaching soon" are ranges of `ix_tickets_open_sla` and cannot overlap:
a ticket is breached when `sla_due_at <= now`, breaching within W when
`now < sla_due_at <= now + W`. The queue's saved views and `sla:` filters, `itsm sla
breaching`, the queue's SLA column and the detail's clock lines all read these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, literal, not_, or_, select

from itsm_tui.data.models import SLA_DUE_NEVER, SlaClock, Ticket

# Stored clock states.
RUNNING = "running"
PAUSED = "paused"
MET = "met"
BREACHED = "breached"
# The ticket was cancelled or rejected: the clock neither met nor missed its target.
CANCELLED = "cancelled"
# States in which time counts ("breached" keeps counting towards later escalation levels).
COUNTING = (RUNNING, BREACHED)

# A standing only, never stored: counting, not yet due, a warning has fired.
WARNED = "warned"
# What the queue's `sla:` filter accepts, each a standing of the ticket.
STANDINGS = (BREACHED, WARNED, RUNNING, PAUSED)


class ClockLike(Protocol):
    """What a standing needs of a clock: an ORM row, a Core row or a snapshot."""

    @property
    def state(self) -> str: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def stopped_at(self) -> datetime | None: ...
    @property
    def fired_percent(self) -> int: ...
    @property
    def next_event_at(self) -> datetime | None: ...


def _warned(clock: ClockLike, now: datetime) -> bool:
    # While nothing has fired, next_event_at is the first threshold's instant.
    return clock.fired_percent > 0 or (
        clock.next_event_at is not None and clock.next_event_at <= now
    )


def clock_standing(clock: ClockLike, now: datetime) -> str:
    """breached | warned | running | paused for a live clock; met | breached | cancelled
    for a stopped one."""
    if clock.stopped_at is not None or clock.state not in (*COUNTING, PAUSED):
        return clock.state
    if clock.state == PAUSED or clock.due_at is None:
        return PAUSED
    if clock.due_at <= now:
        return BREACHED
    return WARNED if _warned(clock, now) else RUNNING


def nearest_counting(clocks: Sequence[Any]) -> Any | None:
    """The counting clock that falls due first: the one `tickets.sla_due_at` names."""
    counting = [
        c for c in clocks if c.state in COUNTING and c.stopped_at is None and c.due_at is not None
    ]
    return min(counting, key=lambda c: c.due_at) if counting else None


def ticket_standing(clocks: Sequence[Any], now: datetime) -> tuple[timedelta | None, str | None]:
    """Wall time to the ticket's nearest due instant (negative once late) and its standing;
    (None, "paused") when only paused clocks are live, (None, None) when none is."""
    nearest = nearest_counting(clocks)
    if nearest is not None:
        return nearest.due_at - now, clock_standing(nearest, now)
    if any(c.state == PAUSED and c.stopped_at is None for c in clocks):
        return None, PAUSED
    return None, None


# ---------------------------------------------------------------------------
# The same, as SQL over tickets (the stored key keeps them index ranges)


def _never() -> ColumnElement[datetime]:
    return literal(SLA_DUE_NEVER, Ticket.sla_due_at.type)


def breached(now: datetime) -> ColumnElement[bool]:
    """A counting clock of the ticket is due (SLA_DUE_NEVER is never <= now)."""
    return Ticket.sla_due_at <= now


def breaching_within(now: datetime, within: timedelta) -> ColumnElement[bool]:
    """The ticket's nearest clock falls due after now and at most `within` from now."""
    return and_(Ticket.sla_due_at > now, Ticket.sla_due_at <= now + within)


def _nearest_warned(now: datetime) -> ColumnElement[bool]:
    return (
        select(SlaClock.id)
        .where(
            SlaClock.ticket_id == Ticket.id,
            SlaClock.state.in_(COUNTING),
            SlaClock.stopped_at.is_(None),
            SlaClock.due_at == Ticket.sla_due_at,
            or_(SlaClock.fired_percent > 0, SlaClock.next_event_at <= now),
        )
        .exists()
    )


def standing_is(standing: str, now: datetime) -> ColumnElement[bool]:
    """Tickets that stand at `standing` (one of STANDINGS) at `now`."""
    if standing == BREACHED:
        return breached(now)
    counting_not_due = and_(Ticket.sla_due_at > now, Ticket.sla_due_at < _never())
    if standing == WARNED:
        return and_(counting_not_due, _nearest_warned(now))
    if standing == RUNNING:
        return and_(counting_not_due, not_(_nearest_warned(now)))
    if standing == PAUSED:
        paused = (
            select(SlaClock.id)
            .where(
                SlaClock.ticket_id == Ticket.id,
                SlaClock.state == PAUSED,
                SlaClock.stopped_at.is_(None),
            )
            .exists()
        )
        return and_(Ticket.sla_due_at == _never(), paused)
    raise ValueError(f"unknown SLA standing {standing!r}; standings: {', '.join(STANDINGS)}")
