"""The supervisors' screens: the KPI dashboard and the wall panel (issue 11)."""

from itsm_tui.screens.kpi.dashboard import KpiDashboardScreen

__all__ = ["KpiDashboardScreen"]
