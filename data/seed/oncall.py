"""The demo desk's on-call rotas: one weekly rota per team, applied through the desk file's
own write path (`apply_config`), only on a desk that has none."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.config import DeskConfig, apply_config
from itsm_tui.config.model import RotationConfig
from itsm_tui.config.readers import desk_settings, oncall_rotations
from itsm_tui.data.models import Agent, Team

HANDOVER = time(9, 0)
# A rota of up to four: enough for a chain, few enough that each member's turn comes round.
MEMBERS = 4


def seed_rotations(session: Session, now: datetime) -> int:
    """Give each team with agents a weekly rota (its agents by seniority of their rows,
    the supervisor left for the chain's end); returns how many rotas were written.

    The rotas begin at the first 09:00 (desk time) after `now`: the seeded history's
    escalations all came before it, when the team was paged as a team, so the history
    stays what the write path made of it.
    """
    if oncall_rotations(session):
        return 0
    zone = desk_settings(session)["timezone"]
    local = now.astimezone(ZoneInfo(zone))
    first = local.date() if local.time() < HANDOVER else local.date() + timedelta(days=1)
    rotations = []
    for team in session.scalars(select(Team).order_by(Team.id)):
        members = tuple(
            session.scalars(
                select(Agent.username)
                .where(Agent.team_id == team.id, Agent.active.is_(True))
                .where(Agent.id != team.supervisor_id if team.supervisor_id else True)
                .order_by(Agent.id)
                .limit(MEMBERS)
            )
        )
        if members:
            rotations.append(
                RotationConfig(
                    team=team.name,
                    members=members,
                    starts=first,
                    handover=HANDOVER.strftime("%H:%M"),
                    shift_days=7,
                    timezone=zone,
                    ack_timeout_minutes=15,
                )
            )
    if rotations:
        apply_config(session, DeskConfig(rotations=tuple(rotations)), now=now)
    return len(rotations)
