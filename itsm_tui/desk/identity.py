"""Who acts on the desk: the agent a command or the console works as.

Until remote access brings identities, the caller is the operating system's login
name and what protects a desk is who can open its store (the SQLite file's
permissions, the PostgreSQL credentials). Within that, an agent acts as themselves;
acting as someone else is an administrator's impersonation, and every audit event
written in it names both (`actor` and `impersonator`). An inactive agent can no
longer use the desk at all, reads included.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, AuditEvent
from itsm_tui.desk.errors import InvalidInput, NotFound, PermissionDenied
from itsm_tui.domain import roles
from itsm_tui.domain.roles import USERNAME
from itsm_tui.i18n import _

IMPERSONATE = "agent.impersonate"
# Session.info key: the administrator behind the writes of an impersonating session.
IMPERSONATOR = "itsm.impersonator_id"


@dataclass(frozen=True)
class Acting:
    """The agent doing the work, and the administrator acting as them, if one is."""

    agent: Agent
    impersonator: Agent | None = None


def check_username(name: str, what: str) -> str:
    """A user name exactly as the desk file writes one: `' Root'` is not `root`."""
    if not USERNAME.fullmatch(name) or len(name) > 80:
        raise InvalidInput(
            _(
                "{what} {name!r} is not a user name: letters, digits and . _ @ - only, "
                "starting with a letter or digit"
            ).format(what=what, name=name)
        )
    return name


def _agent_named(session: Session, username: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.username == username)).one_or_none()


def _usable(agent: Agent) -> Agent:
    if not agent.active:
        raise PermissionDenied(
            _(
                "agent {name} is inactive and can no longer use the desk; an administrator "
                "can set active = true in the desk file"
            ).format(name=agent.username)
        )
    return agent


def resolve_acting(session: Session, *, login: str, acting_as: str | None) -> Acting:
    """The agent to act as: `login` itself, or `acting_as` when `login` is an admin.

    Refuses a malformed name, an unknown or inactive agent, and an impersonation by
    anyone but an active administrator.
    """
    if acting_as is None or acting_as == login:
        check_username(login, _("your login name"))
        agent = _agent_named(session, login)
        if agent is None:
            raise NotFound(
                _(
                    "your login name {name} is not an agent on this desk; agents are added "
                    "in the desk file"
                ).format(name=login)
            )
        return Acting(_usable(agent))
    check_username(acting_as, "--as")
    target = _agent_named(session, acting_as)
    if target is None:
        raise NotFound(
            _("no agent {name!r} on this desk; agents are added in the desk file").format(
                name=acting_as
            )
        )
    admin = _agent_named(session, login) if USERNAME.fullmatch(login) else None
    if admin is None or not admin.active or not roles.can(admin.role_set, IMPERSONATE):
        raise PermissionDenied(
            _(
                "only an active administrator can act as another agent, and your login "
                "{login} is not one on this desk; run without --as to act as yourself"
            ).format(login=login)
        )
    _usable(target)
    return Acting(target, admin)


def session_marks(acting: Acting) -> dict[str, int]:
    """What the sessions of `acting` carry (`Session.info`): the impersonating admin, if any."""
    if acting.impersonator is None:
        return {}
    return {IMPERSONATOR: acting.impersonator.id}


def impersonator_id(session: Session) -> int | None:
    return session.info.get(IMPERSONATOR)


@event.listens_for(Session, "before_flush")
def _stamp_impersonator(session: Session, _context: object, _instances: object) -> None:
    # Every audit event of the write path passes through a flush: stamping here covers
    # them all without each write having to know it is impersonated.
    admin_id = session.info.get(IMPERSONATOR)
    if admin_id is None:
        return
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.impersonator_id is None:
            obj.impersonator_id = admin_id
