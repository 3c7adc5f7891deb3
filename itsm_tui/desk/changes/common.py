"""What every change write shares: loading a change to write it, who may work it, moving
it through its type's state machine, the desk file's rules for its type, notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change, Notification
from itsm_tui.desk.errors import NotFound, PermissionDenied, TransitionRefused
from itsm_tui.desk.records import Edit, as_utc, check_version, utcnow
from itsm_tui.domain import roles
from itsm_tui.domain.workflow import CHANGE_WORKFLOWS, Workflow
from itsm_tui.i18n import _

MANAGE = "change.manage"


def moment(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, _("now"))


def load_change(session: Session, number: str, expected_version: int | None = None) -> Change:
    """The change, locked for this transaction on PostgreSQL, at the version the caller saw."""
    key = number.strip().upper()
    change = session.scalars(
        select(Change)
        .where(Change.number == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if change is None:
        raise NotFound(_("no change {number} on this desk").format(number=key))
    check_version(session, change, expected_version)
    return change


def workflow(change: Change) -> Workflow:
    return CHANGE_WORKFLOWS[change.change_type]


# The desk file's settings, read through itsm_tui.config when a write needs them: config
# imports the desk's errors and SLA rules, so the desk cannot import config at load time.


def type_rules(session: Session, change_type: str) -> dict[str, Any]:
    """The desk file's rules for a change type (approvals, cab, lead time, review…)."""
    from itsm_tui.config.readers import change_types

    return dict(change_types(session).get(change_type) or {})


def templates(session: Session) -> dict[str, dict[str, Any]]:
    """Standard-change templates by name."""
    from itsm_tui.config.readers import change_templates

    return change_templates(session)


def questionnaire(session: Session) -> dict[str, Any]:
    """The risk questionnaire with its thresholds and rules."""
    from itsm_tui.config.readers import risk_questionnaire

    return risk_questionnaire(session)


def a_change_of_type(change_type: str) -> str:
    """The type as a message says it, article included: "an emergency change"."""
    named = {
        "standard": _("a standard change"),
        "normal": _("a normal change"),
        "emergency": _("an emergency change"),
    }
    return named.get(change_type, _("a {kind} change").format(kind=change_type))


def is_manager(actor: Agent) -> bool:
    return roles.can(actor.role_set, MANAGE)


def require_worker(actor: Agent, change: Change, doing: str) -> None:
    """The change's owner, requester or implementer works it; so does any change manager."""
    if not actor.active:
        raise PermissionDenied(
            _("agent {agent} is inactive and cannot {doing}").format(
                agent=actor.username, doing=doing
            )
        )
    if actor.id in (change.owner_id, change.requested_by_id, change.implementer_id):
        return
    if is_manager(actor):
        return
    raise PermissionDenied(
        _(
            "{agent} cannot {doing}: only {number}'s owner, requester or implementer, "
            "or a change manager, may"
        ).format(agent=actor.username, doing=doing, number=change.number)
    )


def refuse_move(change: Change, target: str, why: str = "") -> TransitionRefused:
    """A refused move says why and what is allowed from here."""
    allowed = workflow(change).allowed(change.status)
    return TransitionRefused(
        _("{number} is {status}{why}; {kind} moves from {status} to: {allowed}").format(
            number=change.number,
            status=change.status,
            why=f" ({why})" if why else "",
            kind=a_change_of_type(change.change_type),
            allowed=", ".join(allowed) or _("nothing (it is finished)"),
        )
    )


def check_move(change: Change, target: str) -> None:
    if not workflow(change).can_move(change.status, target):
        raise refuse_move(change, target)


def move(edit: Edit, change: Change, target: str) -> None:
    """Every status change of a change: the open flag and closed_at follow it."""
    check_move(change, target)
    flow = workflow(change)
    edit.set("status", target)
    edit.set("is_open", flow.is_open(target))
    if not flow.is_open(target):
        edit.set("closed_at", edit.now)


def notify(
    session: Session,
    agent_id: int | None,
    actor: Agent,
    change: Change,
    message: str,
    now: datetime,
    *,
    kind: str = "approval",
) -> None:
    """A notice about a change in an agent's inbox (and the outbox), written with its cause."""
    # Nobody needs to be told about what they did themselves.
    if agent_id is None or agent_id == actor.id:
        return
    session.add(
        Notification(
            agent_id=agent_id,
            change_id=change.id,
            kind=kind,
            message=message,
            created_at=now,
            deliver_at=now,
        )
    )
