"""`itsm backup` and `itsm restore`: copy a SQLite desk while it works, and put a copy back.

Store-level commands: they copy and replace the whole file, so what protects them is
what protects the store (its file permissions), not an agent's role; they need no
desk and no acting agent (a restore is how a broken desk comes back). PostgreSQL has
its own tools for this, and the refusal says which (docs/deploy.md shows how).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from itsm_tui.cli.env import Env, Refused, pass_env, shown_url
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data.backup import BackupRefused, backup_store, inspect_copy, restore_store
from itsm_tui.i18n import _


def stdin_is_terminal() -> bool:
    """Whether someone can answer a question (not a script, a pipe or cron)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def refusals() -> Iterator[None]:
    try:
        yield
    except BackupRefused as exc:
        raise Refused(str(exc)) from None


def sqlite_file(url: str, *, postgresql_tool: str, command: str) -> Path:
    """The store file behind `url`, or a refusal naming what to use instead."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Refused(_("{url} is not a database URL").format(url=url)) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        raise Refused(
            _(
                "itsm {command} works on a SQLite desk; for PostgreSQL use {tool} "
                "(docs/deploy.md shows how)"
            ).format(command=command, tool=postgresql_tool)
        )
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        raise Refused(
            _("itsm {command} works on a SQLite store file; {url} is not one").format(
                command=command, url=shown_url(url)
            )
        )
    return Path(parsed.database)


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_env
def backup(env: Env, file: Path, as_json: bool) -> None:
    """Copy the SQLite desk into the new FILE while agents and the escalator go on working.

    The copy holds every transaction committed before it began; it is checked with
    SQLite's integrity check before it gets FILE's name. An existing FILE is never
    overwritten. PostgreSQL: use pg_dump (docs/deploy.md).
    """
    store = sqlite_file(env.store_url(), postgresql_tool="pg_dump", command="backup")
    with refusals():
        done = backup_store(store, file)
    if as_json:
        out_json(
            {
                "store": str(done.store),
                "backup": str(done.copy),
                "tickets": done.facts.tickets,
                "bytes": done.facts.bytes,
                "revision": done.facts.revision,
                "integrity": "ok",
                "seconds": round(done.seconds, 3),
            }
        )
        return
    out(
        _(
            "Backed up {store} to {copy}: {n} tickets, {mb:.1f} MB, schema {revision}, "
            "integrity ok, in {s:.1f} s."
        ).format(
            store=done.store,
            copy=done.copy,
            n=done.facts.tickets,
            mb=done.facts.bytes / 1e6,
            revision=done.facts.revision,
            s=done.seconds,
        )
    )


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help=_("Replace the store without asking."))
@json_option
@pass_env
def restore(env: Env, file: Path, yes: bool, as_json: bool) -> None:
    """Put the backup FILE in place of the SQLite desk, after checking it.

    FILE must pass SQLite's integrity check and carry a schema revision this version
    knows (an older one is upgraded). Refused while a console, the escalator or another
    command has the store open. The replaced store is kept beside it as
    STORE.before-restore-<time>. Asks first at a terminal; scripts pass --yes.
    PostgreSQL: use pg_restore (docs/deploy.md).
    """
    store = sqlite_file(env.store_url(), postgresql_tool="pg_restore", command="restore")
    if not yes:
        if not stdin_is_terminal():
            raise Refused(
                _("restore replaces the desk in {store}; pass --yes to confirm").format(store=store)
            )
        with refusals():
            facts = inspect_copy(file)
        question = _(
            "Replace the desk in {store} with {file} ({n} tickets, schema {revision})? "
            "The store there now is kept beside it."
        ).format(store=store, file=file, n=facts.tickets, revision=facts.revision)
        if not click.confirm(question, default=False):
            raise Refused(_("nothing was restored"))
    with refusals():
        done = restore_store(file, store, now=env.now())
    if as_json:
        out_json(
            {
                "store": str(done.store),
                "backup": str(done.copy),
                "tickets": done.facts.tickets,
                "revision": done.facts.revision,
                "upgraded_from": done.upgraded_from,
                "kept_aside": str(done.kept_aside) if done.kept_aside else None,
                "seconds": round(done.seconds, 3),
            }
        )
        return
    upgraded = (
        _(" (upgraded from {revision})").format(revision=done.upgraded_from)
        if done.upgraded_from
        else ""
    )
    out(
        _("Restored {copy} into {store}: {n} tickets, schema {revision}{upgraded}.").format(
            copy=done.copy,
            store=done.store,
            n=done.facts.tickets,
            revision=done.facts.revision,
            upgraded=upgraded,
        )
    )
    if done.kept_aside:
        out(
            _(
                "The replaced store is kept as {path}; remove it once the restored desk is "
                "confirmed good."
            ).format(path=done.kept_aside)
        )
