"""A KPI as the report and the dashboard show it, and the statistics the families share."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.judgement import Direction


@dataclass
class Kpi:
    """One measured figure. `value` None: no data in the period (never a made-up zero)."""

    key: str
    label: str
    value: float | None
    unit: str
    direction: Direction
    # The desk file's key the target comes from (None: the figure has no target).
    target_key: str | None = None
    # How many things were measured (tickets, clocks, surveys…), where that applies.
    samples: int | None = None
    # Breakdowns and companions (per priority, per service, the error budget…).
    detail: dict[str, Any] = field(default_factory=dict)
    # Filled in by the report: the target, the judgement, the previous period's value.
    target: float | None = None
    status: str = ""
    previous: float | None = None


@dataclass(frozen=True)
class Distribution:
    """Mean and 90th percentile of durations in seconds, from (value, count) pairs."""

    samples: int
    mean: float | None
    p90: float | None

    def minutes(self) -> tuple[float | None, float | None]:
        return _minutes(self.mean), _minutes(self.p90)


def distribution(histogram: Iterable[tuple[float, int]]) -> Distribution:
    """Nearest-rank percentile (the smallest value with at least 90 % of the samples at or
    below it; PostgreSQL's percentile_disc): exact, computed from a GROUP BY of the values
    so that the same SQL answers on SQLite, which has no percentile function."""
    pairs = sorted((float(v), int(n)) for v, n in histogram if n)
    total = sum(n for _v, n in pairs)
    if total == 0:
        return Distribution(0, None, None)
    mean = sum(v * n for v, n in pairs) / total
    rank = math.ceil(0.9 * total)
    seen = 0
    p90 = pairs[-1][0]
    for v, n in pairs:
        seen += n
        if seen >= rank:
            p90 = v
            break
    return Distribution(total, mean, p90)


def share(part: int, whole: int) -> float | None:
    """part ÷ whole in percent; None when there is nothing to divide."""
    return None if whole == 0 else 100 * part / whole


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def probe(column: Any) -> ColumnElement[Any]:
    """`column + 0`: the same value, but no index of it is used. A period's rows are read
    off their time index and each one's ticket looked up in the id set; without this,
    SQLite walked the whole id set (every P3 incident ever) and probed each ticket's
    clock, a plan whose cost does not shrink with the period (30 days took longer than a
    year on the million-ticket store)."""
    return column + 0


def seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement[float]:
    """later − earlier in seconds, as SQL (to the millisecond): both databases store naive
    UTC instants."""
    if session.get_bind().dialect.name == "sqlite":
        # A Julian day number carries about 40 µs of float error: rounded to the millisecond.
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)
    return func.extract("epoch", later - earlier)


def shown(value: float | None, unit: str) -> str:
    """A figure as people read it: the CLI's table and the dashboard's tiles."""
    if value is None:
        return "no data"
    if unit == "percent":
        return f"{value:.2f} %"
    if unit == "minutes":
        return f"{value:.1f} min"
    if unit == "of 5":
        return f"{value:.2f} / 5"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.1f}"
