"""The top-level `itsm` group: its options, the console it opens, and one line per refusal."""

from __future__ import annotations

import errno
import os
import sys
from datetime import datetime
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from itsm_tui.cli.env import Env, acting, check_text_values, database_error, opened
from itsm_tui.cli.options import ISO
from itsm_tui.cli.output import err, fail, one_line, out
from itsm_tui.cli.views import format_summary
from itsm_tui.data import store_summary
from itsm_tui.data.failures import explain
from itsm_tui.data.store import Store
from itsm_tui.desk import DeskError
from itsm_tui.desk.identity import session_marks
from itsm_tui.desk.records import as_utc
from itsm_tui.i18n import _


def store_failure(ctx: click.Context, exc: BaseException) -> str:
    """The cause and fix when the failure is one people meet (locks, read-only, full disk)."""
    env = ctx.obj
    url = env.store_url() if isinstance(env, Env) else ""
    return explain(exc, url) or database_error(exc)


def _is_driver_error(exc: BaseException) -> bool:
    """A database driver's own error, from code that talks to the driver directly (bulk loads)."""
    return type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg")


class DeskGroup(click.Group):
    """The top group: turns every refusal and failure into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except DeskError as exc:
            lines = getattr(exc, "errors", None)
            if lines:
                # A desk file's errors: every one on its own line, each naming file:line.
                for line in lines:
                    err(one_line(line))
                raise click.exceptions.Exit(exc.exit_code) from None
            fail(str(exc), exc.exit_code)
        except StaleDataError:
            # Another writer changed the record between our read and our write.
            fail(
                _("the record changed while this command ran; nothing was written, try again"),
                3,
            )
        except SQLAlchemyError as exc:
            fail(_("the store failed: {why}").format(why=store_failure(ctx, exc)))
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click quiets a closed pipe (`itsm ticket list | head`)
            fail(str(exc))
        except Exception as exc:
            if os.environ.get("ITSM_DEBUG") == "1":
                raise
            if _is_driver_error(exc):
                fail(_("the store failed: {why}").format(why=store_failure(ctx, exc)))
            fail(
                _("unexpected error ({kind}): {why}; ITSM_DEBUG=1 shows the traceback").format(
                    kind=type(exc).__name__, why=exc
                )
            )


def open_console(store: Store, actor: str) -> None:
    """Open the full-screen console on `store` as `actor`.

    Without a terminal (a pipe, a script, tests) it prints what is in the store instead.
    """
    if sys.stdin.isatty() and sys.stdout.isatty():
        from itsm_tui.app import make_app
        from itsm_tui.context import DeskContext

        root = click.get_current_context().find_root()
        env = root.obj
        with store.read() as session:
            name = store_summary.desk_name(session)
        ctx = DeskContext(store=store, actor=actor, desk_name=name or DeskContext.desk_name)
        if isinstance(env, Env) and env.fixed_now is not None:
            ctx.clock = env.now
        app = make_app(ctx, escalator=not root.params.get("no_escalator", False))
        app.run()
        if app.return_code:
            # The app's own code where it means something: 129 (128+SIGHUP) after a
            # hang-up, which an SSH supervisor reads as a dropped connection; 1 after a
            # fatal error Textual has already shown.
            raise click.exceptions.Exit(app.return_code)
        return
    with store.read() as session:
        summary = store_summary.store_summary(session)
    out(format_summary(summary))
    out("")
    out(
        _(
            "Signed in as {actor}. The full-screen console needs a terminal; from a script "
            "or a pipe, use itsm ticket list and itsm ticket show."
        ).format(actor=actor)
    )


@click.group(cls=DeskGroup, invoke_without_command=True)
@click.option("--db", "db", metavar="URL", envvar="ITSM_DB", help=_("The store (also ITSM_DB)."))
@click.option(
    "--as",
    "actor",
    metavar="USERNAME",
    envvar="ITSM_AGENT",
    help=_("Act as this agent (also ITSM_AGENT; default: your login name)."),
)
@click.option("--now", "now", type=ISO, envvar="ITSM_NOW", hidden=True)
@click.option(
    "--no-escalator",
    "no_escalator",
    is_flag=True,
    help=_("Do not run the SLA escalator inside the console (a daemon runs it)."),
)
@click.version_option(package_name="itsm-tui", prog_name="itsm")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    actor: str | None,
    now: datetime | None,
    no_escalator: bool,
) -> None:
    """A service-desk console: incidents, requests, problems and changes.

    With no command, opens the console.
    """
    check_text_values(db, "--db")
    check_text_values(actor, "--as")
    fixed = as_utc(now, "--now") if now is not None else None
    ctx.obj = Env(url=db or None, actor_name=actor or None, fixed_now=fixed)
    if ctx.invoked_subcommand is None:
        env = ctx.obj
        with opened(env) as store:
            with store.read() as session:
                who = acting(session, env)
            # The console's own sessions carry the impersonation, so its audit names both.
            store.start_sessions_with(session_marks(who))
            open_console(store, who.agent.username)
