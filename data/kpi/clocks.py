"""Response and resolution of incidents, and SLA compliance: as the SLA clocks measured them.

A duration is the time its clock counted: business time of the clock's calendar, pauses
left out, time spent before a reopening kept and the time a ticket sat resolved not
counted (docs/sla.md). So a figure here and the clock on the ticket never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, distribution, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import SlaClock, Team, Ticket
from itsm_tui.data.sla_standing import BREACHED, MET

RESPONSE = "response"
RESOLUTION = "resolution"
# The priority the source document's targets are for (docs/desk-config.md).
TARGET_PRIORITY = 1


def incident_times(
    session: Session, kind: str, period: Period, cut: Cut, now: datetime
) -> dict[int, list[tuple[int, int]]]:
    """priority → [(seconds counted, clocks)] of the incidents' `kind` clocks that stopped
    met or breached in the period (a cancelled ticket's clock measured nothing)."""
    rows = session.execute(
        select(Ticket.priority, SlaClock.spent_seconds, func.count())
        .select_from(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            SlaClock.kind == kind,
            SlaClock.stopped_at >= period.start,
            SlaClock.stopped_at < period.measured_end(now),
            SlaClock.state.in_((MET, BREACHED)),
            Ticket.type == "incident",
            cut.tickets(),
        )
        .group_by(Ticket.priority, SlaClock.spent_seconds)
    ).all()
    by_priority: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for priority, seconds, count in rows:
        by_priority[int(priority)].append((int(seconds), int(count)))
    return by_priority


def _time_kpis(session: Session, kind: str, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    by_priority = incident_times(session, kind, period, cut, now)
    per_priority = {}
    for priority in sorted(by_priority):
        d = distribution(by_priority[priority])
        mean, p90 = d.minutes()
        per_priority[f"P{priority}"] = {"mean": mean, "p90": p90, "samples": d.samples}
    everything = distribution(pair for pairs in by_priority.values() for pair in pairs)
    all_mean, all_p90 = everything.minutes()
    judged = distribution(by_priority.get(TARGET_PRIORITY, []))
    mean, p90 = judged.minutes()
    detail = {
        "priority": f"P{TARGET_PRIORITY}",
        "by_priority": per_priority,
        "all_incidents": {"mean": all_mean, "p90": all_p90, "samples": everything.samples},
    }
    what = "response" if kind == RESPONSE else "resolution"
    target_key = f"incident_{what}_minutes"
    return [
        Kpi(
            f"incident_{what}_mean",
            f"Incident {what}, mean (P{TARGET_PRIORITY})",
            mean,
            "minutes",
            "at_most",
            target_key,
            samples=judged.samples,
            detail=detail,
        ),
        Kpi(
            f"incident_{what}_p90",
            f"Incident {what}, 90th percentile (P{TARGET_PRIORITY})",
            p90,
            "minutes",
            "at_most",
            target_key,
            samples=judged.samples,
            detail=detail,
        ),
    ]


def response_and_resolution(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    return [
        *_time_kpis(session, RESPONSE, period, cut, now),
        *_time_kpis(session, RESOLUTION, period, cut, now),
    ]


def sla_compliance(session: Session, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    """The share of clocks met among those decided in the period, every ticket type.

    A clock is decided once: met when it stopped within its target (`stopped_at` in the
    period), missed when it breached (`breached_at` in the period), whether or not it has
    stopped since: a breach is known the moment it happens, not when the ticket closes.
    """
    end = period.measured_end(now)
    met_in_period = and_(
        SlaClock.state == MET, SlaClock.stopped_at >= period.start, SlaClock.stopped_at < end
    )
    missed_in_period = and_(
        SlaClock.state == BREACHED,
        SlaClock.breached_at >= period.start,
        SlaClock.breached_at < end,
    )
    counts: dict[str, dict[str, int]] = {RESPONSE: {}, RESOLUTION: {}}
    for condition, verdict in ((met_in_period, MET), (missed_in_period, BREACHED)):
        query = select(SlaClock.kind, func.count()).where(condition).group_by(SlaClock.kind)
        if not cut.whole_desk:
            query = query.join(Ticket, Ticket.id == SlaClock.ticket_id).where(cut.tickets())
        for kind, count in session.execute(query):
            counts.setdefault(kind, {})[verdict] = int(count)
    kpis = []
    for kind in (RESPONSE, RESOLUTION):
        met, missed = counts[kind].get(MET, 0), counts[kind].get(BREACHED, 0)
        kpis.append(
            Kpi(
                f"sla_{kind}_met",
                f"SLA {kind} clocks met",
                share(met, met + missed),
                "percent",
                "share",
                "sla_met_percent",
                samples=met + missed,
                detail={"met": met, "breached": missed},
            )
        )
    return kpis


def resolution_by_team(
    session: Session, period: Period, cut: Cut, now: datetime
) -> dict[str, dict[str, float | int | None]]:
    """Team name → mean resolution minutes and incidents, for the incidents resolved in
    the period (the resolution clock's time, as above); "(no team)" for unassigned ones."""
    rows = session.execute(
        select(Team.name, func.sum(SlaClock.spent_seconds), func.count())
        .select_from(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .outerjoin(Team, Team.id == Ticket.team_id)
        .where(
            SlaClock.kind == RESOLUTION,
            SlaClock.stopped_at >= period.start,
            SlaClock.stopped_at < period.measured_end(now),
            SlaClock.state.in_((MET, BREACHED)),
            Ticket.type == "incident",
            cut.tickets(),
        )
        .group_by(Team.name)
    ).all()
    return {
        (name if name is not None else "(no team)"): {
            "mean_minutes": int(total) / int(count) / 60,
            "incidents": int(count),
        }
        for name, total, count in sorted(rows, key=lambda r: (r[0] is None, r[0] or ""))
    }
