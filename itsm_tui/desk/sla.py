"""SLA clocks: started by policy, paused and resumed by status, stopped by response and
resolution, re-targeted when the priority changes.

Time on a clock is business time of its policy's calendar. A clock stores what it
has spent in earlier running stretches (`spent_seconds`) and since when it runs
now (`running_since`); from those and the calendar follow its due time and the
instant of its next event (a warning threshold, the breach, an escalation level),
both stored so that the sweep and "what breaches next" are indexed range queries.
Invariant: `next_event_at` is set only while the clock counts and has an event
left to fire; `fired_percent` only grows, so no event fires twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from itsm_tui.data.models import (
    SLA_DUE_NEVER,
    AuditEvent,
    CatalogueItem,
    EscalationRule,
    Service,
    SlaClock,
    SlaPolicy,
    Ticket,
)
from itsm_tui.data.models import (
    BusinessCalendar as CalendarRow,
)
from itsm_tui.data.sla_standing import (  # the clock states, defined once
    BREACHED,
    CANCELLED,
    COUNTING,
    MET,
    PAUSED,
    RUNNING,
)
from itsm_tui.desk.records import desk_setting
from itsm_tui.domain.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from itsm_tui.domain.priority import priority_label
from itsm_tui.domain.workflow import REQUEST, workflow_for

RESPONSE = "response"
RESOLUTION = "resolution"
CLOCK_KINDS = (RESPONSE, RESOLUTION)

BREACH_PERCENT = 100
DEFAULT_WARNINGS = (50, 75)
DEFAULT_PAUSE_STATUSES = ("pending",)
# Agent actions that can count as the first response: a public reply, or starting the
# work (in_progress). The desk file's [sla] response_met_by picks; by default both.
RESPONSE_TRIGGERS = ("reply", "in_progress")


# ---------------------------------------------------------------------------
# Calendars and policies


@lru_cache(maxsize=64)
def _calendar(
    name: str,
    timezone: str,
    always_open: bool,
    hours: str,
    holidays: str,
    workdays: str,
    workdays_as: str,
) -> BusinessCalendar:
    return BusinessCalendar.from_config(
        name,
        timezone,
        json.loads(hours),
        json.loads(holidays),
        always_open=always_open,
        workdays=json.loads(workdays),
        workdays_as=workdays_as,
    )


def calendar_of(row: CalendarRow) -> BusinessCalendar:
    """The domain calendar of a stored one (cached on its content, so edits take effect)."""
    return _calendar(
        row.name,
        row.timezone,
        row.always_open,
        json.dumps(row.hours, sort_keys=True),
        json.dumps(row.holidays),
        json.dumps(row.workdays or []),
        row.workdays_as or "mon",
    )


def response_met_by(session: Session) -> tuple[str, ...]:
    value = (desk_setting(session, "sla") or {}).get("response_met_by")
    return tuple(value) if value else RESPONSE_TRIGGERS


def _matches(
    match: dict[str, Any], type: str, priority: int, service: str | None, item: str | None
) -> bool:
    checks = (
        ("types", type),
        ("priorities", priority),
        ("services", service),
        ("catalogue_items", item),
    )
    for key, value in checks:
        wanted = match.get(key)
        if wanted and value not in wanted:
            return False
    return True


def matching_policy(
    policies: Iterable[SlaPolicy], type: str, priority: int, service: str | None, item: str | None
) -> SlaPolicy | None:
    """The first of `policies` (in rank order) that matches these ticket facts."""
    for policy in policies:
        if _matches(policy.match or {}, type, priority, service, item):
            return policy
    return None


def ranked_policies(session: Session) -> list[SlaPolicy]:
    """Every policy in matching order (the policies table is small: read it whole)."""
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.rank, SlaPolicy.name)))


def policy_for(session: Session, ticket: Ticket) -> SlaPolicy | None:
    """The matching policy of lowest rank."""
    service = session.get(Service, ticket.service_id).name if ticket.service_id else None
    item = (
        session.get(CatalogueItem, ticket.catalogue_item_id).code
        if ticket.catalogue_item_id
        else None
    )
    return matching_policy(ranked_policies(session), ticket.type, ticket.priority, service, item)


def standard_of(ticket_type: str, item_minutes: int | None) -> int | None:
    """The delivery standard that times a request's resolution: its catalogue item's
    `fulfilment_minutes`. None for anything else (the policy's target applies)."""
    return item_minutes if ticket_type == REQUEST and item_minutes else None


def target_of(policy: SlaPolicy, kind: str, standard: int | None = None) -> int | None:
    """A clock's target in business minutes of the policy's calendar: the policy's, except
    a request's resolution, which its item's delivery standard sets (`standard_of`). So a
    request promised in five working days is not breached after the priority's eight
    hours: its resolution clock and its promised instant count the same minutes from
    the same start in the same calendar (fulfilment.promise_of)."""
    if kind == RESPONSE:
        return policy.response_minutes
    return standard or policy.resolution_minutes


def standard_for(session: Session, ticket: Ticket) -> int | None:
    """`standard_of` for a ticket held as an object."""
    if ticket.type != REQUEST or ticket.catalogue_item_id is None:
        return None
    item = session.get(CatalogueItem, ticket.catalogue_item_id)
    return standard_of(ticket.type, item.fulfilment_minutes if item is not None else None)


# ---------------------------------------------------------------------------
# Events of a clock: warnings, the breach, escalation levels


@dataclass(frozen=True)
class TicketKey:
    """What rule matching needs of a ticket, for callers holding rows rather than objects."""

    type: str
    priority: int


@dataclass(frozen=True)
class ClockEvent:
    percent: int
    kind: str  # warning | breach | escalation
    level: int  # warning: its threshold percent; escalation: the rule's level; breach: 0
    rule: EscalationRule | None = None


def rules_for(
    rules: Iterable[EscalationRule], clock_kind: str, ticket: Ticket
) -> list[EscalationRule]:
    chosen = []
    for rule in rules:
        match = rule.match or {}
        if match.get("kinds") and clock_kind not in match["kinds"]:
            continue
        if match.get("priorities") and ticket.priority not in match["priorities"]:
            continue
        if match.get("types") and ticket.type not in match["types"]:
            continue
        chosen.append(rule)
    return chosen


def events_of(
    policy: SlaPolicy | None,
    rules: Sequence[EscalationRule],
    clock_kind: str,
    ticket: Ticket | TicketKey,
) -> list[ClockEvent]:
    """Every event of a clock in firing order."""
    warnings = sorted(set(policy.warn_at_percent if policy else DEFAULT_WARNINGS))
    # A warning's level is its threshold: one warning per threshold, and a clock that is
    # re-targeted to a policy with other thresholds can never collide with one it fired.
    events = [
        ClockEvent(percent=int(p), kind="warning", level=int(p))
        for p in warnings
        if 0 < p < BREACH_PERCENT
    ]
    events.append(ClockEvent(percent=BREACH_PERCENT, kind="breach", level=0))
    # One rule per level: if two rules of a level match, the lower percent wins.
    by_level: dict[int, EscalationRule] = {}
    for rule in sorted(rules_for(rules, clock_kind, ticket), key=lambda r: (r.level, r.at_percent)):
        by_level.setdefault(rule.level, rule)
    events += [
        ClockEvent(
            percent=max(BREACH_PERCENT, r.at_percent), kind="escalation", level=r.level, rule=r
        )
        for r in by_level.values()
    ]
    order = {"warning": 0, "breach": 1, "escalation": 2}
    return sorted(events, key=lambda e: (e.percent, order[e.kind], e.level))


def all_rules(session: Session) -> list[EscalationRule]:
    return list(
        session.scalars(select(EscalationRule).order_by(EscalationRule.level, EscalationRule.name))
    )


# ---------------------------------------------------------------------------
# Clock arithmetic


def spent(clock: SlaClock, cal: BusinessCalendar, at: datetime) -> timedelta:
    """Business time the clock has counted up to `at`."""
    total = timedelta(seconds=clock.spent_seconds)
    if clock.state in COUNTING and clock.stopped_at is None and clock.running_since is not None:
        total += business_time_between(cal, clock.running_since, max(at, clock.running_since))
    return total


def instant_at_percent(
    cal: BusinessCalendar,
    running_since: datetime,
    spent_seconds: int,
    target_minutes: int,
    percent: float,
) -> datetime:
    """When a counting clock reaches `percent` of its target (at once if it has already)."""
    left = timedelta(minutes=target_minutes * percent / 100) - timedelta(seconds=spent_seconds)
    if left <= timedelta(0):
        return running_since
    return add_business_time(cal, running_since, left)


def _instant_at_percent(clock: SlaClock, cal: BusinessCalendar, percent: float) -> datetime:
    assert clock.running_since is not None
    return instant_at_percent(
        cal, clock.running_since, clock.spent_seconds, clock.target_minutes, percent
    )


def pending_events(
    events: Sequence[ClockEvent], fired_percent: int, escalation_level: int
) -> list[ClockEvent]:
    """The events of a clock still to fire. What its state says already happened never
    fires again, whatever the events list looks like now (a re-targeted clock may have
    new ones): each percent once (`fired_percent` only grows), each level once."""
    return [
        e
        for e in events
        if e.percent > fired_percent
        and not (e.kind == "escalation" and e.level <= escalation_level)
    ]


def schedule(clock: SlaClock, cal: BusinessCalendar, events: Sequence[ClockEvent]) -> None:
    """Recompute due_at and next_event_at from the clock's state (the one place that does)."""
    if clock.state not in COUNTING or clock.stopped_at is not None:
        clock.next_event_at = None
        if clock.state == PAUSED:
            clock.due_at = None
        return
    # A clock that is already late stays due when it ran out (e.g. after a reopen).
    clock.due_at = clock.breached_at or _instant_at_percent(clock, cal, BREACH_PERCENT)
    pending = pending_events(events, clock.fired_percent, clock.escalation_level)
    clock.next_event_at = _instant_at_percent(clock, cal, pending[0].percent) if pending else None


def elapsed_percent(clock: SlaClock, cal: BusinessCalendar, at: datetime) -> float:
    if clock.target_minutes <= 0:
        return 100.0
    return round(spent(clock, cal, at).total_seconds() / 60 / clock.target_minutes * 100, 1)


# ---------------------------------------------------------------------------
# The ticket's stored sort key: when its nearest counting clock falls due


def sla_due_of(ticket_id: Any) -> ColumnElement[datetime]:
    """The one definition of `tickets.sla_due_at`: the nearest `due_at` of the ticket's
    counting clocks (running or breached, not stopped), SLA_DUE_NEVER when none counts."""
    nearest = (
        select(func.min(SlaClock.due_at))
        .where(
            SlaClock.ticket_id == ticket_id,
            SlaClock.state.in_(COUNTING),
            SlaClock.stopped_at.is_(None),
        )
        .scalar_subquery()
    )
    return func.coalesce(nearest, literal(SLA_DUE_NEVER, SlaClock.due_at.type))


def refresh_sla_due(session: Session, ticket_ids: Iterable[int]) -> None:
    """Recompute the stored SLA sort key of these tickets from their clocks (one UPDATE).

    Called by every write that starts, pauses, resumes, stops or re-targets a clock (the
    sweep's breach keeps both the due time and a counting state: nothing to do there).
    The key is derived data: the ticket's version is not bumped.
    """
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    session.flush()
    table = Ticket.__table__
    session.execute(
        update(table).where(table.c.id.in_(ids)).values(sla_due_at=sla_due_of(table.c.id))
    )
    # Loaded tickets read the new key from the store next time, not the one they hold.
    for ticket_id in ids:
        loaded = session.identity_map.get(identity_key(Ticket, ticket_id))
        if loaded is not None:
            session.expire(loaded, ["sla_due_at"])


# ---------------------------------------------------------------------------
# What the write path calls


@dataclass
class _Context:
    """Calendars, policies and rules read once per write, not once per clock."""

    session: Session
    rules: list[EscalationRule]

    @classmethod
    def load(cls, session: Session) -> _Context:
        return cls(session=session, rules=all_rules(session))

    def calendar(self, clock: SlaClock) -> BusinessCalendar:
        return self.calendar_of_policy(clock.policy)

    @staticmethod
    def calendar_of_policy(policy: SlaPolicy | None) -> BusinessCalendar:
        return calendar_of(policy.calendar) if policy is not None else UTC_24X7

    def schedule(self, clock: SlaClock, ticket: Ticket) -> None:
        schedule(
            clock, self.calendar(clock), events_of(clock.policy, self.rules, clock.kind, ticket)
        )


UTC_24X7 = BusinessCalendar.from_config("24x7", "UTC", {}, [], always_open=True)


def clocks_of(session: Session, ticket: Ticket) -> list[SlaClock]:
    return list(
        session.scalars(
            select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.kind)
        )
    )


def start_clocks(session: Session, ticket: Ticket) -> list[SlaClock]:
    """Start the response and resolution clocks of a new ticket from the matching policy."""
    return start_clocks_of(session, [ticket])


def start_clocks_of(session: Session, tickets: Sequence[Ticket]) -> list[SlaClock]:
    """`start_clocks` for many new tickets at once: the policies, rules and calendars read
    once, the clocks written in one flush, the tickets' SLA keys in one UPDATE."""
    if not tickets:
        return []
    ranked = ranked_policies(session)
    ctx = _Context.load(session)
    calendars: dict[int, BusinessCalendar] = {}
    started: list[SlaClock] = []
    for ticket in tickets:
        service = session.get(Service, ticket.service_id).name if ticket.service_id else None
        item_row = (
            session.get(CatalogueItem, ticket.catalogue_item_id)
            if ticket.catalogue_item_id
            else None
        )
        item = item_row.code if item_row is not None else None
        policy = matching_policy(ranked, ticket.type, ticket.priority, service, item)
        if policy is None:
            continue
        standard = standard_of(
            ticket.type, item_row.fulfilment_minutes if item_row is not None else None
        )
        if policy.id not in calendars:
            calendars[policy.id] = ctx.calendar_of_policy(policy)
        for kind in CLOCK_KINDS:
            target = target_of(policy, kind, standard)
            if not target:
                continue
            clock = SlaClock(
                ticket_id=ticket.id,
                kind=kind,
                policy=policy,
                target_minutes=target,
                started_at=ticket.opened_at,
                running_since=ticket.opened_at,
                state=RUNNING,
                paused_seconds=0,
                spent_seconds=0,
                warnings_fired=0,
                fired_percent=0,
                escalation_level=0,
            )
            pausing = policy.pause_statuses or DEFAULT_PAUSE_STATUSES
            if ticket.status in pausing:
                # Born waiting (a request that needs approval first): the clock starts paused.
                clock.state, clock.running_since, clock.paused_at = PAUSED, None, ticket.opened_at
            session.add(clock)
            # A ticket entered after the fact (--opened-at) may be late already: its
            # next_event_at is then in the past and the next sweep escalates it like any other.
            schedule(
                clock,
                calendars[policy.id],
                events_of(policy, ctx.rules, kind, ticket),
            )
            started.append(clock)
    session.flush()
    refresh_sla_due(session, {c.ticket_id for c in started})
    return started


def _bank(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> None:
    """End the current stretch: count its time as spent (running) or paused (paused).

    A clock that ran past its due time before any sweep saw it is breached as of the
    due time, not as of the moment somebody stopped or paused it.
    """
    if clock.state == PAUSED and clock.paused_at is not None:
        clock.paused_seconds += int(
            business_time_between(cal, clock.paused_at, now).total_seconds()
        )
        clock.paused_at = None
    elif clock.state in COUNTING and clock.running_since is not None:
        due = clock.due_at
        clock.spent_seconds = int(spent(clock, cal, now).total_seconds())
        if clock.breached_at is None and clock.spent_seconds > clock.target_minutes * 60:
            clock.breached_at = due if due is not None and due <= now else now
    clock.running_since = None


def _stop(
    clock: SlaClock, cal: BusinessCalendar, now: datetime, outcome: str | None = None
) -> None:
    if clock.stopped_at is not None:
        return
    _bank(clock, cal, now)
    clock.stopped_at = now
    if outcome == CANCELLED:
        clock.state = CANCELLED
    elif clock.breached_at is not None:
        clock.state = BREACHED
    else:
        clock.state = MET
    clock.next_event_at = None


def meet(session: Session, ticket: Ticket, kind: str, now: datetime) -> None:
    """The ticket got its response / resolution: stop that clock (met, or late)."""
    ctx = _Context.load(session)
    clocks = clocks_of(session, ticket)
    for clock in clocks:
        if clock.kind == kind:
            _stop(clock, ctx.calendar(clock), now)
    session.flush()
    if clocks:
        refresh_sla_due(session, [ticket.id])


def status_changed(session: Session, ticket: Ticket, old: str, new: str, now: datetime) -> None:
    """Pause, resume, stop or restart the ticket's clocks for a move from `old` to `new`."""
    ctx = _Context.load(session)
    clocks = clocks_of(session, ticket)
    for clock in clocks:
        follow_status(clock, ctx.calendar(clock), ticket.type, old, new, now)
        ctx.schedule(clock, ticket)
    session.flush()
    if clocks:
        refresh_sla_due(session, [ticket.id])


def follow_status(
    clock: SlaClock, cal: BusinessCalendar, ticket_type: str, old: str, new: str, now: datetime
) -> None:
    """The clock rules of one status move (every writer of a status calls this: the desk's
    transitions and the sweep's reassignment alike); the caller reschedules."""
    flow = workflow_for(ticket_type)
    pausing = tuple(clock.policy.pause_statuses if clock.policy else DEFAULT_PAUSE_STATUSES)
    if new == flow.resolved:
        # A resolution is also the response, if none came before.
        _stop(clock, cal, now)
    elif not flow.is_open(new):
        if clock.stopped_at is None:
            _stop(clock, cal, now, outcome=CANCELLED)
    elif old in flow.reopenable and new == flow.reopen_to:
        if clock.kind == RESOLUTION:
            _restart(clock, now)
    elif new in pausing and clock.state in COUNTING and clock.stopped_at is None:
        _bank(clock, cal, now)
        clock.paused_at = now
        clock.state = PAUSED
    elif clock.state == PAUSED and new not in pausing:
        _resume(clock, cal, now)


def _resume(clock: SlaClock, cal: BusinessCalendar, now: datetime) -> None:
    assert clock.paused_at is not None
    paused = business_time_between(cal, clock.paused_at, now)
    clock.paused_seconds += int(paused.total_seconds())
    clock.paused_at = None
    clock.running_since = now
    clock.state = BREACHED if clock.breached_at is not None else RUNNING


def _restart(clock: SlaClock, now: datetime) -> None:
    """Reopening: the clock runs again from now with the time already spent kept."""
    clock.stopped_at = None
    clock.running_since = now
    clock.state = BREACHED if clock.breached_at is not None else RUNNING


# ---------------------------------------------------------------------------
# Re-targeting: the priority changed (a person's update or override, an escalation rule)


@dataclass(frozen=True)
class Retargeted:
    """One clock's re-target, as its audit events tell it."""

    kind: str
    old_policy: str | None
    old_target: int
    new_policy: str
    new_target: int
    old_due: datetime | None
    new_due: datetime | None


def retarget_clock(
    clock: SlaClock,
    old_cal: BusinessCalendar,
    policy: SlaPolicy,
    target: int,
    now: datetime,
) -> None:
    """Measure the business time the clock has spent against the new target.

    The target that applies now decides whether the clock is late (docs/sla.md,
    "Re-targeting"): within it, the clock runs (a breach recorded under the old target is
    withdrawn from the clock; its escalation row and notices stay in the history); past
    it, the clock is breached as of the instant it used the new target up. The caller
    reschedules in the new policy's calendar.
    """
    new_limit = target * 60
    ran_out_at: datetime | None = None
    if clock.state in COUNTING and clock.stopped_at is None:
        since, banked = clock.running_since, clock.spent_seconds
        spent_now = int(spent(clock, old_cal, now).total_seconds())
        if spent_now >= new_limit:
            if since is not None and banked < new_limit:
                # Used up in the current stretch, which ran without a pause: exactly then.
                ran_out_at = add_business_time(
                    old_cal, since, timedelta(seconds=new_limit - banked)
                )
            else:
                # Used up before a pause the clock does not keep: the latest it can have been.
                ran_out_at = since or now
        # Bank the time spent so far in the old calendar, then count on in the new one.
        clock.spent_seconds = spent_now
        clock.running_since = now
    elif clock.state == PAUSED and clock.spent_seconds >= new_limit:
        ran_out_at = clock.paused_at or now
    if ran_out_at is not None and clock.breached_at is not None and clock.target_minutes >= target:
        # A shorter (or equal) target ran out no later than the old one did.
        ran_out_at = min(ran_out_at, clock.breached_at)
    clock.breached_at = ran_out_at
    if clock.state in COUNTING:
        clock.state = BREACHED if ran_out_at is not None else RUNNING
    clock.policy = policy
    clock.policy_id = policy.id
    clock.target_minutes = target


def retarget_clocks(
    clocks: Iterable[SlaClock],
    policy: SlaPolicy | None,
    ticket: Ticket | TicketKey,
    *,
    calendar: Any,
    rules: Sequence[EscalationRule],
    now: datetime,
    standard: int | None = None,
) -> list[Retargeted]:
    """Re-target the live clocks of one ticket to `policy` (the one now matching it);
    `calendar(policy_or_none)` gives a policy's calendar; `standard` is a request's
    delivery standard (`standard_of`), which keeps timing its resolution. Returns what
    moved."""
    if policy is None:
        return []
    moved: list[Retargeted] = []
    for clock in clocks:
        if clock.stopped_at is not None:
            continue
        target = target_of(policy, clock.kind, standard)
        if not target or (target == clock.target_minutes and clock.policy_id == policy.id):
            continue
        old_policy = clock.policy
        old_target, old_due = clock.target_minutes, clock.due_at
        retarget_clock(clock, calendar(old_policy), policy, target, now)
        schedule(clock, calendar(policy), events_of(policy, rules, clock.kind, ticket))
        moved.append(
            Retargeted(
                kind=clock.kind,
                old_policy=old_policy.name if old_policy is not None else None,
                old_target=old_target,
                new_policy=policy.name,
                new_target=target,
                old_due=old_due,
                new_due=clock.due_at,
            )
        )
    return moved


def retarget_audit(
    moved: Retargeted,
    *,
    ticket_id: int,
    number: str,
    version: int,
    priority: int,
    actor_id: int | None,
    now: datetime,
    reason: str | None,
) -> list[dict[str, Any]]:
    """The audit events of one re-targeted clock: its new target, and where its due
    instant moved (none when it is paused: it has no due instant to move)."""
    shared = {
        "at": now,
        "actor_id": actor_id,
        "record_type": "ticket",
        "record_id": ticket_id,
        "record_number": number,
        "record_version": version,
        "reason": reason,
    }
    events = [
        {
            **shared,
            "action": "sla.retarget",
            "field": f"sla.{moved.kind}",
            "old_value": f"{moved.old_policy}: {moved.old_target} min",
            "new_value": f"{moved.new_policy}: {moved.new_target} min ({priority_label(priority)})",
        }
    ]
    if moved.old_due != moved.new_due:
        events.append(
            {
                **shared,
                "action": DUE_MOVED,
                "field": f"sla.{moved.kind}",
                "old_value": moved.old_due.isoformat() if moved.old_due else None,
                "new_value": moved.new_due.isoformat() if moved.new_due else None,
            }
        )
    return events


# The audit action of a due instant moved by a re-target (the timeline reads it).
DUE_MOVED = "sla.due_moved"


def retarget(
    session: Session, ticket: Ticket, *, actor_id: int | None, now: datetime, reason: str | None
) -> None:
    """After a priority change: live clocks take the new policy's targets, keeping time spent."""
    ctx = _Context.load(session)
    clocks = clocks_of(session, ticket)
    moved = retarget_clocks(
        clocks,
        policy_for(session, ticket),
        ticket,
        calendar=ctx.calendar_of_policy,
        rules=ctx.rules,
        now=now,
        standard=standard_for(session, ticket),
    )
    for clock_moved in moved:
        for event in retarget_audit(
            clock_moved,
            ticket_id=ticket.id,
            number=ticket.number,
            version=ticket.version,
            priority=ticket.priority,
            actor_id=actor_id,
            now=now,
            reason=reason,
        ):
            session.add(AuditEvent(**event))
    session.flush()
    if moved:
        refresh_sla_due(session, [ticket.id])


# ---------------------------------------------------------------------------
# Reading


def clock_view(clock: SlaClock, now: datetime) -> dict[str, Any]:
    """A clock as `ticket show --json` prints it."""
    cal = calendar_of(clock.policy.calendar) if clock.policy is not None else UTC_24X7
    return {
        "kind": clock.kind,
        "policy": clock.policy.name if clock.policy is not None else None,
        "target_minutes": clock.target_minutes,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "paused_minutes": clock.paused_seconds // 60,
        "elapsed_percent": elapsed_percent(clock, cal, now),
        "state": clock.state,
        "breached_at": clock.breached_at,
        "stopped_at": clock.stopped_at,
    }


def remaining(clock: SlaClock, now: datetime) -> timedelta | None:
    """Business time left before the breach (negative once late); None when stopped."""
    if clock.stopped_at is not None:
        return None
    cal = calendar_of(clock.policy.calendar) if clock.policy is not None else UTC_24X7
    return timedelta(minutes=clock.target_minutes) - spent(clock, cal, now)


def ceil_minutes(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds() / 60)
