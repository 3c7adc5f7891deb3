"""What the dashboard and the wall panel read in one refresh: the KPI report of the chosen
period and cut, each KPI's daily trend, and the teams and services to choose from.

Every figure comes from `kpi_report` (data/kpi): nothing here defines a KPI. The daily
trend is that report over each of the last days of the period; a finished day's figures
are kept between refreshes (keyed by the day and the cut) so a refresh re-reads today only.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.config.readers import kpi_targets
from itsm_tui.data.kpi import Cut, KpiReport, Period, kpi_report, period_between, period_ending
from itsm_tui.data.models import Agent, Service, Team

# The sparklines' and the trend chart's width in days: enough to see a week's shape twice.
TREND_DAYS = 14
# Finished days kept between refreshes: a few cuts' trends, bounded so weeks of a wall
# panel rotating through teams never grow the process.
KEPT_DAYS = TREND_DAYS * 16
DEFAULT_REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class PeriodChoice:
    """A named period (today, 7d, 30d, quarter, year) or custom dates."""

    name: str = "30d"
    first: date | None = None
    last: date | None = None

    def period(self, now: datetime, zone: tzinfo) -> Period:
        if self.first is not None and self.last is not None:
            return period_between(self.first, self.last, zone)
        return period_ending(now, zone, self.name)


@dataclass(frozen=True)
class Scope:
    """The cut chosen on screen, by names (None: every team / every service)."""

    team: str | None = None
    service: str | None = None


@dataclass
class DashboardRead:
    report: KpiReport
    # KPI key → one value per day, oldest first (None: no data that day).
    trend: dict[str, list[float | None]]
    trend_days: list[date]
    teams: tuple[str, ...]
    services: tuple[str, ...]
    # The one team a supervisor of a single team is kept to (None: any cut).
    own_team: str | None
    # `[kpi_targets] refresh_seconds`: how long until the next read.
    refresh_seconds: float


class TrendCache:
    """Finished days' figures by (day, cut): a least-recently-used map of bounded size."""

    def __init__(self, size: int = KEPT_DAYS) -> None:
        self._days: OrderedDict[tuple[date, Cut], dict[str, float | None]] = OrderedDict()
        self._size = size

    def get(self, day: date, cut: Cut) -> dict[str, float | None] | None:
        found = self._days.get((day, cut))
        if found is not None:
            self._days.move_to_end((day, cut))
        return found

    def put(self, day: date, cut: Cut, values: dict[str, float | None]) -> None:
        self._days[(day, cut)] = values
        self._days.move_to_end((day, cut))
        while len(self._days) > self._size:
            self._days.popitem(last=False)

    def __len__(self) -> int:
        return len(self._days)


def supervised_team(session: Session, actor: str) -> str | None:
    """The team a supervisor of exactly one team leads: their dashboard shows that team."""
    names = session.scalars(
        select(Team.name).join(Agent, Team.supervisor_id == Agent.id).where(Agent.username == actor)
    ).all()
    return names[0] if len(names) == 1 else None


def cut_of(session: Session, scope: Scope) -> Cut:
    from itsm_tui.data.kpi import cut_named

    return cut_named(session, team=scope.team, service=scope.service)


def read_dashboard(
    session: Session,
    choice: PeriodChoice,
    scope: Scope,
    now: datetime,
    zone: tzinfo,
    actor: str,
    cache: TrendCache,
) -> DashboardRead:
    own_team = supervised_team(session, actor)
    if own_team is not None:
        scope = Scope(own_team, scope.service)
    cut = cut_of(session, scope)
    period = choice.period(now, zone)
    report = kpi_report(session, period, cut, now)
    today = now.astimezone(zone).date()
    last = min(period.last_day, today)
    days = [last - timedelta(days=n) for n in range(min(TREND_DAYS, period.days) - 1, -1, -1)]
    days = [d for d in days if d >= period.first_day]
    trend: dict[str, list[float | None]] = {k.key: [] for k in report.kpis}
    for day in days:
        values = cache.get(day, cut) if day < today else None
        if values is None:
            one = kpi_report(session, Period(day, day, zone), cut, now, with_previous=False)
            values = {k.key: k.value for k in one.kpis}
            if day < today:
                cache.put(day, cut, values)
        for key, series in trend.items():
            series.append(values.get(key))
    teams = tuple(session.scalars(select(Team.name).order_by(Team.name)))
    services = tuple(session.scalars(select(Service.name).order_by(Service.name)))
    refresh = float(kpi_targets(session).get("refresh_seconds", DEFAULT_REFRESH_SECONDS))
    return DashboardRead(report, trend, days, teams, services, own_team, refresh)
