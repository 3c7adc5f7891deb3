"""`itsm init`, `itsm demo`, `itsm seed`: setting a store up and filling it with history."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from itsm_tui.cli.env import Env, acting_agent, connect, opened, pass_env, shown_url
from itsm_tui.cli.output import out
from itsm_tui.cli.root import open_console
from itsm_tui.data.store import Store, data_dir, sqlite_url
from itsm_tui.desk import InvalidInput
from itsm_tui.desk.records import require
from itsm_tui.desk.setup import init_desk, seat_in_first_line
from itsm_tui.i18n import _

DEMO_TICKETS = 5_000
DEMO_DAYS = 120
DEMO_SEED = 1


@click.command()
@pass_env
def init(env: Env) -> None:
    """Set the store up: the default desk file, and you as the first admin."""
    with opened(env) as store:
        with store.write() as session:
            result = init_desk(session, os_user=env.actor(), now=env.now())
        url = shown_url(store.url)
    if result.applied_default:
        out(
            _("Applied the default desk file to {url} ({n} changes).").format(
                url=url, n=len(result.config_lines)
            )
        )
    if result.created_admin:
        out(
            _("Created agent {name} as the desk's administrator.").format(name=result.created_admin)
        )
    if result.did_nothing:
        out(_("The desk in {url} is already set up; nothing changed.").format(url=url))


@click.command()
@click.option(
    "--tickets",
    type=click.IntRange(min=0),
    default=DEMO_TICKETS,
    show_default=True,
    help=_("How many tickets of history to generate."),
)
@pass_env
def demo(env: Env, tickets: int) -> None:
    """Build a fresh demo desk in the data directory and open it."""
    path = data_dir() / "demo.db"
    # A demo store is always rebuilt from nothing, so it never mixes with an old one.
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    now = env.now()
    store = connect(sqlite_url(path))
    try:
        with store.write() as session:
            init_desk(session, os_user=env.actor(), now=now)
            # Before the seed, so the history hands some tickets to whoever opens the demo
            # and leaves them a read mark as it does every agent (data/seed/reads.py).
            seat_in_first_line(session, env.actor(), now=now)
        summary = _seed_with_progress(
            store, tickets=tickets, days=DEMO_DAYS, seed=DEMO_SEED, now=now
        )
        out(
            _("Built a demo desk in {path}: {n} tickets over {days} days in {s:.1f} s.").format(
                path=path, n=summary.tickets, days=summary.days, s=summary.seconds
            )
        )
        out(_("Open it again with: itsm --db {url}").format(url=sqlite_url(path)))
        out("")
        open_console(store, env.actor())
    finally:
        store.dispose()


def _seed_with_progress(store: Store, *, tickets: int, days: int, seed: int, now: datetime) -> Any:
    from itsm_tui.data.seed import seed_store

    # The seeder leaves WAL mode while it loads, which SQLite allows only to the one
    # connection of the store: close the ones this command opened before it.
    store.engine.dispose()
    with click.progressbar(length=max(tickets, 1), label=_("Seeding"), file=sys.stderr) as bar:
        last = 0

        def progress(done: int, total: int) -> None:
            nonlocal last
            bar.update(done - last)
            last = done

        try:
            return seed_store(
                store, tickets=tickets, days=days, seed=seed, now=now, progress=progress
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None


@click.command()
@click.option("--tickets", type=int, required=True, help=_("How many tickets to generate."))
@click.option("--days", type=int, default=90, show_default=True, help=_("Over how many days."))
@click.option("--seed", "seed", type=int, default=1, show_default=True, help=_("Random seed."))
@pass_env
def seed(env: Env, tickets: int, days: int, seed: int) -> None:
    """Add a generated ticket history to the desk (administrators)."""
    with opened(env) as store:
        with store.read() as session:
            actor = acting_agent(session, env)
            require(actor, "desk.seed", _("seed the store"))
        summary = _seed_with_progress(store, tickets=tickets, days=days, seed=seed, now=env.now())
    out(
        _("Seeded {n} tickets over {days} days in {s:.1f} s.").format(
            n=summary.tickets, days=summary.days, s=summary.seconds
        )
    )
    for table, n in summary.rows.items():
        out(f"  {table}: {n}")
