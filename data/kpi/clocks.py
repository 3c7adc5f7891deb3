"""Response and resolution of incidents, and SLA compliance: as the SLA clocks measured them.

A duration is the time its clock counted: business time of the clock's calendar, pauses
left out, time spent before a reopening kept and the time a ticket sat resolved not
counted (docs/sla.md). So a figure here and the clock on the ticket never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Kpi, distribution, share
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
    met or breached in the period (a cancelled ticket's clock measured nothing).

    One read of the period's clocks for every priority, each clock's ticket joined by its
    key: four reads of the same range, one per priority's id set, took 5.2 s for a year
    of response clocks on the million-ticket SQLite store, the join 2.1-3.7 s (load 8)."""
    by_priority: dict[int, list[tuple[int, int]]] = {}
    rows = session.execute(
        select(Ticket.priority, SlaClock.spent_seconds, func.count())
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            *_stopped_in(kind, period, now),
            Ticket.type == "incident",
            Ticket.priority.in_(PRIORITIES),
            cut.tickets(),
        )
        .group_by(Ticket.priority, SlaClock.spent_seconds)
    ).all()
    for priority, seconds, count in rows:
        by_priority.setdefault(int(priority), []).append((int(seconds), int(count)))
    return by_priority


def _stopped_in(kind: str, period: Period, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The `kind` clocks that stopped met or breached in the period: a range of
    ix_sla_clocks_stopped, which carries the state and the time spent."""
    return (
        SlaClock.kind == kind,
        SlaClock.stopped_at >= period.start,
        SlaClock.stopped_at < period.measured_end(now),
        SlaClock.state.in_((MET, BREACHED)),
    )


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
    names = dict(session.execute(select(Team.id, Team.name)).tuples().all())
    # One read grouped by team, not one per team over the same range of clocks.
    sums = {
        team_id: (int(total), int(count))
        for team_id, total, count in session.execute(
            select(Ticket.team_id, func.sum(SlaClock.spent_seconds), func.count())
            .join(Ticket, Ticket.id == SlaClock.ticket_id)
            .where(*_stopped_in(RESOLUTION, period, now), Ticket.type == "incident", cut.tickets())
            .group_by(Ticket.team_id)
        )
    }
    out: dict[str, dict[str, float | int | None]] = {}
    for team_id, name in [*sorted(names.items(), key=lambda t: t[1]), (None, "(no team)")]:
        if team_id not in sums:
            continue
        total, count = sums[team_id]
        if count:
            out[name] = {"mean_minutes": total / count / 60, "incidents": count}
    return out
