"""Problem management: a problem from its incidents, its root-cause analysis, the
known error, the change that fixes it, the article that documents it, and the
incidents it closes.

A problem is a ticket of type problem; an incident points at it with `problem_id`.
Both ends of that link are audited (the incident's `problem` field, the problem's
`incident` note), so either record's history tells the story.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from itsm_tui.data.models import Agent, Change, KnowledgeArticle, Ticket
from itsm_tui.desk.changes import create_change
from itsm_tui.desk.errors import InvalidInput, TransitionRefused
from itsm_tui.desk.knowledge import create_article
from itsm_tui.desk.records import (
    MAX_TITLE,
    Edit,
    as_utc,
    check_level,
    check_text,
    check_version,
    get_ticket,
    require,
    utcnow,
)
from itsm_tui.desk.tickets import (
    WORK,
    add_comment,
    create_ticket,
    link_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.domain.workflow import INCIDENT, PROBLEM
from itsm_tui.i18n import _

FIVE_WHYS = "five_whys"
FREE_TEXT = "free_text"
ANALYSIS_METHODS = (FIVE_WHYS, FREE_TEXT)
# Five whys is a habit, not a law: fewer answers can reach the cause, more rarely help.
MAX_WHYS = 7
# One problem gathers a cluster of incidents, not a whole queue.
MAX_INCIDENTS = 500


def _now(now: datetime | None) -> datetime:
    return utcnow() if now is None else as_utc(now, _("now"))


def get_problem(session: Session, number: str, *, for_update: bool = False) -> Ticket:
    ticket = get_ticket(session, number, for_update=for_update)
    if ticket.type != PROBLEM:
        raise InvalidInput(_("{number} is not a problem").format(number=ticket.number))
    return ticket


def _incident_numbers(numbers: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for number in numbers:
        key = number.strip().upper()
        if key and key not in cleaned:
            cleaned.append(key)
    if not cleaned:
        raise InvalidInput(_("name at least one incident"))
    if len(cleaned) > MAX_INCIDENTS:
        raise InvalidInput(
            _("{n} incidents at once; a problem takes at most {limit} in one step").format(
                n=len(cleaned), limit=MAX_INCIDENTS
            )
        )
    return cleaned


def _linkable(session: Session, number: str, problem: Ticket | None) -> Ticket:
    incident = get_ticket(session, number)
    if incident.type != INCIDENT:
        raise InvalidInput(
            _("{number} is not an incident; only incidents are linked to a problem").format(
                number=incident.number
            )
        )
    if incident.problem_id is not None and (problem is None or incident.problem_id != problem.id):
        held = session.get_one(Ticket, incident.problem_id)
        raise InvalidInput(
            _("{number} is already linked to {problem}").format(
                number=incident.number, problem=held.number
            )
        )
    return incident


def _link_both_ways(
    session: Session, actor: Agent, problem: Ticket, incidents: Sequence[Ticket], now: datetime
) -> None:
    edit = Edit(session, actor, problem, action="link", now=now)
    for incident in incidents:
        if incident.problem_id == problem.id:
            continue
        link_ticket(session, actor, incident.number, problem=problem.number, now=now)
        edit.note("incident", None, incident.number)


def create_problem(
    session: Session,
    actor: Agent,
    *,
    incidents: Sequence[str],
    title: str | None = None,
    description: str = "",
    impact: int | None = None,
    urgency: int | None = None,
    team: str | None = None,
    assignee: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a problem for one or more incidents and link them to it.

    Unless given, the title is the first incident's (prefixed "Recurring:" for several),
    the service is the one they share, and impact and urgency are the highest among them.
    """
    now = _now(now)
    require(actor, WORK, _("open problems"))
    chosen = [_linkable(session, n, None) for n in _incident_numbers(incidents)]
    first = chosen[0]
    if title is None:
        title = (
            first.title if len(chosen) == 1 else _("Recurring: {title}").format(title=first.title)
        )
        title = title[:MAX_TITLE]
    services = {i.service_id for i in chosen}
    service = first.service.name if len(services) == 1 and first.service is not None else None
    problem = create_ticket(
        session,
        actor,
        type=PROBLEM,
        title=title,
        description=description,
        impact=check_level(impact, _("impact"))
        if impact is not None
        else min(i.impact for i in chosen),
        urgency=check_level(urgency, _("urgency"))
        if urgency is not None
        else min(i.urgency for i in chosen),
        category=first.category,
        service=service,
        team=team,
        assignee=assignee,
        now=now,
    )
    _link_both_ways(session, actor, problem, chosen, now)
    session.flush()
    return problem


def link_incidents(
    session: Session,
    actor: Agent,
    problem: str,
    incidents: Sequence[str],
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Link more incidents to an open problem (both ends audited)."""
    now = _now(now)
    require(actor, WORK, _("link tickets"))
    the_problem = get_problem(session, problem, for_update=True)
    check_version(session, the_problem, expected_version)
    if not the_problem.is_open:
        raise TransitionRefused(
            _("{number} is {status}; link incidents to an open problem").format(
                number=the_problem.number, status=the_problem.status
            )
        )
    chosen = [_linkable(session, n, the_problem) for n in _incident_numbers(incidents)]
    _link_both_ways(session, actor, the_problem, chosen, now)
    session.flush()
    return the_problem


def unlink_incident(
    session: Session,
    actor: Agent,
    problem: str,
    incident: str,
    *,
    now: datetime | None = None,
) -> Ticket:
    """Take an incident off a problem it was linked to by mistake."""
    now = _now(now)
    require(actor, WORK, _("link tickets"))
    the_problem = get_problem(session, problem, for_update=True)
    the_incident = get_ticket(session, incident, for_update=True)
    if the_incident.problem_id != the_problem.id:
        raise InvalidInput(
            _("{number} is not linked to {problem}").format(
                number=the_incident.number, problem=the_problem.number
            )
        )
    Edit(session, actor, the_incident, action="link", now=now).set(
        "problem_id", None, shown_old=the_problem
    )
    Edit(session, actor, the_problem, action="link", now=now).note(
        "incident", the_incident.number, None
    )
    session.flush()
    return the_problem


def _analysis(whys: Sequence[str] | None, analysis: str | None) -> dict[str, object] | None:
    if whys is not None and analysis is not None:
        raise InvalidInput(_("give the five whys or a free-text analysis, not both"))
    if whys is not None:
        answers = [w.strip() for w in whys]
        if not answers or any(not w for w in answers):
            raise InvalidInput(_("each why needs an answer; leave out the ones you have not asked"))
        if len(answers) > MAX_WHYS:
            raise InvalidInput(
                _("{n} whys; an analysis keeps at most {limit}").format(
                    n=len(answers), limit=MAX_WHYS
                )
            )
        for n, answer in enumerate(answers, 1):
            check_text(answer, _("why {n}").format(n=n), limit=4000)
        return {"method": FIVE_WHYS, "whys": answers}
    if analysis is not None:
        return {"method": FREE_TEXT, "text": check_text(analysis, _("analysis"), required=True)}
    return None


def record_root_cause(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    root_cause: str,
    whys: Sequence[str] | None = None,
    analysis: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Record the root cause and how it was found (five whys or free text).

    A new problem moves to investigating: an analysis is the investigation's work.
    """
    now = _now(now)
    require(actor, WORK, _("record root causes"))
    check_text(root_cause, _("root cause"), required=True)
    found = _analysis(whys, analysis)
    the_problem = get_problem(session, problem, for_update=True)
    check_version(session, the_problem, expected_version)
    update_ticket(session, actor, the_problem.number, root_cause=root_cause, now=now)
    if found is not None:
        Edit(session, actor, the_problem, action="update", now=now).set("analysis", found)
    if the_problem.status == "new":
        transition_ticket(session, actor, the_problem.number, "investigating", now=now)
    session.flush()
    return the_problem


def publish_workaround(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    workaround: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Publish the workaround: the problem becomes a known error.

    Its open incidents can then be resolved with the workaround (`resolve_incidents`).
    """
    now = _now(now)
    require(actor, WORK, _("publish workarounds"))
    check_text(workaround, _("workaround"), required=True)
    the_problem = get_problem(session, problem, for_update=True)
    check_version(session, the_problem, expected_version)
    update_ticket(
        session, actor, the_problem.number, workaround=workaround, known_error=True, now=now
    )
    if the_problem.status != "known_error":
        transition_ticket(session, actor, the_problem.number, "known_error", now=now)
    session.flush()
    return the_problem


def withdraw_known_error(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    reason: str,
    now: datetime | None = None,
) -> Ticket:
    """The workaround no longer holds: back to investigating, the flag cleared."""
    now = _now(now)
    require(actor, WORK, _("withdraw known errors"))
    check_text(reason, _("reason"), required=True, limit=10_000)
    the_problem = get_problem(session, problem, for_update=True)
    update_ticket(session, actor, the_problem.number, known_error=False, now=now)
    if the_problem.status == "known_error":
        transition_ticket(session, actor, the_problem.number, "investigating", note=reason, now=now)
    session.flush()
    return the_problem


def resolve_problem(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    notes: str,
    code: str = "fixed",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Resolve the problem; its open incidents are then offered for resolution."""
    get_problem(session, problem)
    return resolve_ticket(
        session, actor, problem, code=code, notes=notes, expected_version=expected_version, now=now
    )


def cascade_answer(problem: Ticket) -> tuple[str, str] | None:
    """The public reply and resolution code the problem's incidents would be resolved with,
    or None while there is neither a fix nor a published workaround."""
    if problem.status in ("resolved", "closed") and problem.resolution_notes:
        return (
            _("{number} is resolved: {notes}").format(
                number=problem.number, notes=problem.resolution_notes
            ),
            "fixed",
        )
    if problem.known_error and problem.workaround:
        return (
            _("Workaround from known error {number}: {workaround}").format(
                number=problem.number, workaround=problem.workaround
            ),
            "workaround",
        )
    return None


def resolve_incidents(
    session: Session,
    actor: Agent,
    problem: str,
    incidents: Sequence[str],
    *,
    now: datetime | None = None,
) -> list[Ticket]:
    """Resolve the chosen open incidents of a resolved problem or a known error, each with
    the fix or the workaround as a public reply; all or nothing, one audit note on the problem.
    """
    now = _now(now)
    require(actor, WORK, _("resolve tickets"))
    the_problem = get_problem(session, problem, for_update=True)
    answer = cascade_answer(the_problem)
    if answer is None:
        raise TransitionRefused(
            _(
                "{number} has neither a fix nor a published workaround yet; "
                "resolve it or publish its workaround first"
            ).format(number=the_problem.number)
        )
    reply, code = answer
    resolved: list[Ticket] = []
    for number in _incident_numbers(incidents):
        incident = get_ticket(session, number)
        if incident.problem_id != the_problem.id:
            raise InvalidInput(
                _("{number} is not linked to {problem}").format(
                    number=incident.number, problem=the_problem.number
                )
            )
        if not incident.is_open:
            raise TransitionRefused(
                _("{number} is already {status}").format(
                    number=incident.number, status=incident.status
                )
            )
        add_comment(session, actor, incident.number, reply, kind="reply", now=now)
        resolved.append(
            resolve_ticket(session, actor, incident.number, code=code, notes=reply, now=now)
        )
    Edit(session, actor, the_problem, action="resolve_incidents", now=now).note(
        "incidents", None, json.dumps([t.number for t in resolved])
    )
    session.flush()
    return resolved


def raise_fix_change(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    title: str | None = None,
    change_type: str = "normal",
    description: str | None = None,
    team: str | None = None,
    now: datetime | None = None,
) -> Change:
    """Raise the change that removes the root cause, linked to the problem."""
    now = _now(now)
    the_problem = get_problem(session, problem, for_update=True)
    if not the_problem.is_open:
        raise TransitionRefused(
            _("{number} is {status}; a fix is raised for an open problem").format(
                number=the_problem.number, status=the_problem.status
            )
        )
    if description is None:
        description = (
            _("Removes the root cause of {number}: {cause}").format(
                number=the_problem.number, cause=the_problem.root_cause
            )
            if the_problem.root_cause
            else _("Fix for {number}").format(number=the_problem.number)
        )
    change = create_change(
        session,
        actor,
        title=title or _("Fix: {title}").format(title=the_problem.title)[:MAX_TITLE],
        change_type=change_type,
        description=description,
        services=[the_problem.service.name] if the_problem.service is not None else None,
        team=team,
        problem=the_problem.number,
        now=now,
    )
    Edit(session, actor, the_problem, action="link", now=now).note("change", None, change.number)
    session.flush()
    return change


def article_body(problem: Ticket) -> str:
    """The Markdown an article from this problem starts with."""
    parts = [f"## {_('Symptoms')}\n\n{problem.description or problem.title}"]
    if problem.root_cause:
        parts.append(f"## {_('Root cause')}\n\n{problem.root_cause}")
    if problem.workaround:
        parts.append(f"## {_('Workaround')}\n\n{problem.workaround}")
    if problem.resolution_notes:
        parts.append(f"## {_('Resolution')}\n\n{problem.resolution_notes}")
    return "\n\n".join(parts) + "\n"


def article_from_problem(
    session: Session,
    actor: Agent,
    problem: str,
    *,
    title: str | None = None,
    body: str | None = None,
    tags: Sequence[str] = (),
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Write a knowledge article from the problem (symptoms, root cause, workaround), linked
    to it; the problem's history names the article."""
    now = _now(now)
    the_problem = get_problem(session, problem)
    if not (the_problem.root_cause or the_problem.workaround or the_problem.resolution_notes):
        raise InvalidInput(
            _(
                "{number} has no root cause, workaround or resolution yet; "
                "an article needs something to tell"
            ).format(number=the_problem.number)
        )
    article = create_article(
        session,
        actor,
        title=title or _("Known error: {title}").format(title=the_problem.title)[:MAX_TITLE],
        body=body if body is not None else article_body(the_problem),
        tags=tags,
        problem=the_problem.number,
        now=now,
    )
    Edit(session, actor, the_problem, action="link", now=now).note("article", None, article.number)
    session.flush()
    return article
