"""The desk as configured, read once before a seed: teams, services, catalogue items,
SLA policies (with the thresholds their clocks fire at) and the priority matrix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from itsm_tui.data.seed.writer import BulkWriter
from itsm_tui.domain.priority import DEFAULT_MATRIX, validate_matrix
from itsm_tui.i18n import _

# Fallback SLA targets (minutes) per priority when no policy matches a ticket type.
DEFAULT_RESPONSE = {1: 15, 2: 30, 3: 120, 4: 480}
DEFAULT_RESOLUTION = {1: 120, 2: 480, 3: 1440, 4: 4320}


@dataclass
class Policy:
    id: int
    rank: int
    types: frozenset[str] | None
    priorities: frozenset[int] | None
    services: frozenset[str] | None
    items: frozenset[str] | None
    response: int | None
    resolution: int | None
    warn: tuple[int, ...]
    pauses: frozenset[str]
    # Percents of the target at which this policy's clocks fire something: the warnings,
    # the breach and the escalation levels (rules taken as matching every clock).
    events: tuple[int, ...] = (50, 75, 100)
    # Percents of the escalation levels, level 1 first.
    levels: tuple[int, ...] = ()


def as_set(values: Any) -> frozenset[str] | None:
    if not values:
        return None
    return frozenset(str(v).strip().lower() for v in values)


def as_priorities(values: Any) -> frozenset[int] | None:
    if not values:
        return None
    out = set()
    for v in values:
        raw = str(v).strip().upper().removeprefix("P")
        if raw.isdigit():
            out.add(int(raw))
    return frozenset(out) or None


@dataclass
class Desk:
    teams: list[tuple[int, str, int]]  # id, name, tier
    services: list[tuple[int, str, int, float, int | None]]  # id, name, crit, target, owner
    items: list[tuple[int, str, str, str, int | None, int | None, bool, int]]
    policies: list[Policy]
    matrix: list[list[int]]
    tz: str


def read_desk(w: BulkWriter) -> Desk:
    teams = [
        (int(i), str(n), int(t or 1))
        for i, n, t in w.rows("SELECT id, name, tier FROM teams ORDER BY id")
    ]
    if not teams:
        raise ValueError(
            _("the desk has no teams yet; run `itsm init` (or `itsm config apply`) before seeding")
        )
    services = [
        (int(i), str(n), int(c or 3), float(a or 99.9), o)
        for i, n, c, a, o in w.rows(
            "SELECT id, name, criticality, availability_target, owner_team_id "
            "FROM services ORDER BY id"
        )
    ]
    items = [
        (int(i), str(code), str(name), str(cat or ""), tm, sv, bool(ap), int(fm or 480))
        for i, code, name, cat, tm, sv, ap, fm in w.rows(
            "SELECT id, code, name, category, team_id, service_id, requires_approval, "
            "fulfilment_minutes FROM catalogue_items WHERE active = "
            + ("1" if w.sqlite else "true")
            + " ORDER BY id"
        )
    ]
    # One percent per escalation level (the lowest when several rules share a level).
    level_percent: dict[int, int] = {}
    for level, percent in w.rows("SELECT level, at_percent FROM escalation_rules"):
        level_percent[int(level)] = min(level_percent.get(int(level), 999), max(100, int(percent)))
    rule_percents = set(level_percent.values())
    policies = []
    for pid, rank, match, resp, res, warn, pauses in w.rows(
        "SELECT id, rank, match, response_minutes, resolution_minutes, warn_at_percent, "
        "pause_statuses FROM sla_policies ORDER BY rank, id"
    ):
        match = json.loads(match) if isinstance(match, str) else (match or {})
        warn = json.loads(warn) if isinstance(warn, str) else (warn or [])
        pauses = json.loads(pauses) if isinstance(pauses, str) else (pauses or [])
        policies.append(
            Policy(
                id=int(pid),
                rank=int(rank),
                types=as_set(match.get("types")),
                priorities=as_priorities(match.get("priorities")),
                services=as_set(match.get("services")),
                items=as_set(match.get("catalogue_items")),
                response=resp,
                resolution=res,
                warn=tuple(sorted(int(p) for p in warn)),
                pauses=frozenset(pauses),
                events=tuple(
                    sorted({int(p) for p in warn if 0 < int(p) < 100} | {100} | rule_percents)
                ),
                levels=tuple(sorted(rule_percents)),
            )
        )
    matrix_raw = w.rows("SELECT value FROM desk_settings WHERE key = 'priority_matrix'")
    matrix: Any = [list(r) for r in DEFAULT_MATRIX]
    if matrix_raw:
        value = matrix_raw[0][0]
        value = json.loads(value) if isinstance(value, str) else value
        if validate_matrix(value) is None:
            matrix = value
    tz_rows = w.rows("SELECT timezone FROM calendars ORDER BY id")
    return Desk(teams, services, items, policies, matrix, str(tz_rows[0][0]) if tz_rows else "UTC")


def match_policy(
    desk: Desk, ticket_type: str, priority: int, service: str | None, item: str | None
) -> Policy | None:
    for p in desk.policies:  # already in rank order
        if p.types is not None and ticket_type not in p.types:
            continue
        if p.priorities is not None and priority not in p.priorities:
            continue
        if p.services is not None and (service is None or service.lower() not in p.services):
            continue
        if p.items is not None and (item is None or item.lower() not in p.items):
            continue
        return p
    return None
