"""Lists of changes: what waits for a CAB member's vote, and filtered pages keyed by number
(`itsm change list`), each an index range, never the table loaded into Python."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, false, or_, select
from sqlalchemy.orm import Session, aliased

from itsm_tui.data.models import Agent, Change, ChangeApproval
from itsm_tui.domain.change_process import VOTING_STATUSES


def takes_votes_clause() -> ColumnElement[bool]:
    """SQL twin of domain.change_process.takes_votes: the change is open to the CAB's vote."""
    branches = []
    for change_type, statuses in VOTING_STATUSES.items():
        branches.append(and_(Change.change_type == change_type, Change.status == "authorization"))
        later = [s for s in statuses if s != "authorization"]
        if later:
            branches.append(
                and_(
                    Change.change_type == change_type,
                    Change.status.in_(later),
                    Change.authorized_at.is_(None),
                )
            )
    return or_(*branches) if branches else false()


def _awaiting(agent_id: int) -> ColumnElement[bool]:
    return (
        select(ChangeApproval.id)
        .where(
            ChangeApproval.change_id == Change.id,
            ChangeApproval.approver_id == agent_id,
            ChangeApproval.decision == "pending",
        )
        .exists()
    )


def awaiting_approval_by(session: Session, agent_id: int) -> list[str]:
    """Numbers of the changes waiting for this agent's vote, oldest number first."""
    # From the agent's pending ballots (ix_change_approvals_approver), then each change.
    return list(
        session.scalars(
            select(Change.number)
            .join(ChangeApproval, ChangeApproval.change_id == Change.id)
            .where(
                ChangeApproval.approver_id == agent_id,
                ChangeApproval.decision == "pending",
                takes_votes_clause(),
            )
            .order_by(Change.number)
        )
    )


def service_clause(name: str) -> ColumnElement[bool]:
    """The change lists `name` among its affected services.

    The JSON list is matched as text on both databases: the name as JSON writes it,
    quotes included, so "CRM" does not match "CRM Reporting".
    """
    needle = json.dumps(name)
    for char in ("\\", "%", "_"):
        needle = needle.replace(char, "\\" + char)
    return cast(Change.services, Text).like(f"%{needle}%", escape="\\")


@dataclass(frozen=True)
class ChangeRow:
    number: str
    title: str
    change_type: str
    status: str
    risk: str | None
    services: tuple[str, ...]
    planned_start: datetime | None
    planned_end: datetime | None
    owner: str | None
    implementer: str | None
    version: int

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "number": self.number,
            "title": self.title,
            "change_type": self.change_type,
            "status": self.status,
            "risk": self.risk,
            "services": list(self.services),
            "planned_start": iso(self.planned_start),
            "planned_end": iso(self.planned_end),
            "owner": self.owner,
            "implementer": self.implementer,
            "version": self.version,
        }


def list_changes(
    session: Session,
    *,
    status: str | None = None,
    change_type: str | None = None,
    service: str | None = None,
    awaiting: int | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[ChangeRow]:
    """One page of changes in number order, after the number `after` (keyset)."""
    owner = aliased(Agent)
    implementer = aliased(Agent)
    stmt = (
        select(
            Change.number,
            Change.title,
            Change.change_type,
            Change.status,
            Change.risk,
            Change.services,
            Change.planned_start,
            Change.planned_end,
            owner.username,
            implementer.username,
            Change.version,
        )
        .outerjoin(owner, owner.id == Change.owner_id)
        .outerjoin(implementer, implementer.id == Change.implementer_id)
    )
    if status is not None:
        stmt = stmt.where(Change.status == status)
    if change_type is not None:
        stmt = stmt.where(Change.change_type == change_type)
    if service is not None:
        stmt = stmt.where(service_clause(service))
    if awaiting is not None:
        stmt = stmt.where(_awaiting(awaiting), takes_votes_clause())
    if after is not None:
        stmt = stmt.where(Change.number > after.strip().upper())
    rows = session.execute(stmt.order_by(Change.number).limit(limit)).all()
    return [
        ChangeRow(
            number=r[0],
            title=r[1],
            change_type=r[2],
            status=r[3],
            risk=r[4],
            services=tuple(r[5] or ()),
            planned_start=r[6],
            planned_end=r[7],
            owner=r[8],
            implementer=r[9],
            version=r[10],
        )
        for r in rows
    ]
