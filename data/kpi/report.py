"""Every KPI for a period and a cut, judged against the desk's targets, with the previous
period beside it: the one call the report command, the dashboard and the wall panel make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.availability import availability
from itsm_tui.data.kpi.changes import change_success
from itsm_tui.data.kpi.clocks import response_and_resolution, sla_compliance
from itsm_tui.data.kpi.complaints import complaints
from itsm_tui.data.kpi.cost import incident_cost
from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.judgement import DEFAULT_AMBER_MARGIN_PERCENT, judge
from itsm_tui.data.kpi.operations import operations
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.productivity import tickets_per_agent_day
from itsm_tui.data.kpi.requests import request_cycle
from itsm_tui.data.kpi.satisfaction import csat
from itsm_tui.data.models import Service, Team
from itsm_tui.desk.errors import InvalidInput

Family = Callable[[Session, Period, Cut, datetime], list[Kpi]]

# The source document's nine, in its order, then SLA compliance. Availability and the
# operations panel take more than a period and a cut, and are called by name below.
FAMILIES: tuple[Family, ...] = (
    response_and_resolution,
    request_cycle,
    change_success,
    csat,
    complaints,
    tickets_per_agent_day,
    incident_cost,
    sla_compliance,
)


@dataclass
class KpiReport:
    period: Period
    previous_period: Period
    cut: Cut
    measured_at: datetime
    amber_margin_percent: float
    kpis: list[Kpi]

    def by_key(self) -> dict[str, Kpi]:
        return {k.key: k for k in self.kpis}

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of `itsm kpi --json`: one entry per KPI under its key."""
        return {
            "period": _period_dict(self.period),
            "previous_period": _period_dict(self.previous_period),
            "team": self.cut.team,
            "service": self.cut.service,
            "measured_at": self.measured_at.isoformat(),
            "amber_margin_percent": self.amber_margin_percent,
            "kpis": {
                k.key: {
                    "label": k.label,
                    "value": k.value,
                    "target": k.target,
                    "status": k.status,
                    "unit": k.unit,
                    "samples": k.samples,
                    "previous": k.previous,
                    "detail": k.detail,
                }
                for k in self.kpis
            },
        }


def _period_dict(p: Period) -> dict[str, str]:
    return {
        "from": p.first_day.isoformat(),
        "to": p.last_day.isoformat(),
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
    }


def cut_named(session: Session, *, team: str | None = None, service: str | None = None) -> Cut:
    """The cut of a team and/or a service by name (any case); an unknown name is refused."""
    team_id = service_id = None
    if team is not None:
        row = session.execute(
            select(Team.id, Team.name).where(func.lower(Team.name) == team.lower())
        ).first()
        if row is None:
            raise InvalidInput(f"no team named {team!r}")
        team_id, team = row.id, row.name
    if service is not None:
        row = session.execute(
            select(Service.id, Service.name).where(func.lower(Service.name) == service.lower())
        ).first()
        if row is None:
            raise InvalidInput(f"no service named {service!r}")
        service_id, service = row.id, row.name
    return Cut(team_id=team_id, team=team, service_id=service_id, service=service)


def _measure(
    session: Session,
    period: Period,
    cut: Cut,
    now: datetime,
    targets: dict[str, float],
    margin: float,
    *,
    live: bool,
) -> list[Kpi]:
    kpis = availability(
        session, period, cut, now, target=targets.get("availability_percent"), margin=margin
    )
    for family in FAMILIES:
        kpis += family(session, period, cut, now)
    kpis += operations(session, period, cut, now, live=live)
    return kpis


def kpi_report(
    session: Session, period: Period, cut: Cut, now: datetime, *, with_previous: bool = True
) -> KpiReport:
    """Every KPI of the period for the cut, judged, with the previous period's values."""
    from itsm_tui.config.readers import kpi_targets

    targets = {k: float(v) for k, v in kpi_targets(session).items()}
    margin = targets.get("amber_margin_percent", DEFAULT_AMBER_MARGIN_PERCENT)
    kpis = _measure(session, period, cut, now, targets, margin, live=True)
    previous_period = period.previous()
    if with_previous:
        before = {
            k.key: k.value
            for k in _measure(session, previous_period, cut, now, targets, margin, live=False)
        }
    else:
        before = {}
    for k in kpis:
        k.target = targets.get(k.target_key) if k.target_key else None
        # judge() says "no data" for a missing value and "no target" for a missing target.
        k.status = judge(k.value, k.target, k.direction, margin)
        k.previous = before.get(k.key)
    return KpiReport(period, previous_period, cut, now, margin, kpis)
