"""The desk file's vocabulary: its sections, the values they accept, and its error."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from itsm_tui.desk.errors import DeskError

# The desk file's words for risk are the risk rules' own (re-exported).
from itsm_tui.domain.change_risk import RISK_LEVELS as RISK_LEVELS
from itsm_tui.domain.change_risk import RISK_RULES as RISK_RULES
from itsm_tui.domain.roles import USERNAME

# Sections in the order they are documented, dumped and planned.
SECTIONS = (
    "desk",
    "priority_matrix",
    "kpi_targets",
    "sla",
    "serve",
    "intake",
    "calendars",
    "sla_policies",
    "escalation_rules",
    "teams",
    "agents",
    "rotations",
    "services",
    "catalogue_items",
    "change_types",
    "change_templates",
    "risk_questionnaire",
    "freeze_windows",
    "budgets",
    "notifications",
)
ESCALATION_ACTIONS = (
    "notify_assignee",
    "notify_team",
    "notify_supervisor",
    "notify_desk_manager",
    "reassign_escalation_team",
    "raise_priority",
    "page_on_call",
)
CLOCK_KINDS = ("response", "resolution")
FORM_FIELD_KINDS = (
    "text",
    "textarea",
    "number",
    "date",
    "choice",
    "checkbox",
    "agent",
    "service",
)
DEFAULT_WARN_AT_PERCENT = (50, 75)
DEFAULT_PAUSE_STATUSES = ("pending",)

# KPI target key → (kind, lowest, highest). Direction and meaning: docs/desk-config.md.
KPI_TARGET_KEYS: dict[str, tuple[str, Decimal, Decimal]] = {
    "availability_percent": ("number", Decimal("0.0001"), Decimal(100)),
    "incident_response_minutes": ("integer", Decimal(1), Decimal(100_000)),
    "incident_resolution_minutes": ("integer", Decimal(1), Decimal(1_000_000)),
    "request_handling_minutes": ("integer", Decimal(1), Decimal(1_000_000)),
    "change_success_percent": ("number", Decimal(0), Decimal(100)),
    "csat_min": ("number", Decimal(1), Decimal(5)),
    "complaints_reduction_percent": ("number", Decimal(0), Decimal(100)),
    "tickets_per_agent_per_day": ("number", Decimal("0.1"), Decimal(1000)),
    "incident_cost_budget_percent": ("number", Decimal(1), Decimal(1000)),
    "sla_met_percent": ("number", Decimal(0), Decimal(100)),
    # Not a target: how far past its target a KPI is amber rather than red (data/kpi).
    "amber_margin_percent": ("number", Decimal(0), Decimal(100)),
    # Not a target: seconds between the dashboard's and the wall panel's reads.
    "refresh_seconds": ("integer", Decimal(1), Decimal(3600)),
}

DESK_DEFAULTS: dict[str, Any] = {
    "name": "Service Desk",
    "timezone": "UTC",
    "default_calendar": None,
}

_NAME_MAX = 80
_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_USERNAME = USERNAME
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
_MONEY_MAX = Decimal("999999999999.99")


class DeskFileError(DeskError):
    """The desk file is wrong; `errors` lists every problem, each naming file, line and key."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _period_label(start: date, end: date) -> str:
    if start.month == 1 and start.day == 1 and end == date(start.year, 12, 31):
        return f"{start.year}"
    if start.day == 1 and start.month in (1, 4, 7, 10) and end == _month_end(start, 3):
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if start.day == 1 and end == _month_end(start, 1):
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def _month_end(start: date, months: int) -> date:
    month = start.month - 1 + months
    first_after = date(start.year + month // 12, month % 12 + 1, 1)
    return first_after - timedelta(days=1)


def _period(text: str) -> tuple[date, date] | None:
    match = _PERIOD.match(text)
    if not match:
        return None
    year = int(match.group(1))
    if match.group(2):
        start = date(year, int(match.group(2)), 1)
        return start, _month_end(start, 1)
    if match.group(3):
        start = date(year, (int(match.group(3)) - 1) * 3 + 1, 1)
        return start, _month_end(start, 3)
    return date(year, 1, 1), date(year, 12, 31)
