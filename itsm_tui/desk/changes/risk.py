"""A change's risk assessment: the facts its rules look at, gathered from the store, and
`assess_change`, which answers the questionnaire and keeps the level and its reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from itsm_tui.data import change_schedule
from itsm_tui.data.models import Agent, Change, Service, Ticket
from itsm_tui.desk.changes.common import load_change, moment, questionnaire, require_worker
from itsm_tui.desk.errors import InvalidInput, TransitionRefused
from itsm_tui.desk.records import Edit, check_text
from itsm_tui.domain import change_risk
from itsm_tui.domain.workflow import INCIDENT, STANDARD_CHANGE
from itsm_tui.i18n import _

# Where an answer may still change the risk: before the CAB sees it (and, for an
# emergency change, while the emergency CAB votes).
ASSESSABLE = {"normal": ("draft", "assessment"), "emergency": ("draft", "authorization")}


def risk_facts(session: Session, change: Change) -> change_risk.RiskFacts:
    """What the risk rules look at for this change as it stands."""
    named = list(change.services or ())
    impacted = change_schedule.impacted_services(session, named) if named else []
    critical = session.scalars(
        select(Service.name)
        .where(Service.name.in_(impacted), Service.criticality == 1)
        .order_by(Service.name)
    ).all()
    outside: list[str] = []
    if named and change.planned_start is not None and change.planned_end is not None:
        outside = change_schedule.outside_maintenance(
            session, named, change.planned_start, change.planned_end
        )
    # A major incident, or any open P1 (on a big day nobody has flagged it major yet).
    majors = session.scalars(
        select(Service.name)
        .where(
            Service.name.in_(named),
            select(Ticket.id)
            .where(
                Ticket.service_id == Service.id,
                Ticket.is_open.is_(True),
                Ticket.type == INCIDENT,
                or_(Ticket.is_major.is_(True), Ticket.priority == 1),
            )
            .exists(),
        )
        .order_by(Service.name)
    ).all()
    return change_risk.RiskFacts(
        critical_services=tuple(critical),
        has_backout_plan=bool((change.backout_plan or "").strip()),
        outside_maintenance=tuple(outside),
        major_incident_services=tuple(majors),
    )


def evaluate(session: Session, change: Change, answers: dict[str, str]) -> change_risk.RiskResult:
    try:
        return change_risk.assess(questionnaire(session), answers, risk_facts(session, change))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def keep(edit: Edit, result: change_risk.RiskResult, answers: dict[str, str]) -> None:
    edit.set("risk", result.level)
    edit.set("risk_score", result.score)
    edit.set("risk_answers", dict(answers))
    edit.set("risk_reasons", result.reasons_json())


def reassess(session: Session, edit: Edit, change: Change) -> None:
    """After the facts changed (services, back-out plan, window): the kept answers again."""
    if change.change_type == STANDARD_CHANGE or change.risk_answers is None:
        return
    session.flush()
    keep(edit, evaluate(session, change, dict(change.risk_answers)), dict(change.risk_answers))


def assess_change(
    session: Session,
    actor: Agent,
    number: str,
    answers: dict[str, str],
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Answer the risk questionnaire: the change keeps its level, score, answers and reasons."""
    now = moment(now)
    change = load_change(session, number, expected_version)
    require_worker(actor, change, _("assess the risk of changes"))
    if change.change_type == STANDARD_CHANGE:
        raise TransitionRefused(
            _("{number} is a standard change: its risk comes from its template").format(
                number=change.number
            )
        )
    if change.status not in ASSESSABLE[change.change_type]:
        raise TransitionRefused(
            _("{number} is {status}; its risk is assessed in {allowed}").format(
                number=change.number,
                status=change.status,
                allowed=_(" or ").join(ASSESSABLE[change.change_type]),
            )
        )
    clean = {
        check_text(str(k), _("question")).strip(): check_text(str(v), _("answer")).strip()
        for k, v in answers.items()
    }
    asked = questionnaire(session)
    missing = change_risk.unanswered(asked, clean)
    problems = change_risk.answer_problems(asked, clean)
    if problems:
        raise InvalidInput(problems[0])
    if missing:
        raise InvalidInput(
            _("answer every risk question; unanswered: {ids}").format(ids=", ".join(missing))
        )
    edit = Edit(session, actor, change, action="assess", now=now)
    keep(edit, evaluate(session, change, clean), clean)
    session.flush()
    return change
