"""`itsm sla`, `itsm escalate`, `itsm escalator`: SLA clocks and the escalation sweep."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from itsm_tui.cli.env import Env, acting_agent, desk_session, opened, pass_env
from itsm_tui.cli.options import Duration, json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.cli.views import local_time, or_dash
from itsm_tui.data import record_json
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _


@click.group()
def sla() -> None:
    """SLA clocks: what breaches next."""


@sla.command("breaching")
@click.option(
    "--within", type=Duration(), default="30m", show_default=True, help=_("How far ahead to look.")
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@pass_env
def sla_breaching(env: Env, within: timedelta, limit: int, as_json: bool) -> None:
    """Running SLA clocks due within the window, soonest first (overdue ones on top)."""
    with desk_session(env, write=False) as (session, actor):
        rows = record_json.breaching_soon(session, env.now(), within, limit=limit)
        zone = agent_zone(session, actor)
    if as_json:
        out_json(rows)
        return
    if not rows:
        out(_("nothing due within {within}").format(within=within))
        return
    for r in rows:
        out(
            f"{r['number']:<11} {r['priority']} {r['kind']:<10} "
            f"{local_time(r['due_at'], zone)} ({r['due_in_minutes']:+.0f} min)  "
            f"{or_dash(r['team'])}/{or_dash(r['assignee'])}  {r['title']}"
        )


@click.command()
@json_option
@pass_env
def escalate(env: Env, as_json: bool) -> None:
    """Run one escalation sweep now (for cron, or to catch up by hand)."""
    from itsm_tui.escalation.sweep import sweep

    with opened(env) as store, store.write() as session:
        acting_agent(session, env)
        result = sweep(session, env.now())
    if as_json:
        out_json(result.as_dict())
        return
    out(
        _("warned {w}, breached {b}, escalated {e}, notifications {n}").format(
            w=len(result.warned),
            b=len(result.breached),
            e=len(result.escalated),
            n=result.notifications,
        )
    )


@click.command()
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=30,
    show_default=True,
    help=_("Seconds between sweeps."),
)
@pass_env
def escalator(env: Env, interval: float) -> None:
    """The escalation daemon: sweep every INTERVAL seconds until SIGTERM or Ctrl-C."""
    import logging

    from itsm_tui.escalation.scheduler import run_escalator

    # Only the daemon's own lines at INFO: APScheduler logs every job run and Alembic its
    # plugins and DDL mode at each start; their warnings and errors still come through.
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("itsm").setLevel(logging.INFO)
    with opened(env) as store:
        with store.read() as session:
            acting_agent(session, env)
        run_escalator(store, interval=interval, clock=env.now)
