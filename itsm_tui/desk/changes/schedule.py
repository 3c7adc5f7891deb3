"""Planning a change's window: lead time, conflicts (freezes, other changes, the implementer,
maintenance windows), and a change manager's override with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from itsm_tui.data import change_schedule
from itsm_tui.data.models import Agent, Change, Notification
from itsm_tui.desk.changes.common import (
    a_change_of_type,
    is_manager,
    load_change,
    moment,
    require_worker,
    type_rules,
)
from itsm_tui.desk.changes.risk import reassess
from itsm_tui.desk.errors import InvalidInput, PermissionDenied, ScheduleConflict, TransitionRefused
from itsm_tui.desk.records import Edit, as_utc, audit_value, check_text, get_agent
from itsm_tui.domain.change_windows import planned_window_problem
from itsm_tui.i18n import _

# Where a window may be planned or moved. An authorized (scheduled) change may move: the
# CAB authorized the work, the conflict check guards the new window.
SCHEDULABLE = {
    "standard": ("draft", "scheduled"),
    "normal": ("draft", "assessment", "scheduled"),
    "emergency": ("draft", "authorization", "scheduled"),
}


def _when(value: datetime) -> str:
    return value.isoformat(timespec="minutes").replace("+00:00", "Z")


def plan_window(
    session: Session,
    edit: Edit,
    change: Change,
    start: datetime,
    end: datetime,
    *,
    override_reason: str | None,
    lead_time: bool,
) -> None:
    """Set the planned window, or refuse with every conflict it has.

    A change manager's `override_reason` accepts the conflicts: each is kept in
    schedule_overrides and the audit events carry the reason.
    """
    problem = planned_window_problem(start, end)
    if problem is not None:
        raise InvalidInput(problem)
    if lead_time:
        hours = int(type_rules(session, change.change_type).get("lead_time_hours") or 0)
        earliest = edit.now + timedelta(hours=hours)
        if hours and start < earliest:
            raise InvalidInput(
                _(
                    "{kind} is planned at least {hours} h ahead: start at "
                    "{earliest} or later (an emergency change has no lead time)"
                ).format(
                    kind=a_change_of_type(change.change_type), hours=hours, earliest=_when(earliest)
                )
            )
    accepted = {
        (kept.get("kind"), kept.get("name"), kept.get("starts_at"))
        for kept in change.schedule_overrides or ()
    }
    conflicts = [
        c
        for c in change_schedule.find_conflicts(
            session,
            services=list(change.services or ()),
            start=start,
            end=end,
            implementer_id=change.implementer_id,
            exclude_change_id=change.id,
        )
        # A conflict a change manager already accepted is not raised again.
        if (c.kind, c.name, audit_value(c.starts_at)) not in accepted
    ]
    reason = (override_reason or "").strip()
    if conflicts and not reason:
        raise ScheduleConflict(
            # Each conflict's message names its own times, in the desk's zone.
            _("{number}'s planned window conflicts: {what}").format(
                number=change.number, what="; ".join(c.message for c in conflicts)
            )
            + _(" (a change manager may schedule it anyway, giving a reason)"),
            conflicts,
        )
    if conflicts:
        actor = edit.actor
        if actor is None or not is_manager(actor):
            raise PermissionDenied(
                _(
                    "{agent} cannot override schedule conflicts: that needs the role "
                    "change_manager or admin"
                ).format(agent=actor.username if actor else "?")
            )
        check_text(override_reason or "", _("override reason"), required=True, limit=2000)
        edit.reason = reason
        kept: list[Any] = list(change.schedule_overrides or [])
        for c in conflicts:
            kept.append(
                {
                    "kind": c.kind,
                    "name": c.name,
                    "starts_at": audit_value(c.starts_at),
                    "conflict": c.message,
                    "reason": reason,
                    "by": actor.username,
                    "at": audit_value(edit.now),
                }
            )
        edit.set("schedule_overrides", kept)
    edit.set("planned_start", start)
    edit.set("planned_end", end)


def recheck_window(session: Session, edit: Edit, change: Change) -> None:
    """When a change starts holding its window (it goes to the CAB, or a standard change is
    scheduled): a change planned since may have taken it while this one was a draft, and
    the type's lead time counts from now (the notice the CAB and the desk get)."""
    if change.planned_start is not None and change.planned_end is not None:
        plan_window(
            session,
            edit,
            change,
            change.planned_start,
            change.planned_end,
            override_reason=None,
            lead_time=True,
        )


def schedule_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    start: datetime,
    end: datetime,
    implementer: str | None = None,
    override_reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Plan or move a change's window (and its implementer); conflicts refuse it unless a
    change manager overrides them with a reason."""
    now = moment(now)
    start = as_utc(start, _("planned start"))
    end = as_utc(end, _("planned end"))
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("schedule changes"))
    allowed = SCHEDULABLE[change.change_type]
    if change.status not in allowed:
        raise TransitionRefused(
            _("{number} is {status}; {kind} is scheduled in {allowed}").format(
                number=change.number,
                status=change.status,
                kind=a_change_of_type(change.change_type),
                allowed=_(" or ").join(allowed),
            )
        )
    edit = Edit(session, actor, change, action="schedule", now=now)
    if implementer is not None:
        agent = get_agent(session, implementer) if implementer.strip() else None
        if agent is not None and not agent.active:
            raise InvalidInput(
                _("{agent} is inactive and cannot implement changes").format(agent=agent.username)
            )
        before = session.get(Agent, change.implementer_id) if change.implementer_id else None
        edit.set("implementer_id", agent.id if agent else None, shown=agent, shown_old=before)
    # A draft may plan any window; the lead time counts once the change is past its gate.
    plan_window(
        session,
        edit,
        change,
        start,
        end,
        override_reason=override_reason,
        lead_time=change.status not in ("draft", "assessment"),
    )
    reassess(session, edit, change)
    session.flush()
    return change


def announce_changes_starting(session: Session, now: datetime) -> list[str]:
    """The `change_starting` notices of changes whose planned window has begun: once per
    change, claimed with one UPDATE … RETURNING (two sweepers never announce one twice). A
    window that has already ended is over, not starting: it is marked and not announced.

    To the implementer (else the owner) and the change's team."""
    started = (
        (Change.is_open.is_(True))
        & (Change.status == "scheduled")
        & (Change.planned_start <= now)
        & Change.start_noticed_at.is_(None)
    )
    claimed = session.execute(
        update(Change)
        .where(started)
        .values(start_noticed_at=now)
        .returning(
            Change.id,
            Change.number,
            Change.title,
            Change.planned_end,
            Change.implementer_id,
            Change.owner_id,
            Change.team_id,
        )
        .execution_options(synchronize_session=False)
    ).all()
    announced: list[str] = []
    for change_id, number, title, planned_end, implementer_id, owner_id, team_id in sorted(claimed):
        if planned_end is not None and planned_end <= now:
            continue
        announced.append(number)
        message = _("{number} starts now: {title}").format(number=number, title=title[:120])
        if planned_end is not None:
            message += " " + _("(window until {at})").format(at=_when(planned_end))
        whom = implementer_id or owner_id
        if whom is not None:
            session.add(
                Notification(
                    agent_id=whom,
                    change_id=change_id,
                    kind="change_starting",
                    message=message,
                    created_at=now,
                    deliver_at=now,
                )
            )
        if team_id is not None:
            session.add(
                Notification(
                    team_id=team_id,
                    change_id=change_id,
                    kind="change_starting",
                    message=message,
                    created_at=now,
                    deliver_at=now,
                )
            )
    session.flush()
    return announced
