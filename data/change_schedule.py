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
from collections.abc import Iterable, Sequence
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
    Interval,
    Window,
    covers,
    intersect,
    occurrences,
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


class _Checker:
    """Conflicts of windows against one desk and one set of holding changes."""

    def __init__(self, session: Session, desk: ScheduleDesk, held: Sequence[_Held]) -> None:
        self.session = session
        self.desk = desk
        self.held = sorted(held, key=lambda h: (h.starts_at, h.id))
        self.starts = [h.starts_at for h in self.held]
        self.longest = max((h.ends_at - h.starts_at for h in self.held), default=timedelta(0))
        self._agents: dict[int, str] = {}

    def agent(self, agent_id: int) -> str:
        if agent_id not in self._agents:
            name = self.session.scalar(select(Agent.username).where(Agent.id == agent_id))
            self._agents[agent_id] = name or f"#{agent_id}"
        return self._agents[agent_id]

    def overlapping(self, start: datetime, end: datetime) -> list[_Held]:
        lo = bisect_left(self.starts, start - self.longest)
        hi = bisect_left(self.starts, end)
        return [h for h in self.held[lo:hi] if h.ends_at > start]

    def conflicts(
        self,
        services: Sequence[str],
        start: datetime,
        end: datetime,
        implementer_id: int | None,
        exclude_change_id: int | None,
    ) -> list[Conflict]:
        desk, zone = self.desk, self.desk.zone
        found: list[Conflict] = []
        impacted = desk.impacted(services)
        for freeze in desk.freezes_on(services):
            hit = sorted(freeze.services & impacted) if freeze.services else []
            where = _names(hit) if hit else _("all services")
            for s, e in occurrences(freeze.window, start, end):
                found.append(
                    Conflict(
                        "freeze",
                        freeze.window.name,
                        s,
                        e,
                        tuple(hit),
                        _("freeze window '{name}' on {where}, {when}").format(
                            name=freeze.window.name, where=where, when=_when(zone, s, e)
                        ),
                    )
                )
        reach = desk.reach(services)
        for other in self.overlapping(start, end):
            if other.id == exclude_change_id:
                continue
            shared = sorted(set(other.services) & reach)
            if shared:
                found.append(
                    Conflict(
                        "change",
                        other.number,
                        other.starts_at,
                        other.ends_at,
                        tuple(shared),
                        _("{number} '{title}' ({status}) on {where}, {when}").format(
                            number=other.number,
                            title=other.title,
                            status=other.status,
                            where=_names(shared),
                            when=_when(zone, other.starts_at, other.ends_at),
                        ),
                    )
                )
            if implementer_id is not None and other.implementer_id == implementer_id:
                found.append(
                    Conflict(
                        "implementer",
                        other.number,
                        other.starts_at,
                        other.ends_at,
                        tuple(other.services),
                        _("implementer {agent} is on {number} '{title}' then, {when}").format(
                            agent=self.agent(implementer_id),
                            number=other.number,
                            title=other.title,
                            when=_when(zone, other.starts_at, other.ends_at),
                        ),
                    )
                )
        for name in _outside_maintenance(desk, services, start, end):
            windows = ", ".join(w.name for w in desk.maintenance[name] if w.name)
            found.append(
                Conflict(
                    "maintenance",
                    name,
                    start,
                    end,
                    (name,),
                    _("{service}: {when} is outside its maintenance windows ({windows})").format(
                        service=name, when=_when(zone, start, end), windows=windows or "-"
                    ),
                )
            )
        found.sort(key=lambda c: (c.starts_at, c.kind, c.name))
        return found


def _check_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a planned window's start and end must carry a time zone")
    if end <= start:
        raise ValueError("a planned window must end after it starts")
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
    checker = _Checker(session, schedule_desk(session), _held(session, start, end))
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
    if duration <= timedelta(0):
        raise ValueError("a slot's duration must be positive")
    if after.tzinfo is None:
        raise ValueError("after must carry a time zone")
    start = after.astimezone(UTC)
    end = start + horizon
    desk = schedule_desk(session)
    free: list[Interval] = [(start, end)]
    for name in sorted(set(services)):
        if name in desk.maintenance:
            free = intersect(free, desk.maintenance_union(name, start, end))
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
            Change.risk,
            Change.services,
            Change.implementer_id,
            Change.planned_start,
            Change.planned_end,
        )
        .where(
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
    start, end = _check_window(start, end)
    desk = schedule_desk(session)
    shown = list(desk.services) if services is None else [s for s in services if s in desk.services]
    rows = session.execute(_calendar_statement(start, end)).all()
    # Conflicts are judged against every holding change near each window, also those
    # reaching past the calendar's edges.
    lo = min((r.planned_start for r in rows), default=start)
    hi = max((r.planned_end for r in rows), default=end)
    checker = _Checker(session, desk, _held(session, min(lo, start), max(hi, end)))
    wanted = set(shown)
    by_service: dict[str, list[CalendarChange]] = {name: [] for name in shown}
    for r in rows:
        names = tuple(r.services or ())
        if not wanted & set(names):
            continue
        item = CalendarChange(
            number=r.number,
            title=r.title,
            change_type=r.change_type,
            status=r.status,
            risk=r.risk,
            starts_at=r.planned_start,
            ends_at=r.planned_end,
            services=names,
            in_conflict=bool(
                checker.conflicts(
                    list(names), r.planned_start, r.planned_end, r.implementer_id, r.id
                )
            ),
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
