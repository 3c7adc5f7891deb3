"""Which steps an agent may take on a change now: what the board and the detail screen offer
as keys. Asked of the same checks the writes make, so a key is never offered for a step the
desk would refuse for the agent's role or the change's state (the step's own input, such as
a missing plan or a conflict, is still judged when it is taken)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change, ChangeApproval
from itsm_tui.desk.changes.authorization import GATES, cab_members
from itsm_tui.desk.changes.common import require_worker, workflow
from itsm_tui.desk.changes.drafting import EDITABLE
from itsm_tui.desk.changes.implementation import any_approval
from itsm_tui.desk.changes.risk import ASSESSABLE
from itsm_tui.desk.changes.schedule import SCHEDULABLE
from itsm_tui.desk.errors import PermissionDenied
from itsm_tui.domain import roles
from itsm_tui.domain.change_process import takes_votes
from itsm_tui.domain.workflow import STANDARD_CHANGE

# In the order a change meets them.
STEPS = (
    "update",
    "assess",
    "schedule",
    "submit",
    "approve",
    "reject",
    "start",
    "complete",
    "review",
    "close",
    "cancel",
    "link_incident",
)


def _works_it(actor: Agent, change: Change) -> bool:
    try:
        require_worker(actor, change, "")
    except PermissionDenied:
        return False
    return True


def _may_vote(session: Session, actor: Agent, change: Change) -> bool:
    if not takes_votes(change.change_type, change.status, change.authorized_at is not None):
        return False
    if actor.id in (change.owner_id, change.requested_by_id):
        return False
    if not any(m.id == actor.id for m in cab_members(session, change.change_type)):
        return False
    decided = session.scalar(
        select(ChangeApproval.decision).where(
            ChangeApproval.change_id == change.id, ChangeApproval.approver_id == actor.id
        )
    )
    return decided in (None, "pending")


def permitted_steps(session: Session, actor: Agent, change: Change) -> tuple[str, ...]:
    """The steps (STEPS) `actor` may take on `change` as it stands."""
    allowed: set[str] = set()
    kind, status = change.change_type, change.status
    moves = workflow(change).allowed(status)
    if actor.active and _may_vote(session, actor, change):
        allowed.add("approve")
        if status == "authorization":
            allowed.add("reject")
    if (
        actor.active
        and change.actual_start is not None
        and roles.can(actor.role_set, "ticket.work")
    ):
        allowed.add("link_incident")
    if not _works_it(actor, change):
        return tuple(s for s in STEPS if s in allowed)
    if status in EDITABLE[kind]:
        allowed.add("update")
    if kind != STANDARD_CHANGE and status in ASSESSABLE[kind]:
        allowed.add("assess")
    if status in SCHEDULABLE[kind]:
        allowed.add("schedule")
    if (kind, status) in GATES:
        allowed.add("submit")
    if "implementing" in moves and (status != "authorization" or any_approval(session, change)):
        # An emergency change starts from authorization once one member approved it.
        allowed.add("start")
    if status == "implementing":
        allowed.add("complete")
    if status == "review":
        allowed.update(("review", "close"))
    if "cancelled" in moves:
        allowed.add("cancel")
    return tuple(s for s in STEPS if s in allowed)
