"""Response and resolution of incidents, and SLA compliance: as the SLA clocks measured them.

A duration is the time its clock counted: business time of the clock's calendar, pauses
left out, time spent before a reopening kept and the time a ticket sat resolved not
counted (docs/sla.md). So a figure here and the clock on the ticket never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, distribution, probe, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.models import SlaClock, Team, Ticket
from itsm_tui.data.sla_standing import BREACHED, MET

RESPONSE = "response"
RESOLUTION = "resolution"
# The priority the source document's targets are for (docs/desk-config.md).
TARGET_PRIORITY = 1
PRIORITIES = (1, 2, 3, 4)


def incident_times(
    session: Session, kind: str, period: Period, cut: Cut, now: datetime
) -> dict[int, list[tuple[int, int]]]:
    """priority → [(seconds counted, clocks)] of the incidents' `kind` clocks that stopped
    met or breached in the period (a cancelled ticket's clock measured nothing)."""
    by_priority: dict[int, list[tuple[int, int]]] = {}
    for priority in PRIORITIES:
        rows = session.execute(
            select(SlaClock.spent_seconds, func.count())
            .where(
                SlaClock.kind == kind,
                SlaClock.stopped_at >= period.start,
                SlaClock.stopped_at < period.measured_end(now),
                SlaClock.state.in_((MET, BREACHED)),
                probe(SlaClock.ticket_id).in_(
                    cut.ticket_ids(Ticket.type == "incident", Ticket.priority == priority)
                ),
            )
            .group_by(SlaClock.spent_seconds)
        ).all()
        if rows:
            by_priority[priority] = [(int(seconds), int(count)) for seconds, count in rows]
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
    counts: dict[str, dict[str, int]] = {}
    for kind in (RESPONSE, RESOLUTION):
        # One kind at a time: each count is one range of its index, kind fixed.
        met_in_period = and_(
            SlaClock.kind == kind,
            SlaClock.state == MET,
            SlaClock.stopped_at >= period.start,
            SlaClock.stopped_at < end,
        )
        missed_in_period = and_(
            SlaClock.breached_at >= period.start,
            SlaClock.breached_at < end,
            SlaClock.kind == kind,
            SlaClock.state == BREACHED,
        )
        counts[kind] = {}
        for condition, verdict in ((met_in_period, MET), (missed_in_period, BREACHED)):
            query = select(func.count()).select_from(SlaClock).where(condition)
            if not cut.whole_desk:
                query = query.where(SlaClock.ticket_id.in_(cut.ticket_ids()))
            counts[kind][verdict] = int(session.scalar(query) or 0)
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
    teams = [(team_id, name) for team_id, name in session.execute(select(Team.id, Team.name))]
    out: dict[str, dict[str, float | int | None]] = {}
    for team_id, name in [*sorted(teams, key=lambda t: t[1]), (None, "(no team)")]:
        if cut.team_id is not None and team_id != cut.team_id:
            continue
        team = Ticket.team_id.is_(None) if team_id is None else Ticket.team_id == team_id
        total, count = session.execute(
            select(func.sum(SlaClock.spent_seconds), func.count()).where(
                SlaClock.kind == RESOLUTION,
                SlaClock.stopped_at >= period.start,
                SlaClock.stopped_at < period.measured_end(now),
                SlaClock.state.in_((MET, BREACHED)),
                probe(SlaClock.ticket_id).in_(cut.ticket_ids(Ticket.type == "incident", team)),
            )
        ).one()
        if count:
            out[name] = {"mean_minutes": int(total) / int(count) / 60, "incidents": int(count)}
    return out
