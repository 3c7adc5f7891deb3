"""`itsm agent key add|list|remove`: the SSH keys agents sign in to `itsm serve` with."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from itsm_tui.cli.env import Env, Refused, desk_session, pass_env, write
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.cli.views import local_time
from itsm_tui.desk.agent_keys import KEY_LINE_MAX, add_key, list_keys, remove_key
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _


@click.group()
def agent() -> None:
    """Agents' SSH keys (administrators)."""


@agent.group("key")
def key() -> None:
    """The SSH public keys that sign an agent in to itsm serve."""


def _key_line(source: str) -> str:
    """The one key line of a .pub file, or of standard input for `-`."""
    try:
        if source == "-":
            text = sys.stdin.read(KEY_LINE_MAX * 4)
        else:
            with Path(source).open(encoding="utf-8") as handle:
                text = handle.read(KEY_LINE_MAX * 4)
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(
            _("cannot read the key from {source}: {why}").format(source=source, why=exc)
        ) from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1:
        raise Refused(
            _("{source} holds {n} key lines; give one public key (a .pub file)").format(
                source=source, n=len(lines)
            )
        )
    return lines[0]


@key.command("add")
@click.argument("username")
@click.argument("public_key_file", metavar="KEYFILE")
@pass_env
def key_add(env: Env, username: str, public_key_file: str) -> None:
    """Let USERNAME sign in with the public key in KEYFILE (a .pub file, or - for stdin)."""
    line = _key_line(public_key_file)
    added = write(env, lambda s, actor, now: add_key(s, actor, username, line, now=now))
    out(
        _("{agent} signs in with {fingerprint} ({kind}{comment}).").format(
            agent=username,
            fingerprint=added.fingerprint,
            kind=added.algorithm,
            comment=f", {added.comment}" if added.comment else "",
        )
    )


@key.command("remove")
@click.argument("username")
@click.argument("fingerprint")
@pass_env
def key_remove(env: Env, username: str, fingerprint: str) -> None:
    """Stop the key FINGERPRINT (SHA256:…) signing USERNAME in."""
    write(env, lambda s, actor, now: remove_key(s, actor, username, fingerprint, now=now))
    out(_("Removed the key from {agent}.").format(agent=username))


@key.command("list")
@click.argument("username", required=False)
@json_option
@pass_env
def key_list(env: Env, username: str | None, as_json: bool) -> None:
    """Every agent's keys, or USERNAME's; an agent may list their own."""
    with desk_session(env, write=False) as (session, actor):
        rows = list_keys(session, actor, username)
        zone = agent_zone(session, actor)
    if as_json:
        out_json(
            [
                {
                    "agent": r.agent,
                    "fingerprint": r.fingerprint,
                    "type": r.algorithm,
                    "comment": r.comment,
                    "added_at": r.added_at.isoformat(),
                }
                for r in rows
            ]
        )
        return
    if not rows:
        out(_("No SSH keys."))
        return
    for r in rows:
        out(
            f"{r.agent}  {r.fingerprint}  {r.algorithm}  {local_time(r.added_at.isoformat(), zone)}"
            + (f"  {r.comment}" if r.comment else "")
        )
