"""Response and resolution of incidents, and SLA compliance: as the SLA clocks measured them.

A duration is the time its clock counted: business time of the clock's calendar, pauses
left out, time spent before a reopening kept and the time a ticket sat resolved not
counted (docs/sla.md). So a figure here and the clock on the ticket never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.kpi.figures import Distribution, Kpi, share
from itsm_tui.data.kpi.period import Cut, Period
from itsm_tui.data.kpi.rollup import PRIORITIES, Sums, exact_pairs, rank_90, sums, total
from itsm_tui.data.models import Team
from itsm_tui.data.sla_standing import BREACHED, MET

RESPONSE = "response"
RESOLUTION = "resolution"
# The priority the source document's targets are for (docs/desk-config.md).
TARGET_PRIORITY = 1


def incident_times(
    session: Session, kind: str, period: Period, cut: Cut, now: datetime
) -> dict[int, dict[int, Sums]]:
    """priority → histogram bucket → sums of the incidents' `kind` clocks that stopped met
    or breached in the period (a cancelled ticket's clock measured nothing): the
    rollups' days summed, the rest read from the clocks (data/kpi/rollup.py)."""
    by_priority: dict[int, dict[int, Sums]] = {}
    for (priority, bucket), one in sums(
        session, f"{kind}_hist", period, cut, now, ("priority", "bucket")
    ).items():
        by_priority.setdefault(int(priority), {})[int(bucket)] = one
    return by_priority


def _merged(histograms: list[dict[int, Sums]]) -> dict[int, Sums]:
    out: dict[int, Sums] = {}
    for h in histograms:
        for bucket, one in h.items():
            out[bucket] = out[bucket] + one if bucket in out else one
    return out


def _time_kpis(session: Session, kind: str, period: Period, cut: Cut, now: datetime) -> list[Kpi]:
    by_priority = incident_times(session, kind, period, cut, now)
    # Each priority, all of them and the judged one: where the bucket sums do not tell a
    # 90th percentile, each bucket needed is read once for all of them, not per figure.
    wanted = [(p,) for p in sorted(by_priority)] + [PRIORITIES, (TARGET_PRIORITY,)]
    ranks = {
        priorities: rank_90(_merged([by_priority.get(p, {}) for p in priorities]))
        for priorities in wanted
    }
    lowers = {r.lower for r in ranks.values() if r.lower is not None}
    pairs = exact_pairs(session, kind, period, cut, now, lowers)

    def measured(priorities: tuple[int, ...]) -> Distribution:
        found = ranks[priorities]
        if found.lower is None:
            return found.distribution()
        by_seconds: dict[int, int] = {}
        for p in priorities:
            for seconds, clocks in pairs[found.lower].get(p, []):
                by_seconds[seconds] = by_seconds.get(seconds, 0) + clocks
        return found.read(sorted(by_seconds.items()))

    per_priority = {}
    for priority in sorted(by_priority):
        d = measured((priority,))
        mean, p90 = d.minutes()
        per_priority[f"P{priority}"] = {"mean": mean, "p90": p90, "samples": d.samples}
    everything = measured(PRIORITIES)
    all_mean, all_p90 = everything.minutes()
    judged = measured((TARGET_PRIORITY,))
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
    counts: dict[str, dict[str, int]] = {}
    for kind in (RESPONSE, RESOLUTION):
        counts[kind] = {
            MET: total(sums(session, f"{kind}_met", period, cut, now)).n,
            BREACHED: total(sums(session, f"{kind}_missed", period, cut, now)).n,
        }
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
    names: dict[int, str] = {
        row.id: row.name for row in session.execute(select(Team.id, Team.name))
    }
    found = sums(session, "resolution_time", period, cut, now, ("team_id",))
    sums_by_team = {key[0]: (one.total, one.n) for key, one in found.items()}
    out: dict[str, dict[str, float | int | None]] = {}
    for team_id, name in [*sorted(names.items(), key=lambda t: t[1]), (None, "(no team)")]:
        if team_id not in sums_by_team:
            continue
        seconds, count = sums_by_team[team_id]
        if count:
            out[name] = {"mean_minutes": seconds / count / 60, "incidents": count}
    return out
