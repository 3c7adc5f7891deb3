"""Bootstrapping a desk: the default desk file on an empty store, then its first admin."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    BusinessCalendar,
    DeskSetting,
    Team,
)
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.identity import check_username
from itsm_tui.desk.records import as_utc
from itsm_tui.domain.roles import ADMIN
from itsm_tui.i18n import _


@dataclass(frozen=True)
class InitResult:
    """What `init_desk` did: applied the default desk file, created the first admin, or neither."""

    applied_default: bool
    # The plan of the default desk file, one line per change (empty when not applied).
    config_lines: tuple[str, ...] = field(default=())
    created_admin: str | None = None

    @property
    def did_nothing(self) -> bool:
        return not self.applied_default and self.created_admin is None


def has_configuration(session: Session) -> bool:
    """Whether a desk file (or anything standing in for one) was ever applied to the store."""
    return bool(
        session.scalar(
            select(
                exists().select_from(DeskSetting)
                | exists().select_from(Team)
                | exists().select_from(BusinessCalendar)
            )
        )
    )


def has_agents(session: Session) -> bool:
    return bool(session.scalar(select(exists().select_from(Agent))))


def init_desk(session: Session, *, os_user: str, now: datetime) -> InitResult:
    """Make the store a working desk; running it again on a working desk changes nothing.

    An empty store gets the default desk file. A desk with no agents gets `os_user` as
    its administrator, so whoever set the desk up can run every other command; the
    creation is audited like any other write.
    """
    from itsm_tui.config import apply_config, load_default_desk

    now = as_utc(now, _("now"))
    applied = False
    lines: tuple[str, ...] = ()
    if not has_configuration(session):
        plan = apply_config(session, load_default_desk(), actor=None, now=now)
        applied = True
        lines = tuple(plan.lines())

    created: str | None = None
    if not has_agents(session):
        try:
            username = check_username(os_user, _("the first agent's name"))
        except InvalidInput as exc:
            raise InvalidInput(
                _("{problem}; pass one with --as").format(problem=exc.message)
            ) from None
        admin = Agent(username=username, display_name=username, roles=ADMIN, active=True)
        session.add(admin)
        session.flush()
        _audit_self(
            session,
            admin,
            "agent.create",
            None,
            {"username": username, "roles": ADMIN},
            _("itsm init: the first agent of a desk with no agents"),
            now,
        )
        created = username
    return InitResult(applied_default=applied, config_lines=lines, created_admin=created)


def seat_in_first_line(session: Session, username: str, *, now: datetime) -> str | None:
    """Put an agent with no team on the first-line team (the lowest tier), as the demo
    does for whoever opens it, so its queue views have tickets; returns the team's name.
    An agent already on a team, or a desk without teams, is left as it is."""
    now = as_utc(now, _("now"))
    agent = session.scalar(select(Agent).where(Agent.username == username))
    if agent is None or agent.team_id is not None:
        return None
    team = session.scalar(select(Team).order_by(Team.tier, Team.id).limit(1))
    if team is None:
        return None
    agent.team_id = team.id
    _audit_self(
        session,
        agent,
        "agent.update",
        "team",
        team.name,
        _("itsm demo: the demo's agent works in the first line"),
        now,
    )
    return team.name


def _audit_self(
    session: Session,
    agent: Agent,
    action: str,
    field: str | None,
    new_value: object,
    reason: str,
    now: datetime,
) -> None:
    """The audit event of a setup step done to an agent on their own behalf."""
    session.add(
        AuditEvent(
            at=now,
            actor_id=agent.id,
            record_type="agent",
            record_id=agent.id,
            record_number=agent.username,
            action=action,
            field=field,
            old_value=None,
            new_value=json.dumps(new_value),
            reason=reason,
        )
    )
    session.flush()
