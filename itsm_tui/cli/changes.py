"""`itsm change …`: change requests."""

from __future__ import annotations

from datetime import datetime

import click

from itsm_tui.cli import change_schedule
from itsm_tui.cli.env import Env, pass_env, write
from itsm_tui.cli.options import ISO, json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data import record_json
from itsm_tui.desk import create_change
from itsm_tui.i18n import _


@click.group()
def change() -> None:
    """Change requests."""


@change.command("create")
@click.option("--title", required=True)
@click.option("--type", "change_type", default="normal", show_default=True)
@click.option("--description", default="")
@click.option("--category", default="")
@click.option("--impact", type=int, default=3, show_default=True)
@click.option("--service", "services", multiple=True, help=_("Affected service; repeat."))
@click.option("--team")
@click.option("--problem", metavar="NUMBER", help=_("The problem it fixes."))
@click.option("--planned-start", type=ISO)
@click.option("--planned-end", type=ISO)
@click.option("--implementation-plan", default="")
@click.option("--backout-plan", default="")
@click.option("--test-plan", default="")
@json_option
@pass_env
def change_create(
    env: Env,
    title: str,
    change_type: str,
    description: str,
    category: str,
    impact: int,
    services: tuple[str, ...],
    team: str | None,
    problem: str | None,
    planned_start: datetime | None,
    planned_end: datetime | None,
    implementation_plan: str,
    backout_plan: str,
    test_plan: str,
    as_json: bool,
) -> None:
    """Raise a change request (in draft)."""
    record = write(
        env,
        lambda s, actor, now: record_json.change_record(
            s,
            create_change(
                s,
                actor,
                title=title,
                change_type=change_type.strip().lower(),
                description=description,
                category=category,
                impact=impact,
                services=list(services),
                team=team,
                problem=problem,
                planned_start=planned_start,
                planned_end=planned_end,
                implementation_plan=implementation_plan,
                backout_plan=backout_plan,
                test_plan=test_plan,
                now=now,
            ),
        ),
    )
    if as_json:
        out_json(record)
    else:
        out(_("{number} {status} ({change_type}, version {version}): {title}").format(**record))


change_schedule.register(change)
