"""`itsm serve`: the desk over SSH, and the escalator, in one long-lived process."""

from __future__ import annotations

import logging
import os
import sys

import click

from itsm_tui.cli.env import Env, Refused, acting_agent, opened, pass_env
from itsm_tui.cli.output import out
from itsm_tui.data.store import data_dir
from itsm_tui.i18n import _

DEFAULT_SSH = "127.0.0.1:2222"


@click.command()
@click.option(
    "--ssh",
    "ssh_address",
    metavar="HOST:PORT",
    default=DEFAULT_SSH,
    show_default=True,
    help=_("Where the SSH server listens."),
)
@click.option(
    "--web",
    "web_address",
    metavar="HOST:PORT",
    help=_(
        "Also serve the app to browsers here, behind a reverse proxy that names the agent "
        "(the secret in ITSM_WEB_SECRET)."
    ),
)
@click.option(
    "--web-proxy",
    "web_proxies",
    metavar="ADDRESS",
    multiple=True,
    help=_("An address or network the reverse proxy connects from (default: 127.0.0.1, ::1)."),
)
@click.option(
    "--web-user-header",
    default="X-Forwarded-User",
    show_default=True,
    help=_("The header in which the proxy names the agent."),
)
@click.option(
    "--web-public-url",
    metavar="URL",
    help=_("The address browsers reach the desk at (the proxy's), e.g. https://desk.example.com."),
)
@click.option(
    "--intake",
    "intake_address",
    metavar="HOST:PORT",
    help=_(
        "Also take alerts from monitoring here (Alertmanager's webhook; the bearer token in "
        "ITSM_INTAKE_TOKEN or the desk file's [intake]; docs/intake.md)."
    ),
)
@click.option(
    "--no-escalator",
    "no_escalator",
    is_flag=True,
    help=_("Do not run the SLA escalator here (a daemon or another server runs it)."),
)
@click.option(
    "--fingerprint",
    "show_fingerprint",
    is_flag=True,
    help=_("Print the host key's fingerprint (making the key if there is none) and exit."),
)
@pass_env
def serve(
    env: Env,
    ssh_address: str,
    web_address: str | None,
    web_proxies: tuple[str, ...],
    web_user_header: str,
    web_public_url: str | None,
    intake_address: str | None,
    no_escalator: bool,
    show_fingerprint: bool,
) -> None:
    """Serve the desk over SSH: agents sign in with their keys (itsm agent key add).

    With --web, browsers too, behind the organisation's reverse proxy and its sign-on.

    SIGTERM stops it: open sessions keep their drafts and are told, then it exits 0.
    """
    from itsm_tui.remote.host_key import fingerprint, host_key_path, load_or_create_host_key

    key_path = host_key_path(data_dir())
    if show_fingerprint:
        out(fingerprint(load_or_create_host_key(key_path)))
        return
    if click.get_current_context().find_root().params.get("no_escalator"):
        no_escalator = True
    from itsm_tui.remote.server import DeskServer, parse_address, run_server

    try:
        address = parse_address(ssh_address, 2222)
    except ValueError as exc:
        raise Refused(_("--ssh: {why}").format(why=exc)) from None
    web = None
    trust = None
    if web_address is not None:
        from itsm_tui.remote.web_server import ProxyTrust

        try:
            web = parse_address(web_address, 8080)
        except ValueError as exc:
            raise Refused(_("--web: {why}").format(why=exc)) from None
        secret = os.environ.get("ITSM_WEB_SECRET", "")
        if len(secret) < 16:
            raise Refused(
                _(
                    "--web needs the secret the reverse proxy sends (ITSM_WEB_SECRET, 16 "
                    "characters or more); without it anyone could claim to be any agent"
                )
            )
        try:
            trust = ProxyTrust.of(web_proxies or ("127.0.0.1", "::1"), secret, web_user_header)
        except ValueError as exc:
            raise Refused(_("--web-proxy: {why}").format(why=exc)) from None
    intake = None
    if intake_address is not None:
        try:
            intake = parse_address(intake_address, 9095)
        except ValueError as exc:
            raise Refused(_("--intake: {why}").format(why=exc)) from None
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("itsm").setLevel(logging.INFO)
    start_escalator = None
    if not no_escalator:
        from itsm_tui.escalation.scheduler import start_background

        def start_escalator(store):  # type: ignore[no-untyped-def]
            return start_background(store, clock=env.now, deliver=True)

    with opened(env) as store:
        with store.read() as session:
            # Whoever starts the server must be on the desk (it writes the sessions' audit).
            acting_agent(session, env)
        server = DeskServer(
            store=store,
            url=store.url,
            host_key_path=key_path,
            ssh_address=address,
            clock=env.now,
            start_escalator=start_escalator,
            web_address=web,
            web_trust=trust,
            web_public_url=web_public_url,
            web_cache=data_dir() / "cache" / "web",
            intake_address=intake,
        )
        from itsm_tui.remote.intake_server import IntakeRefused

        try:
            code = run_server(server, lambda line: click.echo(line, err=True))
        except IntakeRefused as exc:
            raise Refused(str(exc)) from None
        except OSError as exc:
            raise Refused(
                _("cannot listen on {address}: {why}").format(
                    address=ssh_address, why=exc.strerror or exc
                )
            ) from None
    raise click.exceptions.Exit(code)
