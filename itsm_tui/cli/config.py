"""`itsm config`: apply a desk file to the store, or show the store's as one."""

from __future__ import annotations

from pathlib import Path

import click

from itsm_tui.cli.env import Env, desk_session, pass_env
from itsm_tui.cli.output import out
from itsm_tui.desk.records import require
from itsm_tui.i18n import _


@click.group()
def config() -> None:
    """The desk file: apply it, or show what the store holds."""


@config.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help=_("Show what would change; write nothing."))
@pass_env
def config_apply(env: Env, file: Path, dry_run: bool) -> None:
    """Validate FILE and make the store's configuration match it."""
    from itsm_tui.config import apply_config, load_desk_file, plan_config

    desk = load_desk_file(file)
    with desk_session(env, write=True) as (session, actor):
        require(actor, "desk.configure", _("configure the desk"))
        if dry_run:
            plan = plan_config(session, desk, now=env.now())
            # Nothing is written, but roll back anyway: planning may have touched the session.
            session.rollback()
        else:
            plan = apply_config(session, desk, actor=actor, now=env.now())
        lines = list(plan.lines())
    if plan.is_empty:
        out(_("Nothing to change: the store already matches {file}.").format(file=file))
        return
    for line in lines:
        out(line)
    if dry_run:
        out(_("Dry run: nothing was written."))


@config.command("show")
@pass_env
def config_show(env: Env) -> None:
    """Print the store's configuration as a desk file."""
    from itsm_tui.config import dump_toml, read_config

    with desk_session(env, write=False) as (session, _actor):
        text = dump_toml(read_config(session))
    out(text.rstrip("\n"))
