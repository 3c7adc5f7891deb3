"""The desk's change settings as a seed reads them through its bulk connection: types, CAB,
templates, risk questionnaire, services' dependencies, maintenance and freeze windows; and
where a seeded change may be planned (free time per service, the implementers' bookings).

The rules themselves are the desk's: the config readers, `change_schedule`'s schedule desk
and conflict checker, `change_windows`' interval maths, `change_process`' quorum.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from itsm_tui.config.readers import change_templates, change_types, risk_questionnaire
from itsm_tui.data.change_schedule import (
    Conflict,
    Expanded,
    ScheduleDesk,
    _Checker,
    _Freeze,
    _Held,
    _outside_maintenance,
)
from itsm_tui.data.models import DeskSetting
from itsm_tui.data.seed.timeline import HOUR, Timeline
from itsm_tui.data.seed.writer import BulkWriter
from itsm_tui.domain import roles
from itsm_tui.domain.change_process import approvals_needed
from itsm_tui.domain.change_windows import (
    Window,
    covers,
    intersect,
    occurrences,
    subtract,
    union,
    window_from_json,
)

# A service without maintenance windows takes changes at any time; the seed still plans
# its work in the evening, as people do.
EVENINGS = (19, 23)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def stored_instant(value: Any) -> datetime:
    """A stored timestamp (text on SQLite, naive on PostgreSQL; UTC both) as aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _StoredSettings:
    """The desk_settings rows, answering the one question the config readers ask of a
    session (`get(DeskSetting, key)`), so the seed reads its settings as the desk does."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, _model: type, key: str) -> DeskSetting | None:
        value = self.values.get(key)
        return None if value is None else DeskSetting(key=key, value=value)


class _SeedChecker(_Checker):
    """The schedule's conflict checker over the seed's own holding changes; agents' names
    come from the roster instead of a session."""

    def __init__(
        self,
        desk: ScheduleDesk,
        held: Sequence[_Held],
        names: dict[int, str],
        span: tuple[datetime, datetime],
        expanded: Expanded,
    ) -> None:
        super().__init__(cast(Session, None), desk, held, span, expanded)
        self._agents = dict(names)


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    roles: frozenset[str]
    team_id: int | None


class ChangeDesk:
    """What a seeded change needs to know about the desk, read once per seed."""

    def __init__(self, w: BulkWriter, clock: Timeline) -> None:
        self.clock = clock
        self.origin = clock.base.replace(tzinfo=UTC)
        settings = _StoredSettings(
            {
                str(k): _json(v)
                for k, v in w.rows(
                    "SELECT key, value FROM desk_settings WHERE key IN "
                    "('change_types', 'change_templates', 'risk_questionnaire', 'desk')"
                )
            }
        )
        session = cast(Session, settings)
        self.types: dict[str, dict[str, Any]] = change_types(session)
        self.templates: dict[str, dict[str, Any]] = change_templates(session)
        self.questionnaire: dict[str, Any] = risk_questionnaire(session)
        zone_name = str((settings.values.get("desk") or {}).get("timezone") or "UTC")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone, zone_name = ZoneInfo("UTC"), "UTC"
        self.agents = [
            Agent(int(i), str(u), frozenset(str(r or "").split()), t)
            for i, u, r, t in w.rows(
                "SELECT id, username, roles, team_id FROM agents WHERE active = "
                + ("1" if w.sqlite else "true")
                + " ORDER BY id"
            )
        ]
        self.names = {a.id: a.username for a in self.agents}
        self.schedule = self._schedule_desk(w, zone, zone_name)
        self.critical = {
            str(n) for n, c in w.rows("SELECT name, criticality FROM services") if c == 1
        }
        self.service_ids = {str(n): int(i) for i, n in w.rows("SELECT id, name FROM services")}
        self._free: dict[tuple[str, ...], tuple[list[int], list[int]]] = {}
        self._span = (self.at(clock.start - 20 * 86_400), self.at(clock.now + 120 * 86_400))
        self._maintenance: dict[str, list[tuple[datetime, datetime]]] = {}
        self._expanded: Expanded | None = None
        self._busy: dict[int, list[tuple[int, int]]] = {}

    def _schedule_desk(self, w: BulkWriter, zone: ZoneInfo, zone_name: str) -> ScheduleDesk:
        """As `change_schedule.schedule_desk` reads it, from the bulk connection's rows."""
        names: dict[int, str] = {}
        maintenance: dict[str, tuple[Window, ...]] = {}
        for sid, name, windows in w.rows(
            "SELECT id, name, maintenance_windows FROM services ORDER BY name"
        ):
            names[int(sid)] = str(name)
            windows = _json(windows)
            if windows:
                maintenance[str(name)] = tuple(window_from_json(x, zone_name) for x in windows)
        dependents: dict[str, set[str]] = {}
        depends_on: dict[str, set[str]] = {}
        for sid, did in w.rows("SELECT service_id, depends_on_id FROM service_dependencies"):
            dependents.setdefault(names[int(did)], set()).add(names[int(sid)])
            depends_on.setdefault(names[int(sid)], set()).add(names[int(did)])
        freezes = tuple(
            _Freeze(
                Window(
                    str(n),
                    stored_instant(s),
                    stored_instant(e),
                    r or None,
                    str(tz) if tz else zone_name,
                ),
                frozenset(_json(sv) or ()),
                str(reason or ""),
            )
            for n, s, e, r, tz, sv, reason in w.rows(
                "SELECT name, starts_at, ends_at, recurrence, timezone, services, reason "
                "FROM freeze_windows ORDER BY name"
            )
        )
        return ScheduleDesk(
            zone=zone,
            services=tuple(names.values()),
            dependents={k: frozenset(v) for k, v in dependents.items()},
            depends_on={k: frozenset(v) for k, v in depends_on.items()},
            maintenance=maintenance,
            freezes=freezes,
        )

    # -----------------------------------------------------------------------
    # People

    def with_role(self, role: str) -> list[Agent]:
        return [a for a in self.agents if role in a.roles]

    def can(self, agent: Agent, permission: str) -> bool:
        return roles.can(agent.roles, permission)

    def cab(self, change_type: str) -> list[Agent]:
        """As `desk.changes.cab_members`: the type's named CAB, else every cab member."""
        named = set(self.types.get(change_type, {}).get("cab") or ())
        if named:
            return [a for a in self.agents if a.username in named]
        return self.with_role(roles.CAB)

    def approvals_needed(self, change_type: str, risk: str | None) -> int:
        """As `desk.changes.authorization`: the level's approvals, else the type's quorum."""
        rules = self.types.get(change_type, {})
        per_level = rules.get("approvals") or {}
        rule = per_level[risk] if risk in per_level else int(rules.get("quorum") or 1)
        return approvals_needed(rule, len(self.cab(change_type)))

    def rule(self, change_type: str, key: str, default: int = 0) -> int:
        return int(self.types.get(change_type, {}).get(key) or default)

    # -----------------------------------------------------------------------
    # Time

    def at(self, t: int) -> datetime:
        return self.origin + timedelta(seconds=t)

    def seconds(self, when: datetime) -> int:
        return int((when - self.origin).total_seconds())

    def free(self, services: tuple[str, ...]) -> tuple[list[int], list[int]]:
        """When a change on `services` may run without a conflict of its own: inside every
        service's maintenance windows (evenings where a service has none), outside every
        freeze it falls under; as (starts, ends) in seed seconds, sorted and disjoint."""
        if services not in self._free:
            lo, hi = self._span
            allowed = [(lo, hi)]
            desk = self.schedule
            for name in services:
                if name in desk.maintenance:
                    mine = desk.maintenance_union(name, lo, hi)
                else:
                    first = datetime.combine(lo.astimezone(desk.zone).date(), datetime.min.time())
                    first = first.replace(hour=EVENINGS[0], tzinfo=desk.zone)
                    evening = Window(
                        "evening",
                        first,
                        first + timedelta(hours=EVENINGS[1] - EVENINGS[0]),
                        "FREQ=DAILY",
                        str(desk.zone),
                    )
                    mine = union(occurrences(evening, lo, hi))
                allowed = intersect(allowed, mine)
            frozen = union(
                interval
                for freeze in desk.freezes_on(services)
                for interval in occurrences(freeze.window, lo, hi)
            )
            allowed = subtract(allowed, frozen)
            self._free[services] = (
                [self.seconds(s) for s, _e in allowed],
                [self.seconds(e) for _s, e in allowed],
            )
        return self._free[services]

    def slot(self, services: tuple[str, ...], after: int, duration: int) -> tuple[int, int] | None:
        """The first free window of `duration` starting at `after` or later (on the half
        hour), or None before the horizon."""
        starts, ends = self.free(services)
        i = max(0, bisect_right(starts, after) - 1)
        while i < len(starts):
            start = max(starts[i], after)
            start += -start % (HOUR // 2)
            if start + duration <= ends[i]:
                return start, start + duration
            i += 1
        return None

    def busy(self, agent_id: int, start: int, end: int) -> bool:
        """The agent implements another seeded change in [start, end)."""
        booked = self._busy.get(agent_id, [])
        # Bookings never overlap: the last one starting before `end` ends the latest.
        i = bisect_left(booked, (end, end))
        return i > 0 and booked[i - 1][1] > start

    def book(self, agent_id: int, start: int, end: int) -> None:
        booked = self._busy.setdefault(agent_id, [])
        booked.insert(bisect_left(booked, (start, end)), (start, end))

    def conflicts(
        self,
        services: tuple[str, ...],
        start: int,
        end: int,
        implementer_id: int | None,
        held: Sequence[_Held],
    ) -> list[Conflict]:
        """The conflicts `change_schedule.find_conflicts` would report for this window
        against the given holding changes."""
        s, e = self.at(start), self.at(end)
        # As find_conflicts asks, over the window itself; the windows' occurrences are
        # expanded once for the seed's whole span and sliced (Expanded).
        if not self._span[0] <= s < e <= self._span[1]:
            expanded = Expanded.over(self.schedule, (s, e))
        else:
            if self._expanded is None:
                self._expanded = Expanded.over(self.schedule, self._span)
            expanded = self._expanded
        checker = _SeedChecker(self.schedule, held, self.names, (s, e), expanded)
        return checker.conflicts(services, s, e, implementer_id, None)

    def outside_maintenance(self, services: Sequence[str], start: int, end: int) -> list[str]:
        """`change_schedule.outside_maintenance` for a window in the seed's span, with each
        service's maintenance windows unrolled once for the whole span."""
        s, e = self.at(start), self.at(end)
        if not self._span[0] <= s < e <= self._span[1]:
            return _outside_maintenance(self.schedule, services, s, e)
        desk = self.schedule
        out = []
        for name in sorted(set(services)):
            if name not in desk.maintenance:
                continue
            if name not in self._maintenance:
                self._maintenance[name] = desk.maintenance_union(name, *self._span)
            if not covers(self._maintenance[name], s, e):
                out.append(name)
        return out


__all__ = ["Agent", "ChangeDesk", "Conflict"]
