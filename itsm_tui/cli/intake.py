"""`itsm intake`: the alert intake on its own (Alertmanager's webhook in, incidents out), and
`itsm intake token` to make its bearer token."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys

import click

from itsm_tui.cli.env import Env, Refused, opened
from itsm_tui.cli.output import out
from itsm_tui.i18n import _

DEFAULT_INTAKE = "127.0.0.1:9095"


@click.group(invoke_without_command=True)
@click.option(
    "--listen",
    "address",
    metavar="HOST:PORT",
    default=DEFAULT_INTAKE,
    show_default=True,
    help=_("Where the intake listens (HTTPS is the reverse proxy's)."),
)
@click.pass_context
def intake(ctx: click.Context, address: str) -> None:
    """Take alerts from monitoring in: POST /alertmanager (Alertmanager's webhook) and POST
    /alerts (the generic shape), each with a bearer token (docs/intake.md).

    SIGTERM stops it; what was received and not yet worked through waits in the store.
    """
    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.find_object(Env)
    from itsm_tui.remote.server import parse_address

    try:
        where = parse_address(address, 9095)
    except ValueError as exc:
        raise Refused(_("--listen: {why}").format(why=exc)) from None
    _log_to_stderr()
    with opened(env) as store:
        code = asyncio.run(_serve_intake(store, env, where))
    raise click.exceptions.Exit(code)


async def _serve_intake(store, env: Env, where: tuple[str, int]) -> int:  # type: ignore[no-untyped-def]
    from itsm_tui.remote.intake_server import IntakeRefused, IntakeServer, intake_tokens

    server = IntakeServer(store, env.now, where, intake_tokens())
    try:
        await server.start()
    except IntakeRefused as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(
            _("cannot listen on {host}:{port}: {why}").format(
                host=where[0], port=where[1], why=exc.strerror or exc
            )
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"itsm intake: listening on {where[0]}:{server.port}", err=True)
    await stop.wait()
    click.echo("itsm intake: stopping", err=True)
    await server.stop()
    return 0


@intake.command("token")
def token() -> None:
    """Make a bearer token: give the token to the sender (Alertmanager's credentials) and put
    the token_sha256 line in the desk file's [intake] (or the token in ITSM_INTAKE_TOKEN)."""
    from itsm_tui.remote.intake_server import token_hash

    made = secrets.token_urlsafe(32)
    out(made)
    out(f'token_sha256 = "{token_hash(made)}"')


def _log_to_stderr() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("itsm").setLevel(logging.INFO)
