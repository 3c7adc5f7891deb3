"""`itsm problem …`: problem management from the command line, each command one desk call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import ISO, json_option, version_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.cli.views import local_time, or_dash
from itsm_tui.data import problem_reads
from itsm_tui.data.models import Agent, Ticket
from itsm_tui.data.record_json import iso
from itsm_tui.data.recurring import MIN_SIZE, WINDOW, find_recurring
from itsm_tui.desk import InvalidInput
from itsm_tui.desk import problems as desk_problems
from itsm_tui.desk.records import as_utc
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _


@click.group()
def problem() -> None:
    """Problems: from incidents to root cause, known error and fix."""


def _write_problem(
    env: Env, as_json: bool, action: Callable[[Session, Agent, datetime], Ticket]
) -> None:
    """One desk write on a problem; prints its detail (JSON) or its one-line summary."""
    record = write(
        env, lambda s, actor, now: problem_reads.problem_detail(s, action(s, actor, now))
    )
    if as_json:
        out_json(record)
    else:
        out(_summary(record))


def _summary(r: dict[str, Any]) -> str:
    known = _(" known error") if r["known_error"] else ""
    return _("{number} {status}{known} ({incidents} incidents, version {version}): {title}").format(
        number=r["number"],
        status=r["status"],
        known=known,
        incidents=r["incident_count"],
        version=r["version"],
        title=r["title"],
    )


@problem.command("create")
@click.argument("incidents", nargs=-1, required=True)
@click.option("--title", help=_("Default: the first incident's title."))
@click.option("--description", default="")
@click.option("--impact", type=int, help=_("Default: the highest among the incidents."))
@click.option("--urgency", type=int, help=_("Default: the highest among the incidents."))
@click.option("--team")
@click.option("--assignee", metavar="USERNAME")
@json_option
@pass_env
def problem_create(
    env: Env,
    incidents: tuple[str, ...],
    title: str | None,
    description: str,
    impact: int | None,
    urgency: int | None,
    team: str | None,
    assignee: str | None,
    as_json: bool,
) -> None:
    """Open a problem for one or more incidents (INCIDENTS: their numbers)."""
    _write_problem(
        env,
        as_json,
        lambda s, actor, now: desk_problems.create_problem(
            s,
            actor,
            incidents=list(incidents),
            title=title,
            description=description,
            impact=impact,
            urgency=urgency,
            team=team,
            assignee=assignee,
            now=now,
        ),
    )


@problem.command("link")
@click.argument("number")
@click.argument("incidents", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help=_("Take the incidents off the problem instead."))
@version_option
@json_option
@pass_env
def problem_link(
    env: Env,
    number: str,
    incidents: tuple[str, ...],
    remove: bool,
    expected: int | None,
    as_json: bool,
) -> None:
    """Link incidents to a problem (or take them off it with --remove)."""

    def action(s: Session, actor: Agent, now: datetime) -> Ticket:
        if not remove:
            return desk_problems.link_incidents(
                s, actor, number, list(incidents), expected_version=expected, now=now
            )
        result = desk_problems.get_problem(s, number)
        for incident in incidents:
            result = desk_problems.unlink_incident(s, actor, number, incident, now=now)
        return result

    _write_problem(env, as_json, action)


@problem.command("rca")
@click.argument("number")
@click.option("--root-cause", required=True, help=_("The cause found."))
@click.option("--why", "whys", multiple=True, help=_("One why, in order; repeat (five whys)."))
@click.option("--analysis", help=_("A free-text analysis instead of the whys."))
@version_option
@json_option
@pass_env
def problem_rca(
    env: Env,
    number: str,
    root_cause: str,
    whys: tuple[str, ...],
    analysis: str | None,
    expected: int | None,
    as_json: bool,
) -> None:
    """Record the root cause and how it was found."""
    _write_problem(
        env,
        as_json,
        lambda s, actor, now: desk_problems.record_root_cause(
            s,
            actor,
            number,
            root_cause=root_cause,
            whys=list(whys) if whys else None,
            analysis=analysis,
            expected_version=expected,
            now=now,
        ),
    )


@problem.command("known-error")
@click.argument("number")
@click.option("--workaround", help=_("Publish this workaround: the problem is a known error."))
@click.option("--withdraw", metavar="REASON", help=_("The workaround no longer holds."))
@click.option(
    "--resolve-incidents",
    "resolve",
    is_flag=True,
    help=_("Also resolve its open incidents with the workaround as a public reply."),
)
@version_option
@json_option
@pass_env
def problem_known_error(
    env: Env,
    number: str,
    workaround: str | None,
    withdraw: str | None,
    resolve: bool,
    expected: int | None,
    as_json: bool,
) -> None:
    """Publish a problem's workaround (a known error), or withdraw it."""
    if (workaround is None) == (withdraw is None):
        raise InvalidInput(_("give --workaround or --withdraw"))

    def action(s: Session, actor: Agent, now: datetime) -> Ticket:
        if withdraw is not None:
            return desk_problems.withdraw_known_error(s, actor, number, reason=withdraw, now=now)
        assert workaround is not None
        result = desk_problems.publish_workaround(
            s, actor, number, workaround=workaround, expected_version=expected, now=now
        )
        if resolve:
            _resolve_open(s, actor, result, now)
        return result

    _write_problem(env, as_json, action)


def _resolve_open(s: Session, actor: Agent, problem: Ticket, now: datetime) -> None:
    still_open = [i.number for i in problem_reads.linked_incidents(s, problem) if i.is_open]
    if still_open:
        desk_problems.resolve_incidents(s, actor, problem.number, still_open, now=now)


@problem.command("resolve")
@click.argument("number")
@click.option("--notes", required=True, help=_("The fix, as the incidents' requesters read it."))
@click.option("--code", default="fixed", show_default=True)
@click.option(
    "--incidents",
    "which",
    default="none",
    show_default=True,
    metavar="all|none|NUMBER,…",
    help=_("Open incidents to resolve with the fix as a public reply, in the same step."),
)
@version_option
@json_option
@pass_env
def problem_resolve(
    env: Env,
    number: str,
    notes: str,
    code: str,
    which: str,
    expected: int | None,
    as_json: bool,
) -> None:
    """Resolve a problem and, if asked, its open incidents with it."""

    def action(s: Session, actor: Agent, now: datetime) -> Ticket:
        result = desk_problems.resolve_problem(
            s, actor, number, notes=notes, code=code, expected_version=expected, now=now
        )
        chosen = which.strip().lower()
        if chosen == "all":
            _resolve_open(s, actor, result, now)
        elif chosen != "none":
            picked = [n for n in which.replace(" ", ",").split(",") if n.strip()]
            desk_problems.resolve_incidents(s, actor, result.number, picked, now=now)
        return result

    _write_problem(env, as_json, action)


@problem.command("show")
@click.argument("number")
@json_option
@pass_env
def problem_show(env: Env, number: str, as_json: bool) -> None:
    """Print a problem: its analysis, workaround, incidents, changes and articles."""
    with desk_session(env, write=False) as (session, actor):
        record = problem_reads.problem_detail(session, desk_problems.get_problem(session, number))
        zone = agent_zone(session, actor)
    if as_json:
        out_json(record)
    else:
        out(format_problem(record, zone))


def format_problem(r: dict[str, Any], zone: tzinfo) -> str:
    lines = [
        _summary(r),
        _("Priority  {priority}   Service {service}   Held by {assignee}   Opened {opened}").format(
            priority=r["priority"],
            service=or_dash(r["service"]),
            assignee=or_dash(r["assignee"]),
            opened=local_time(r["opened_at"], zone),
        ),
        _("Root cause  {cause}").format(cause=or_dash(r["root_cause"])),
    ]
    analysis = r.get("analysis") or {}
    if analysis.get("method") == desk_problems.FIVE_WHYS:
        lines.append(_("Five whys"))
        lines.extend(f"  {n}. {why}" for n, why in enumerate(analysis["whys"], 1))
    elif analysis.get("method") == desk_problems.FREE_TEXT:
        lines.append(_("Analysis    {text}").format(text=analysis["text"]))
    lines.append(_("Workaround  {text}").format(text=or_dash(r["workaround"])))
    if r["resolution_notes"]:
        lines.append(_("Resolution  {notes}").format(notes=r["resolution_notes"]))
    lines.append(
        _("Incidents   {total} ({open} open)").format(
            total=r["incident_count"], open=r["open_incident_count"]
        )
    )
    lines.extend(
        f"  {i['number']}  {i['priority']}  {i['status']:<12} {i['title']}" for i in r["incidents"]
    )
    lines.append(_("Changes     {n}").format(n=len(r["changes"])))
    lines.extend(f"  {c['number']}  {c['status']:<12} {c['title']}" for c in r["changes"])
    lines.append(_("Articles    {n}").format(n=len(r["articles"])))
    lines.extend(f"  {a['number']}  {a['status']:<12} {a['title']}" for a in r["articles"])
    return "\n".join(lines)


@problem.command("list")
@click.option("--all", "everything", is_flag=True, help=_("Resolved and closed ones too."))
@click.option("--known-errors", is_flag=True, help=_("Only known errors."))
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@pass_env
def problem_list(env: Env, everything: bool, known_errors: bool, limit: int, as_json: bool) -> None:
    """Problems by priority, then oldest first, with their incident counts."""
    with desk_session(env, write=False) as (session, _actor):
        rows = problem_reads.problem_list(
            session, open_only=not everything, known_errors_only=known_errors, limit=limit
        )
    if as_json:
        out_json([row.as_json() for row in rows])
        return
    for row in rows:
        out(
            f"{row.number}  P{row.priority}  {row.status:<13} "
            f"{'KE' if row.known_error else '  '} {row.incidents:>5}  {row.title}"
        )


@problem.command("suggest")
@click.option("--since", type=ISO, help=_("Default: a year before --until."))
@click.option("--until", type=ISO, help=_("Default: now."))
@click.option(
    "--window-days",
    type=click.IntRange(1, 365),
    default=WINDOW.days,
    show_default=True,
    help=_("Similar incidents at most this far apart join a cluster."),
)
@click.option("--min-size", type=click.IntRange(2, 10_000), default=MIN_SIZE, show_default=True)
@click.option("--service")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@json_option
@pass_env
def problem_suggest(
    env: Env,
    since: datetime | None,
    until: datetime | None,
    window_days: int,
    min_size: int,
    service: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Recurring incidents no problem holds yet: each cluster a problem to open."""
    end = env.now() if until is None else as_utc(until, "--until")
    start = end - timedelta(days=365) if since is None else as_utc(since, "--since")
    if start >= end:
        raise InvalidInput(_("--since must be before --until"))
    with desk_session(env, write=False) as (session, actor):
        clusters = find_recurring(
            session,
            since=start,
            until=end,
            window=timedelta(days=window_days),
            min_size=min_size,
            service=service,
            limit=limit,
        )
        zone = agent_zone(session, actor)
    if as_json:
        out_json(
            [
                {
                    "service": c.service,
                    "title": c.title,
                    "size": c.size,
                    "first_opened": _iso(c.first_opened),
                    "last_opened": _iso(c.last_opened),
                    "incidents": list(c.incidents),
                }
                for c in clusters
            ]
        )
        return
    if not clusters:
        out(_("No recurring incidents without a problem."))
    for c in clusters:
        out(
            _("{size:>5} × {title}  [{service}, {first} – {last}]").format(
                size=c.size,
                service=c.service,
                title=c.title,
                first=local_time(_iso(c.first_opened), zone),
                last=local_time(_iso(c.last_opened), zone),
            )
        )
        out("        " + " ".join(c.incidents[-10:]))


def _iso(value: datetime) -> str:
    return iso(value) or ""
