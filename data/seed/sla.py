"""The SLA clocks of a seeded ticket, replayed over its history by the write path's rules.

Each clock operation here mirrors one in itsm_tui/desk/sla.py (start, schedule, bank,
stop, pause, resume, restart) and each seeded sweep mirrors the escalator's (see
`escalations`), on integers instead of ORM rows and datetimes: instants are seconds
after the seed's timeline base, due and event instants microseconds (a threshold such
as 33 % of 15 minutes is not a whole second), and business time comes from the
calendar's own working spans through a `WorkingTimeIndex` (one bisect per question).
The targets, thresholds, escalation levels and calendars are the desk's, read once
through the desk's own functions (`sla.events_of`, `sla.calendar_of`). A replay test
(tests/store/test_seed_replay.py) checks field by field that the desk's functions,
called over a seeded history with an injected clock, write the same clocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import SLA_DUE_NEVER_TEXT, SlaPolicy
from itsm_tui.desk import sla
from itsm_tui.domain.calendar import BusinessCalendar, WorkingTimeIndex
from itsm_tui.domain.workflow import TICKET_TYPES, WORKFLOWS, Workflow

MICRO = 1_000_000
_MICROSECOND = timedelta(microseconds=1)

CLOCK_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "policy_id",
    "target_minutes",
    "started_at",
    "due_at",
    "state",
    "running_since",
    "paused_at",
    "paused_seconds",
    "spent_seconds",
    "stopped_at",
    "breached_at",
    "fired_percent",
    "warnings_fired",
    "next_event_at",
    "escalation_level",
)

# Those of CLOCK_COLUMNS a clock's row holds in seed seconds (BulkWriter.insert's
# `stamped`); the others carry microseconds and are text already.
CLOCK_STAMPED = ("started_at", "running_since", "paused_at", "stopped_at")


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a clock, as `sla.events_of` lists it (the rule by name and actions)."""

    percent: int
    kind: str  # warning | breach | escalation
    level: int
    rule: str | None
    actions: tuple[str, ...]


@dataclass
class PolicyClocks:
    """What replaying one policy's clocks needs: targets, pauses, calendar, events."""

    id: int
    calendar_id: int
    response: int | None
    resolution: int | None
    # status_changed reads the policy's list as it is; start_clocks falls back to the
    # default when it is empty (a desk rule kept as the write path has it).
    pause_statuses: tuple[str, ...]
    born_paused: tuple[str, ...]
    events: dict[tuple[str, str, int], tuple[Event, ...]]


@dataclass
class SlaSetup:
    """The desk's SLA configuration, read once before a seed through the desk's code."""

    policies: dict[int, PolicyClocks]
    calendars: dict[int, BusinessCalendar]
    response_met_by: tuple[str, ...]
    # (id, match) of every policy in the desk's matching order, for sla.matching_policy.
    ranked: list[SimpleNamespace]

    def policy_for(
        self, tname: str, priority: int, service: str | None, item: str | None
    ) -> PolicyClocks | None:
        """The policy the desk gives such a ticket (sla.matching_policy, the desk's rule)."""
        found = sla.matching_policy(self.ranked, tname, priority, service, item)  # type: ignore[arg-type]
        return None if found is None else self.policies[found.id]

    @classmethod
    def load(cls, session: Session) -> SlaSetup:
        rules = sla.all_rules(session)
        policies: dict[int, PolicyClocks] = {}
        calendars: dict[int, BusinessCalendar] = {}
        for policy in session.scalars(select(SlaPolicy)):
            calendars[policy.calendar_id] = sla.calendar_of(policy.calendar)
            events = {
                (kind, tname, priority): tuple(
                    Event(
                        int(e.percent),
                        e.kind,
                        int(e.level),
                        e.rule.name if e.rule is not None else None,
                        tuple(e.rule.actions) if e.rule is not None else (),
                    )
                    for e in sla.events_of(policy, rules, kind, sla.TicketKey(tname, priority))
                )
                for kind in sla.CLOCK_KINDS
                for tname in TICKET_TYPES
                for priority in (1, 2, 3, 4)
            }
            policies[policy.id] = PolicyClocks(
                id=policy.id,
                calendar_id=policy.calendar_id,
                response=policy.response_minutes,
                resolution=policy.resolution_minutes,
                pause_statuses=tuple(policy.pause_statuses),
                born_paused=tuple(policy.pause_statuses or sla.DEFAULT_PAUSE_STATUSES),
                events=events,
            )
        ranked = [
            SimpleNamespace(id=p.id, match=dict(p.match or {}))
            for p in sla.ranked_policies(session)
        ]
        return cls(policies, calendars, sla.response_met_by(session), ranked)

    def indexes(self, origin: datetime, start: datetime, end: datetime) -> dict[int, Any]:
        """One working-time index per calendar over the seed's span."""
        return {
            cid: WorkingTimeIndex(cal, origin, start, end) for cid, cal in self.calendars.items()
        }


_PERCENT_CACHE: dict[tuple[int, int], int] = {}


def percent_micro(target_minutes: int, percent: int) -> int:
    """`timedelta(minutes=target * percent / 100)` in µs, exactly as the desk computes it."""
    key = (target_minutes, percent)
    value = _PERCENT_CACHE.get(key)
    if value is None:
        value = _PERCENT_CACHE[key] = (
            timedelta(minutes=target_minutes * percent / 100) // _MICROSECOND
        )
    return value


class Clock:
    """One SLA clock while its ticket's history is replayed (fields as in SlaClock)."""

    __slots__ = (
        "breached_at",
        "due",
        "events",
        "fired",
        "id",
        "index",
        "kind",
        "level",
        "next",
        "paused_at",
        "paused_s",
        "running_since",
        "scheduled",
        "spent_s",
        "started",
        "state",
        "stopped_at",
        "target",
        "warnings",
        "worked_since",
    )

    def __init__(
        self, cid: int, kind: str, target: int, at: int, events: tuple[Event, ...], index: Any
    ) -> None:
        self.id, self.kind, self.target, self.started = cid, kind, target, at
        self.running_since: int | None = at
        # Working seconds of the calendar up to running_since, asked once per stretch.
        self.worked_since: int | None = None
        self.paused_at: int | None = None
        self.paused_s = self.spent_s = 0
        self.stopped_at: int | None = None
        self.breached_at: int | None = None  # µs
        self.state = sla.RUNNING
        self.fired = self.warnings = self.level = 0
        self.due: int | None = None  # µs
        self.next: int | None = None  # µs
        self.events, self.index = events, index
        # What `schedule` last computed from; the same inputs give the same due and next.
        self.scheduled: tuple[Any, ...] | None = None

    @property
    def counting(self) -> bool:
        return self.state in sla.COUNTING and self.stopped_at is None

    def _worked_since(self, rs: int) -> int:
        worked = self.worked_since
        if worked is None:
            worked = self.worked_since = self.index.worked(rs)
        return worked

    def spent(self, at: int) -> int:
        """sla.spent, in whole seconds (every instant banked is a whole second)."""
        total = self.spent_s
        rs = self.running_since
        if self.state in sla.COUNTING and self.stopped_at is None and rs is not None and at > rs:
            total += self.index.worked(at) - self._worked_since(rs)
        return total

    def instant(self, percent: int) -> int:
        """sla.instant_at_percent in µs: when the counting clock reaches `percent`."""
        rs = self.running_since
        assert rs is not None
        left = percent_micro(self.target, percent) - self.spent_s * MICRO
        if left <= 0:
            return rs * MICRO
        return self.index.at_worked(self._worked_since(rs) * MICRO + left)

    def schedule(self) -> None:
        """sla.schedule."""
        inputs = (
            self.state,
            self.stopped_at,
            self.running_since,
            self.spent_s,
            self.breached_at,
            self.fired,
            self.level,
        )
        if inputs == self.scheduled:
            return
        self.scheduled = inputs
        if self.state not in sla.COUNTING or self.stopped_at is not None:
            self.next = None
            if self.state == sla.PAUSED:
                self.due = None
            return
        due = self.breached_at if self.breached_at is not None else self.instant(100)
        self.due = due
        pending = self.pending()
        if not pending:
            self.next = None
        elif pending[0].percent == 100 and self.breached_at is None:
            self.next = due
        else:
            self.next = self.instant(pending[0].percent)

    def pending(self) -> list[Event]:
        """sla.pending_events: each percent fires once, each escalation level once."""
        fired, level = self.fired, self.level
        return [
            e
            for e in self.events
            if e.percent > fired and not (e.kind == "escalation" and e.level <= level)
        ]

    def bank(self, now: int) -> None:
        """sla._bank."""
        if self.state == sla.PAUSED and self.paused_at is not None:
            self.paused_s += self.index.seconds_between(self.paused_at, now)
            self.paused_at = None
        elif self.state in sla.COUNTING and self.running_since is not None:
            due = self.due
            self.spent_s = self.spent(now)
            if self.breached_at is None and self.spent_s > self.target * 60:
                self.breached_at = due if due is not None and due <= now * MICRO else now * MICRO
        self.running_since = self.worked_since = None

    def stop(self, now: int, outcome: str | None = None) -> None:
        """sla._stop."""
        if self.stopped_at is not None:
            return
        self.bank(now)
        self.stopped_at = now
        if outcome == sla.CANCELLED:
            self.state = sla.CANCELLED
        elif self.breached_at is not None:
            self.state = sla.BREACHED
        else:
            self.state = sla.MET
        self.next = None

    def pause(self, now: int) -> None:
        self.bank(now)
        self.paused_at = now
        self.state = sla.PAUSED

    def resume(self, now: int) -> None:
        """sla._resume."""
        assert self.paused_at is not None
        self.paused_s += self.index.seconds_between(self.paused_at, now)
        self.paused_at = None
        self.running_since, self.worked_since = now, None
        self.state = sla.BREACHED if self.breached_at is not None else sla.RUNNING

    def restart(self, now: int) -> None:
        """sla._restart."""
        self.stopped_at = None
        self.running_since, self.worked_since = now, None
        self.state = sla.BREACHED if self.breached_at is not None else sla.RUNNING

    def row(self, tid: int, pid: int, ts: Callable[[int], str]) -> tuple[Any, ...]:
        def micro_text(value: int | None) -> str | None:
            return None if value is None else text_of_micro(value, ts)

        return (
            self.id,
            tid,
            self.kind,
            pid,
            self.target,
            self.started,
            micro_text(self.due),
            self.state,
            self.running_since,
            self.paused_at,
            self.paused_s,
            self.spent_s,
            self.stopped_at,
            micro_text(self.breached_at),
            self.fired,
            self.warnings,
            micro_text(self.next),
            self.level,
        )


def text_of_micro(value: int, ts: Callable[[int], str]) -> str:
    seconds, micro = divmod(value, MICRO)
    text = ts(seconds)
    return text if not micro else f"{text[:-6]}{micro:06d}"


class TicketClocks:
    """A ticket's clocks and the desk rules that move them, as one history is replayed."""

    def __init__(
        self,
        policy: PolicyClocks,
        index: Any,
        tname: str,
        priority: int,
        opened: int,
        status: str,
        next_id: int,
        standard: int | None = None,
    ) -> None:
        self.policy = policy
        self.flow: Workflow = WORKFLOWS[tname]
        self.clocks: list[Clock] = []
        # sla.start_clocks; a request's resolution is timed by its item's standard (sla.target_of)
        resolution = standard or policy.resolution
        for kind, target in ((sla.RESPONSE, policy.response), (sla.RESOLUTION, resolution)):
            if not target:
                continue
            clock = Clock(
                next_id, kind, target, opened, policy.events[(kind, tname, priority)], index
            )
            next_id += 1
            if status in policy.born_paused:
                clock.state, clock.running_since, clock.paused_at = sla.PAUSED, None, opened
            clock.schedule()
            self.clocks.append(clock)
        self.next_id = next_id

    def meet(self, kind: str, now: int) -> None:
        """sla.meet."""
        for clock in self.clocks:
            if clock.kind == kind:
                clock.stop(now)

    def status_changed(self, old: str, new: str, now: int) -> None:
        """sla.status_changed."""
        flow, pausing = self.flow, self.policy.pause_statuses
        for clock in self.clocks:
            if new == flow.resolved:
                clock.stop(now)
            elif not flow.is_open(new):
                if clock.stopped_at is None:
                    clock.stop(now, sla.CANCELLED)
            elif old in flow.reopenable and new == flow.reopen_to:
                if clock.kind == sla.RESOLUTION:
                    clock.restart(now)
            elif new in pausing and clock.state in sla.COUNTING and clock.stopped_at is None:
                clock.pause(now)
            elif clock.state == sla.PAUSED and new not in pausing:
                clock.resume(now)
            clock.schedule()

    def next_event(self) -> int | None:
        """The earliest stored next_event_at (µs), what the sweep's claim looks for."""
        earliest = None
        for clock in self.clocks:
            nxt = clock.next
            if nxt is not None and (earliest is None or nxt < earliest):
                earliest = nxt
        return earliest

    def sla_due(self, ts: Callable[[int], str]) -> str:
        """sla.sla_due_of: the nearest due time of a counting clock."""
        due = [c.due for c in self.clocks if c.counting and c.due is not None]
        return text_of_micro(min(due), ts) if due else SLA_DUE_NEVER_TEXT
