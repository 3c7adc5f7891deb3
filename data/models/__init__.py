"""The desk's records as SQLAlchemy 2.x typed declarative models (SPEC §2).

Times are stored as naive UTC on both databases and come back as aware UTC
(`UtcDateTime`), so nothing above this module ever compares naive and aware
instants. Status and kind columns are plain strings; the state machines in
`itsm_tui.domain` are the one definition of what values are allowed.

The package is split by record family; importing it maps them all, since
relationships name classes of other families.
"""

from __future__ import annotations

from .alerts import (
    Alert,
    AlertDelivery,
    AlertGroup,
)
from .base import (
    NAMING,
    REASSIGNMENT_EVENT,
    SLA_DUE_NEVER,
    SLA_DUE_NEVER_TEXT,
    UNLINKED_INCIDENT,
    Base,
    UtcDateTime,
)
from .changes import (
    Change,
    ChangeApproval,
    ChangeCausedIncident,
)
from .configuration import (
    BusinessCalendar,
    DeskSetting,
    EscalationRule,
    FreezeWindow,
    NumberSequence,
    SlaPolicy,
)
from .knowledge import (
    KnowledgeArticle,
)
from .measures import (
    Budget,
    Complaint,
    KpiDay,
    KpiDirty,
    KpiRollup,
    Outage,
    Survey,
    SurveyInvitation,
    TimeEntry,
)
from .notices import (
    Notification,
    NotificationRead,
    OutboxAttempt,
    OutboxMessage,
    Page,
)
from .organisation import (
    Agent,
    AgentKey,
    CatalogueItem,
    Requester,
    Service,
    ServiceDependency,
    Team,
)
from .tickets import (
    AuditEvent,
    Comment,
    Escalation,
    FulfilmentTask,
    SlaClock,
    Ticket,
)

# Tables whose rows the desk file owns (`itsm config apply` writes them).
CONFIG_TABLES = (
    BusinessCalendar,
    SlaPolicy,
    EscalationRule,
    DeskSetting,
    Team,
    Agent,
    AgentKey,
    Service,
    ServiceDependency,
    CatalogueItem,
    FreezeWindow,
    Budget,
)

__all__ = [
    "CONFIG_TABLES",
    "NAMING",
    "REASSIGNMENT_EVENT",
    "SLA_DUE_NEVER",
    "SLA_DUE_NEVER_TEXT",
    "UNLINKED_INCIDENT",
    "Agent",
    "AgentKey",
    "Alert",
    "AlertDelivery",
    "AlertGroup",
    "AuditEvent",
    "Base",
    "Budget",
    "BusinessCalendar",
    "CatalogueItem",
    "Change",
    "ChangeApproval",
    "ChangeCausedIncident",
    "Comment",
    "Complaint",
    "DeskSetting",
    "Escalation",
    "EscalationRule",
    "FreezeWindow",
    "FulfilmentTask",
    "KnowledgeArticle",
    "KpiDay",
    "KpiDirty",
    "KpiRollup",
    "Notification",
    "NotificationRead",
    "NumberSequence",
    "Outage",
    "OutboxAttempt",
    "OutboxMessage",
    "Page",
    "Requester",
    "Service",
    "ServiceDependency",
    "SlaClock",
    "SlaPolicy",
    "Survey",
    "SurveyInvitation",
    "Team",
    "Ticket",
    "TimeEntry",
    "UtcDateTime",
]
