"""`itsm wall`: the KPI wall panel, full screen, for a screen nobody types on."""

from __future__ import annotations

import sys

import click

from itsm_tui.cli.env import Env, Refused, acting, opened, pass_env
from itsm_tui.data import store_summary
from itsm_tui.data.kpi import cut_named
from itsm_tui.data.kpi.period import period_ending
from itsm_tui.desk.zones import desk_zone
from itsm_tui.i18n import _


@click.command()
@click.option("--team", help=_("Only this team's numbers (no rotation)."))
@click.option(
    "--rotate",
    metavar="TIME",
    help=_("Show the whole desk, then each team in turn, this long each (30s, 2m, 1h)."),
)
@click.option(
    "--period",
    "named",
    default="30d",
    show_default=True,
    metavar="PERIOD",
    help=_("today, 7d, 30d (any number of days), quarter or year, ending today."),
)
@pass_env
def wall(env: Env, team: str | None, rotate: str | None, named: str) -> None:
    """The KPI wall panel: breaches and backlog in large figures, every KPI's status.

    Refreshes every [kpi_targets] refresh_seconds; keeps going (showing "reconnecting")
    while the store is unreachable; ends when its terminal goes away.
    """
    from itsm_tui.context import DeskContext
    from itsm_tui.screens.kpi.reading import PeriodChoice
    from itsm_tui.screens.kpi.wall import WallApp, parse_rotation

    if team is not None and rotate is not None:
        raise Refused(_("give --team or --rotate, not both: a fixed team does not rotate"))
    try:
        rotate_seconds = parse_rotation(rotate) if rotate is not None else 0.0
    except ValueError as exc:
        raise Refused(str(exc)) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise Refused(_("the wall panel needs a terminal; for figures in a script use itsm kpi"))
    with opened(env) as store:
        with store.read() as session:
            who = acting(session, env)
            try:
                period_ending(env.now(), desk_zone(session), named)
            except ValueError as exc:
                raise Refused(str(exc)) from None
            # An unknown team is refused here, with its one line, before the screen opens.
            name = cut_named(session, team=team).team if team is not None else None
            desk_name = store_summary.desk_name(session) or DeskContext.desk_name
        ctx = DeskContext(store=store, actor=who.agent.username, desk_name=desk_name)
        if env.fixed_now is not None:
            ctx.clock = env.now
        app = WallApp(ctx, team=name, rotate_seconds=rotate_seconds, period=PeriodChoice(named))
        app.run()
        if app.return_code:
            raise click.exceptions.Exit(app.return_code)
