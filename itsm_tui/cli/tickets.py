"""`itsm ticket …`: incidents, service requests and problems, each command one desk call."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import ISO, json_option, priority_option, version_option
from itsm_tui.cli.output import err, out, out_json
from itsm_tui.cli.views import LIST_COLUMNS, csv_value, emit_ticket, format_detail, ticket_table
from itsm_tui.data import record_json, ticket_lists
from itsm_tui.data.models import Agent
from itsm_tui.data.ticket_filter import TicketFilter
from itsm_tui.desk import (
    InvalidInput,
    add_comment,
    assign_ticket,
    close_ticket,
    create_ticket,
    link_ticket,
    log_time,
    override_priority,
    record_survey,
    reopen_ticket,
    resolve_ticket,
    transition_ticket,
    update_ticket,
)
from itsm_tui.desk.records import get_agent, get_team, get_ticket
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.workflow import TICKET_TYPES, all_statuses
from itsm_tui.i18n import _


@click.group()
def ticket() -> None:
    """Incidents, service requests and problems."""


def _fields(values: Sequence[str]) -> dict[str, str] | None:
    answers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                _("{item!r} is not name=value").format(item=item), param_hint="--field"
            )
        answers[name.strip()] = value
    return answers or None


@ticket.command("create")
@click.option("--type", "type_", required=True, help=", ".join(TICKET_TYPES))
@click.option("--title", required=True)
@click.option("--impact", type=int, required=True, help=_("1 high, 2 medium, 3 low."))
@click.option("--urgency", type=int, required=True, help=_("1 high, 2 medium, 3 low."))
@click.option("--description", default="")
@click.option("--service")
@click.option("--requester", metavar="EMAIL")
@click.option("--category", default="")
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--item", metavar="CODE", help=_("Catalogue item (service requests)."))
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=_("Form answer."))
@click.option("--opened-at", type=ISO, help=_("When it was reported (ISO 8601 with a zone)."))
@json_option
@pass_env
def ticket_create(
    env: Env,
    type_: str,
    title: str,
    impact: int,
    urgency: int,
    description: str,
    service: str | None,
    requester: str | None,
    category: str,
    team: str | None,
    assignee: str | None,
    item: str | None,
    fields: tuple[str, ...],
    opened_at: datetime | None,
    as_json: bool,
) -> None:
    """Open a ticket and print it."""
    answers = _fields(fields)
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            create_ticket(
                s,
                actor,
                type=type_.strip().lower(),
                title=title,
                impact=impact,
                urgency=urgency,
                description=description,
                category=category,
                service=service,
                requester=requester,
                team=team,
                assignee=assignee,
                catalogue_item=item,
                form_data=answers,
                opened_at=opened_at,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json, full=True)


@ticket.command("show")
@click.argument("number")
@json_option
@pass_env
def ticket_show(env: Env, number: str, as_json: bool) -> None:
    """Print a ticket with its comments and history."""
    with desk_session(env, write=False) as (session, actor):
        detail = record_json.ticket_detail(session, number, now=env.now())
        zone = agent_zone(session, actor)
    if as_json:
        out_json(detail)
    else:
        out(format_detail(detail, zone))


@ticket.command("list")
@click.option("--status", "statuses", multiple=True, help=_("Repeat for several."))
@click.option("--priority", help="P1…P4")
@click.option("--type", "type_", help=", ".join(TICKET_TYPES))
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--mine", is_flag=True, help=_("Assigned to you."))
@click.option("--unassigned", is_flag=True)
@click.option("--open", "open_only", is_flag=True, help=_("Only tickets still being worked."))
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--after", metavar="NUMBER", help=_("Continue after this ticket (the last shown)."))
@click.option("--count", "count_only", is_flag=True, help=_("Print how many tickets match."))
@click.option("--json", "as_json", is_flag=True, help=_("Print a JSON array."))
@click.option("--csv", "as_csv", is_flag=True, help=_("Print CSV with a header."))
@pass_env
def ticket_list(
    env: Env,
    statuses: tuple[str, ...],
    priority: str | None,
    type_: str | None,
    team: str | None,
    assignee: str | None,
    mine: bool,
    unassigned: bool,
    open_only: bool,
    limit: int,
    after: str | None,
    count_only: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List tickets in queue order: priority, then oldest first."""
    if as_json and as_csv:
        raise click.UsageError(_("choose one of --json and --csv"))
    if sum((bool(assignee), mine, unassigned)) > 1:
        raise click.UsageError(_("choose one of --assignee, --mine and --unassigned"))
    known = all_statuses()
    wanted = tuple(s.strip().lower() for s in statuses)
    for status in wanted:
        if status not in known:
            raise InvalidInput(
                _("unknown status {status!r}; statuses: {known}").format(
                    status=status, known=", ".join(known)
                )
            )
    kind = type_.strip().lower() if type_ else None
    if kind is not None and kind not in TICKET_TYPES:
        raise InvalidInput(
            _("unknown ticket type {type!r}; use one of: {types}").format(
                type=type_, types=", ".join(TICKET_TYPES)
            )
        )
    with desk_session(env, write=False) as (session, actor):
        who = actor if mine else (get_agent(session, assignee) if assignee else None)
        filters = TicketFilter(
            statuses=wanted,
            priority=priority_option(priority) if priority else None,
            type=kind,
            team_id=get_team(session, team).id if team else None,
            assignee_id=who.id if who else None,
            unassigned=unassigned,
            open_only=open_only,
        )
        if count_only:
            total = ticket_lists.count_tickets(session, filters)
        else:
            key = ticket_lists.page_key(session, after) if after else None
            records = ticket_lists.list_tickets(session, filters, limit=limit, after=key)
        zone = agent_zone(session, actor)
    if count_only:
        out(str(total))
    elif as_json:
        out_json(records)
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(LIST_COLUMNS)
        for r in records:
            writer.writerow([csv_value(r[c]) for c in LIST_COLUMNS])
        out(buffer.getvalue(), nl=False)
    elif records:
        out(ticket_table(records, zone))
        if len(records) == limit:
            err(_("more: --after {number}").format(number=records[-1]["number"]))
    else:
        err(_("no tickets match"))


@ticket.command("assign")
@click.argument("number")
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@click.option("--take", is_flag=True, help=_("Assign it to yourself."))
@click.option("--unassign", is_flag=True, help=_("Take it off its assignee."))
@version_option
@json_option
@pass_env
def ticket_assign(
    env: Env,
    number: str,
    team: str | None,
    assignee: str | None,
    take: bool,
    unassign: bool,
    expected: int | None,
    as_json: bool,
) -> None:
    """Hand a ticket to a team and/or an agent."""
    if sum((bool(assignee), take, unassign)) > 1:
        raise click.UsageError(_("choose one of --assignee, --take and --unassign"))
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            assign_ticket(
                s,
                actor,
                number,
                team=team,
                assignee=actor.username if take else assignee,
                unassign=unassign,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("transition")
@click.argument("number")
@click.argument("status")
@click.option("--note", help=_("A work note to add with the move."))
@version_option
@json_option
@pass_env
def ticket_transition(
    env: Env, number: str, status: str, note: str | None, expected: int | None, as_json: bool
) -> None:
    """Move a ticket to another status."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            transition_ticket(
                s, actor, number, status, note=note, expected_version=expected, now=now
            ),
        ),
    )
    emit_ticket(record, as_json)


def _text_or_stdin(value: str) -> str:
    """ "-" reads the text from standard input (long notes, pasted logs) byte for byte."""
    if value != "-":
        return value
    # Read bytes: a text stream would turn the user's \r\n into \n.
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("standard input is not UTF-8 text")) from None


@ticket.command("comment")
@click.argument("number")
@click.argument("body")
@click.option("--work-note", is_flag=True, help=_("An internal work note, not a reply."))
@version_option
@json_option
@pass_env
def ticket_comment(
    env: Env, number: str, body: str, work_note: bool, expected: int | None, as_json: bool
) -> None:
    """Reply to the requester (or add a work note). BODY "-" reads standard input."""
    text = _text_or_stdin(body)

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        add_comment(
            s,
            actor,
            number,
            text,
            kind="work_note" if work_note else "reply",
            expected_version=expected,
            now=now,
        )
        return record_json.ticket_record(s, get_ticket(s, number))

    emit_ticket(write(env, action), as_json)


@ticket.command("resolve")
@click.argument("number")
@click.option("--code", required=True, help=_("Resolution code, e.g. fixed, workaround."))
@click.option("--notes", required=True, help=_('What was done ("-" reads standard input).'))
@version_option
@json_option
@pass_env
def ticket_resolve(
    env: Env, number: str, code: str, notes: str, expected: int | None, as_json: bool
) -> None:
    """Resolve an incident or problem, or fulfil a request."""
    text = _text_or_stdin(notes)
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            resolve_ticket(
                s, actor, number, code=code, notes=text, expected_version=expected, now=now
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("reopen")
@click.argument("number")
@click.option("--reason", required=True)
@version_option
@json_option
@pass_env
def ticket_reopen(env: Env, number: str, reason: str, expected: int | None, as_json: bool) -> None:
    """Take a resolved ticket back into work."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s, reopen_ticket(s, actor, number, reason=reason, expected_version=expected, now=now)
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("close")
@click.argument("number")
@version_option
@json_option
@pass_env
def ticket_close(env: Env, number: str, expected: int | None, as_json: bool) -> None:
    """Close a resolved ticket (final)."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s, close_ticket(s, actor, number, expected_version=expected, now=now)
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("update")
@click.argument("number")
@click.option("--title")
@click.option("--description")
@click.option("--category")
@click.option("--impact", type=int)
@click.option("--urgency", type=int)
@click.option("--service", help=_('"" clears it.'))
@click.option("--requester", metavar="EMAIL", help=_('"" clears it.'))
@click.option("--root-cause")
@click.option("--workaround")
@click.option("--known-error/--not-known-error", default=None)
@version_option
@json_option
@pass_env
def ticket_update(
    env: Env,
    number: str,
    title: str | None,
    description: str | None,
    category: str | None,
    impact: int | None,
    urgency: int | None,
    service: str | None,
    requester: str | None,
    root_cause: str | None,
    workaround: str | None,
    known_error: bool | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Change a ticket's fields; impact and urgency re-derive the priority."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            update_ticket(
                s,
                actor,
                number,
                expected_version=expected,
                title=title,
                description=description,
                category=category,
                impact=impact,
                urgency=urgency,
                service=service,
                requester=requester,
                root_cause=root_cause,
                workaround=workaround,
                known_error=known_error,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("priority")
@click.argument("number")
@click.argument("priority")
@click.option("--reason", required=True, help=_("Why the matrix is overridden (audited)."))
@version_option
@json_option
@pass_env
def ticket_priority(
    env: Env, number: str, priority: str, reason: str, expected: int | None, as_json: bool
) -> None:
    """Override a ticket's priority (supervisors)."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            override_priority(
                s,
                actor,
                number,
                priority_option(priority),
                reason=reason,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("link")
@click.argument("number")
@click.option("--parent", metavar="NUMBER", help=_("Its major incident."))
@click.option("--problem", metavar="NUMBER")
@click.option("--change", metavar="NUMBER")
@click.option("--article", metavar="NUMBER", help=_("A knowledge article."))
@version_option
@json_option
@pass_env
def ticket_link(
    env: Env,
    number: str,
    parent: str | None,
    problem: str | None,
    change: str | None,
    article: str | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Link a ticket to a major incident, a problem, a change or an article."""
    record = write(
        env,
        lambda s, actor, now: record_json.ticket_record(
            s,
            link_ticket(
                s,
                actor,
                number,
                parent=parent,
                problem=problem,
                change=change,
                article=article,
                expected_version=expected,
                now=now,
            ),
        ),
    )
    emit_ticket(record, as_json)


@ticket.command("log-time")
@click.argument("number")
@click.argument("minutes", type=int)
@click.option("--note", default="")
@click.option("--at", type=ISO, help=_("When the work was done (default now)."))
@version_option
@json_option
@pass_env
def ticket_log_time(
    env: Env,
    number: str,
    minutes: int,
    note: str,
    at: datetime | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record minutes you spent on a ticket."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        entry = log_time(
            s, actor, number, minutes, note=note, at=at, expected_version=expected, now=now
        )
        return {
            "ticket": record_json.ticket_record(s, get_ticket(s, number)),
            "minutes": entry.minutes,
            "cost": str(entry.cost),
            "logged_at": record_json.iso(entry.logged_at),
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("{number}: logged {minutes} min (cost {cost}).").format(
                number=result["ticket"]["number"], minutes=result["minutes"], cost=result["cost"]
            )
        )


@ticket.command("survey")
@click.argument("number")
@click.argument("rating", type=int)
@click.option("--comment", default="")
@click.option("--at", type=ISO, help=_("When it was submitted (default now)."))
@version_option
@json_option
@pass_env
def ticket_survey(
    env: Env,
    number: str,
    rating: int,
    comment: str,
    at: datetime | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record the requester's 1–5 rating of a resolved ticket."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        survey = record_survey(
            s, actor, number, rating, comment=comment, at=at, expected_version=expected, now=now
        )
        return {
            "ticket": record_json.ticket_record(s, get_ticket(s, number)),
            "rating": survey.rating,
            "comment": survey.comment,
            "submitted_at": record_json.iso(survey.submitted_at),
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("{number}: rated {rating}/5.").format(
                number=result["ticket"]["number"], rating=result["rating"]
            )
        )
