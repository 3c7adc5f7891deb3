"""The desk file: read and validate it, plan and apply it to the store, write it back.

Read and validate: vocabulary, model (typed dataclasses), locator (lines of keys),
checker, sections and calendars (parsing), load. Plan and apply: store (the sections
as rows), plan, clocks (the open due times a change moves). Write back: dump.
readers: settings the rest of the desk reads.
"""

from itsm_tui.config.dump import dump_toml
from itsm_tui.config.load import (
    default_desk_text,
    load_default_desk,
    load_desk_file,
    load_desk_text,
)
from itsm_tui.config.model import (
    AgentConfig,
    BudgetConfig,
    CalendarConfig,
    CatalogueItemConfig,
    ChangeTypeConfig,
    DeskConfig,
    DeskInfo,
    EscalationMatch,
    EscalationRuleConfig,
    FormField,
    FreezeWindowConfig,
    KpiTargets,
    Matrix,
    RiskAnswer,
    RiskQuestion,
    RiskQuestionnaire,
    ServiceConfig,
    SlaMatch,
    SlaPolicyConfig,
    SlaSettings,
    TeamConfig,
)
from itsm_tui.config.plan import ConfigChange, ConfigPlan, FieldChange, apply_config, plan_config
from itsm_tui.config.readers import (
    change_types,
    desk_settings,
    kpi_targets,
    risk_level,
    risk_questionnaire,
)
from itsm_tui.config.store import read_config
from itsm_tui.config.vocabulary import (
    CLOCK_KINDS,
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_WARN_AT_PERCENT,
    DESK_DEFAULTS,
    ESCALATION_ACTIONS,
    FORM_FIELD_KINDS,
    KPI_TARGET_KEYS,
    RISK_LEVELS,
    SECTIONS,
    DeskFileError,
)

__all__ = [
    "CLOCK_KINDS",
    "DEFAULT_PAUSE_STATUSES",
    "DEFAULT_WARN_AT_PERCENT",
    "DESK_DEFAULTS",
    "ESCALATION_ACTIONS",
    "FORM_FIELD_KINDS",
    "KPI_TARGET_KEYS",
    "RISK_LEVELS",
    "SECTIONS",
    "AgentConfig",
    "BudgetConfig",
    "CalendarConfig",
    "CatalogueItemConfig",
    "ChangeTypeConfig",
    "ConfigChange",
    "ConfigPlan",
    "DeskConfig",
    "DeskFileError",
    "DeskInfo",
    "EscalationMatch",
    "EscalationRuleConfig",
    "FieldChange",
    "FormField",
    "FreezeWindowConfig",
    "KpiTargets",
    "Matrix",
    "RiskAnswer",
    "RiskQuestion",
    "RiskQuestionnaire",
    "ServiceConfig",
    "SlaMatch",
    "SlaPolicyConfig",
    "SlaSettings",
    "TeamConfig",
    "apply_config",
    "change_types",
    "default_desk_text",
    "desk_settings",
    "dump_toml",
    "kpi_targets",
    "load_default_desk",
    "load_desk_file",
    "load_desk_text",
    "plan_config",
    "read_config",
    "risk_level",
    "risk_questionnaire",
]
