"""Remote sessions on the desk's record: who a key signs in as, and the audit of each login.

A login and a logout are audit events on the agent (record type "agent"), naming the
key's fingerprint, the client's address and, at the logout, how long the session
lasted, so an administrator can tell who was on the desk from where and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AuditEvent
from itsm_tui.desk.agent_keys import key_holder

# What stands for a key's fingerprint when the reverse proxy vouched for a browser session.
PROXY = "proxy"


@dataclass(frozen=True)
class SignedIn:
    """The agent a remote session works as, fixed for the session's whole life."""

    agent_id: int
    username: str
    fingerprint: str


def sign_in(session: Session, username: str, fingerprint: str) -> SignedIn | None:
    """The session's agent when the key is one of `username`'s and they are active; else None.

    The name typed after `ssh` must be the key's agent: a key never signs in as anyone else.
    """
    agent = key_holder(session, fingerprint)
    if agent is None or not agent.active or agent.username != username:
        return None
    return SignedIn(agent.id, agent.username, fingerprint)


def vouched_for(session: Session, username: str) -> SignedIn | None:
    """A browser session's agent, named by the reverse proxy: an active agent, or None."""
    agent = session.scalars(select(Agent).where(Agent.username == username)).one_or_none()
    if agent is None or not agent.active:
        return None
    return SignedIn(agent.id, agent.username, PROXY)


def _event(who: SignedIn, action: str, now: datetime, details: dict[str, object]) -> AuditEvent:
    return AuditEvent(
        at=now,
        actor_id=who.agent_id,
        record_type="agent",
        record_id=who.agent_id,
        record_number=who.username,
        action=action,
        field="session",
        new_value=json.dumps(details, sort_keys=True),
    )


def record_login(session: Session, who: SignedIn, address: str, *, now: datetime) -> None:
    session.add(
        _event(who, "session.login", now, {"fingerprint": who.fingerprint, "address": address})
    )


def record_logout(
    session: Session, who: SignedIn, address: str, *, started: datetime, now: datetime, why: str
) -> None:
    seconds = max(0, round((now - started).total_seconds()))
    session.add(
        _event(
            who,
            "session.logout",
            now,
            {"fingerprint": who.fingerprint, "address": address, "seconds": seconds, "why": why},
        )
    )
