"""The desk's KPIs (issue 11, docs/kpi.md): one module per family, one call for them all.

`kpi_report(session, period, cut, now)` measures every KPI of a period for a cut (the
whole desk, a team, a service), judges each against the desk file's `[kpi_targets]`
and gives the previous period's value beside it. Everything is SQL aggregates over
indexed columns; nothing loads a period's tickets.
"""

from itsm_tui.data.kpi.figures import Kpi
from itsm_tui.data.kpi.judgement import AMBER, GREEN, NO_DATA, NO_TARGET, RED
from itsm_tui.data.kpi.period import Cut, Period, period_between, period_ending
from itsm_tui.data.kpi.report import KpiReport, cut_named, kpi_report

__all__ = [
    "AMBER",
    "GREEN",
    "NO_DATA",
    "NO_TARGET",
    "RED",
    "Cut",
    "Kpi",
    "KpiReport",
    "Period",
    "cut_named",
    "kpi_report",
    "period_between",
    "period_ending",
]
