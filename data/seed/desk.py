"""The desk as configured, read once before a seed: teams, services, catalogue items and
the priority matrix (SLA policies come through the desk's own code: see `sla.SlaSetup`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from itsm_tui.data.seed.writer import BulkWriter
from itsm_tui.domain.priority import DEFAULT_MATRIX, validate_matrix
from itsm_tui.i18n import _

# How long work takes when no policy matches a ticket (minutes per priority): the story's
# pace only; such a ticket has no clocks, as the desk starts none.
DEFAULT_RESPONSE = {1: 15, 2: 30, 3: 120, 4: 480}
DEFAULT_RESOLUTION = {1: 120, 2: 480, 3: 1440, 4: 4320}


@dataclass
class Desk:
    teams: list[tuple[int, str, int]]  # id, name, tier
    services: list[tuple[int, str, int, float, int | None]]  # id, name, crit, target, owner
    # id, code, name, category, team, service, requires approval, standard, tasks, role,
    # form
    items: list[tuple[Any, ...]]
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
    # An item's plan (its `tasks`, possibly empty) and approval role ride along: the
    # bulk story tells its requests step by step (data/seed/fulfilment.py).
    items = [
        (
            int(i),
            str(code),
            str(name),
            str(cat or ""),
            tm,
            sv,
            bool(ap),
            int(fm or 480),
            tasks,
            ar,
            list((json.loads(form) if isinstance(form, str) else form) or ()),
        )
        for i, code, name, cat, tm, sv, ap, fm, tasks, ar, form in w.rows(
            "SELECT id, code, name, category, team_id, service_id, requires_approval, "
            "fulfilment_minutes, tasks, approval_role, form FROM catalogue_items WHERE active = "
            + ("1" if w.sqlite else "true")
            + " ORDER BY id"
        )
    ]
    matrix_raw = w.rows("SELECT value FROM desk_settings WHERE key = 'priority_matrix'")
    matrix: Any = [list(r) for r in DEFAULT_MATRIX]
    if matrix_raw:
        value = matrix_raw[0][0]
        value = json.loads(value) if isinstance(value, str) else value
        if validate_matrix(value) is None:
            matrix = value
    tz_rows = w.rows("SELECT timezone FROM calendars ORDER BY id")
    return Desk(teams, services, items, matrix, str(tz_rows[0][0]) if tz_rows else "UTC")
