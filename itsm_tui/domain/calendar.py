"""Business time: working minutes of a calendar across lunch breaks, holidays, make-up
working days and DST."""

from __future__ import annotations

import bisect
import re
from bisect import bisect_left as _bisect_left
from bisect import bisect_right as _bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsm_tui.i18n import _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# A calendar without a single working minute in this many days is treated as
# having none at all: without a cap, "next working instant" would never return.
SEARCH_CAP_YEARS = 3
SEARCH_CAP_DAYS = SEARCH_CAP_YEARS * 366

_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
# Converted days are cached per calendar; SLA work clusters around "now", so a
# modest bound keeps memory flat in a desk that runs for months.
_DAY_CACHE_LIMIT = 4096

# One working interval in UTC: [start, end).
Span = tuple[datetime, datetime]


class WorkingInterval(NamedTuple):
    """Working hours on one weekday, in minutes after local midnight: [start, end)."""

    start: int  # 0 … 1439
    end: int  # 1 … 1440; 1440 is "24:00", midnight at the end of the day

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class BusinessCalendar:
    """When a desk works: per-weekday intervals in a time zone, minus holidays, plus
    make-up working days.

    `always_open` (24x7) calendars count plain elapsed time and carry no hours or
    holidays. Weekdays missing from `hours` are closed. A make-up working day
    (`workdays`, China's 调休: a weekend date worked in exchange for a holiday) works
    the hours of the weekday `workdays_as` names, Monday unless said otherwise.
    """

    name: str
    timezone: str = "UTC"
    always_open: bool = False
    hours: Mapping[str, tuple[WorkingInterval, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workdays_as: str = "mon"
    zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _by_weekday: tuple[tuple[WorkingInterval, ...], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _workday_hours: tuple[WorkingInterval, ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # Mutable cache inside a frozen value: it only memoises a pure function of
    # the fields, so equality and hashing ignore it.
    _days: dict[date, tuple[Span, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "zone", _zone(self.name, self.timezone))
        hours: dict[str, tuple[WorkingInterval, ...]] = {}
        for day, intervals in self.hours.items():
            if day not in WEEKDAYS:
                raise ValueError(
                    _("calendar {name}: unknown weekday {day!r} (use {days})").format(
                        name=self.name, day=day, days=", ".join(WEEKDAYS)
                    )
                )
            checked = _check_intervals(self.name, day, intervals)
            if checked:
                hours[day] = checked
        holidays = _check_dates(self.name, _("holiday"), self.holidays)
        workdays = _check_dates(self.name, _("make-up working day"), self.workdays)
        if self.always_open and (hours or holidays or workdays):
            raise ValueError(
                _(
                    "calendar {name} is always open (24x7); it has no working hours, holidays "
                    "or make-up working days"
                ).format(name=self.name)
            )
        both = sorted(holidays & workdays)
        if both:
            raise ValueError(
                _("calendar {name}: {day} is both a holiday and a make-up working day").format(
                    name=self.name, day=both[0].isoformat()
                )
            )
        if self.workdays_as not in WEEKDAYS:
            raise ValueError(
                _("calendar {name}: workdays_as {day!r} is not a weekday ({days})").format(
                    name=self.name, day=self.workdays_as, days=", ".join(WEEKDAYS)
                )
            )
        if workdays and not hours.get(self.workdays_as):
            raise ValueError(
                _(
                    "calendar {name}: make-up working days work {day}'s hours, and {day} has "
                    "none; name a working weekday in workdays_as"
                ).format(name=self.name, day=self.workdays_as)
            )
        set_(self, "hours", MappingProxyType(hours))
        set_(self, "holidays", holidays)
        set_(self, "workdays", workdays)
        set_(self, "_by_weekday", tuple(hours.get(day, ()) for day in WEEKDAYS))
        set_(self, "_workday_hours", hours.get(self.workdays_as, ()))

    def __reduce__(self) -> tuple[type[BusinessCalendar], tuple[Any, ...]]:
        # A mappingproxy cannot be pickled or deep-copied; rebuild from plain values.
        hours = {day: tuple(intervals) for day, intervals in self.hours.items()}
        return type(self), (
            self.name,
            self.timezone,
            self.always_open,
            hours,
            self.holidays,
            self.workdays,
            self.workdays_as,
        )

    @classmethod
    def from_config(
        cls,
        name: str,
        timezone: str,
        hours: Mapping[str, Iterable[Iterable[str]]] | None,
        holidays: Iterable[str | date] | None,
        always_open: bool = False,
        workdays: Iterable[str | date] | None = None,
        workdays_as: str = "mon",
    ) -> BusinessCalendar:
        """Build from the stored shape; ValueError says what is wrong with it.

        hours: {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], …}, an end may be "24:00";
        holidays and workdays: ["2026-10-01", …] local dates.
        """
        parsed: dict[str, tuple[WorkingInterval, ...]] = {}
        if hours is not None and not isinstance(hours, Mapping):
            raise ValueError(
                _("calendar {name}: hours must map weekdays to intervals").format(name=name)
            )
        for day, intervals in (hours or {}).items():
            if day not in WEEKDAYS:
                raise ValueError(
                    _("calendar {name}: unknown weekday {day!r} (use {days})").format(
                        name=name, day=day, days=", ".join(WEEKDAYS)
                    )
                )
            if isinstance(intervals, str | Mapping) or not isinstance(intervals, Iterable):
                raise ValueError(
                    _(
                        'calendar {name} {day}: {value!r} is not a list of ["HH:MM", "HH:MM"]'
                    ).format(name=name, day=day, value=intervals)
                )
            parsed[day] = tuple(_parse_interval(name, day, raw) for raw in intervals)
        days = frozenset(_parse_date(name, _("holiday"), raw) for raw in (holidays or ()))
        extra = frozenset(
            _parse_date(name, _("make-up working day"), raw) for raw in (workdays or ())
        )
        return cls(
            name=name,
            timezone=timezone,
            always_open=always_open,
            hours=parsed,
            holidays=days,
            workdays=extra,
            workdays_as=workdays_as,
        )


def always_open_calendar(name: str = "24x7", timezone: str = "UTC") -> BusinessCalendar:
    """A 24x7 calendar: business time is elapsed time."""
    return BusinessCalendar(name=name, timezone=timezone, always_open=True)


def working_day_minutes(cal: BusinessCalendar) -> int | None:
    """The length of the calendar's working day in minutes, when every working weekday
    is as long (09:00–12:00 and 13:30–18:00 is 450); None for a 24x7 calendar or one
    whose days differ (a standard then cannot be said in days)."""
    if cal.always_open:
        return None
    lengths = {
        sum(i.end - i.start for i in intervals) for intervals in cal.hours.values() if intervals
    }
    return lengths.pop() if len(lengths) == 1 else None


# -- operations ---------------------------------------------------------------------------


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """The instant (UTC) at which `minutes` of working time have elapsed after `start`.

    Counting starts at `start` or, outside working time, at the next working
    instant; so `minutes == 0` ("due immediately") gives `start` when it is
    working time, else the next working instant. A due time is never in closed
    time: it lies inside a working interval or exactly at its end.
    """
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError(_("minutes must be an int, not {kind}").format(kind=type(minutes).__name__))
    if minutes < 0:
        raise ValueError(
            _("cannot add a negative number of business minutes ({n})").format(n=minutes)
        )
    return add_business_time(cal, start, minutes * _MINUTE)


def add_business_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """Like `add_business_minutes` for any duration, e.g. what is left after a pause."""
    at = _utc(start, "start")
    if duration < _ZERO:
        raise ValueError(_("cannot add negative business time ({d})").format(d=duration))
    try:
        if cal.always_open:
            return at + duration
        remaining = duration
        for begin, end in _spans_from(cal, at):
            # `<=` so a target that uses up an interval is due at its end, not
            # at the next opening: the clock ran out when work stopped.
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
    except OverflowError as exc:
        raise _beyond_calendar(cal) from exc
    raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Exact working time in [start, end); zero when end <= start."""
    lo, hi = _utc(start, "start"), _utc(end, "end")
    if hi <= lo:
        return _ZERO
    if cal.always_open:
        return hi - lo
    total = _ZERO
    try:
        # Earlier days end before `lo` (see _spans_from). One day past `hi`: a
        # clock set back across midnight shows yesterday's date while the next
        # day's first interval is already running.
        day = _local_date(cal, lo)
        last = _local_date(cal, hi) + _DAY
        while day <= last:
            for begin, finish in _day_spans(cal, day):
                overlap = min(finish, hi) - max(begin, lo)
                if overlap > _ZERO:
                    total += overlap
            day += _DAY
    except OverflowError as exc:
        raise _beyond_calendar(cal) from exc
    return total


def business_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Working minutes in [start, end) as exact seconds / 60; 0 when end <= start.

    Whole when both ends are on whole minutes, and always exactly N between a
    start and `add_business_minutes(start, N)`.
    """
    return business_time_between(cal, start, end) / _MINUTE


def next_working_instant(cal: BusinessCalendar, at: datetime) -> datetime:
    """`at` (in UTC) when it is working time, else the moment work next begins."""
    return add_business_time(cal, at, _ZERO)


def is_working(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether `at` lies inside a working interval (the start counts, the end does not)."""
    instant = _utc(at, "at")
    if cal.always_open:
        return True
    try:
        day = _local_date(cal, instant)
        # Tomorrow too: after a clock is set back across midnight it shows
        # today's date while tomorrow's first interval is already running.
        return any(
            begin <= instant < end for d in (day, day + _DAY) for begin, end in _day_spans(cal, d)
        )
    except OverflowError as exc:
        raise _beyond_calendar(cal) from exc


class WorkingTimeIndex:
    """A calendar's working time over a fixed range as a cumulative table, for bulk work.

    Instants are whole seconds after `origin` (UTC). Each working span of [start, end)
    is stored with the working seconds before it, so business time between two instants
    and the instant some business time after one are a bisect each, not a walk over the
    days between. The spans come from the calendar itself (`_spans_from`), so results
    agree with `business_time_between` and `add_business_time` to the microsecond.
    """

    def __init__(self, cal: BusinessCalendar, origin: datetime, start: datetime, end: datetime):
        self.always_open = cal.always_open
        self.origin = _utc(origin, "origin")
        lo, hi = _utc(start, "start"), _utc(end, "end")
        self.first = int((lo - self.origin) // _SECOND)
        self.last = int((hi - self.origin) // _SECOND)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []  # working seconds of the range before each span
        self.through: list[int] = []  # ... up to each span's end
        self.lengths: list[int] = []  # each span's working seconds
        # Per span, its start less the working time before it, in µs: the instant at
        # which `goal` µs have been worked, inside that span, is this plus `goal`.
        self.shift_micro: list[int] = []
        if self.always_open:
            return
        worked = 0
        for begin, finish in _spans_from(cal, lo):
            if begin >= hi:
                break
            a = int((begin - self.origin) // _SECOND)
            b = int((finish - self.origin) // _SECOND)
            self.starts.append(a)
            self.ends.append(b)
            self.before.append(worked)
            self.lengths.append(b - a)
            self.shift_micro.append((a - worked) * 1_000_000)
            worked += b - a
            self.through.append(worked)

    # The seed asks these millions of times (every clock, every story step): plain
    # arithmetic on precomputed lists, no builtin calls beyond the one bisect.
    def worked(self, t: int) -> int:
        """Working seconds from the start of the range up to instant `t`."""
        if self.always_open:
            return t
        if not self.first <= t <= self.last:
            self._check(t)
        k = _bisect_right(self.starts, t) - 1
        if k < 0:
            return 0
        into = t - self.starts[k]
        length = self.lengths[k]
        return self.before[k] + (into if into < length else length)

    def seconds_between(self, a: int, b: int) -> int:
        """`business_time_between` in whole seconds (instants are whole seconds)."""
        return 0 if b <= a else self.worked(b) - self.worked(a)

    def add_micro(self, t: int, micro: int) -> int:
        """`add_business_time(t, micro µs)` for micro > 0, in microseconds after origin."""
        if self.always_open:
            return t * 1_000_000 + micro
        return self.at_worked(self.worked(t) * 1_000_000 + micro)

    def at_worked(self, goal: int) -> int:
        """The instant (µs) at which `goal` µs of the range's working time have elapsed."""
        if self.always_open:
            return goal
        # The first span whose end reaches the goal: a goal that uses a span up is due at
        # its end, not at the next opening (as in add_business_time).
        k = _bisect_left(self.through, -(-goal // 1_000_000))
        if k >= len(self.starts):
            raise ValueError(f"{goal} µs of working time is beyond the working-time index")
        return self.shift_micro[k] + goal

    def next_working(self, t: int) -> int:
        """`next_working_instant`: `t` in working time, else when work next begins."""
        if self.always_open:
            return t
        self._check(t)
        k = bisect.bisect_right(self.ends, t)
        if k >= len(self.starts):
            raise ValueError(f"no working time after {t} in the working-time index")
        return max(self.starts[k], t)

    def _check(self, t: int) -> None:
        if not self.first <= t <= self.last:
            raise ValueError(f"instant {t} is outside the working-time index")


# -- local wall time → UTC ----------------------------------------------------------------


def _spans_from(cal: BusinessCalendar, at: datetime) -> Iterator[Span]:
    """Working spans (UTC) ending after `at`, in order, the first clipped to start at `at`."""
    # Earlier dates can be skipped: their intervals end by the moment this
    # date's 00:00 is first shown, which is no later than `at`.
    day = _local_date(cal, at)
    idle_days = 0
    while True:
        found = False
        for begin, end in _day_spans(cal, day):
            if end > at:
                found = True
                yield max(begin, at), end
        idle_days = 0 if found else idle_days + 1
        if idle_days > SEARCH_CAP_DAYS:
            raise ValueError(
                _(
                    "calendar {name} has no working time in the {years} years after {when}; "
                    "check its hours and holidays"
                ).format(name=cal.name, years=SEARCH_CAP_YEARS, when=at.isoformat())
            )
        day += _DAY


def _day_spans(cal: BusinessCalendar, day: date) -> tuple[Span, ...]:
    """The working intervals of one local date, converted to UTC (empty ones dropped)."""
    if day in cal.workdays:
        intervals = cal._workday_hours
    elif day in cal.holidays:
        return ()
    else:
        intervals = cal._by_weekday[day.weekday()]
    if not intervals:
        return ()
    cached = cal._days.get(day)
    if cached is not None:
        return cached
    spans: list[Span] = []
    midnight = datetime(day.year, day.month, day.day)
    for interval in intervals:
        begin = _wall_to_utc(cal.zone, midnight + interval.start * _MINUTE)
        end = _wall_to_utc(cal.zone, midnight + interval.end * _MINUTE)
        # An interval wholly inside a spring-forward gap never happens that day.
        if begin < end:
            spans.append((begin, end))
    if len(cal._days) >= _DAY_CACHE_LIMIT:
        cal._days.clear()
    result = cal._days[day] = tuple(spans)
    return result


def _wall_to_utc(zone: ZoneInfo, wall: datetime) -> datetime:
    """The moment a clock in `zone` first shows `wall` or, if it skips it, jumps past it.

    So an ambiguous time (fall back) is its first occurrence, and a time in a
    spring-forward gap is the moment of the jump. The map never goes backwards
    as `wall` grows, which keeps every calendar's intervals ordered in UTC.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc  # exists; fold=0 is the first occurrence when it is ambiguous
    # In a gap, fold=0 and fold=1 read `wall` with the offsets from before and
    # after the jump; the jump lies between them. Bisect to the second (tz
    # transitions are on whole seconds).
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before, after = min(utc, other), max(utc, other)  # clock < wall at before, >= at after
    while after - before > _SECOND:
        middle = before + ((after - before) // _SECOND // 2) * _SECOND
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return after


# -- helpers --------------------------------------------------------------------------------


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(
            _("{what} must be a datetime, not {kind}").format(what=what, kind=type(value).__name__)
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            _("{what} {value} has no time zone; business time needs an aware datetime").format(
                what=what, value=value.isoformat()
            )
        )
    return value.astimezone(UTC)


def _local_date(cal: BusinessCalendar, instant: datetime) -> date:
    return instant.astimezone(cal.zone).date()


def _beyond_calendar(cal: BusinessCalendar) -> ValueError:
    return ValueError(
        _("calendar {name}: the result is beyond the last date this system can represent").format(
            name=cal.name
        )
    )


def _zone(name: str, key: object) -> ZoneInfo:
    if not isinstance(key, str) or not key:
        raise ValueError(
            _("calendar {name}: time zone {zone!r} is not an IANA name, e.g. Asia/Shanghai").format(
                name=name, zone=key
            )
        )
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            _(
                "calendar {name}: unknown time zone {zone!r} (use an IANA name, e.g. Asia/Shanghai)"
            ).format(name=name, zone=key)
        ) from exc


def _check_intervals(name: str, day: str, intervals: Iterable[Any]) -> tuple[WorkingInterval, ...]:
    checked: list[WorkingInterval] = []
    for raw in intervals:
        try:
            start, end = raw
        except (TypeError, ValueError):
            raise ValueError(
                _("calendar {name} {day}: {value!r} is not a (start, end) interval").format(
                    name=name, day=day, value=raw
                )
            ) from None
        valid = all(isinstance(m, int) and not isinstance(m, bool) for m in (start, end))
        if not valid or not (0 <= start < MINUTES_PER_DAY and 0 < end <= MINUTES_PER_DAY):
            raise ValueError(
                _(
                    "calendar {name} {day}: {value!r} is not an interval of minutes in 0–1440"
                ).format(name=name, day=day, value=raw)
            )
        interval = WorkingInterval(start, end)
        if start >= end:
            raise ValueError(
                _("calendar {name} {day}: interval {interval} must start before it ends").format(
                    name=name, day=day, interval=interval
                )
            )
        if checked and start < checked[-1].end:
            before = checked[-1]
            message = (
                _("calendar {name} {day}: intervals {a} and {b} overlap")
                if start >= before.start
                else _("calendar {name} {day}: intervals out of order: {a} is listed before {b}")
            )
            raise ValueError(message.format(name=name, day=day, a=before, b=interval))
        checked.append(interval)
    return tuple(checked)


def _parse_interval(name: str, day: str, raw: object) -> WorkingInterval:
    if (
        isinstance(raw, str)
        or not isinstance(raw, Iterable)
        or len(pair := list(raw)) != 2
        or not all(isinstance(x, str) for x in pair)
    ):
        raise ValueError(
            _('calendar {name} {day}: {value!r} is not an interval ["HH:MM", "HH:MM"]').format(
                name=name, day=day, value=raw
            )
        )
    start, end = pair
    for text in pair:
        if not _TIME.match(text) or (text == "24:00" and start == "24:00"):
            raise ValueError(
                _(
                    "calendar {name} {day}: {value!r} is not a time HH:MM "
                    "(00:00–23:59, or 24:00 as an end)"
                ).format(name=name, day=day, value=text)
            )
    return WorkingInterval(_minutes(start), _minutes(end))


def _parse_date(name: str, what: str, raw: object) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise ValueError(
        _("calendar {name}: {what} {value!r} is not a date YYYY-MM-DD").format(
            name=name, what=what, value=raw
        )
    )


def _check_dates(name: str, what: str, days: Iterable[Any]) -> frozenset[date]:
    checked = frozenset(days)
    for day in checked:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(
                _("calendar {name}: {what} {value!r} is not a date").format(
                    name=name, what=what, value=day
                )
            )
    return checked


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Built last: constructing a calendar needs the helpers above.
ALWAYS_OPEN_UTC = always_open_calendar()
