"""Raising a change request (from a template for a standard change) and editing its draft."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change
from itsm_tui.desk.changes.common import (
    a_change_of_type,
    load_change,
    moment,
    require_worker,
    templates,
)
from itsm_tui.desk.changes.risk import reassess
from itsm_tui.desk.changes.schedule import plan_window
from itsm_tui.desk.errors import InvalidInput, NotFound, TransitionRefused
from itsm_tui.desk.records import (
    MAX_TITLE,
    Edit,
    as_utc,
    check_level,
    check_text,
    get_agent,
    get_service,
    get_team,
    get_ticket,
    next_number,
    require,
)
from itsm_tui.domain.workflow import (
    CHANGE_TYPES,
    CHANGE_WORKFLOWS,
    NUMBER_PREFIX,
    PROBLEM,
    STANDARD_CHANGE,
)
from itsm_tui.i18n import _

# Before the CAB authorizes it, a change's content may still change; after, it is what
# was authorized. A standard change was authorized by its template: only its draft.
EDITABLE = {"standard": ("draft",), "normal": ("draft", "assessment"), "emergency": ("draft",)}


def template_of(session: Session, name: str) -> dict[str, Any]:
    known = templates(session)
    found = known.get(name.strip())
    if found is None:
        raise NotFound(
            _("no change template {name!r}; templates: {known}").format(
                name=name, known=", ".join(known) or "—"
            )
        )
    return found


def implementer_of(session: Session, username: str) -> Agent:
    agent = get_agent(session, username)
    if not agent.active:
        raise InvalidInput(
            _("{agent} is inactive and cannot implement changes").format(agent=agent.username)
        )
    return agent


def _services(session: Session, names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        canonical = get_service(session, name).name
        if canonical not in out:
            out.append(canonical)
    return out


def _plans(implementation_plan: str, backout_plan: str, test_plan: str) -> None:
    for value, what in (
        (implementation_plan, _("implementation plan")),
        (backout_plan, _("back-out plan")),
        (test_plan, _("test plan")),
    ):
        check_text(value, what)


def create_change(
    session: Session,
    actor: Agent,
    *,
    title: str | None = None,
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
    template: str | None = None,
    implementer: str | None = None,
    now: datetime | None = None,
) -> Change:
    """Raise a change request in draft; a standard change comes from a template and takes
    its fields (anything given here wins) and its risk."""
    now = moment(now)
    require(actor, "change.create", _("raise changes"))
    if change_type not in CHANGE_TYPES:
        raise InvalidInput(
            _("unknown change type {kind!r}; use one of: {kinds}").format(
                kind=change_type, kinds=", ".join(CHANGE_TYPES)
            )
        )
    recipe: dict[str, Any] | None = None
    if change_type == STANDARD_CHANGE:
        if not template:
            raise InvalidInput(
                _("a standard change comes from a template; name one with its template")
            )
        recipe = template_of(session, template)
        title = title or recipe["title"]
        description = description or recipe.get("description", "")
        category = category or recipe.get("category", "")
        services = services or list(recipe.get("services", ()))
        implementation_plan = implementation_plan or recipe.get("implementation_plan", "")
        backout_plan = backout_plan or recipe.get("backout_plan", "")
        test_plan = test_plan or recipe.get("test_plan", "")
        if planned_start is not None and planned_end is None:
            planned_end = planned_start + timedelta(minutes=int(recipe["duration_minutes"]))
    elif template:
        raise InvalidInput(_("only standard changes come from templates"))
    check_text(title or "", _("title"), required=True, limit=MAX_TITLE)
    check_text(description, _("description"))
    _plans(implementation_plan, backout_plan, test_plan)
    check_level(impact, _("impact"))
    names = _services(session, services or [])
    if (planned_start is None) != (planned_end is None):
        raise InvalidInput(_("give the planned window's start and its end"))
    the_problem = get_ticket(session, problem) if problem else None
    if the_problem is not None and the_problem.type != PROBLEM:
        raise InvalidInput(_("{number} is not a problem").format(number=the_problem.number))
    the_implementer = implementer_of(session, implementer) if implementer else None
    change = Change(
        number=next_number(session, NUMBER_PREFIX["change"]),
        title=title,
        description=description,
        change_type=change_type,
        category=check_text(category, _("category"), limit=80),
        status=CHANGE_WORKFLOWS[change_type].initial,
        is_open=True,
        impact=impact,
        services=names,
        team_id=get_team(session, team).id if team else actor.team_id,
        owner_id=actor.id,
        requested_by_id=actor.id,
        problem_id=the_problem.id if the_problem else None,
        implementer_id=the_implementer.id if the_implementer else None,
        template=template.strip() if recipe and template else None,
        risk=recipe["risk"] if recipe else None,
        risk_reasons=[
            {
                "source": "template",
                "key": template.strip() if template else "",
                "level": recipe["risk"],
                "text": _("pre-approved template {name}").format(name=template),
            }
        ]
        if recipe
        else None,
        implementation_plan=implementation_plan,
        backout_plan=backout_plan,
        test_plan=test_plan,
        opened_at=now,
        updated_at=now,
        version=0,
    )
    session.add(change)
    session.flush()
    edit = Edit(session, actor, change, action="create", now=now)
    edit.note(
        None,
        None,
        json.dumps(
            {
                "type": change_type,
                "status": change.status,
                "template": change.template,
                "problem": the_problem.number if the_problem else None,
            },
            ensure_ascii=False,
        ),
    )
    if planned_start is not None and planned_end is not None:
        plan_window(
            session,
            edit,
            change,
            as_utc(planned_start, _("planned start")),
            as_utc(planned_end, _("planned end")),
            override_reason=None,
            lead_time=False,
        )
    session.flush()
    return change


def update_change(
    session: Session,
    actor: Agent,
    number: str,
    *,
    expected_version: int | None = None,
    title: str | None = None,
    description: str | None = None,
    category: str | None = None,
    impact: int | None = None,
    services: list[str] | None = None,
    implementer: str | None = None,
    implementation_plan: str | None = None,
    backout_plan: str | None = None,
    test_plan: str | None = None,
    now: datetime | None = None,
) -> Change:
    """Edit a change's content before it is authorized; None leaves a field as it is.

    An assessed change is re-assessed with its kept answers (services and the back-out
    plan are facts its risk rules look at). `implementer=""` clears the implementer.
    """
    now = moment(now)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("edit changes"))
    editable = EDITABLE[change.change_type]
    if change.status not in editable:
        raise TransitionRefused(
            _("{number} is {status}; {kind} is edited only in {allowed}").format(
                number=change.number,
                status=change.status,
                kind=a_change_of_type(change.change_type),
                allowed=_(" or ").join(editable),
            )
        )
    edit = Edit(session, actor, change, action="update", now=now)
    if title is not None:
        edit.set("title", check_text(title, _("title"), required=True, limit=MAX_TITLE))
    if description is not None:
        edit.set("description", check_text(description, _("description")))
    if category is not None:
        edit.set("category", check_text(category, _("category"), limit=80))
    if impact is not None:
        edit.set("impact", check_level(impact, _("impact")))
    _plans(implementation_plan or "", backout_plan or "", test_plan or "")
    for field, value in (
        ("implementation_plan", implementation_plan),
        ("backout_plan", backout_plan),
        ("test_plan", test_plan),
    ):
        if value is not None:
            edit.set(field, value)
    moved = False
    if services is not None:
        moved |= edit.set("services", _services(session, services))
    if implementer is not None:
        agent = implementer_of(session, implementer) if implementer.strip() else None
        before = session.get(Agent, change.implementer_id) if change.implementer_id else None
        moved |= edit.set(
            "implementer_id", agent.id if agent else None, shown=agent, shown_old=before
        )
    if moved and change.planned_start is not None and change.planned_end is not None:
        # Other services or another implementer: the window may clash where it did not.
        plan_window(
            session,
            edit,
            change,
            change.planned_start,
            change.planned_end,
            override_reason=None,
            lead_time=False,
        )
    reassess(session, edit, change)
    session.flush()
    return change
