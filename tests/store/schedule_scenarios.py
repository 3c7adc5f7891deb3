"""Schedule scenarios for the change-schedule tests: services with dependencies and
maintenance windows, freeze windows and changes, written straight into a store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    Change,
    ChangeApproval,
    FreezeWindow,
    Service,
    ServiceDependency,
)

OPEN = {"draft", "assessment", "authorization", "scheduled", "implementing", "review"}


@dataclass(frozen=True)
class MaintenanceSpec:
    name: str
    starts_at: datetime
    ends_at: datetime
    recurrence: str | None = None
    timezone: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "recurrence": self.recurrence,
        }
        if self.timezone:
            out["timezone"] = self.timezone
        return out


@dataclass(frozen=True)
class FreezeSpec:
    name: str
    starts_at: datetime
    ends_at: datetime
    services: tuple[str, ...] = ()
    recurrence: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class ChangeSpec:
    number: str
    services: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    status: str = "scheduled"
    implementer: str | None = None
    title: str = "Planned work"


@dataclass(frozen=True)
class Scenario:
    # (service, depends_on) pairs.
    dependencies: tuple[tuple[str, str], ...] = ()
    maintenance: dict[str, tuple[MaintenanceSpec, ...]] = field(default_factory=dict)
    freezes: tuple[FreezeSpec, ...] = ()
    changes: tuple[ChangeSpec, ...] = ()


def ensure_services(session: Session, names: Sequence[str]) -> None:
    have = set(session.scalars(select(Service.name)))
    for name in names:
        if name not in have:
            session.add(Service(name=name, description="", maintenance_windows=[]))
    session.flush()


def install(session: Session, scenario: Scenario, *, now: datetime) -> dict[str, int]:
    """Replace the store's schedule with the scenario's; returns change number → id."""
    session.execute(delete(ChangeApproval))
    session.execute(delete(Change))
    session.execute(delete(FreezeWindow))
    session.execute(delete(ServiceDependency))
    session.execute(update(Service).values(maintenance_windows=[]))
    ids = {n: i for i, n in session.execute(select(Service.id, Service.name))}
    agents = {u: i for i, u in session.execute(select(Agent.id, Agent.username))}
    for service, depends_on in scenario.dependencies:
        session.add(ServiceDependency(service_id=ids[service], depends_on_id=ids[depends_on]))
    for service, windows in scenario.maintenance.items():
        session.execute(
            update(Service)
            .where(Service.name == service)
            .values(maintenance_windows=[w.as_json() for w in windows])
        )
    for f in scenario.freezes:
        session.add(
            FreezeWindow(
                name=f.name,
                starts_at=f.starts_at,
                ends_at=f.ends_at,
                reason="",
                services=list(f.services),
                recurrence=f.recurrence,
                timezone=f.timezone,
            )
        )
    numbers: dict[str, int] = {}
    for c in scenario.changes:
        row = Change(
            number=c.number,
            title=c.title,
            description="",
            change_type="normal",
            category="",
            status=c.status,
            is_open=c.status in OPEN,
            impact=3,
            services=list(c.services),
            implementer_id=agents[c.implementer] if c.implementer else None,
            planned_start=c.starts_at,
            planned_end=c.ends_at,
            implementation_plan="",
            backout_plan="",
            test_plan="",
            opened_at=now,
            updated_at=now,
            version=0,
        )
        session.add(row)
        session.flush()
        numbers[c.number] = row.id
    session.flush()
    return numbers


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
