"""A small desk for tests: two tiers of teams, agents of each role, services, a catalogue item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, CatalogueItem, DeskSetting, Service, Team
from itsm_tui.data.store import Store

# Tests pass this as `now`: no test reads the wall clock.
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@dataclass
class Desk:
    store: Store
    agent: str = "alice"
    other_agent: str = "bob"
    network_agent: str = "nina"
    supervisor: str = "sam"
    cab: str = "carol"
    admin: str = "root"

    def actor(self, session: Session, username: str) -> Agent:
        from itsm_tui.desk.records import get_agent

        return get_agent(session, username)


def build_desk(store: Store) -> Desk:
    with store.write() as session:
        desk_team = Team(name="Service Desk", tier=1, description="")
        network = Team(name="Network", tier=2, description="")
        session.add_all([desk_team, network])
        session.flush()
        desk_team.escalation_team_id = network.id
        agents = [
            Agent(
                username="alice",
                display_name="Alice Agent",
                roles="agent",
                team_id=desk_team.id,
                hourly_cost=Decimal("60"),
            ),
            Agent(
                username="bob",
                display_name="Bob Agent",
                roles="agent",
                team_id=desk_team.id,
                hourly_cost=Decimal("50"),
            ),
            Agent(
                username="nina",
                display_name="Nina Network",
                roles="agent",
                team_id=network.id,
                hourly_cost=Decimal("80"),
            ),
            Agent(
                username="sam",
                display_name="Sam Supervisor",
                roles="agent supervisor",
                team_id=desk_team.id,
                hourly_cost=Decimal("90"),
            ),
            Agent(username="carol", display_name="Carol CAB", roles="cab", team_id=network.id),
            Agent(username="root", display_name="Desk Admin", roles="admin"),
        ]
        session.add_all(agents)
        session.flush()
        desk_team.supervisor_id = agents[3].id
        email = Service(
            name="Email",
            criticality=2,
            owner_team_id=desk_team.id,
            availability_target=Decimal("99.9"),
            description="",
        )
        vpn = Service(
            name="VPN",
            criticality=1,
            owner_team_id=network.id,
            availability_target=Decimal("99.95"),
            description="",
        )
        session.add_all([email, vpn])
        session.flush()
        session.add(
            CatalogueItem(
                code="laptop",
                name="New laptop",
                category="hardware",
                team_id=desk_team.id,
                requires_approval=True,
                fulfilment_minutes=2400,
                form=[{"name": "model", "label": "Model", "required": True, "kind": "text"}],
                description="",
            )
        )
        session.add(DeskSetting(key="priority_matrix", value=[[1, 2, 3], [2, 3, 4], [3, 4, 4]]))
    return Desk(store=store)
