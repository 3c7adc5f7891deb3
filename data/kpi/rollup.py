"""Daily KPI rollups: each measure's sums per local day, so a year reads a few thousand
rows instead of a million tickets (docs/kpi.md, "Rollups").

One definition per measure: `_select(measure, start, end, cut)` is the grouped SQL over
the base tables for [start, end). The refresh files it under a day (`INSERT … SELECT`);
a reader sums the built days' rows and runs the same SQL over the days that are not
built or are marked dirty (and the part of today that has passed). A figure is
therefore right whether or not the rollups are fresh; fresh ones only make it fast.
"""

from __future__ import annotations

import math
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

KINDS = ("response", "resolution")
PRIORITIES = (1, 2, 3, 4)
# Days rebuilt per write transaction: SQLite's write lock is never held for long.
DAYS_PER_TRANSACTION = 3

# Histogram buckets of clock time (seconds): a minute wide up to four hours, ten minutes
# up to two days, an hour beyond. The 90th percentile is exact anyway (see percentile_90).
_MINUTE_UNTIL = 4 * 3600
_TEN_MINUTES_UNTIL = 2 * 86400


def bucket_width(lower: int) -> int:
    if lower < _MINUTE_UNTIL:
        return 60
    if lower < _TEN_MINUTES_UNTIL:
        return 600
    return 3600


def _bucket(seconds: Any) -> Any:
    return case(
        # // is integer division on both databases (/ would be a true division).
        (seconds < _MINUTE_UNTIL, seconds // 60 * 60),
        (seconds < _TEN_MINUTES_UNTIL, seconds // 600 * 600),
        else_=seconds // 3600 * 3600,
    )


@dataclass(frozen=True)
class Measure:
    name: str
    keys: tuple[str, ...]
    # Built for the whole desk only (the histograms: per team and service they would be as
    # many rows as clocks); a cut reads it from the base tables.
    whole_desk_only: bool = False


def _measures() -> dict[str, Measure]:
    out = {}
    for kind in KINDS:
        out[f"{kind}_hist"] = Measure(f"{kind}_hist", ("priority", "bucket"), True)
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
    if measure in ("request_cycle", "request_standard", "resolved", "reopened", "first_contact", "handled"):
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


def _built_and_dirty(session: Session, period: Period) -> tuple[set[date], set[date]]:
    zone = desk_zone_name(period.zone)
    built = set(
        session.scalars(
            select(KpiDay.day).where(
                KpiDay.day >= period.first_day, KpiDay.day <= period.last_day, KpiDay.zone == zone
            )
        )
    )
    if not built:
        return built, set()
    dirty: set[date] = set()
    for utc_day in session.scalars(select(KpiDirty.day).distinct()):
        dirty |= local_days_of(utc_day, period.zone)
    return built, dirty


def local_days_of(utc_day: date, zone: tzinfo) -> set[date]:
    """The local days that overlap a UTC date."""
    start = datetime.combine(utc_day, datetime.min.time(), tzinfo=UTC)
    first = start.astimezone(zone).date()
    last = (start + timedelta(days=1) - timedelta(microseconds=1)).astimezone(zone).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def coverage(session: Session, period: Period, now: datetime) -> Coverage:
    """`session.info["kpi_rollups"] = False`: every day from the base tables (the check
    that rollups and tables agree, and the tests)."""
    end = period.measured_end(now)
    if end <= period.start:
        return Coverage((), ())
    if session.info.get("kpi_rollups") is False:
        return Coverage((), ((period.start, end),))
    built, dirty = _built_and_dirty(session, period)
    days: list[date] = []
    live: list[tuple[datetime, datetime]] = []
    day = period.first_day
    while day <= period.last_day:
        one = Period(day, day, period.zone)
        if one.start >= end:
            break
        if day in built and day not in dirty and one.end <= end:
            days.append(day)
        else:
            stop = min(one.end, end)
            if live and live[-1][1] == one.start:
                live[-1] = (live[-1][0], stop)
            else:
                live.append((one.start, stop))
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
        conditions = [r.measure == measure, r.day.in_(cover.days)]
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


def percentile_90(
    histogram: dict[int, Sums], exact: Callable[[int, int], list[tuple[int, int]]]
) -> Distribution:
    """Mean and nearest-rank 90th percentile (seconds) from bucket sums, exact: where the
    rank falls inside a bucket and its smallest, largest and sum do not tell the value,
    `exact(bucket, width)` reads that bucket's (seconds, clocks) off the clocks' index of
    time spent (ix_sla_clocks_spent), a small range."""
    buckets = sorted((b, s) for b, s in histogram.items() if s.n)
    count = sum(s.n for _b, s in buckets)
    if count == 0:
        return Distribution(0, None, None)
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
            value = None
            for seconds, clocks in exact(lower, bucket_width(lower)):
                k -= clocks
                if k <= 0:
                    value = seconds
                    break
        return Distribution(count, mean, None if value is None else float(value))
    return Distribution(count, mean, float(buckets[-1][1].hi or 0))


def exact_bucket(
    session: Session,
    kind: str,
    period: Period,
    cut: Cut,
    now: datetime,
    priorities: tuple[int, ...],
) -> Callable[[int, int], list[tuple[int, int]]]:
    def read(lower: int, width: int) -> list[tuple[int, int]]:
        spent = SlaClock.spent_seconds
        rows = session.execute(
            select(spent, func.count())
            .select_from(SlaClock)
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(
                SlaClock.kind == kind,
                spent >= lower,
                spent < lower + width,
                *_stopped(kind, period.start, period.measured_end(now)),
                Ticket.type == "incident",
                Ticket.priority.in_(priorities),
                cut.tickets(),
            )
            .group_by(spent)
            .order_by(spent)
        ).all()
        return [(int(s), int(c)) for s, c in rows]

    return read


# Building


def build_days(session: Session, days: Iterable[date], zone: tzinfo, now: datetime) -> None:
    """(Re)build the rollups of local days in this transaction: delete, then one grouped
    INSERT … SELECT per measure and day."""
    name = desk_zone_name(zone)
    for day in days:
        one = Period(day, day, zone)
        session.execute(delete(KpiRollup).where(KpiRollup.day == day))
        for measure, spec in MEASURES.items():
            q = _select(session, measure, one.start, one.end, Cut()).subquery()
            columns = [*spec.keys, "n"] + [c for c in ("total", "lo", "hi") if c in q.c]
            session.execute(
                insert(KpiRollup).from_select(
                    ["day", "measure", *columns],
                    select(literal(day), literal(measure), *[q.c[c] for c in columns]),
                )
            )
        session.execute(delete(KpiDay).where(KpiDay.day == day))
        session.add(KpiDay(day=day, zone=name, built_at=now))
        session.flush()


def days_to_build(
    session: Session, zone: tzinfo, now: datetime
) -> tuple[list[date], list[tuple[int, set[date]]], set[date]]:
    """The days a refresh should (re)build, most recent first; the marks it saw (id and
    the local days each touches); the days built now.

    Dirty days that are built, then the days not built (or built in another zone) from the
    first ticket's day to yesterday: today is never built (it is still changing)."""
    today = now.astimezone(zone).date()
    marks = [
        (int(i), local_days_of(d, zone))
        for i, d in session.execute(select(KpiDirty.id, KpiDirty.day))
    ]
    name = desk_zone_name(zone)
    built = set(session.scalars(select(KpiDay.day).where(KpiDay.zone == name)))
    dirty = set().union(*(days for _i, days in marks))
    first_opened = session.scalar(select(func.min(Ticket.opened_at)))
    wanted: list[date] = sorted((d for d in dirty if d in built and d < today), reverse=True)
    if first_opened is not None:
        day = today - timedelta(days=1)
        first = first_opened.replace(tzinfo=UTC).astimezone(zone).date()
        while day >= first:
            if day not in built:
                wanted.append(day)
            day -= timedelta(days=1)
    return wanted, marks, built


def refresh_rollups(
    store: Any, now: datetime, *, zone: tzinfo | None = None, max_days: int | None = None
) -> int:
    """Bring the rollups up to date: the dirty days, then the days not built yet, a few
    days per write transaction; then delete the marks whose days are all rebuilt (or not
    built: a day built later reads everything anyway). A mark written meanwhile stays for
    the next refresh. `max_days` bounds one call (the dashboard's). Returns the days built."""
    with store.read() as session:
        if zone is None:
            from itsm_tui.desk.zones import desk_zone

            zone = desk_zone(session)
        wanted, marks, built = days_to_build(session, zone, now)
    if max_days is not None:
        wanted = wanted[:max_days]
    for i in range(0, len(wanted), DAYS_PER_TRANSACTION):
        with store.write() as session:
            build_days(session, wanted[i : i + DAYS_PER_TRANSACTION], zone, now)
    rebuilt = set(wanted)
    done = [i for i, days in marks if all(d in rebuilt or d not in built for d in days)]
    for i in range(0, len(done), 500):
        with store.write() as session:
            session.execute(delete(KpiDirty).where(KpiDirty.id.in_(done[i : i + 500])))
    return len(wanted)


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
    "build_days",
    "coverage",
    "exact_bucket",
    "forget_rollups",
    "percentile_90",
    "refresh_rollups",
    "sums",
    "total",
]
