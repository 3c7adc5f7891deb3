"""Daily KPI rollups: each measure's sums per local day, so a year reads a few thousand
rows instead of a million tickets (docs/kpi.md, "Rollups").

One definition per measure: `_select(measure, start, end, cut)` is the grouped SQL over
the base tables for [start, end). The refresh files it under a day (`INSERT … SELECT`);
a reader sums the built days' rows and runs the same SQL over the days that are not
built or are marked dirty (and the part of today that has passed). A figure is
therefore right whether or not the rollups are fresh; fresh ones only make it fast.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Select,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Distribution, seconds_between
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import (
    REASSIGNMENT_EVENT,
    AuditEvent,
    KpiDay,
    KpiDirty,
    KpiRollup,
    SlaClock,
    Survey,
    Ticket,
    TimeEntry,
)
from itsm_tui.data.sla_standing import BREACHED, MET

log = logging.getLogger(__name__)

KINDS = ("response", "resolution")
PRIORITIES = (1, 2, 3, 4)
# Days rebuilt per write transaction: SQLite's write lock is never held for long (three
# days a transaction, with the exact seconds' rollups, kept a concurrent writer waiting
# past its busy timeout under load).
DAYS_PER_TRANSACTION = 1
# Days a reader's refresh (the dashboard's, the wall panel's) builds at most.
DAYS_PER_READER_REFRESH = 3

# Histogram buckets of clock time (seconds), (width, up to): a minute wide up to an hour,
# ten minutes up to eight, an hour up to two days, six hours beyond. Coarse: a year's
# histogram is read whole (78,000 resolution rows a year with minute buckets up to four
# hours took 0.7 s at a million tickets), and the 90th percentile is exact anyway: its
# bucket is read to the second from the `*_exact` rollups (see rank_90, exact_pairs).
_WIDTHS = ((60, 3600), (600, 8 * 3600), (3600, 2 * 86400))
_WIDEST = 6 * 3600


def bucket_width(lower: int) -> int:
    for width, until in _WIDTHS:
        if lower < until:
            return width
    return _WIDEST


def _bucket(seconds: Any) -> Any:
    # // is integer division on both databases (/ would be a true division). Each edge is
    # a multiple of the widths on both sides of it, so buckets never overlap.
    return case(
        *[(seconds < until, seconds // width * width) for width, until in _WIDTHS],
        else_=seconds // _WIDEST * _WIDEST,
    )


# The same sums with fewer keys, rolled up from a day's rows when the day is built: a
# whole-desk read of a year is a row a day (or a day and agent, a day and type) instead of
# a row per day, team and service (40,000 a year per measure at a million tickets), and a
# team's read a row a day and team. Stored as rows of `{measure}@desk` (team and service
# NULL: every team and service summed) and `{measure}@team` (service NULL: every service).
DESK = "@desk"
TEAM = "@team"
CUT_KEYS = ("team_id", "service_id")


@dataclass(frozen=True)
class Measure:
    name: str
    keys: tuple[str, ...]
    # Built for the whole desk only (the histograms: per team and service they would be as
    # many rows as clocks); a cut reads it from the base tables.
    whole_desk_only: bool = False

    @property
    def rolled(self) -> bool:
        """Keyed by team and service: also kept summed over them (`@desk`, `@team`)."""
        return all(k in self.keys for k in CUT_KEYS)

    def rows_for(self, cut: Cut, by: tuple[str, ...]) -> str:
        """The stored measure that answers the cut summed by `by`: the fewest rows."""
        if self.rolled and cut.service_id is None and "service_id" not in by:
            if cut.team_id is None and "team_id" not in by:
                return self.name + DESK
            return self.name + TEAM
        return self.name


def _measures() -> dict[str, Measure]:
    out = {}
    for kind in KINDS:
        out[f"{kind}_hist"] = Measure(f"{kind}_hist", ("priority", "bucket"), True)
        # Clocks per exact second (in `bucket`): the 90th percentile inside one bucket.
        out[f"{kind}_exact"] = Measure(f"{kind}_exact", ("priority", "bucket"), True)
        out[f"{kind}_met"] = Measure(f"{kind}_met", ("team_id", "service_id"))
        out[f"{kind}_missed"] = Measure(f"{kind}_missed", ("team_id", "service_id"))
    for name, keys in (
        ("resolution_time", ("team_id", "service_id")),
        ("request_cycle", ("team_id", "service_id")),
        ("request_standard", ("team_id", "service_id")),
        ("resolved", ("type", "team_id", "service_id")),
        ("reopened", ("team_id", "service_id")),
        ("first_contact", ("team_id", "service_id")),
        ("reassignments", ("team_id", "service_id")),
        ("handled", ("team_id", "service_id", "agent_id")),
        ("survey", ("team_id", "service_id")),
        ("incident_cost", ("team_id", "service_id")),
    ):
        out[name] = Measure(name, keys)
    return out


MEASURES = _measures()


def _stopped(kind: str, start: datetime, end: datetime) -> tuple[Any, ...]:
    return (
        SlaClock.kind == kind,
        SlaClock.stopped_at >= start,
        SlaClock.stopped_at < end,
        SlaClock.state.in_((MET, BREACHED)),
    )


def _resolved(start: datetime, end: datetime) -> tuple[Any, ...]:
    return (Ticket.resolved_at >= start, Ticket.resolved_at < end)


def _select(session: Session, measure: str, start: datetime, end: datetime, cut: Cut) -> Select:
    """The measure over [start, end) for the cut, grouped by its keys: columns named as
    kpi_rollup's (the keys, then n, total, lo, hi)."""
    team, service = Ticket.team_id.label("team_id"), Ticket.service_id.label("service_id")
    kind = measure.split("_")[0]
    n = func.count().label("n")
    if measure.endswith("_hist"):
        spent = SlaClock.spent_seconds
        bucket = _bucket(spent).label("bucket")
        return (
            select(
                Ticket.priority.label("priority"),
                bucket,
                n,
                func.sum(spent).label("total"),
                func.min(spent).label("lo"),
                func.max(spent).label("hi"),
            )
            .select_from(SlaClock)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(
                *_stopped(kind, start, end),
                Ticket.type == "incident",
                Ticket.priority.in_(PRIORITIES),
                cut.tickets(),
            )
            .group_by(Ticket.priority, bucket)
        )
    if measure.endswith("_exact"):
        return _exact_select(kind, start, end, cut, None)
    if measure.endswith(("_met", "_missed")):
        if measure.endswith("_met"):
            when = (
                SlaClock.kind == kind,
                SlaClock.state == MET,
                SlaClock.stopped_at >= start,
                SlaClock.stopped_at < end,
            )
        else:
            when = (
                SlaClock.breached_at >= start,
                SlaClock.breached_at < end,
                SlaClock.kind == kind,
                SlaClock.state == BREACHED,
            )
        return (
            select(team, service, n)
            .select_from(SlaClock)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(*when, cut.tickets())
            .group_by(Ticket.team_id, Ticket.service_id)
        )
    if measure == "resolution_time":
        return (
            select(team, service, n, func.sum(SlaClock.spent_seconds).label("total"))
            .select_from(SlaClock)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(*_stopped("resolution", start, end), Ticket.type == "incident", cut.tickets())
            .group_by(Ticket.team_id, Ticket.service_id)
        )
    if measure in (
        "request_cycle",
        "request_standard",
        "resolved",
        "reopened",
        "first_contact",
        "handled",
    ):
        columns: list[Any] = [team, service]
        conditions: list[Any] = [*_resolved(start, end), cut.tickets()]
        groups: list[Any] = [Ticket.team_id, Ticket.service_id]
        totals: list[Any] = []
        if measure == "request_cycle":
            conditions.append(Ticket.type == "request")
            waited = seconds_between(session, Ticket.opened_at, Ticket.resolved_at)
            totals.append(func.sum(waited).label("total"))
        elif measure == "request_standard":
            # n: the requests with a promise; total: those fulfilled by it.
            conditions += [Ticket.type == "request", Ticket.promised_at.is_not(None)]
            kept = case((Ticket.resolved_at <= Ticket.promised_at, 1), else_=0)
            totals.append(func.sum(kept).label("total"))
        elif measure == "resolved":
            columns.insert(0, Ticket.type.label("type"))
            groups.append(Ticket.type)
        elif measure == "reopened":
            conditions.append(Ticket.reopen_count > 0)
        elif measure == "first_contact":
            # Never reopened, escalated or reassigned: the reassignment probed per
            # ticket on the partial index of reassignment events.
            conditions += [
                Ticket.type == "incident",
                Ticket.reopen_count == 0,
                Ticket.escalation_level == 0,
                ~exists(
                    select(AuditEvent.record_version).where(
                        text(REASSIGNMENT_EVENT), AuditEvent.record_id == Ticket.id
                    )
                ),
            ]
        else:  # handled: resolved by its assignee
            columns.append(Ticket.assignee_id.label("agent_id"))
            conditions.append(Ticket.assignee_id.is_not(None))
            groups.append(Ticket.assignee_id)
        return select(*columns, n, *totals).where(*conditions).group_by(*groups)
    if measure == "reassignments":
        # Each write once: one move of team and agent together is one record version.
        # The resolved tickets' ids first, then their events off the partial index of
        # reassignments (the version rides along so that the index covers the read):
        # reading every reassignment event and joining took minutes a day at 1M.
        resolved_ids = select(Ticket.id).where(*_resolved(start, end), cut.tickets())
        writes = (
            select(AuditEvent.record_id, AuditEvent.record_version)
            .where(text(REASSIGNMENT_EVENT), AuditEvent.record_id.in_(resolved_ids))
            .distinct()
            .subquery()
        )
        return (
            select(team, service, n)
            .select_from(writes)
            .join(Ticket, Ticket.id == writes.c.record_id)
            .where(*_resolved(start, end), cut.tickets())
            .group_by(Ticket.team_id, Ticket.service_id)
        )
    if measure == "survey":
        return (
            select(team, service, n, func.sum(Survey.rating).label("total"))
            .select_from(Survey)
            .outerjoin(Ticket, Ticket.id == Survey.ticket_id)
            .where(Survey.submitted_at >= start, Survey.submitted_at < end, cut.tickets())
            .group_by(Ticket.team_id, Ticket.service_id)
        )
    if measure == "incident_cost":
        return (
            select(team, service, n, func.sum(TimeEntry.cost).label("total"))
            .select_from(TimeEntry)
            .join(Ticket, Ticket.id == TimeEntry.ticket_id)
            .where(
                TimeEntry.logged_at >= start,
                TimeEntry.logged_at < end,
                Ticket.type == "incident",
                cut.tickets(),
            )
            .group_by(Ticket.team_id, Ticket.service_id)
        )
    raise ValueError(f"no KPI measure {measure!r}")


# Reading


@dataclass(frozen=True)
class Sums:
    n: int = 0
    total: float = 0.0
    lo: int | None = None
    hi: int | None = None

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.n + other.n,
            self.total + other.total,
            _pick(min, self.lo, other.lo),
            _pick(max, self.hi, other.hi),
        )


def _pick(fn: Callable[[int, int], int], a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


@dataclass(frozen=True)
class Coverage:
    """Which days of a period the rollups answer, and what the base tables must."""

    days: tuple[date, ...]
    live: tuple[tuple[datetime, datetime], ...]


def desk_zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", zone))


def local_day(at: datetime, zone: tzinfo) -> date:
    return at.replace(tzinfo=UTC).astimezone(zone).date()


def built_until(session: Session, zone: tzinfo, first: date, last: date) -> dict[date, datetime]:
    """Day → the instant its rollups reach, for the days built in this zone."""
    return {
        day: until.replace(tzinfo=UTC)
        for day, until in session.execute(
            select(KpiDay.day, KpiDay.built_until).where(
                KpiDay.day >= first, KpiDay.day <= last, KpiDay.zone == desk_zone_name(zone)
            )
        )
    }


def coverage(session: Session, period: Period, now: datetime) -> Coverage:
    """The days whose rollups answer for [their start, the instant they reach) and the
    stretches the tables answer: the rest of those days up to the period's measured end,
    and every day not built, built in another zone, or dirty — marked at an instant the
    rollups already cover (a mark after it is the tables' stretch anyway).

    `session.info["kpi_rollups"] = False`: every day from the tables (the check that
    rollups and tables agree, and the tests)."""
    end = period.measured_end(now)
    if end <= period.start:
        return Coverage((), ())
    if session.info.get("kpi_rollups") is False:
        return Coverage((), ((period.start, end),))
    # Once per period in a read: every measure asks, and a read is one snapshot (SQLite's
    # deferred transaction, PostgreSQL's repeatable read: data/store.py).
    cache = session.info.setdefault("kpi_coverage", {})
    key = (period.first_day, period.last_day, desk_zone_name(period.zone), end)
    if key not in cache:
        cache[key] = _coverage(session, period, end)
    return cache[key]


def _coverage(session: Session, period: Period, end: datetime) -> Coverage:
    built = built_until(session, period.zone, period.first_day, period.last_day)
    dirty: set[date] = set()
    if built:
        for (at,) in session.execute(
            select(KpiDirty.at).where(KpiDirty.at >= period.start, KpiDirty.at < end).distinct()
        ):
            day = local_day(at, period.zone)
            if day in built and at.replace(tzinfo=UTC) < built[day]:
                dirty.add(day)
    days: list[date] = []
    live: list[tuple[datetime, datetime]] = []

    def read(start: datetime, stop: datetime) -> None:
        if stop <= start:
            return
        if live and live[-1][1] == start:
            live[-1] = (live[-1][0], stop)
        else:
            live.append((start, stop))

    day = period.first_day
    while day <= period.last_day:
        one = Period(day, day, period.zone)
        if one.start >= end:
            break
        stop = min(one.end, end)
        until = built.get(day)
        if until is not None and day not in dirty and until <= stop:
            days.append(day)
            read(until, stop)
        else:
            read(one.start, stop)
        day += timedelta(days=1)
    return Coverage(tuple(days), tuple(live))


def sums(
    session: Session,
    measure: str,
    period: Period,
    cut: Cut,
    now: datetime,
    by: tuple[str, ...] = (),
) -> dict[tuple[Any, ...], Sums]:
    """The measure over the period for the cut, summed by `by` (some of its keys)."""
    spec = MEASURES[measure]
    cover = coverage(session, period, now)
    if spec.whole_desk_only and not cut.whole_desk:
        end = period.measured_end(now)
        cover = Coverage((), ((period.start, end),) if end > period.start else ())
    out: dict[tuple[Any, ...], Sums] = {}

    def add(rows: Iterable[Any]) -> None:
        for row in rows:
            key = tuple(row[: len(by)])
            n, total, lo, hi = row[len(by) :]
            one = Sums(int(n or 0), float(total or 0), _int(lo), _int(hi))
            out[key] = out[key] + one if key in out else one

    if cover.days:
        r = KpiRollup
        conditions = [r.measure == spec.rows_for(cut, by), r.day.in_(cover.days)]
        if cut.team_id is not None:
            conditions.append(r.team_id == cut.team_id)
        if cut.service_id is not None:
            conditions.append(r.service_id == cut.service_id)
        keys = [getattr(r, k) for k in by]
        add(
            session.execute(
                select(*keys, func.sum(r.n), func.sum(r.total), func.min(r.lo), func.max(r.hi))
                .where(*conditions)
                .group_by(*keys)
            )
        )
    for start, end in cover.live:
        q = _select(session, measure, start, end, cut).subquery()
        keys = [q.c[k] for k in by]
        c = q.c
        add(
            session.execute(
                select(
                    *keys,
                    func.sum(c.n),
                    func.sum(c.total) if "total" in c else null(),
                    func.min(c.lo) if "lo" in c else null(),
                    func.max(c.hi) if "hi" in c else null(),
                ).group_by(*keys)
            )
        )
    return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def total(found: dict[tuple[Any, ...], Sums]) -> Sums:
    out = Sums()
    for one in found.values():
        out = out + one
    return out


@dataclass(frozen=True)
class Rank:
    """Where a histogram's nearest-rank 90th percentile lies: its value when the bucket
    sums tell it, else the bucket (`lower`) and the rank inside it (`k`) to read."""

    count: int
    mean: float | None
    value: float | None
    lower: int | None = None
    k: int = 0

    def distribution(self) -> Distribution:
        return Distribution(self.count, self.mean, self.value)

    def read(self, pairs: list[tuple[int, int]]) -> Distribution:
        """The value from the bucket's (seconds, clocks), ascending."""
        k = self.k
        for seconds, clocks in pairs:
            k -= clocks
            if k <= 0:
                return Distribution(self.count, self.mean, float(seconds))
        return Distribution(self.count, self.mean, None)


def rank_90(histogram: dict[int, Sums]) -> Rank:
    """Mean and nearest-rank 90th percentile (seconds) from bucket sums: exact where the
    rank falls on a bucket's smallest or largest (or the middle of three), else the
    bucket to read (`Rank.lower`)."""
    buckets = sorted((b, s) for b, s in histogram.items() if s.n)
    count = sum(s.n for _b, s in buckets)
    if count == 0:
        return Rank(0, None, None)
    mean = sum(s.total for _b, s in buckets) / count
    rank = math.ceil(0.9 * count)
    seen = 0
    for lower, s in buckets:
        if seen + s.n < rank:
            seen += s.n
            continue
        k = rank - seen  # the k-th smallest of this bucket
        if k == s.n or s.lo == s.hi:
            value = s.hi
        elif k == 1:
            value = s.lo
        elif s.n == 3:
            value = round(s.total) - (s.lo or 0) - (s.hi or 0)
        else:
            return Rank(count, mean, None, lower, k)
        return Rank(count, mean, None if value is None else float(value))
    return Rank(count, mean, float(buckets[-1][1].hi or 0))


def exact_pairs(
    session: Session,
    kind: str,
    period: Period,
    cut: Cut,
    now: datetime,
    lowers: set[int],
) -> dict[int, dict[int, list[tuple[int, int]]]]:
    """bucket → priority → the (seconds, clocks) of the incidents' `kind` clocks stopped
    in the period in that bucket, ascending: each bucket a set of 90th percentiles needs
    read once for every priority. The built days from the `{kind}_exact` rollups (a
    range of ix_kpi_rollup_bucket), the rest, and a team's or service's cut, from the
    clocks (a range of ix_sla_clocks_spent, each clock joined to its ticket: 0.2–0.5 s a
    bucket over a year at a million tickets)."""
    out: dict[int, dict[int, list[tuple[int, int]]]] = {}
    end = period.measured_end(now)
    if cut.whole_desk:
        cover = coverage(session, period, now)
    else:
        cover = Coverage((), ((period.start, end),) if end > period.start else ())
    for lower in sorted(lowers):
        upper = lower + bucket_width(lower)
        counts: dict[tuple[int, int], int] = {}
        reads: list[Any] = []
        if cover.days:
            r = KpiRollup
            reads.append(
                select(r.priority, r.bucket, func.sum(r.n))
                .where(
                    r.measure == f"{kind}_exact",
                    r.bucket >= lower,
                    r.bucket < upper,
                    r.day.in_(cover.days),
                )
                .group_by(r.priority, r.bucket)
            )
        for start, stop in cover.live:
            reads.append(
                _exact_select(kind, start, stop, cut, (lower, upper), by_stop=cut.whole_desk)
            )
        for read in reads:
            for priority, seconds, clocks in session.execute(read):
                key = (int(priority), int(seconds))
                counts[key] = counts.get(key, 0) + int(clocks)
        found: dict[int, list[tuple[int, int]]] = out.setdefault(lower, {})
        for (priority, seconds), clocks in sorted(counts.items(), key=lambda kv: kv[0][1]):
            found.setdefault(priority, []).append((seconds, clocks))
    return out


def _exact_select(
    kind: str,
    start: datetime,
    end: datetime,
    cut: Cut,
    within: tuple[int, int] | None,
    *,
    by_stop: bool = False,
) -> Select:
    """The incidents' `kind` clocks stopped in [start, end) per priority and exact second
    (`within`: a range of seconds), columns named as kpi_rollup's. `by_stop`: read the
    range of stop times (the part of a period the rollups do not hold: today, a dirty
    day), not the bucket's clocks of all time, which SQLite's planner would otherwise
    take (50 ms a bucket at a million tickets, for an empty stretch)."""
    spent = SlaClock.spent_seconds
    conditions = [*_stopped(kind, start, end)]
    if within is not None:
        # `+ 0`: no index reaches the expression, so the stop times' one is used.
        seconds = spent + 0 if by_stop else spent
        conditions += [seconds >= within[0], seconds < within[1]]
    return (
        select(Ticket.priority.label("priority"), spent.label("bucket"), func.count().label("n"))
        .select_from(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            *conditions,
            Ticket.type == "incident",
            Ticket.priority.in_(PRIORITIES),
            cut.tickets(),
        )
        .group_by(Ticket.priority, spent)
    )


# Building


@dataclass(frozen=True)
class Build:
    """One day's work in a refresh: the whole day so far, or the stretch since the
    instant its rollups reach (`since`)."""

    day: date
    since: datetime | None = None


def build_day(session: Session, job: Build, zone: tzinfo, now: datetime) -> None:
    """Build or extend one day's rollups in this transaction: one grouped INSERT … SELECT
    per measure over [start, stop). The day's kpi_days row is written first, so that a
    concurrent refresh of the same day waits for this one (PostgreSQL) and then finds the
    day already built: an extension only happens from the instant it read."""
    one = Period(job.day, job.day, zone)
    stop = min(one.end, now)
    name = desk_zone_name(zone)
    if job.since is not None:
        moved = session.execute(
            update(KpiDay)
            .where(KpiDay.day == job.day, KpiDay.zone == name, KpiDay.built_until == job.since)
            .values(built_until=stop)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return  # another refresh moved it meanwhile
        start = job.since
    else:
        stored = session.execute(
            update(KpiDay).where(KpiDay.day == job.day).values(zone=name, built_until=stop)
        )
        if stored.rowcount != 1:  # type: ignore[attr-defined]
            session.add(KpiDay(day=job.day, zone=name, built_until=stop))
            session.flush()
        session.execute(delete(KpiRollup).where(KpiRollup.day == job.day))
        start = one.start
    if stop <= start:
        return
    for measure, spec in MEASURES.items():
        q = _select(session, measure, start, stop, Cut()).subquery()
        columns = [*spec.keys, "n"] + [c for c in ("total", "lo", "hi") if c in q.c]
        session.execute(
            insert(KpiRollup).from_select(
                ["day", "measure", *columns],
                select(literal(job.day), literal(measure), *[q.c[c] for c in columns]),
            )
        )
    roll_up_day(session, job.day)


def roll_up_day(session: Session, day: date) -> None:
    """The day's `@desk` and `@team` rows, summed again from its rows by team and service
    (all of them: an extension's rows beside the earlier ones). A few hundred rows read, no
    base table."""
    rolled = [m.name for m in MEASURES.values() if m.rolled]
    r = KpiRollup
    session.execute(
        delete(r).where(
            r.day == day, r.measure.in_([m + DESK for m in rolled] + [m + TEAM for m in rolled])
        )
    )
    # The keys other than team and service: `type` (resolved), `agent_id` (handled).
    others = [r.type, r.priority, r.agent_id, r.bucket]
    for suffix, kept in ((DESK, []), (TEAM, [r.team_id])):
        session.execute(
            insert(r).from_select(
                [
                    "day",
                    "measure",
                    "type",
                    "priority",
                    "agent_id",
                    "bucket",
                    *[c.key for c in kept],
                    "n",
                    "total",
                    "lo",
                    "hi",
                ],
                select(
                    r.day,
                    r.measure + suffix,
                    *others,
                    *kept,
                    func.sum(r.n),
                    func.sum(r.total),
                    func.min(r.lo),
                    func.max(r.hi),
                )
                .where(r.day == day, r.measure.in_(rolled))
                .group_by(r.day, r.measure, *others, *kept),
            )
        )


def plan_refresh(
    session: Session, zone: tzinfo, now: datetime
) -> tuple[list[Build], list[tuple[int, date]], set[date]]:
    """The days a refresh should build or extend, most recent first; the marks it read
    (id and local day); the days built when it read.

    From the first ticket's day to today: a day not built (or built in another zone) or
    dirty is built whole (up to now); one built up to an instant before its end, or
    before now for today, is extended from there."""
    name = desk_zone_name(zone)
    built = {
        day: until.replace(tzinfo=UTC)
        for day, until in session.execute(
            select(KpiDay.day, KpiDay.built_until).where(KpiDay.zone == name)
        )
    }
    marks: list[tuple[int, date]] = []
    dirty: set[date] = set()
    for mark_id, at in session.execute(select(KpiDirty.id, KpiDirty.at)):
        day = local_day(at, zone)
        marks.append((int(mark_id), day))
        if day in built and at.replace(tzinfo=UTC) < built[day]:
            dirty.add(day)
    jobs: list[Build] = []
    first_opened = session.scalar(select(func.min(Ticket.opened_at)))
    if first_opened is None:
        return jobs, marks, set(built)
    first = local_day(first_opened, zone)
    day = now.astimezone(zone).date()
    while day >= first:
        one = Period(day, day, zone)
        stop = min(one.end, now)
        if day not in built or day in dirty:
            jobs.append(Build(day))
        elif built[day] < stop:
            jobs.append(Build(day, built[day]))
        day -= timedelta(days=1)
    return jobs, marks, set(built)


def refresh_rollups(
    store: Any, now: datetime, *, zone: tzinfo | None = None, max_days: int | None = None
) -> int:
    """Bring the rollups up to now: today's since the last refresh (a few rows), the dirty
    days, the days not built yet, a few days per write transaction so that SQLite's write
    lock is never held long; then delete the marks read whose day was built (or was not
    built: a day built later reads everything anyway). A mark written meanwhile stays for
    the next refresh. `max_days` bounds one call (the dashboard's). Returns the days built
    or extended."""
    with store.read() as session:
        if zone is None:
            from itsm_tui.desk.zones import desk_zone

            zone = desk_zone(session)
        jobs, marks, built = plan_refresh(session, zone, now)
    if max_days is not None:
        jobs = jobs[:max_days]
    for i in range(0, len(jobs), DAYS_PER_TRANSACTION):
        with store.write() as session:
            for job in jobs[i : i + DAYS_PER_TRANSACTION]:
                build_day(session, job, zone, now)
    done = {job.day for job in jobs}
    seen = [i for i, day in marks if day in done or day not in built]
    for i in range(0, len(seen), 500):
        with store.write() as session:
            session.execute(delete(KpiDirty).where(KpiDirty.id.in_(seen[i : i + 500])))
    return len(jobs)


def refresh_quietly(store: Any, now: datetime, max_days: int = DAYS_PER_READER_REFRESH) -> None:
    """A reader's refresh (the dashboard's, the wall panel's): a store that refuses the
    write (busy, read-only, briefly away) leaves the rollups as they are, and the read
    that follows is right anyway, from the tables where they are stale."""
    from sqlalchemy.exc import SQLAlchemyError

    # At most every READER_REFRESH_SECONDS of wall time per store: a dashboard reads every
    # few seconds, and the stretch since the last refresh is read from the tables anyway.
    last = _last_reader_refresh.get(store.url)
    if last is not None and time.monotonic() - last < READER_REFRESH_SECONDS:
        return
    _last_reader_refresh[store.url] = time.monotonic()
    try:
        refresh_rollups(store, now, max_days=max_days)
    except SQLAlchemyError:
        log.warning("KPI rollups not refreshed", exc_info=True)


READER_REFRESH_SECONDS = 30.0
_last_reader_refresh: dict[str, float] = {}


def forget_rollups(session: Session) -> None:
    """Every day not built (after a bulk load): the next refresh rebuilds them all, and
    until then the figures come from the base tables."""
    session.execute(delete(KpiDay))
    session.execute(delete(KpiRollup))
    session.execute(delete(KpiDirty))


__all__ = [
    "MEASURES",
    "Coverage",
    "Sums",
    "build_day",
    "coverage",
    "exact_pairs",
    "forget_rollups",
    "rank_90",
    "refresh_rollups",
    "roll_up_day",
    "sums",
    "total",
]
