"""Writes to changes: raising a change request (the change board builds on this)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import (
    MAX_TITLE,
    Edit,
    as_utc,
    check_level,
    check_text,
    get_service,
    get_team,
    get_ticket,
    next_number,
    require,
    utcnow,
)
from itsm_tui.domain.workflow import CHANGE_TYPES, CHANGE_WORKFLOW, NUMBER_PREFIX, PROBLEM
from itsm_tui.i18n import _


def create_change(
    session: Session,
    actor: Agent,
    *,
    title: str,
    change_type: str = "normal",
    description: str = "",
    category: str = "",
    impact: int = 3,
    services: list[str] | None = None,
    team: str | None = None,
    problem: str | None = None,
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    implementation_plan: str = "",
    backout_plan: str = "",
    test_plan: str = "",
    now: datetime | None = None,
) -> Change:
    """Raise a change request in draft."""
    now = utcnow() if now is None else as_utc(now, _("now"))
    require(actor, "change.create", _("raise changes"))
    if change_type not in CHANGE_TYPES:
        raise InvalidInput(
            _("unknown change type {kind!r}; use one of: {kinds}").format(
                kind=change_type, kinds=", ".join(CHANGE_TYPES)
            )
        )
    check_text(title, _("title"), required=True, limit=MAX_TITLE)
    for value, what in (
        (description, _("description")),
        (implementation_plan, _("implementation plan")),
        (backout_plan, _("back-out plan")),
        (test_plan, _("test plan")),
    ):
        check_text(value, what)
    check_level(impact, _("impact"))
    names = [get_service(session, name).name for name in services or []]
    start = as_utc(planned_start, _("planned start")) if planned_start else None
    end = as_utc(planned_end, _("planned end")) if planned_end else None
    if start and end and end <= start:
        raise InvalidInput(_("the planned window must end after it starts"))
    the_problem = get_ticket(session, problem) if problem else None
    if the_problem is not None and the_problem.type != PROBLEM:
        raise InvalidInput(_("{number} is not a problem").format(number=the_problem.number))
    change = Change(
        number=next_number(session, NUMBER_PREFIX["change"]),
        title=title,
        description=description,
        change_type=change_type,
        category=check_text(category, _("category"), limit=80),
        status=CHANGE_WORKFLOW.initial,
        is_open=True,
        impact=impact,
        services=names,
        team_id=get_team(session, team).id if team else actor.team_id,
        owner_id=actor.id,
        requested_by_id=actor.id,
        problem_id=the_problem.id if the_problem else None,
        planned_start=start,
        planned_end=end,
        implementation_plan=implementation_plan,
        backout_plan=backout_plan,
        test_plan=test_plan,
        opened_at=now,
        updated_at=now,
        version=0,
    )
    session.add(change)
    session.flush()
    Edit(session, actor, change, action="create", now=now).note(
        None, None, json.dumps({"type": change_type, "status": change.status}, ensure_ascii=False)
    )
    session.flush()
    return change
