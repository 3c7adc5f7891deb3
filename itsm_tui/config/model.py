"""The typed desk configuration: one frozen dataclass per desk-file item and section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from itsm_tui.config.intake import IntakeSettings
from itsm_tui.config.locator import Locator
from itsm_tui.config.notifications import NotificationSettings
from itsm_tui.config.vocabulary import (
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_WARN_AT_PERCENT,
    DESK_DEFAULTS,
    KPI_TARGET_KEYS,
    SECTIONS,
    _period_label,
)
from itsm_tui.desk.sla import RESPONSE_TRIGGERS

# The typed desk configuration. `path` locates an item in its file (empty when the
# item was read from the store); it takes no part in comparisons.


def _path() -> Any:
    return field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class DeskInfo:
    name: str = DESK_DEFAULTS["name"]
    timezone: str = DESK_DEFAULTS["timezone"]
    default_calendar: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class SlaSettings:
    """Desk-wide SLA rules: which agent actions count as the first response."""

    response_met_by: tuple[str, ...] = RESPONSE_TRIGGERS
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class CalendarConfig:
    name: str
    timezone: str = "UTC"
    always_open: bool = False
    # Weekday ("mon"…) → sorted, non-overlapping ("HH:MM", "HH:MM") intervals.
    hours: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    holidays: tuple[date, ...] = ()
    # Make-up working days (调休), worked on the hours of the weekday `workdays_as`.
    workdays: tuple[date, ...] = ()
    workdays_as: str = "mon"
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class SlaMatch:
    types: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    services: tuple[str, ...] = ()
    catalogue_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaPolicyConfig:
    name: str
    calendar: str
    rank: int = 100
    response_minutes: int | None = None
    resolution_minutes: int | None = None
    match: SlaMatch = SlaMatch()
    warn_at_percent: tuple[int, ...] = DEFAULT_WARN_AT_PERCENT
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class EscalationMatch:
    kinds: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class EscalationRuleConfig:
    name: str
    level: int
    actions: tuple[str, ...]
    at_percent: int = 100
    match: EscalationMatch = EscalationMatch()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class TeamConfig:
    name: str
    tier: int = 1
    description: str = ""
    email: str | None = None
    escalation_team: str | None = None
    supervisor: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class ServeSettings:
    """[serve]: the limits of `itsm serve`'s remote sessions."""

    max_sessions: int = 50
    max_sessions_per_agent: int = 3
    # A session without a key for this long is signed out (0: never).
    idle_timeout_minutes: int = 60
    # How often the server checks a silent client is still there (0: never).
    keepalive_seconds: int = 30
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class AgentConfig:
    username: str
    name: str = ""
    email: str | None = None
    team: str | None = None
    roles: tuple[str, ...] = ("agent",)
    hourly_cost: Decimal = Decimal(0)
    timezone: str | None = None
    active: bool = True
    # authorized_keys lines that sign this agent in to `itsm serve`; None: the file leaves
    # the agent's keys as they are (added with `itsm agent key add`).
    ssh_keys: tuple[str, ...] | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class OverrideConfig:
    """Someone else on call for a while: a swap (`covers` one member) or a holiday cover."""

    agent: str
    starts_at: datetime
    ends_at: datetime
    covers: str | None = None
    reason: str = ""
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class RotationConfig:
    """A team's on-call rota: members in order, a shift of `shift_days` days handed over
    at `handover` (local wall time in `timezone`) from the date `starts`."""

    team: str
    members: tuple[str, ...]
    starts: date
    handover: str = "09:00"
    shift_days: int = 7
    timezone: str = "UTC"
    ack_timeout_minutes: int = 15
    overrides: tuple[OverrideConfig, ...] = ()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class MaintenanceWindowConfig:
    """When changes to a service may run: the first occurrence, and an RRULE it recurs by
    in `timezone` (None: the desk's time zone)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    description: str = ""
    criticality: int = 3
    availability_target: Decimal = Decimal("99.9")
    owner_team: str | None = None
    # Services this one rides on: a change or an outage of those reaches it.
    depends_on: tuple[str, ...] = ()
    maintenance_windows: tuple[MaintenanceWindowConfig, ...] = ()
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FulfilmentTaskConfig:
    """One step of an item's fulfilment plan: done by `team`, in the order listed."""

    name: str
    team: str
    # The expected duration in business minutes (shown; None: not estimated).
    minutes: int | None = None


@dataclass(frozen=True)
class CatalogueItemConfig:
    code: str
    name: str
    description: str = ""
    category: str = ""
    team: str | None = None
    service: str | None = None
    requires_approval: bool = False
    # Only agents holding this role approve (None: any agent who may approve requests).
    approval_role: str | None = None
    fulfilment_minutes: int = 480
    form: tuple[FormField, ...] = ()
    tasks: tuple[FulfilmentTaskConfig, ...] = ()
    active: bool = True
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class ChangeTypeConfig:
    name: str
    description: str = ""
    cab_required: bool = False
    pre_approved: bool = False
    lead_time_hours: int = 0
    # Approvals a change needs when its risk level is not named in `approvals`.
    quorum: int = 0
    # Risk level → approvals needed: a count (2) or a share of the CAB ("50%").
    approvals: Mapping[str, int | str] = field(default_factory=dict)
    # Who votes on this type instead of every agent with the cab role (the emergency CAB).
    cab: tuple[str, ...] = ()
    review_required: bool = False
    # Days after a change's actual end in which an incident it caused spoils its
    # first-time success.
    review_days: int = 14
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class ChangeTemplateConfig:
    """A standard change's pre-approved recipe: a standard change is raised from one."""

    name: str
    title: str
    description: str = ""
    category: str = ""
    services: tuple[str, ...] = ()
    implementation_plan: str = ""
    backout_plan: str = ""
    test_plan: str = ""
    duration_minutes: int = 60
    risk: str = "low"
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class RiskAnswer:
    value: str
    label: str
    weight: int


@dataclass(frozen=True)
class RiskQuestion:
    id: str
    text: str
    answers: tuple[RiskAnswer, ...]


@dataclass(frozen=True)
class RiskQuestionnaire:
    questions: tuple[RiskQuestion, ...]
    # Risk level → lowest score that reaches it ("low" is the floor, usually 0).
    thresholds: Mapping[str, int]
    # Rule name (RISK_RULES) → the level it sets when it holds; a rule not named is off.
    rules: Mapping[str, str] = field(default_factory=dict)
    path: tuple[Any, ...] = _path()

    def max_score(self) -> int:
        return sum(max(a.weight for a in q.answers) for q in self.questions)


@dataclass(frozen=True)
class FreezeWindowConfig:
    name: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    services: tuple[str, ...] = ()
    # An RRULE (each occurrence as long as the first) stepping in `timezone` (None: the
    # desk's time zone).
    recurrence: str | None = None
    timezone: str | None = None
    path: tuple[Any, ...] = _path()


@dataclass(frozen=True)
class BudgetConfig:
    category: str
    period_start: date
    period_end: date
    amount: Decimal
    currency: str = "CNY"
    path: tuple[Any, ...] = _path()

    @property
    def period(self) -> str:
        return _period_label(self.period_start, self.period_end)


@dataclass(frozen=True)
class KpiTargets:
    """The source document's KPI targets; a key absent from the file is None here."""

    availability_percent: Decimal | None = None
    incident_response_minutes: int | None = None
    incident_resolution_minutes: int | None = None
    request_handling_minutes: int | None = None
    change_success_percent: Decimal | None = None
    csat_min: Decimal | None = None
    complaints_reduction_percent: Decimal | None = None
    tickets_per_agent_per_day: Decimal | None = None
    incident_cost_budget_percent: Decimal | None = None
    sla_met_percent: Decimal | None = None
    amber_margin_percent: Decimal | None = None
    refresh_seconds: int | None = None
    path: tuple[Any, ...] = _path()

    def as_dict(self) -> dict[str, int | float]:
        """JSON numbers of the targets that are set (how the store keeps them)."""
        return _kpi_value(self)


Matrix = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]


@dataclass(frozen=True)
class DeskConfig:
    """One attribute per section; None means the section is absent (and left alone)."""

    desk: DeskInfo | None = None
    priority_matrix: Matrix | None = None
    kpi_targets: KpiTargets | None = None
    sla: SlaSettings | None = None
    serve: ServeSettings | None = None
    intake: IntakeSettings | None = None
    calendars: tuple[CalendarConfig, ...] | None = None
    sla_policies: tuple[SlaPolicyConfig, ...] | None = None
    escalation_rules: tuple[EscalationRuleConfig, ...] | None = None
    teams: tuple[TeamConfig, ...] | None = None
    agents: tuple[AgentConfig, ...] | None = None
    rotations: tuple[RotationConfig, ...] | None = None
    services: tuple[ServiceConfig, ...] | None = None
    catalogue_items: tuple[CatalogueItemConfig, ...] | None = None
    change_types: tuple[ChangeTypeConfig, ...] | None = None
    change_templates: tuple[ChangeTemplateConfig, ...] | None = None
    risk_questionnaire: RiskQuestionnaire | None = None
    freeze_windows: tuple[FreezeWindowConfig, ...] | None = None
    budgets: tuple[BudgetConfig, ...] | None = None
    notifications: NotificationSettings | None = None
    filename: str = field(default="", compare=False)
    locator: Locator | None = field(default=None, compare=False, repr=False)

    def present(self) -> tuple[str, ...]:
        return tuple(s for s in SECTIONS if getattr(self, s) is not None)


def _kpi_value(k: KpiTargets) -> dict[str, int | float]:
    out: dict[str, int | float] = {}
    for key, (kind, _lo, _hi) in KPI_TARGET_KEYS.items():
        value = getattr(k, key)
        if value is not None:
            out[key] = int(value) if kind == "integer" else float(value)
    return out
