"""Submitting a change to its next gate, and the CAB's vote: who may vote, how many approvals
are needed (a count or a share of the CAB), one rejection rejects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change, ChangeApproval
from itsm_tui.desk.changes.common import (
    a_change_of_type,
    load_change,
    moment,
    move,
    notify,
    refuse_move,
    require_worker,
    type_rules,
)
from itsm_tui.desk.changes.schedule import recheck_window
from itsm_tui.desk.errors import InvalidInput, PermissionDenied, TransitionRefused
from itsm_tui.desk.records import Edit, check_text
from itsm_tui.domain import roles
from itsm_tui.domain.change_process import approvals_needed, quorum_reached, takes_votes
from itsm_tui.domain.workflow import EMERGENCY_CHANGE, NORMAL_CHANGE, STANDARD_CHANGE
from itsm_tui.i18n import _

# ---------------------------------------------------------------------------
# Who votes, how many must approve


def cab_members(session: Session, change_type: str) -> list[Agent]:
    """The CAB for this type: the desk file's `cab` list (the emergency CAB), else every
    active agent with the cab role."""
    names = list(type_rules(session, change_type).get("cab") or ())
    if names:
        return list(
            session.scalars(
                select(Agent).where(Agent.username.in_(names), Agent.active).order_by(Agent.id)
            )
        )
    # Roles are one space-separated column; LIKE narrows, role_set decides.
    found = session.scalars(
        select(Agent).where(Agent.active, Agent.roles.like(f"%{roles.CAB}%")).order_by(Agent.id)
    )
    return [a for a in found if roles.CAB in a.role_set]


def approvals_rule(session: Session, change: Change) -> int | str:
    """The desk file's approvals for the change's risk level, else its type's quorum."""
    rules = type_rules(session, change.change_type)
    per_level = rules.get("approvals") or {}
    if change.risk and change.risk in per_level:
        return per_level[change.risk]
    return int(rules.get("quorum") or 1)


def _may_not_vote(change: Change) -> set[int]:
    # Nobody approves a change they requested or own.
    return {i for i in (change.owner_id, change.requested_by_id) if i is not None}


def _check_voter(session: Session, actor: Agent, change: Change) -> None:
    if not actor.active:
        raise PermissionDenied(
            _("agent {agent} is inactive and cannot vote on changes").format(agent=actor.username)
        )
    if actor.id in _may_not_vote(change):
        raise PermissionDenied(
            _("{agent} requested or owns {number}; nobody approves their own change").format(
                agent=actor.username, number=change.number
            )
        )
    members = cab_members(session, change.change_type)
    if any(m.id == actor.id for m in members):
        return
    if type_rules(session, change.change_type).get("cab"):
        raise PermissionDenied(
            _("{agent} is not on the emergency CAB; its members: {names}").format(
                agent=actor.username, names=", ".join(m.username for m in members) or "—"
            )
        )
    raise PermissionDenied(
        _("{agent} cannot vote on changes: that needs the role cab").format(agent=actor.username)
    )


# ---------------------------------------------------------------------------
# Submit

# (type, status) → the next gate `submit` takes a change to.
GATES = {
    (STANDARD_CHANGE, "draft"): "scheduled",
    (NORMAL_CHANGE, "draft"): "assessment",
    (NORMAL_CHANGE, "assessment"): "authorization",
    (EMERGENCY_CHANGE, "draft"): "authorization",
}


def _missing(change: Change, *, risk: bool, test_plan: bool) -> list[str]:
    needs = []
    if not change.services:
        needs.append(_("an affected service"))
    if risk and change.risk is None:
        needs.append(_("a risk assessment"))
    if not (change.implementation_plan or "").strip():
        needs.append(_("an implementation plan"))
    if not (change.backout_plan or "").strip():
        needs.append(_("a back-out plan"))
    if test_plan and not (change.test_plan or "").strip():
        needs.append(_("a test plan"))
    if change.planned_start is None or change.planned_end is None:
        needs.append(_("a planned window"))
    return needs


def _ready(change: Change, target: str, needs: list[str]) -> None:
    if needs:
        raise TransitionRefused(
            _("{number} cannot go to {target} yet: it needs {needs}").format(
                number=change.number, target=target, needs=", ".join(needs)
            )
        )


def _open_vote(session: Session, edit: Edit, actor: Agent, change: Change) -> None:
    """Into authorization: the approvals needed are fixed and each voter is asked."""
    members = cab_members(session, change.change_type)
    voters = [m for m in members if m.id not in _may_not_vote(change)]
    needed = approvals_needed(approvals_rule(session, change), len(members))
    if needed > len(voters):
        raise TransitionRefused(
            _(
                "{number} needs {needed} approvals but only {n} CAB members may vote on it "
                "(its requester and owner may not); add CAB members in the desk file"
            ).format(number=change.number, needed=needed, n=len(voters))
        )
    edit.set("quorum", needed)
    asked = set(
        session.scalars(
            select(ChangeApproval.approver_id).where(ChangeApproval.change_id == change.id)
        )
    )
    for voter in voters:
        if voter.id not in asked:
            session.add(ChangeApproval(change_id=change.id, approver_id=voter.id, comment=""))
        notify(
            session,
            voter.id,
            actor,
            change,
            _("{number} waits for your approval ({risk} risk, {needed} needed): {title}").format(
                number=change.number,
                risk=change.risk or _("unassessed"),
                needed=needed,
                title=change.title[:120],
            ),
            edit.now,
        )


def submit_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Move a change to its next gate: a normal change to assessment, then to the CAB; an
    emergency change to the emergency CAB; a standard change straight to the schedule."""
    now = moment(now)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("submit changes"))
    target = GATES.get((change.change_type, change.status))
    if target is None:
        raise refuse_move(change, "", _("there is no gate to submit it to"))
    edit = Edit(session, actor, change, action="submit", now=now)
    if target == "assessment":
        _ready(change, target, [] if change.services else [_("an affected service")])
    else:
        normal = change.change_type == NORMAL_CHANGE
        _ready(change, target, _missing(change, risk=normal, test_plan=normal))
        recheck_window(session, edit, change)
    move(edit, change, target)
    if target == "authorization":
        _open_vote(session, edit, actor, change)
    elif target == "scheduled":
        edit.set("authorized_at", now)  # a standard change: pre-approved by its template
    if change.submitted_at is None:
        edit.set("submitted_at", now)
    session.flush()
    return change


# ---------------------------------------------------------------------------
# Vote


def _ballot(session: Session, actor: Agent, change: Change) -> ChangeApproval:
    if not takes_votes(change.change_type, change.status, change.authorized_at is not None):
        if change.authorized_at is not None and change.status not in ("rejected", "cancelled"):
            raise TransitionRefused(
                _("{number} is already authorized; the CAB's vote on it is over").format(
                    number=change.number
                )
            )
        raise TransitionRefused(
            _("{number} is {status}; the CAB votes on {kind} in authorization").format(
                number=change.number,
                status=change.status,
                kind=a_change_of_type(change.change_type),
            )
        )
    _check_voter(session, actor, change)
    ballot = session.scalars(
        select(ChangeApproval).where(
            ChangeApproval.change_id == change.id, ChangeApproval.approver_id == actor.id
        )
    ).one_or_none()
    if ballot is None:
        # A member who joined the CAB after the vote opened.
        ballot = ChangeApproval(change_id=change.id, approver_id=actor.id, comment="")
        session.add(ballot)
    elif ballot.decision != "pending":
        raise InvalidInput(
            _("{agent} already {decision} {number}").format(
                agent=actor.username, decision=ballot.decision, number=change.number
            )
        )
    return ballot


def approved_count(session: Session, change: Change) -> int:
    session.flush()
    return int(
        session.scalar(
            select(func.count()).where(
                ChangeApproval.change_id == change.id, ChangeApproval.decision == "approved"
            )
        )
        or 0
    )


def approve_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    comment: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """A CAB member approves; at quorum the change is authorized and scheduled."""
    now = moment(now)
    check_text(comment, _("comment"), limit=10_000)
    change = load_change(session, number, expected_version)
    ballot = _ballot(session, actor, change)
    ballot.decision = "approved"
    ballot.decided_at = now
    ballot.comment = comment
    edit = Edit(session, actor, change, action="approve", now=now)
    edit.note("approval", None, _("approved by {agent}").format(agent=actor.username))
    approved = approved_count(session, change)
    if quorum_reached(approved, change.quorum) and change.authorized_at is None:
        edit.set("authorized_at", now)
        if change.status == "authorization":
            move(edit, change, "scheduled")
        message = _("{number} is authorized ({n} of {needed} approvals): {title}")
    else:
        message = _("{agent} approved {number} ({n} of {needed} approvals): {title}")
    notify(
        session,
        change.owner_id,
        actor,
        change,
        message.format(
            agent=actor.username,
            number=change.number,
            n=approved,
            needed=change.quorum,
            title=change.title[:120],
        ),
        now,
    )
    session.flush()
    return change


def reject_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    reason: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """A CAB member rejects, with a reason: one rejection rejects the change."""
    now = moment(now)
    check_text(reason, _("reason"), required=True, limit=10_000)
    change = load_change(session, number, expected_version)
    if change.status != "authorization":
        raise TransitionRefused(
            _("{number} is {status}; a change is rejected only in authorization").format(
                number=change.number, status=change.status
            )
        )
    ballot = _ballot(session, actor, change)
    ballot.decision = "rejected"
    ballot.decided_at = now
    ballot.comment = reason
    edit = Edit(session, actor, change, action="reject", now=now, reason=reason)
    edit.note("approval", None, _("rejected by {agent}").format(agent=actor.username))
    move(edit, change, "rejected")
    notify(
        session,
        change.owner_id,
        actor,
        change,
        _("{agent} rejected {number}: {reason}").format(
            agent=actor.username, number=change.number, reason=reason[:200]
        ),
        now,
    )
    session.flush()
    return change
