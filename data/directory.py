"""The desk's small tables as the console needs them: names for pickers, ids for filters.

Read once per screen (teams, agents, services and catalogue items are tens to
hundreds of rows), never per keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, CatalogueItem, Service, Team
from itsm_tui.data.store_summary import desk_name
from itsm_tui.desk.zones import desk_zone


@dataclass(frozen=True)
class DeskDirectory:
    """Names the console resolves to ids: the acting agent, teams, agents and services."""

    agent_id: int | None
    team_id: int | None
    agent_active: bool
    teams: dict[str, int]
    agents: dict[str, int]
    services: dict[str, int]
    desk_name: str | None
    # The desk's time zone: the filter line's dates (`resolved:2026-11-01..2026-11-30`) are
    # its local days, as the KPIs' periods are.
    zone: tzinfo = UTC


def desk_directory(session: Session, username: str) -> DeskDirectory:
    """The small tables the console's views and filters need, read once at start."""
    me = session.execute(
        select(Agent.id, Agent.team_id, Agent.active).where(Agent.username == username)
    ).first()
    return DeskDirectory(
        agent_id=me.id if me else None,
        team_id=me.team_id if me else None,
        agent_active=bool(me.active) if me else False,
        teams=dict(session.execute(select(Team.name, Team.id).order_by(Team.name)).all()),
        agents=dict(
            session.execute(select(Agent.username, Agent.id).order_by(Agent.username)).all()
        ),
        services=dict(
            session.execute(select(Service.name, Service.id).order_by(Service.name)).all()
        ),
        desk_name=desk_name(session),
        zone=desk_zone(session),
    )


@dataclass(frozen=True)
class AgentChoice:
    username: str
    display_name: str
    team: str | None


@dataclass(frozen=True)
class CatalogueChoice:
    code: str
    name: str
    service: str | None
    # [{"name", "label", "required", "kind"}]
    form: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class FormChoices:
    teams: tuple[str, ...]
    agents: tuple[AgentChoice, ...]
    services: tuple[str, ...]
    catalogue: tuple[CatalogueChoice, ...]


def form_choices(session: Session) -> FormChoices:
    """Teams, active agents, services and active catalogue items, by name."""
    teams = tuple(session.scalars(select(Team.name).order_by(Team.tier, Team.name)))
    agents = tuple(
        AgentChoice(username, display or "", team)
        for username, display, team in session.execute(
            select(Agent.username, Agent.display_name, Team.name)
            .outerjoin(Team, Team.id == Agent.team_id)
            .where(Agent.active == True)  # noqa: E712 — SQL boolean comparison
            .order_by(Agent.username)
        )
    )
    services = tuple(session.scalars(select(Service.name).order_by(Service.name)))
    catalogue = tuple(
        CatalogueChoice(code, name, service, tuple(form or ()))
        for code, name, service, form in session.execute(
            select(CatalogueItem.code, CatalogueItem.name, Service.name, CatalogueItem.form)
            .outerjoin(Service, Service.id == CatalogueItem.service_id)
            .where(CatalogueItem.active == True)  # noqa: E712
            .order_by(CatalogueItem.code)
        )
    )
    return FormChoices(teams, agents, services, catalogue)
