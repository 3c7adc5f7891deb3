"""The desk right now and over the period: backlog, breaches and escalations today,
tickets nearing breach, reopen rate, first-contact resolution, reassignments, and the
mean time to resolve per team. Figures without a target: shown, not judged."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.clocks import resolution_by_team
from itsm_tui.data.kpi.figures import Kpi, seconds_between, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import sums, total
from itsm_tui.data.models import (
    Escalation,
    SlaClock,
    SlaPolicy,
    Ticket,
    UtcDateTime,
)
from itsm_tui.data.sla_standing import CANCELLED, RUNNING
from itsm_tui.domain.calendar import WorkingTimeIndex

# Backlog age bands in days since opening: (label, more than, at most).
AGE_BANDS = (("1-5", 0, 5), ("6-10", 5, 10), ("11-30", 10, 30), (">30", 30, None))
# Share of its target a running clock has spent: (label, from, below).
NEARING_BANDS = (("50-75", 50, 75), ("75-90", 75, 90), (">90", 90, 100))
# What an escalation rule's level is recorded as (the sweep's warnings and breaches are not).
ESCALATION = "escalation"


def backlog(session: Session, cut: Cut, now: datetime) -> dict[str, Any]:
    """Open tickets by priority and by age (days since opening)."""
    by_priority = {
        f"P{priority}": int(count)
        for priority, count in session.execute(
            select(Ticket.priority, func.count())
            .where(Ticket.is_open.is_(True), cut.tickets())
            .group_by(Ticket.priority)
            .order_by(Ticket.priority)
        )
    }
    columns = []
    for _label, older, newer in AGE_BANDS:
        conditions = [Ticket.opened_at <= now - timedelta(days=older)]
        if newer is not None:
            conditions.append(Ticket.opened_at > now - timedelta(days=newer))
        columns.append(func.count().filter(and_(*conditions)))
    counts = session.execute(select(*columns).where(Ticket.is_open.is_(True), cut.tickets())).one()
    by_age = {label: int(n) for (label, _o, _n), n in zip(AGE_BANDS, counts, strict=True)}
    # A ticket opened in the future (clock skew) is open and in no band: counted in total.
    return {"total": sum(by_priority.values()), "by_priority": by_priority, "by_age": by_age}


def today_events(session: Session, cut: Cut, now: datetime, zone: Any) -> dict[str, int]:
    """Clocks breached and escalation levels reached since local midnight."""
    midnight = Period(now.astimezone(zone).date(), now.astimezone(zone).date(), zone).start
    breaches = (
        select(func.count())
        .select_from(SlaClock)
        .where(
            SlaClock.breached_at >= midnight,
            SlaClock.breached_at <= now,
            SlaClock.state != CANCELLED,
        )
    )
    escalations = (
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.at >= midnight, Escalation.at <= now, Escalation.kind == ESCALATION)
    )
    if not cut.whole_desk:
        breaches = breaches.where(SlaClock.ticket_id.in_(cut.ticket_ids()))
        escalations = escalations.where(Escalation.ticket_id.in_(cut.ticket_ids()))
    return {
        "breaches_today": int(session.scalar(breaches) or 0),
        "escalations_today": int(session.scalar(escalations) or 0),
    }


def nearing_breach(session: Session, cut: Cut, now: datetime) -> dict[str, int]:
    """Running clocks not yet due, by the share of their target spent (business time of
    their own calendar, as the SLA column counts it)."""
    from itsm_tui.desk.sla import calendar_of

    calendars = {
        policy.id: calendar_of(policy.calendar) for policy in session.scalars(select(SlaPolicy))
    }
    bands = {label: 0 for label, _lo, _hi in NEARING_BANDS}
    # Wall seconds since each clock last started, as a number: no instant is parsed in
    # Python (parsing 20,000 of them was a second at a million tickets).
    wall = seconds_between(session, SlaClock.running_since, literal(now, UtcDateTime()))
    clocks = (
        select(
            SlaClock.id,
            SlaClock.policy_id,
            SlaClock.spent_seconds,
            SlaClock.target_minutes,
            # A flag, not the instant: no datetime parsed per clock.
            SlaClock.stopped_at.is_(None).label("not_stopped"),
            wall.label("wall"),
        )
        .where(
            # A literal, not a parameter: SQLite uses a partial index only for a WHERE
            # that names its condition. The index holds every column named here, so the
            # planner takes it (migration 0030); "stopped_at IS NULL" is checked below, in
            # Python: in SQL, SQLite's statistics averaged it to two rows of the stopped
            # clocks' index and read that index instead.
            SlaClock.state == literal_column(f"'{RUNNING}'"),
            SlaClock.due_at > now,
            # Business time never runs faster than the wall clock: a clock whose time
            # so far plus the wall time since it last started is under half its target
            # cannot be nearing breach, and is left out in SQL. Only the others are
            # counted through their calendar.
            SlaClock.spent_seconds + func.coalesce(wall, 0) >= SlaClock.target_minutes * 30,
        )
        .execution_options(yield_per=5000)
    )
    if not cut.whole_desk:
        clocks = clocks.where(SlaClock.ticket_id.in_(cut.ticket_ids()))
    rows = [
        r
        for r in session.execute(clocks)
        if r.not_stopped and r.policy_id in calendars and r.target_minutes > 0
    ]
    # Each calendar's working time from the oldest start to now as one cumulative table
    # (WorkingTimeIndex, whole seconds before `now`): a clock's business time since it
    # started is two bisects, not a walk over its days. A start between two whole seconds
    # gives a bound either side; a clock whose bounds straddle a band's edge is walked
    # exactly (below), so every count is the exact one.
    oldest = max((float(r.wall) for r in rows if r.wall is not None), default=0.0)
    span = int(oldest) + 2
    origin = now - timedelta(seconds=span)
    indexes: dict[int, Any] = {}
    unsure: list[int] = []
    for r in rows:
        target = r.target_minutes * 60
        if r.wall is None:
            low = high = float(r.spent_seconds)
        else:
            index = indexes.get(r.policy_id)
            if index is None:
                index = indexes[r.policy_id] = WorkingTimeIndex(
                    calendars[r.policy_id], origin, origin, now
                )
            # ±1 ms: the SQL difference is rounded to the millisecond.
            since = span - float(r.wall)
            earliest = max(0, math.floor(since - 0.001))
            latest = min(span, math.ceil(since + 0.001))
            low = r.spent_seconds + index.seconds_between(latest, span)
            high = r.spent_seconds + index.seconds_between(earliest, span)
        band_low, band_high = _band(100 * low / target), _band(100 * high / target)
        if band_low != band_high:
            unsure.append(r.id)
        elif band_low is not None:
            bands[band_low] += 1
    walk = _BusinessDays(now)
    for i in range(0, len(unsure), 500):
        for clock in session.execute(
            select(
                SlaClock.policy_id,
                SlaClock.running_since,
                SlaClock.spent_seconds,
                SlaClock.target_minutes,
            ).where(SlaClock.id.in_(unsure[i : i + 500]))
        ):
            counted = clock.spent_seconds + walk.between(
                calendars[clock.policy_id], clock.running_since
            )
            band = _band(100 * counted / (clock.target_minutes * 60))
            if band is not None:
                bands[band] += 1
    return bands


def _band(percent: float) -> str | None:
    for label, lo, hi in NEARING_BANDS:
        if lo <= percent < hi:
            return label
    return None


class _BusinessDays:
    """Business seconds from an instant to `now`, as desk.sla.spent counts them, with each
    whole local day between counted once per calendar, not once per clock: thousands of
    running clocks a few days old walked their calendar day by day (3.5 s at 1M). Business
    time adds up across midnight, so the sum is the same figure."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.days: dict[tuple[int, date], float] = {}

    def between(self, cal: Any, since: datetime) -> float:
        from itsm_tui.domain.calendar import business_time_between

        since = since.replace(tzinfo=since.tzinfo or UTC)
        if since >= self.now:
            return 0.0
        first = since.astimezone(cal.zone).date()
        last = self.now.astimezone(cal.zone).date()
        if first == last:
            return business_time_between(cal, since, self.now).total_seconds()
        total = business_time_between(cal, since, self._start(cal, first + ONE_DAY))
        day = first + ONE_DAY
        while day < last:
            key = (id(cal), day)
            if key not in self.days:
                self.days[key] = business_time_between(
                    cal, self._start(cal, day), self._start(cal, day + ONE_DAY)
                ).total_seconds()
            total += timedelta(seconds=self.days[key])
            day += ONE_DAY
        key = (id(cal), last)
        if key not in self.days:
            self.days[key] = business_time_between(
                cal, self._start(cal, last), self.now
            ).total_seconds()
        return (total + timedelta(seconds=self.days[key])).total_seconds()

    @staticmethod
    def _start(cal: Any, day: date) -> datetime:
        return Period(day, day, cal.zone).start


ONE_DAY = timedelta(days=1)


def nearing_kpi(bands: dict[str, int]) -> Kpi:
    total = sum(bands.values())
    return Kpi(
        "nearing_breach",
        "Running clocks past half their target",
        total,
        "clocks",
        "at_most",
        samples=total,
        detail={"bands": bands},
    )


def resolved_quality(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """Reopen rate, first-contact resolution and reassignments per ticket, over the tickets
    resolved in the period."""
    by_type = sums(session, "resolved", period, cut, now, ("type",))
    resolved = sum(one.n for one in by_type.values())
    incidents = by_type[("incident",)].n if ("incident",) in by_type else 0
    reopened = total(sums(session, "reopened", period, cut, now)).n
    # Each reassigning write once (one move of team and agent together is one write).
    moves = total(sums(session, "reassignments", period, cut, now)).n
    # Never reopened, escalated or reassigned (data/kpi/rollup.py).
    first_contact = total(sums(session, "first_contact", period, cut, now)).n
    return [
        Kpi(
            "reopen_rate",
            "Reopen rate",
            share(int(reopened), resolved),
            "percent",
            "at_most",
            samples=resolved,
        ),
        Kpi(
            "first_contact_resolution",
            "First-contact resolution (incidents)",
            share(int(first_contact), incidents),
            "percent",
            "at_least",
            samples=incidents,
        ),
        Kpi(
            "reassignments_per_ticket",
            "Reassignments per ticket",
            None if resolved == 0 else int(moves or 0) / resolved,
            "reassignments",
            "at_most",
            samples=resolved,
        ),
    ]


def operations(
    session: Session, period: Period, cut: Cut, now: datetime, *, live: bool = True
) -> list[Kpi]:
    """`live`: also the figures of this moment (backlog, today, nearing breach), which a
    previous period has no value for."""
    kpis = resolved_quality(session, period, cut, now)
    teams = resolution_by_team(session, period, cut, now)
    incidents = sum(int(t["incidents"] or 0) for t in teams.values())
    minutes = sum(float(t["mean_minutes"] or 0) * int(t["incidents"] or 0) for t in teams.values())
    kpis.append(
        Kpi(
            "resolution_by_team",
            "Mean time to resolve, all incidents (per team in detail)",
            None if incidents == 0 else minutes / incidents,
            "minutes",
            "at_most",
            samples=incidents,
            detail={"teams": teams},
        )
    )
    if live:
        stock = backlog(session, cut, now)
        today = today_events(session, cut, now, period.zone)
        kpis += [
            Kpi(
                "backlog",
                "Open backlog",
                stock["total"],
                "tickets",
                "at_most",
                samples=stock["total"],
                detail=stock,
            ),
            Kpi(
                "breaches_today",
                "SLA breaches today",
                today["breaches_today"],
                "clocks",
                "at_most",
            ),
            Kpi(
                "escalations_today",
                "Escalations today",
                today["escalations_today"],
                "escalations",
                "at_most",
            ),
            nearing_kpi(nearing_breach(session, cut, now)),
        ]
    return kpis
