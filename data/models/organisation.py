"""People and organisation: teams, agents and their keys, requesters, services and the catalogue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[int] = mapped_column(Integer, default=1)
    email: Mapped[str | None] = mapped_column(String(200))
    # Where tickets go when they breach (the next tier).
    escalation_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", use_alter=True, name="fk_teams_escalation_team_id_teams")
    )
    supervisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", use_alter=True, name="fk_teams_supervisor_id_agents")
    )

    escalation_team: Mapped[Team | None] = relationship(remote_side=[id])
    supervisor: Mapped[Agent | None] = relationship(foreign_keys=[supervisor_id])


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    # Space-separated role names; `itsm_tui.domain.roles` defines them.
    roles: Mapped[str] = mapped_column(String(200), default="agent")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    hourly_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The agent's read mark: every notice to them or their team delivered at or before it
    # counts as read, as a mail client's read pointer does. "Mark all read" moves it; a
    # receipt per notice (NotificationRead) stays for single notices delivered after it.
    # Like CatalogueItem.approval_role: neither loaded with the agent nor fetched after an
    # insert, so an agent loaded or inserted on a store from before revision 0031 (the
    # upgrade tests) never names it; an insert gets NULL (no mark) from the database.
    notices_read_through: Mapped[datetime | None] = mapped_column(
        server_default=text("NULL"), deferred=True
    )

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])

    __mapper_args__ = {"eager_defaults": False}
    # The SSH public keys that sign this agent in to `itsm serve`, oldest first.
    ssh_keys: Mapped[list[AgentKey]] = relationship(
        back_populates="agent",
        cascade="all, delete-orphan",
        order_by="AgentKey.id",
    )

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


class AgentKey(Base):
    """One SSH public key of one agent: who a remote session is comes from its key."""

    __tablename__ = "agent_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    # OpenSSH's SHA256 fingerprint ("SHA256:…"): what a login is looked up by, and so unique:
    # a key signs in as one agent only.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    # The key as an authorized_keys line writes it: "ssh-ed25519 AAAA… comment".
    public_key: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime]

    agent: Mapped[Agent] = relationship(back_populates="ssh_keys")


class Requester(Base):
    __tablename__ = "requesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # 1 = business critical … 4 = low.
    criticality: Mapped[int] = mapped_column(Integer, default=3)
    availability_target: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal("99.9"))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # When changes may run: [{"name", "starts_at" (first occurrence, aware ISO),
    # "ends_at", "recurrence" (RRULE or null)}] as the desk file gives them.
    # A server default only, neither loaded with the service nor fetched after an insert:
    # an insert that never names it (on an older revision's store too) gets [] from the
    # database.
    maintenance_windows: Mapped[list[Any]] = mapped_column(
        JSON, server_default=text("'[]'"), deferred=True
    )

    owner_team: Mapped[Team | None] = relationship()

    __mapper_args__ = {"eager_defaults": False}
    # The services this one rides on (rows of service_dependencies).
    depends_on: Mapped[list[Service]] = relationship(
        secondary="service_dependencies",
        primaryjoin="Service.id == ServiceDependency.service_id",
        secondaryjoin="Service.id == ServiceDependency.depends_on_id",
        order_by="Service.name",
    )


class ServiceDependency(Base):
    """Service `service_id` rides on `depends_on_id`: a change or an outage of the second
    reaches the first."""

    __tablename__ = "service_dependencies"
    __table_args__ = (Index("ix_service_dependencies_depends_on", "depends_on_id"),)

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)


class CatalogueItem(Base):
    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who approves a request: agents holding this role; None: the approve_request permission.
    # Like Service.maintenance_windows: an insert that never names it (on a store from
    # before revision 0024 too) gets NULL from the database.
    approval_role: Mapped[str | None] = mapped_column(
        String(40), server_default=text("NULL"), deferred=True
    )
    # Target fulfilment time in business minutes.
    fulfilment_minutes: Mapped[int] = mapped_column(Integer, default=480)
    # Form fields a requester fills in: [{"name", "label", "required", "kind"}].
    form: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The fulfilment plan: [{"name", "team", "minutes"}], done one after another, each by
    # its team (itsm_tui.desk.fulfilment). Like approval_role: NULL from the database when
    # an insert does not name it (stores before revision 0027 have no such column).
    tasks: Mapped[list[Any] | None] = mapped_column(
        JSON, server_default=text("NULL"), deferred=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    team: Mapped[Team | None] = relationship()
    service: Mapped[Service | None] = relationship()

    __mapper_args__ = {"eager_defaults": False}
