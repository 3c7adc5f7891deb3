"""The change schedule: what a planned window clashes with (freeze windows, other changes,
the implementer's other work, maintenance windows), the services a change reaches, the next
free slot, and the calendar's rows.

The desk's schedule configuration (services, their dependencies and maintenance windows,
freeze windows) is a few dozen rows and is read whole; changes are only ever read through
an index range: the open changes holding a window (ix_changes_board) or the planned windows
of a period (ix_changes_planned).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    Change,
    DeskSetting,
    FreezeWindow,
    Service,
    ServiceDependency,
)
from itsm_tui.domain.change_windows import (
    MAX_PLANNED_WINDOW,
    Interval,
    Window,
    covers,
    intersect,
    occurrences,
    planned_window_problem,
    subtract,
    union,
    window_from_json,
)
from itsm_tui.i18n import _

ConflictKind = Literal["freeze", "change", "implementer", "maintenance"]

# Changes that hold their planned window: another change may not take it.
HOLDING_STATUSES = ("authorization", "scheduled", "implementing")
# Changes that never ran and never will: not on the calendar.
NOT_ON_CALENDAR = ("rejected", "cancelled")


@dataclass(frozen=True)
class Conflict:
    """One thing a planned window clashes with; `message` is the line a person reads."""

    kind: ConflictKind
    name: str
    starts_at: datetime
    ends_at: datetime
    services: tuple[str, ...]
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "services": list(self.services),
            "message": self.message,
        }


@dataclass(frozen=True)
class _Freeze:
    window: Window
    # Empty: every service.
    services: frozenset[str]
    reason: str


@dataclass(frozen=True)
class ScheduleDesk:
    """The desk's schedule configuration, read once per question."""

    zone: ZoneInfo
    services: tuple[str, ...]
    dependents: dict[str, frozenset[str]]
    depends_on: dict[str, frozenset[str]]
    maintenance: dict[str, tuple[Window, ...]]
    freezes: tuple[_Freeze, ...]

    def impacted(self, names: Iterable[str]) -> set[str]:
        """The services and everything that depends on them, transitively."""
        return _closure(names, self.dependents)

    def reach(self, names: Iterable[str]) -> set[str]:
        """Services a change to `names` shares with another change it must not overlap:
        the same services, those depending on them, and those they depend on."""
        names = list(names)
        return self.impacted(names) | _closure(names, self.depends_on)

    def freezes_on(self, names: Iterable[str]) -> list[_Freeze]:
        """Freezes a change to `names` falls under: every-service freezes, and freezes on
        any service it reaches through dependencies."""
        impacted = self.impacted(names)
        return [f for f in self.freezes if not f.services or f.services & impacted]

    def maintenance_union(self, name: str, start: datetime, end: datetime) -> list[Interval]:
        return union(
            interval
            for w in self.maintenance.get(name, ())
            for interval in occurrences(w, start, end)
        )


def _closure(names: Iterable[str], edges: dict[str, frozenset[str]]) -> set[str]:
    seen = set(names)
    todo = list(seen)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _desk_zone(session: Session) -> str:
    row = session.get(DeskSetting, "desk")
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    zone = value.get("timezone") or "UTC"
    return str(zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def schedule_desk(session: Session) -> ScheduleDesk:
    """Services, dependencies, maintenance and freeze windows as the store holds them."""
    zone_name = _desk_zone(session)
    names: dict[int, str] = {}
    maintenance: dict[str, tuple[Window, ...]] = {}
    for sid, name, windows in session.execute(
        select(Service.id, Service.name, Service.maintenance_windows).order_by(Service.name)
    ):
        names[sid] = name
        if windows:
            maintenance[name] = tuple(window_from_json(w, zone_name) for w in windows)
    dependents: dict[str, set[str]] = {}
    depends_on: dict[str, set[str]] = {}
    for sid, did in session.execute(
        select(ServiceDependency.service_id, ServiceDependency.depends_on_id)
    ):
        dependents.setdefault(names[did], set()).add(names[sid])
        depends_on.setdefault(names[sid], set()).add(names[did])
    freezes = tuple(
        _Freeze(
            Window(f.name, f.starts_at, f.ends_at, f.recurrence, f.timezone or zone_name),
            frozenset(f.services or ()),
            f.reason or "",
        )
        for f in session.scalars(select(FreezeWindow).order_by(FreezeWindow.name))
    )
    return ScheduleDesk(
        zone=_zone(zone_name),
        services=tuple(names.values()),
        dependents={k: frozenset(v) for k, v in dependents.items()},
        depends_on={k: frozenset(v) for k, v in depends_on.items()},
        maintenance=maintenance,
        freezes=freezes,
    )


def impacted_services(session: Session, names: Iterable[str]) -> list[str]:
    """`names` and every service depending on them, transitively, sorted."""
    return sorted(schedule_desk(session).impacted(names))


def outside_maintenance(
    session: Session, services: Iterable[str], start: datetime, end: datetime
) -> list[str]:
    """Services whose maintenance windows do not contain [start, end) (a service without
    maintenance windows takes changes at any time)."""
    return _outside_maintenance(schedule_desk(session), services, start, end)


def _outside_maintenance(
    desk: ScheduleDesk, services: Iterable[str], start: datetime, end: datetime
) -> list[str]:
    return [
        name
        for name in sorted(set(services))
        if name in desk.maintenance
        and not covers(desk.maintenance_union(name, start, end), start, end)
    ]


# ---------------------------------------------------------------------------
# Conflicts


@dataclass(frozen=True)
class _Held:
    """A change holding a planned window."""

    id: int
    number: str
    title: str
    status: str
    services: tuple[str, ...]
    implementer_id: int | None
    starts_at: datetime
    ends_at: datetime


def _held_statement(start: datetime, end: datetime) -> Any:
    """Open changes holding a window that overlaps [start, end): one range of ix_changes_board
    per holding status (is_open and status pinned, planned_start bounded)."""
    return (
        select(
            Change.id,
            Change.number,
            Change.title,
            Change.status,
            Change.services,
            Change.implementer_id,
            Change.planned_start,
            Change.planned_end,
        )
        .where(
            Change.is_open == true(),
            Change.status.in_(HOLDING_STATUSES),
            Change.planned_start >= start - MAX_PLANNED_WINDOW,
            Change.planned_start < end,
            Change.planned_end > start,
        )
        .order_by(Change.planned_start, Change.id)
    )


def _held(session: Session, start: datetime, end: datetime) -> list[_Held]:
    return [
        _Held(r[0], r[1], r[2], r[3], tuple(r[4] or ()), r[5], r[6], r[7])
        for r in session.execute(_held_statement(start, end))
    ]


def _when(zone: ZoneInfo, start: datetime, end: datetime) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    tail = e.strftime("%H:%M") if s.date() == e.date() else e.strftime("%a %Y-%m-%d %H:%M")
    return f"{s.strftime('%a %Y-%m-%d %H:%M')}–{tail} {s.tzname()}"


def _names(services: Iterable[str]) -> str:
    return ", ".join(sorted(services))


@dataclass(frozen=True)
class Expanded:
    """A desk's freeze occurrences and maintenance unions over one span, expanded from
    their RRULEs once: checks of many windows inside the span (the seed places thousands
    of changes) slice these lists instead of expanding the rules again for each."""

    span: tuple[datetime, datetime]
    freezes: dict[_Freeze, list[Interval]]
    maintenance: dict[str, list[Interval]]

    @classmethod
    def over(cls, desk: ScheduleDesk, span: tuple[datetime, datetime]) -> Expanded:
        return cls(
            span,
            {f: occurrences(f.window, *span) for f in desk.freezes},
            {name: desk.maintenance_union(name, *span) for name in desk.maintenance},
        )

    def freezes_in(self, freeze: _Freeze, span: tuple[datetime, datetime]) -> list[Interval]:
        """The freeze's occurrences overlapping `span`, which must lie inside this one's."""
        found = self.freezes[freeze]
        if span == self.span:
            return found
        start, end = span
        return [(s, e) for s, e in found if s < end and start < e]


class _Checker:
    """Conflicts of windows inside one span against one desk and the changes holding a
    window in that span. Freeze and maintenance occurrences of the span are expanded once,
    so a calendar of thousands of changes checks each against lists, not RRULEs."""

    def __init__(
        self,
        session: Session,
        desk: ScheduleDesk,
        held: Iterable[_Held],
        span: tuple[datetime, datetime],
        expanded: Expanded | None = None,
    ) -> None:
        self.session = session
        self.desk = desk
        self.held = sorted(held, key=lambda h: (h.starts_at, h.id))
        self.starts = [h.starts_at for h in self.held]
        self.longest = max((h.ends_at - h.starts_at for h in self.held), default=timedelta(0))
        if expanded is None:
            expanded = Expanded.over(desk, span)
        # Only the freeze occurrences inside the span are reported; a maintenance union
        # wider than the span answers `covers` the same way for windows inside it.
        self.freezes = [(f, expanded.freezes_in(f, span)) for f in desk.freezes]
        self.maintenance = expanded.maintenance
        self._agents: dict[int, str] = {}
        self._scopes: dict[frozenset[str], tuple[set[str], set[str]]] = {}

    def agent(self, agent_id: int) -> str:
        if agent_id not in self._agents:
            name = self.session.scalar(select(Agent.username).where(Agent.id == agent_id))
            self._agents[agent_id] = name or f"#{agent_id}"
        return self._agents[agent_id]

    def scope(self, services: Sequence[str]) -> tuple[set[str], set[str]]:
        """(impacted, reach) of a set of services, worked out once per set."""
        key = frozenset(services)
        if key not in self._scopes:
            self._scopes[key] = (self.desk.impacted(key), self.desk.reach(key))
        return self._scopes[key]

    def overlapping(self, start: datetime, end: datetime) -> list[_Held]:
        lo = bisect_left(self.starts, start - self.longest)
        hi = bisect_left(self.starts, end)
        return [h for h in self.held[lo:hi] if h.ends_at > start]

    def clashes(
        self,
        services: Sequence[str],
        start: datetime,
        end: datetime,
        implementer_id: int | None,
        exclude_change_id: int | None,
    ) -> Iterator[tuple[ConflictKind, Any, datetime, datetime, tuple[str, ...]]]:
        """Each clash as (kind, what, starts_at, ends_at, services), lazily: the calendar
        only asks whether there is one."""
        impacted, reach = self.scope(services)
        for freeze, found in self.freezes:
            if freeze.services and not freeze.services & impacted:
                continue
            hit = tuple(sorted(freeze.services & impacted))
            for s, e in found:
                if s < end and start < e:
                    yield "freeze", freeze, s, e, hit
        for other in self.overlapping(start, end):
            if other.id == exclude_change_id:
                continue
            shared = tuple(sorted(set(other.services) & reach))
            if shared:
                yield "change", other, other.starts_at, other.ends_at, shared
            if implementer_id is not None and other.implementer_id == implementer_id:
                yield "implementer", other, other.starts_at, other.ends_at, other.services
        for name in sorted(set(services)):
            if name in self.maintenance and not covers(self.maintenance[name], start, end):
                yield "maintenance", name, start, end, (name,)

    def conflicts(
        self,
        services: Sequence[str],
        start: datetime,
        end: datetime,
        implementer_id: int | None,
        exclude_change_id: int | None,
    ) -> list[Conflict]:
        found = [
            self._conflict(*clash)
            for clash in self.clashes(services, start, end, implementer_id, exclude_change_id)
        ]
        found.sort(key=lambda c: (c.starts_at, c.kind, c.name))
        return found

    def _conflict(
        self,
        kind: ConflictKind,
        what: Any,
        s: datetime,
        e: datetime,
        services: tuple[str, ...],
    ) -> Conflict:
        zone = self.desk.zone
        if kind == "freeze":
            return Conflict(
                kind,
                what.window.name,
                s,
                e,
                services,
                _("freeze window '{name}' on {where}, {when}").format(
                    name=what.window.name,
                    where=_names(services) if services else _("all services"),
                    when=_when(zone, s, e),
                ),
            )
        if kind == "change":
            return Conflict(
                kind,
                what.number,
                s,
                e,
                services,
                _("{number} '{title}' ({status}) on {where}, {when}").format(
                    number=what.number,
                    title=what.title,
                    status=what.status,
                    where=_names(services),
                    when=_when(zone, s, e),
                ),
            )
        if kind == "implementer":
            return Conflict(
                kind,
                what.number,
                s,
                e,
                services,
                _("implementer {agent} is on {number} '{title}' then, {when}").format(
                    agent=self.agent(what.implementer_id),
                    number=what.number,
                    title=what.title,
                    when=_when(zone, s, e),
                ),
            )
        windows = ", ".join(w.name for w in self.desk.maintenance[what] if w.name)
        return Conflict(
            kind,
            what,
            s,
            e,
            services,
            _("{service}: {when} is outside its maintenance windows ({windows})").format(
                service=what, when=_when(zone, s, e), windows=windows or "-"
            ),
        )


def _check_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a planned window's start and end must carry a time zone")
    problem = planned_window_problem(start, end)
    if problem is not None:
        raise ValueError(problem)
    return start.astimezone(UTC), end.astimezone(UTC)


def _check_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a calendar's start and end must carry a time zone")
    if end <= start:
        raise ValueError("a calendar must end after it starts")
    return start.astimezone(UTC), end.astimezone(UTC)


def find_conflicts(
    session: Session,
    *,
    services: Sequence[str],
    start: datetime,
    end: datetime,
    implementer_id: int | None = None,
    exclude_change_id: int | None = None,
) -> list[Conflict]:
    """Everything the window [start, end) for `services` clashes with, earliest first."""
    start, end = _check_window(start, end)
    checker = _Checker(session, schedule_desk(session), _held(session, start, end), (start, end))
    return checker.conflicts(list(services), start, end, implementer_id, exclude_change_id)


def change_conflicts(session: Session, change: Change) -> list[Conflict]:
    """The conflicts of a change's planned window (none without one)."""
    if change.planned_start is None or change.planned_end is None:
        return []
    return find_conflicts(
        session,
        services=list(change.services or ()),
        start=change.planned_start,
        end=change.planned_end,
        implementer_id=change.implementer_id,
        exclude_change_id=change.id,
    )


# ---------------------------------------------------------------------------
# The next free slot


def next_free_slot(
    session: Session,
    *,
    services: Sequence[str],
    duration: timedelta,
    after: datetime,
    implementer_id: int | None = None,
    horizon: timedelta = timedelta(days=90),
) -> tuple[datetime, datetime] | None:
    """The earliest window of `duration`, starting at or after `after` and ending within
    the horizon, with no conflict: inside every service's maintenance windows (a service
    without any: any time), clear of freezes, of holding changes on related services and
    of the implementer's other changes. None when the horizon has no such window."""
    if duration <= timedelta(0) or duration > MAX_PLANNED_WINDOW:
        raise ValueError(
            f"a slot lasts more than nothing and at most {MAX_PLANNED_WINDOW.days} days"
        )
    if after.tzinfo is None:
        raise ValueError("after must carry a time zone")
    start = after.astimezone(UTC)
    desk = schedule_desk(session)
    # Most slots lie in the first days: look a week ahead, then four, then the horizon.
    # Each look starts again from `after`, so the first window found is the earliest (a
    # window cut short by a look's end is found whole by the next).
    looks = sorted({min(d, horizon) for d in (timedelta(days=7), timedelta(days=28), horizon)})
    for ahead in looks:
        slot = _first_free(session, desk, services, duration, start, start + ahead, implementer_id)
        if slot is not None:
            return slot
    return None


def _first_free(
    session: Session,
    desk: ScheduleDesk,
    services: Sequence[str],
    duration: timedelta,
    start: datetime,
    end: datetime,
    implementer_id: int | None,
) -> tuple[datetime, datetime] | None:
    free: list[Interval] = [(start, end)]
    for name in sorted(set(services)):
        if name in desk.maintenance:
            free = intersect(free, desk.maintenance_union(name, start, end))
    if not any(e - s >= duration for s, e in free):
        return None
    blocked: list[Interval] = []
    for freeze in desk.freezes_on(services):
        blocked.extend(occurrences(freeze.window, start, end))
    reach = desk.reach(services)
    for held in _held(session, start, end):
        if set(held.services) & reach or (
            implementer_id is not None and held.implementer_id == implementer_id
        ):
            blocked.append((held.starts_at, held.ends_at))
    for s, e in subtract(free, union(blocked)):
        if e - s >= duration:
            return s, s + duration
    return None


# ---------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True)
class CalendarChange:
    number: str
    title: str
    change_type: str
    status: str
    risk: str | None
    starts_at: datetime
    ends_at: datetime
    services: tuple[str, ...]
    in_conflict: bool


@dataclass(frozen=True)
class CalendarInterval:
    """A freeze or maintenance occurrence: its window's name, when, and (freezes) why."""

    name: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class CalendarRow:
    """One service's line of the calendar: its changes, the freezes that hold it (its own
    and those on services depending on it) and its maintenance windows."""

    service: str
    changes: tuple[CalendarChange, ...]
    freezes: tuple[CalendarInterval, ...]
    maintenance: tuple[CalendarInterval, ...]


@dataclass(frozen=True)
class Calendar:
    start: datetime
    end: datetime
    rows: tuple[CalendarRow, ...]
    # Freezes on every service.
    freezes: tuple[CalendarInterval, ...]


def _calendar_statement(start: datetime, end: datetime) -> Any:
    """Planned windows overlapping [start, end): one range of ix_changes_planned."""
    return (
        select(
            Change.id,
            Change.number,
            Change.title,
            Change.change_type,
            Change.status,
            Change.is_open,
            Change.risk,
            Change.services,
            Change.implementer_id,
            Change.planned_start,
            Change.planned_end,
        )
        .where(
            Change.planned_start >= start - MAX_PLANNED_WINDOW,
            Change.planned_start < end,
            Change.planned_end > start,
            Change.status.not_in(NOT_ON_CALENDAR),
        )
        .order_by(Change.planned_start, Change.id)
    )


def calendar(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    services: Sequence[str] | None = None,
) -> Calendar:
    """Per service: planned windows (each marked when it has a conflict), freeze and
    maintenance windows between `start` and `end`; freezes on every service apart."""
    start, end = _check_span(start, end)
    desk = schedule_desk(session)
    shown = list(desk.services) if services is None else [s for s in services if s in desk.services]
    rows = session.execute(_calendar_statement(start, end)).all()
    # A change is judged against every holding change its window meets, also those past
    # the calendar's edges: the holding changes inside are among `rows`, the few reaching
    # past the edges are read apart.
    lo = min((r.planned_start for r in rows), default=start)
    hi = max((r.planned_end for r in rows), default=end)
    held = {
        r.id: _Held(
            r.id,
            r.number,
            r.title,
            r.status,
            tuple(r.services or ()),
            r.implementer_id,
            r.planned_start,
            r.planned_end,
        )
        for r in rows
        if r.status in HOLDING_STATUSES and r.is_open
    }
    for edge in ((lo, start), (end, hi)):
        if edge[0] < edge[1]:
            held.update((h.id, h) for h in _held(session, *edge))
    checker = _Checker(session, desk, held.values(), (min(lo, start), max(hi, end)))
    wanted = set(shown)
    by_service: dict[str, list[CalendarChange]] = {name: [] for name in shown}
    for r in rows:
        names = tuple(r.services or ())
        if not wanted & set(names):
            continue
        clashes = checker.clashes(names, r.planned_start, r.planned_end, r.implementer_id, r.id)
        item = CalendarChange(
            number=r.number,
            title=r.title,
            change_type=r.change_type,
            status=r.status,
            risk=r.risk,
            starts_at=r.planned_start,
            ends_at=r.planned_end,
            services=names,
            in_conflict=next(clashes, None) is not None,
        )
        for name in names:
            if name in by_service:
                by_service[name].append(item)
    everywhere: list[CalendarInterval] = []
    for freeze in desk.freezes:
        if not freeze.services:
            everywhere.extend(
                CalendarInterval(freeze.window.name, s, e, freeze.reason)
                for s, e in occurrences(freeze.window, start, end)
            )
    out_rows = []
    for name in shown:
        freezes = [
            CalendarInterval(f.window.name, s, e, f.reason)
            for f in desk.freezes_on([name])
            if f.services
            for s, e in occurrences(f.window, start, end)
        ]
        maintenance = [
            CalendarInterval(w.name, s, e)
            for w in desk.maintenance.get(name, ())
            for s, e in occurrences(w, start, end)
        ]
        out_rows.append(
            CalendarRow(
                service=name,
                changes=tuple(by_service[name]),
                freezes=tuple(sorted(freezes, key=lambda i: (i.starts_at, i.name))),
                maintenance=tuple(sorted(maintenance, key=lambda i: (i.starts_at, i.name))),
            )
        )
    return Calendar(
        start=start,
        end=end,
        rows=tuple(out_rows),
        freezes=tuple(sorted(everywhere, key=lambda i: (i.starts_at, i.name))),
    )


__all__ = [
    "HOLDING_STATUSES",
    "Calendar",
    "CalendarChange",
    "CalendarInterval",
    "CalendarRow",
    "Conflict",
    "ScheduleDesk",
    "calendar",
    "change_conflicts",
    "find_conflicts",
    "impacted_services",
    "next_free_slot",
    "outside_maintenance",
    "schedule_desk",
]
