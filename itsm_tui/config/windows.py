"""The desk file's schedule: services' maintenance windows and dependencies, freeze windows'
recurrence and time zone. Read, checked (RRULEs, known services, no dependency cycles),
and turned into what the store keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from itsm_tui.config.checker import Checker, Table, _duplicate
from itsm_tui.config.model import MaintenanceWindowConfig, ServiceConfig
from itsm_tui.domain.change_windows import recurrence_problem
from itsm_tui.i18n import _

Instant = Callable[[Table, str], datetime | None]


def recurrence(t: Table, starts: datetime | None, zone: str | None) -> str | None:
    """The table's `recurrence` RRULE, checked against its first occurrence and zone."""
    rule = t.text("recurrence", max_len=500)
    if rule is None or starts is None:
        return None
    problem = recurrence_problem(rule, starts, zone or "UTC")
    if problem is not None:
        t.error("recurrence", problem)
        return None
    return rule.strip()


def window_bounds(t: Table, instant: Instant) -> tuple[datetime | None, datetime | None]:
    starts = instant(t, "starts_at")
    ends = instant(t, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        t.error("ends_at", _("ends_at must be after starts_at"))
        return None, None
    return starts, ends


def maintenance_windows(t: Table, instant: Instant) -> tuple[MaintenanceWindowConfig, ...]:
    """A service's [[services.maintenance_windows]]."""
    out: list[MaintenanceWindowConfig] = []
    seen: dict[Any, int] = {}
    for i, raw in t.tables("maintenance_windows") or []:
        mt = Table(t.chk, (*t.path, "maintenance_windows", i), raw, t.context)
        mt.check_keys(("name", "starts_at", "ends_at", "recurrence", "timezone"))
        name = mt.text("name", required=True, max_len=120)
        starts, ends = window_bounds(mt, instant)
        zone = mt.timezone("timezone")
        rule = recurrence(mt, starts, zone)
        if name is None or starts is None or ends is None:
            continue
        if "recurrence" in raw and rule is None:
            continue
        label = _("maintenance window '{name}'").format(name=name)
        if _duplicate(mt, seen, name, "name", label):
            continue
        out.append(MaintenanceWindowConfig(name, starts, ends, rule, zone))
    return tuple(out)


def maintenance_json(w: MaintenanceWindowConfig) -> dict[str, Any]:
    """How services.maintenance_windows keeps one window."""
    return {
        "name": w.name,
        "starts_at": w.starts_at.astimezone(UTC).isoformat(),
        "ends_at": w.ends_at.astimezone(UTC).isoformat(),
        "recurrence": w.recurrence,
        "timezone": w.timezone,
    }


def maintenance_from_json(values: Iterable[Any]) -> tuple[MaintenanceWindowConfig, ...]:
    return tuple(
        MaintenanceWindowConfig(
            name=str(v["name"]),
            starts_at=datetime.fromisoformat(v["starts_at"]),
            ends_at=datetime.fromisoformat(v["ends_at"]),
            recurrence=v.get("recurrence") or None,
            timezone=v.get("timezone") or None,
        )
        for v in values
    )


def check_dependencies(
    services: Sequence[ServiceConfig], chk: Checker, label: Callable[[ServiceConfig], str]
) -> None:
    """Every `depends_on` names a known service other than itself, and no chain of them
    comes back to where it started (the impact of a change would never end)."""
    by_name = {s.name: s for s in services}

    def where(s: ServiceConfig, i: int | None = None) -> tuple[Any, ...]:
        if not s.path:
            return ()
        return (*s.path, "depends_on") if i is None else (*s.path, "depends_on", i)

    for s in services:
        for i, other in enumerate(s.depends_on):
            if other == s.name:
                chk.report(where(s, i), label(s), _("a service cannot depend on itself"))
            elif other not in by_name:
                chk.report(
                    where(s, i),
                    label(s),
                    _("depends_on names unknown service '{name}'").format(name=other),
                )
    # Depth-first search; each cycle is reported once, at its first service in file order.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for nxt in by_name[name].depends_on:
            if nxt not in by_name or nxt == name:
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = by_name[cycle[0]]
                    chk.report(
                        where(first),
                        label(first),
                        _("depends_on goes round in a circle: {path}").format(
                            path=" → ".join([*cycle, cycle[0]])
                        ),
                    )
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[name] = 2

    for s in services:
        if s.name not in state:
            visit(s.name)
