"""`itsm oncall`: who is on call now, the rota between two instants, acknowledging a page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import ISO, json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.cli.views import local_time
from itsm_tui.config.readers import oncall_rotations
from itsm_tui.desk import paging
from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.records import as_utc, get_team
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.oncall import OnCall, Rotation, on_call_at, schedule
from itsm_tui.i18n import _

# `oncall show` lays out a year at most: a weekly rota is 52 lines a team.
SHOW_MAX = timedelta(days=366)


@click.group()
def oncall() -> None:
    """The on-call rota ([[rotations]] in the desk file) and its pages."""


def _rotations(session: Session, team: str | None) -> list[Rotation]:
    rotations = oncall_rotations(session)
    if team is None:
        return [rotations[name] for name in sorted(rotations)]
    name = get_team(session, team).name
    if name not in rotations:
        raise NotFound(
            _("team {team} has no on-call rota; add [[rotations]] to the desk file").format(
                team=name
            )
        )
    return [rotations[name]]


def _stretch(team: str, on: OnCall) -> dict[str, Any]:
    return {
        "team": team,
        "agent": on.agent,
        "member": on.member,
        "covering": on.override is not None,
        "reason": on.override.reason if on.override is not None else None,
        "from": on.starts.isoformat(),
        "to": on.ends.isoformat(),
    }


@oncall.command("now")
@click.option("--team", help=_("One team (default: every team with a rota)."))
@json_option
@pass_env
def oncall_now(env: Env, team: str | None, as_json: bool) -> None:
    """Who is on call now, since when and until when."""
    with desk_session(env, write=False) as (session, actor):
        now = as_utc(env.now(), _("now"))
        rows = []
        for rotation in _rotations(session, team):
            on = on_call_at(rotation, now)
            rows.append(
                _stretch(rotation.team, on)
                if on is not None
                else {"team": rotation.team, "agent": None}
            )
        zone = agent_zone(session, actor)
    if as_json:
        out_json(rows)
        return
    if not rows:
        out(_("no team has an on-call rota; add [[rotations]] to the desk file"))
    for r in rows:
        if r["agent"] is None:
            out(_("{team}: nobody (the rota has not started)").format(team=r["team"]))
            continue
        line = _("{team}: {agent} until {until}").format(
            team=r["team"], agent=r["agent"], until=local_time(r["to"], zone)
        )
        if r["covering"]:
            line += _(" (covering {member}{reason})").format(
                member=r["member"], reason=f": {r['reason']}" if r["reason"] else ""
            )
        out(line)


@oncall.command("show")
@click.option("--from", "start", type=ISO, required=True, help=_("From this instant (ISO 8601)."))
@click.option("--to", "end", type=ISO, required=True, help=_("To this instant (ISO 8601)."))
@click.option("--team", help=_("One team (default: every team with a rota)."))
@json_option
@pass_env
def oncall_show(env: Env, start: datetime, end: datetime, team: str | None, as_json: bool) -> None:
    """Who is on call from FROM to TO, stretch by stretch (overrides included)."""
    start, end = as_utc(start, _("--from")), as_utc(end, _("--to"))
    if end <= start:
        raise InvalidInput(_("--to must be after --from"))
    if end - start > SHOW_MAX:
        raise InvalidInput(_("show at most a year at a time (--from to --to)"))
    with desk_session(env, write=False) as (session, actor):
        rows = [
            _stretch(rotation.team, on)
            for rotation in _rotations(session, team)
            for on in schedule(rotation, start, end)
        ]
        zone = agent_zone(session, actor)
    if as_json:
        out_json(rows)
        return
    if not rows:
        out(_("nobody is on call in that window"))
    for r in rows:
        line = f"{local_time(r['from'], zone)} → {local_time(r['to'], zone)}  {r['team']}: "
        line += r["agent"]
        if r["covering"]:
            line += _(" (covering {member}{reason})").format(
                member=r["member"], reason=f": {r['reason']}" if r["reason"] else ""
            )
        out(line)


@oncall.command("ack")
@click.argument("page_or_ticket")
@json_option
@pass_env
def oncall_ack(env: Env, page_or_ticket: str, as_json: bool) -> None:
    """Acknowledge a page (its number) or a ticket's latest page: nobody else is paged."""
    key = page_or_ticket.strip()

    def act(session: Session, actor: Any, now: datetime) -> paging.PageAcknowledged:
        if key.isdigit():
            return paging.acknowledge_page(session, actor, int(key), now, via="cli")
        return paging.acknowledge_ticket_page(session, actor, key, now, via="cli")

    done = write(env, act)
    if as_json:
        out_json(
            {
                "page": done.page_id,
                "number": done.number,
                "agent": done.agent,
                "level": done.level,
                "acknowledged_by": done.acknowledged_by,
                "acknowledged_at": done.acknowledged_at.isoformat(),
                "via": done.via,
            }
        )
        return
    out(
        _("{number}: page {page} (level {level}, {agent}) acknowledged by {by}").format(
            number=done.number,
            page=done.page_id,
            level=done.level,
            agent=done.agent,
            by=done.acknowledged_by,
        )
    )
