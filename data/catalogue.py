"""The service catalogue as the desk offers it: active items by category, searched in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import CatalogueItem, Service, Team
from itsm_tui.desk.fulfilment import SHOWN_PRIORITY, delivery_standard, working_day_of
from itsm_tui.desk.sla import ranked_policies
from itsm_tui.i18n import _


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    description: str
    category: str
    team: str | None
    service: str | None
    requires_approval: bool
    # The delivery standard: promised fulfilment, in business minutes.
    fulfilment_minutes: int
    form: tuple[dict[str, Any], ...]
    # The fulfilment plan: {"name", "team", "minutes"?} in order (empty: worked by hand).
    tasks: tuple[dict[str, Any], ...] = ()
    approval_role: str | None = None
    # The working day (minutes) of the calendar that times its requests; None: 24x7.
    working_day_minutes: int | None = None

    def standard(self) -> str:
        """The delivery standard as people say it ("5 working days")."""
        return delivery_standard(self.fulfilment_minutes, self.working_day_minutes)

    def approval(self) -> str:
        """Who must approve a request for it, as a person says it."""
        if not self.requires_approval:
            return _("none")
        if self.approval_role:
            return _("required, by the {role} role").format(role=self.approval_role)
        return _("required")

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "team": self.team,
            "service": self.service,
            "requires_approval": self.requires_approval,
            "fulfilment_minutes": self.fulfilment_minutes,
            "delivery_standard": self.standard(),
            "form": [dict(f) for f in self.form],
            "approval_role": self.approval_role,
            "tasks": [dict(t) for t in self.tasks],
        }


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def catalogue_entries(
    session: Session, *, search: str = "", category: str | None = None
) -> list[CatalogueEntry]:
    """Active items ordered by category then name; `search` matches code, name, description or
    category (case-insensitive). The catalogue is desk configuration: hundreds of rows at most."""
    query = (
        select(CatalogueItem, Team.name, Service.name)
        .outerjoin(Team, Team.id == CatalogueItem.team_id)
        .outerjoin(Service, Service.id == CatalogueItem.service_id)
        .where(CatalogueItem.active)
        .order_by(CatalogueItem.category, CatalogueItem.name, CatalogueItem.code)
    )
    if search.strip():
        pattern = _like(search.strip())
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        CatalogueItem.code,
                        CatalogueItem.name,
                        CatalogueItem.description,
                        CatalogueItem.category,
                    )
                )
            )
        )
    if category is not None:
        query = query.where(func.lower(CatalogueItem.category) == category.strip().lower())
    policies = ranked_policies(session)
    return [
        CatalogueEntry(
            code=item.code,
            name=item.name,
            description=item.description or "",
            category=item.category or "",
            team=team,
            service=service,
            requires_approval=bool(item.requires_approval),
            fulfilment_minutes=item.fulfilment_minutes,
            form=tuple(item.form or ()),
            tasks=tuple(item.tasks or ()),
            approval_role=item.approval_role,
            working_day_minutes=working_day_of(policies, item.code, service, SHOWN_PRIORITY),
        )
        for item, team, service in session.execute(query)
    ]
