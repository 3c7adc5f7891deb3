"""`itsm change …`: the change process from the command line, each command one desk call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli import change_schedule as schedule_commands
from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import ISO, json_option, version_option
from itsm_tui.cli.output import err, out, out_json
from itsm_tui.cli.views import local_time, or_dash
from itsm_tui.data import change_lists, record_json
from itsm_tui.data.models import Agent, Change
from itsm_tui.desk import (
    InvalidInput,
    approve_change,
    assess_change,
    cancel_change,
    close_change,
    complete_change,
    create_change,
    link_caused_incident,
    reject_change,
    review_change,
    schedule_change,
    start_change,
    submit_change,
    update_change,
)
from itsm_tui.desk.records import get_change, get_service
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.workflow import CHANGE_OUTCOMES, CHANGE_STATUSES, CHANGE_TYPES
from itsm_tui.i18n import _


@click.group()
def change() -> None:
    """Change requests: raise, assess, authorize, schedule, implement, review."""


def _write_change(
    env: Env, as_json: bool, action: Callable[[Session, Agent, datetime], Change]
) -> None:
    """One desk write on a change; prints its record (JSON) or its one-line summary."""
    record = write(env, lambda s, actor, now: record_json.change_record(s, action(s, actor, now)))
    if as_json:
        out_json(record)
    else:
        out(_summary(record))


def _summary(record: dict[str, Any]) -> str:
    return _("{number} {status} ({change_type}, version {version}): {title}").format(**record)


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    answers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                _("{item!r} is not question=answer").format(item=item), param_hint=option
            )
        answers[name.strip()] = value.strip()
    return answers


def _choice(value: str | None, known: Sequence[str], what: str) -> str | None:
    if value is None:
        return None
    wanted = value.strip().lower()
    if wanted not in known:
        raise InvalidInput(
            _("unknown {what} {value!r}; use one of: {known}").format(
                what=what, value=value, known=", ".join(known)
            )
        )
    return wanted


# ---------------------------------------------------------------------------
# Raise, show, list, edit


@change.command("create")
@click.option("--title", help=_("Required, except from a template."))
@click.option(
    "--type", "change_type", default="normal", show_default=True, help=", ".join(CHANGE_TYPES)
)
@click.option("--template", metavar="NAME", help=_("Standard changes: the desk's template."))
@click.option("--description", default="")
@click.option("--category", default="")
@click.option("--impact", type=int, default=3, show_default=True)
@click.option("--service", "services", multiple=True, help=_("Affected service; repeat."))
@click.option("--team")
@click.option("--implementer", metavar="USERNAME")
@click.option("--problem", metavar="NUMBER", help=_("The problem it fixes."))
@click.option("--planned-start", type=ISO)
@click.option("--planned-end", type=ISO, help=_("From a template: start + its duration."))
@click.option("--implementation-plan", default="")
@click.option("--backout-plan", default="")
@click.option("--test-plan", default="")
@json_option
@pass_env
def change_create(
    env: Env,
    title: str | None,
    change_type: str,
    template: str | None,
    description: str,
    category: str,
    impact: int,
    services: tuple[str, ...],
    team: str | None,
    implementer: str | None,
    problem: str | None,
    planned_start: datetime | None,
    planned_end: datetime | None,
    implementation_plan: str,
    backout_plan: str,
    test_plan: str,
    as_json: bool,
) -> None:
    """Raise a change request (in draft)."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: create_change(
            s,
            actor,
            title=title,
            change_type=change_type.strip().lower(),
            template=template,
            description=description,
            category=category,
            impact=impact,
            services=list(services),
            team=team,
            implementer=implementer,
            problem=problem,
            planned_start=planned_start,
            planned_end=planned_end,
            implementation_plan=implementation_plan,
            backout_plan=backout_plan,
            test_plan=test_plan,
            now=now,
        ),
    )


@change.command("show")
@click.argument("number")
@json_option
@pass_env
def change_show(env: Env, number: str, as_json: bool) -> None:
    """Print a change with its votes, risk reasons and the incidents it caused."""
    with desk_session(env, write=False) as (session, actor):
        record = record_json.change_record(session, get_change(session, number))
        zone = agent_zone(session, actor)
    if as_json:
        out_json(record)
    else:
        out(format_change(record, zone))


def format_change(r: dict[str, Any], zone: tzinfo) -> str:
    """A change for people: fields, plans, votes, risk reasons, caused incidents."""
    lines = [
        _summary(r),
        _("Risk      {risk} (score {score})   Impact {impact}   Services {services}").format(
            risk=or_dash(r["risk"]),
            score=or_dash(r["risk_score"]),
            impact=r["impact"],
            services=", ".join(r["services"]) or "—",
        ),
        _("Owner     {owner}   Implementer {implementer}   Problem {problem}").format(
            owner=or_dash(r["owner"]),
            implementer=or_dash(r["implementer"]),
            problem=or_dash(r["problem"]),
        ),
        _("Planned   {start} → {end}").format(
            start=local_time(r["planned_start"], zone), end=local_time(r["planned_end"], zone)
        ),
        _("Actual    {start} → {end}   Outcome {outcome}").format(
            start=local_time(r["actual_start"], zone),
            end=local_time(r["actual_end"], zone),
            outcome=or_dash(r["outcome"]),
        ),
    ]
    if r["template"]:
        lines.append(_("Template  {name}").format(name=r["template"]))
    for reason in r["risk_reasons"]:
        lines.append(_("  risk {level}: {text}").format(**reason))
    if r["approvals"]:
        lines.append(
            _("Approvals {approved} of {quorum} needed").format(
                approved=r["approved"], quorum=r["quorum"]
            )
        )
        for vote in r["approvals"]:
            when = local_time(vote["decided_at"], zone) if vote["decided_at"] else ""
            comment = f"  {vote['comment']}" if vote["comment"] else ""
            lines.append(f"  {vote['approver']:<16} {vote['decision']:<9} {when}{comment}".rstrip())
    for kept in r["schedule_overrides"]:
        lines.append(_("  conflict accepted by {by}: {conflict} — {reason}").format(**kept))
    for incident in r["caused_incidents"]:
        lines.append(
            _("  caused {number} (opened {opened}){counts}").format(
                number=incident["number"],
                opened=local_time(incident["opened_at"], zone),
                counts=_(", counts against success") if incident["within_review"] else "",
            )
        )
    for label, key in (
        (_("Description"), "description"),
        (_("Implementation plan"), "implementation_plan"),
        (_("Back-out plan"), "backout_plan"),
        (_("Test plan"), "test_plan"),
        (_("Review"), "review_notes"),
        (_("Lessons learned"), "lessons_learned"),
    ):
        if r[key]:
            lines += ["", f"{label}:", r[key]]
    return "\n".join(lines)


@change.command("list")
@click.option("--status", help=", ".join(CHANGE_STATUSES))
@click.option("--type", "change_type", help=", ".join(CHANGE_TYPES))
@click.option("--service")
@click.option("--awaiting-me", is_flag=True, help=_("Waiting for your CAB vote."))
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--after", metavar="NUMBER", help=_("Continue after this change (the last shown)."))
@json_option
@pass_env
def change_list(
    env: Env,
    status: str | None,
    change_type: str | None,
    service: str | None,
    awaiting_me: bool,
    limit: int,
    after: str | None,
    as_json: bool,
) -> None:
    """List changes by number."""
    wanted_status = _choice(status, CHANGE_STATUSES, _("status"))
    wanted_type = _choice(change_type, CHANGE_TYPES, _("change type"))
    with desk_session(env, write=False) as (session, actor):
        rows = change_lists.list_changes(
            session,
            status=wanted_status,
            change_type=wanted_type,
            service=get_service(session, service).name if service else None,
            awaiting=actor.id if awaiting_me else None,
            after=after,
            limit=limit,
        )
        zone = agent_zone(session, actor)
    if as_json:
        out_json([r.as_json() for r in rows])
        return
    if not rows:
        err(_("no changes match"))
        return
    for r in rows:
        start = local_time(r.planned_start.isoformat(), zone) if r.planned_start else "—"
        out(
            f"{r.number}  {r.status:<13} {r.change_type:<9} {or_dash(r.risk):<9} "
            f"{start:<22} {' '.join(r.title.split())}"
        )
    if len(rows) == limit:
        err(_("more: --after {number}").format(number=rows[-1].number))


@change.command("update")
@click.argument("number")
@click.option("--title")
@click.option("--description")
@click.option("--category")
@click.option("--impact", type=int)
@click.option("--service", "services", multiple=True, help=_("Replaces the services; repeat."))
@click.option("--implementer", metavar="USERNAME", help=_('"" clears it.'))
@click.option("--implementation-plan")
@click.option("--backout-plan")
@click.option("--test-plan")
@version_option
@json_option
@pass_env
def change_update(
    env: Env,
    number: str,
    title: str | None,
    description: str | None,
    category: str | None,
    impact: int | None,
    services: tuple[str, ...],
    implementer: str | None,
    implementation_plan: str | None,
    backout_plan: str | None,
    test_plan: str | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Edit a change before it is authorized."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: update_change(
            s,
            actor,
            number,
            expected_version=expected,
            title=title,
            description=description,
            category=category,
            impact=impact,
            services=list(services) if services else None,
            implementer=implementer,
            implementation_plan=implementation_plan,
            backout_plan=backout_plan,
            test_plan=test_plan,
            now=now,
        ),
    )


# ---------------------------------------------------------------------------
# Assess, submit, vote, schedule


@change.command("assess")
@click.argument("number")
@click.option(
    "--answer",
    "answers",
    multiple=True,
    metavar="QUESTION=ANSWER",
    help=_("One per question of the desk's risk questionnaire."),
)
@version_option
@json_option
@pass_env
def change_assess(
    env: Env, number: str, answers: tuple[str, ...], expected: int | None, as_json: bool
) -> None:
    """Answer the risk questionnaire; prints the level and what set it."""
    given = _pairs(answers, "--answer")
    _write_change(
        env,
        as_json,
        lambda s, actor, now: assess_change(
            s, actor, number, given, expected_version=expected, now=now
        ),
    )


@change.command("submit")
@click.argument("number")
@version_option
@json_option
@pass_env
def change_submit(env: Env, number: str, expected: int | None, as_json: bool) -> None:
    """Send a change to its next gate (assessment, the CAB, or the schedule)."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: submit_change(s, actor, number, expected_version=expected, now=now),
    )


@change.command("approve")
@click.argument("number")
@click.option("--comment", default="")
@version_option
@json_option
@pass_env
def change_approve(
    env: Env, number: str, comment: str, expected: int | None, as_json: bool
) -> None:
    """Your CAB vote: approve."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: approve_change(
            s, actor, number, comment=comment, expected_version=expected, now=now
        ),
    )


@change.command("reject")
@click.argument("number")
@click.option("--reason", required=True)
@version_option
@json_option
@pass_env
def change_reject(env: Env, number: str, reason: str, expected: int | None, as_json: bool) -> None:
    """Your CAB vote: reject, with a reason (one rejection rejects the change)."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: reject_change(
            s, actor, number, reason=reason, expected_version=expected, now=now
        ),
    )


@change.command("schedule")
@click.argument("number")
@click.option("--start", type=ISO, required=True)
@click.option("--end", type=ISO, required=True)
@click.option("--implementer", metavar="USERNAME")
@click.option(
    "--override",
    "override_reason",
    metavar="REASON",
    help=_("Change managers: accept the conflicts, for this reason."),
)
@version_option
@json_option
@pass_env
def change_schedule(
    env: Env,
    number: str,
    start: datetime,
    end: datetime,
    implementer: str | None,
    override_reason: str | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Plan or move a change's window; conflicts refuse it (each named)."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: schedule_change(
            s,
            actor,
            number,
            start=start,
            end=end,
            implementer=implementer,
            override_reason=override_reason,
            expected_version=expected,
            now=now,
        ),
    )


# ---------------------------------------------------------------------------
# Implement, review, close


@change.command("start")
@click.argument("number")
@click.option("--at", type=ISO, help=_("When it started (default: now)."))
@version_option
@json_option
@pass_env
def change_start(
    env: Env, number: str, at: datetime | None, expected: int | None, as_json: bool
) -> None:
    """Implementation begins."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: start_change(
            s, actor, number, at=at, expected_version=expected, now=now
        ),
    )


@change.command("complete")
@click.argument("number")
@click.option("--outcome", required=True, help=", ".join(CHANGE_OUTCOMES))
@click.option("--notes", default="", help=_("A work note on how it went."))
@click.option("--at", type=ISO, help=_("When it ended (default: now)."))
@version_option
@json_option
@pass_env
def change_complete(
    env: Env,
    number: str,
    outcome: str,
    notes: str,
    at: datetime | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Implementation ended, with its outcome; the change goes to review."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: complete_change(
            s,
            actor,
            number,
            outcome=outcome,
            notes=notes,
            at=at,
            expected_version=expected,
            now=now,
        ),
    )


@change.command("review")
@click.argument("number")
@click.option("--notes", "review_notes", required=True, help=_("What happened."))
@click.option("--lessons", "lessons_learned", required=True, help=_("Lessons learned."))
@version_option
@json_option
@pass_env
def change_review(
    env: Env,
    number: str,
    review_notes: str,
    lessons_learned: str,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record the post-implementation review."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: review_change(
            s,
            actor,
            number,
            review_notes=review_notes,
            lessons_learned=lessons_learned,
            expected_version=expected,
            now=now,
        ),
    )


@change.command("close")
@click.argument("number")
@click.option(
    "--resolve-problem", is_flag=True, help=_("Resolve the problem this successful change fixed.")
)
@version_option
@json_option
@pass_env
def change_close(
    env: Env, number: str, resolve_problem: bool, expected: int | None, as_json: bool
) -> None:
    """Close a reviewed change."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: close_change(
            s, actor, number, resolve_problem=resolve_problem, expected_version=expected, now=now
        ),
    )


@change.command("cancel")
@click.argument("number")
@click.option("--reason", required=True)
@version_option
@json_option
@pass_env
def change_cancel(env: Env, number: str, reason: str, expected: int | None, as_json: bool) -> None:
    """Withdraw a change that has not started."""
    _write_change(
        env,
        as_json,
        lambda s, actor, now: cancel_change(
            s, actor, number, reason=reason, expected_version=expected, now=now
        ),
    )


@change.command("link-incident")
@click.argument("number")
@click.argument("incident", metavar="INCIDENT")
@version_option
@json_option
@pass_env
def change_link_incident(
    env: Env, number: str, incident: str, expected: int | None, as_json: bool
) -> None:
    """Record an incident the change caused (it then names the change)."""

    def link(s: Session, actor: Agent, now: datetime) -> Change:
        link_caused_incident(s, actor, number, incident, expected_version=expected, now=now)
        return get_change(s, number)

    _write_change(env, as_json, link)


# conflicts, next-slot, calendar: the schedule's own commands (cli/change_schedule.py).
schedule_commands.register(change)
