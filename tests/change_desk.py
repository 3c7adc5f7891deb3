"""The small test desk with a change process: a CAB of four, an emergency CAB of two, a
change manager, the change types and templates the change tests rely on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Comment,
    DeskSetting,
    Notification,
    Team,
    Ticket,
)
from itsm_tui.data.store import Store
from tests.factories import NOW, Desk, build_desk

# A normal change is planned 72 h ahead at least: these windows are beyond that.
WINDOW_START = NOW + timedelta(days=4)
WINDOW_END = WINDOW_START + timedelta(hours=2)

CHANGE_TYPES = {
    "standard": {
        "description": "",
        "cab_required": False,
        "pre_approved": True,
        "lead_time_hours": 0,
        "quorum": 0,
        "approvals": {},
        "cab": [],
        "review_required": False,
        "review_days": 7,
    },
    "normal": {
        "description": "",
        "cab_required": True,
        "pre_approved": False,
        "lead_time_hours": 72,
        "quorum": 2,
        "approvals": {"low": 1, "medium": 2, "high": "50%", "very_high": "75%"},
        "cab": [],
        "review_required": False,
        "review_days": 14,
    },
    "emergency": {
        "description": "",
        "cab_required": True,
        "pre_approved": False,
        "lead_time_hours": 0,
        "quorum": 2,
        "approvals": {},
        "cab": ["erin", "frank"],
        "review_required": False,
        "review_days": 14,
    },
}

TEMPLATES = {
    "mail-restart": {
        "title": "Rolling restart of the mail servers",
        "description": "Monthly rolling restart.",
        "category": "maintenance",
        "services": ["Email"],
        "implementation_plan": "Drain and restart each node in turn.",
        "backout_plan": "Bring the drained node back without restarting.",
        "test_plan": "Send a test message through each node.",
        "duration_minutes": 90,
        "risk": "low",
    }
}

# Answers to the default desk's questionnaire that score each level.
LOW = {
    "users_affected": "none",
    "outage": "no",
    "backout": "tested",
    "experience": "routine",
    "critical_service": "no",
}
MEDIUM = {**LOW, "users_affected": "department", "outage": "off_hours"}  # 6
HIGH = {**LOW, "users_affected": "company", "outage": "business_hours", "experience": "similar"}
VERY_HIGH = {**HIGH, "backout": "impossible", "experience": "first_time"}  # 19

PLANS = {
    "implementation_plan": "Upgrade the firmware node by node.",
    "backout_plan": "Re-flash the previous firmware image.",
    "test_plan": "Run the smoke tests.",
}


def build_change_desk(store: Store) -> Desk:
    desk = build_desk(store)
    with store.write() as session:
        network = session.scalars(select(Team).where(Team.name == "Network")).one()
        session.add_all(
            [
                # dave raises changes and sits on the CAB: he may not approve his own.
                Agent(username="dave", display_name="Dave", roles="agent cab", team_id=network.id),
                Agent(username="erin", display_name="Erin", roles="cab", team_id=network.id),
                Agent(username="frank", display_name="Frank", roles="cab", team_id=network.id),
                Agent(username="mia", display_name="Mia", roles="agent change_manager"),
            ]
        )
        session.add(DeskSetting(key="change_types", value=CHANGE_TYPES))
        session.add(DeskSetting(key="change_templates", value=TEMPLATES))
    return desk


def write(desk: Desk, username: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one desk function as `username` in its own transaction; a change comes back as
    its JSON record (read before the session closes)."""
    from itsm_tui.data.record_json import change_record

    with desk.store.write() as session:
        kwargs.setdefault("now", NOW)
        result = fn(session, desk.actor(session, username), *args, **kwargs)
        if isinstance(result, Change):
            return change_record(session, result)
        return result


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything a refused change write must leave as it was."""
    with store.read() as s:
        changes = s.execute(
            select(
                Change.number,
                Change.status,
                Change.version,
                Change.risk,
                Change.planned_start,
                Change.implementer_id,
                Change.quorum,
                Change.closed_at,
            ).order_by(Change.id)
        ).all()
        votes = s.execute(
            select(
                ChangeApproval.change_id, ChangeApproval.approver_id, ChangeApproval.decision
            ).order_by(ChangeApproval.change_id, ChangeApproval.approver_id)
        ).all()
        counts = tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (AuditEvent, Notification, Comment, ChangeCausedIncident, Ticket)
        )
    return tuple(changes), tuple(votes), counts
