"""Availability per service and overall, with the error budget the target allows.

Outage time is the union of a service's outages inside the period (two records of the
same downtime count once; an outage still open runs to now). Outages are few (one per
major incident), so the period's are read and merged here rather than in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.judgement import judge
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import Outage, Service


def _merged_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(spans):
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        total += (current_end - current_start).total_seconds()
    return total


def error_budget(
    down_s: float,
    elapsed_s: float,
    period_s: float,
    target: float,
    end: datetime,
    *,
    services: int = 1,
) -> dict[str, object]:
    """What the target allows over the whole period, how much is used, how fast it is being
    spent (1.0: at the pace that uses it all by the period's end) and when it runs out at
    that pace (None: not within the period; `exhausted`: already spent)."""
    # Several services: each may be down for its share, so the allowance adds up.
    allowed = services * period_s * (1 - target / 100)
    used_share = down_s / allowed if allowed > 0 else (0.0 if down_s == 0 else float("inf"))
    elapsed_share = elapsed_s / period_s if period_s else 0.0
    burn = used_share / elapsed_share if elapsed_share else None
    runs_out_at = None
    exhausted = down_s > 0 and down_s >= allowed
    if not exhausted and down_s > 0 and elapsed_s > 0:
        rate = down_s / elapsed_s  # downtime per wall-clock second of the period so far
        out_at = end + timedelta(seconds=(allowed - down_s) / rate)
        period_end = end + timedelta(seconds=period_s - elapsed_s)
        runs_out_at = out_at if out_at < period_end else None
    return {
        "allowed_minutes": allowed / 60,
        "used_minutes": down_s / 60,
        "used_percent": None if allowed <= 0 else 100 * down_s / allowed,
        "burn_rate": burn,
        "runs_out_at": runs_out_at.isoformat() if runs_out_at else None,
        "exhausted": exhausted,
    }


def availability(
    session: Session,
    period: Period,
    cut: Cut,
    now: datetime,
    *,
    target: float | None,
    margin: float,
) -> list[Kpi]:
    start, end = period.start, period.measured_end(now)
    elapsed_s = (end - start).total_seconds()
    period_s = (period.end - period.start).total_seconds()
    services = select(Service.id, Service.name, Service.availability_target)
    if cut.team_id is not None:
        services = services.where(Service.owner_team_id == cut.team_id)
    if cut.service_id is not None:
        services = services.where(Service.id == cut.service_id)
    service_rows = session.execute(services.order_by(Service.name)).all()
    kpi = Kpi("availability", "Availability", None, "percent", "share", "availability_percent")
    if not service_rows or elapsed_s <= 0:
        return [kpi]
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    outages = session.execute(
        select(Outage.service_id, Outage.started_at, Outage.ended_at).where(
            Outage.service_id.in_([row.id for row in service_rows]),
            Outage.started_at < end,
            or_(Outage.ended_at.is_(None), Outage.ended_at > start),
        )
    )
    for service_id, began, ended in outages:
        spans[service_id].append((max(began, start), min(ended or end, end)))
    per_service = {}
    total_down = 0.0
    for row in service_rows:
        down = _merged_seconds(spans.get(row.id, []))
        total_down += down
        own_target = float(row.availability_target)
        value = 100 * (1 - down / elapsed_s)
        per_service[row.name] = {
            "value": value,
            "target": own_target,
            "status": judge(value, own_target, "share", margin),
            "outages": len(spans.get(row.id, [])),
            **error_budget(down, elapsed_s, period_s, own_target, end),
        }
    n = len(service_rows)
    kpi.value = 100 * (1 - total_down / (n * elapsed_s))
    kpi.samples = n
    kpi.detail = {"services": per_service}
    if target is not None:
        kpi.detail.update(error_budget(total_down, elapsed_s, period_s, target, end, services=n))
    return [kpi]
