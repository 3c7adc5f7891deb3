"""The whole store at a glance: the desk's name, tickets by type, status and priority,
and how many changes, agents, teams and services it holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change, DeskSetting, Service, Team, Ticket
from itsm_tui.domain.priority import priority_label


def desk_name(session: Session) -> str | None:
    """The desk's name from the [desk] table of its configuration, if it has one."""
    row = session.get(DeskSetting, "desk")
    if row is not None and isinstance(row.value, dict) and isinstance(row.value.get("name"), str):
        return row.value["name"]
    return None


def store_summary(session: Session) -> dict[str, Any]:
    """Counts by type and status, open tickets by priority, and the desk's size."""
    by_type_status = session.execute(
        select(Ticket.type, Ticket.status, func.count()).group_by(Ticket.type, Ticket.status)
    ).all()
    by_type: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for kind, status, n in by_type_status:
        by_type[kind] = by_type.get(kind, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    open_by_priority = {
        priority_label(p): n
        for p, n in session.execute(
            select(Ticket.priority, func.count())
            .where(Ticket.is_open == True)  # noqa: E712 — `= true` is what the index can use
            .group_by(Ticket.priority)
            .order_by(Ticket.priority)
        ).all()
    }

    def count(model: type[Any]) -> int:
        return session.execute(select(func.count()).select_from(model)).scalar_one()

    return {
        "desk": desk_name(session),
        "tickets": sum(by_type.values()),
        "open": sum(open_by_priority.values()),
        "by_type": dict(sorted(by_type.items())),
        "by_status": dict(sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0]))),
        "open_by_priority": open_by_priority,
        "changes": count(Change),
        "agents": count(Agent),
        "teams": count(Team),
        "services": count(Service),
    }
