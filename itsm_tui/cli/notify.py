"""`itsm notify deliver|list|dead|retry`: the outbox of notifications leaving the app."""

from __future__ import annotations

import sys
import time as wall
from datetime import datetime

import click

from itsm_tui.cli.env import Env, acting_agent, desk_session, opened, pass_env, write
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data.outbox_lists import PAGE, OutboxRow, attempts_of, outbox_page
from itsm_tui.desk.dead_letters import retry_dead_letter
from itsm_tui.desk.zones import agent_zone
from itsm_tui.i18n import _

STATES = ("pending", "sending", "sent", "dead")


@click.group()
def notify() -> None:
    """Notifications sent out: e-mail, Slack, DingTalk, WeCom, Feishu, webhooks."""


@notify.command("deliver")
@click.option("--once", is_flag=True, help=_("Send what is due now, then stop."))
@click.option(
    "--interval",
    type=click.FloatRange(1, 3600),
    default=10,
    show_default=True,
    help=_("Seconds between runs without --once."),
)
@json_option
@pass_env
def deliver(env: Env, once: bool, interval: float, as_json: bool) -> None:
    """Send due notifications, retry failed ones with backoff, give up into dead letters."""
    import logging

    from itsm_tui.notify.deliverer import Deliverer

    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    with opened(env) as store:
        with store.read() as session:
            acting_agent(session, env)
        deliverer = Deliverer(store, env.now)
        while True:
            report = deliverer.run_once()
            if once:
                if as_json:
                    out_json(report.as_dict())
                else:
                    out(
                        _("sent {sent}, retrying {retried}, dead {dead}, held {held}").format(
                            **report.as_dict()
                        )
                    )
                return
            wall.sleep(interval)


def _row_json(r: OutboxRow) -> dict[str, object]:
    return {
        "id": r.id,
        "state": r.state,
        "channel": r.channel,
        "to": r.to,
        "kind": r.kind,
        "record": r.record,
        "message": r.message,
        "attempts": r.attempts,
        "due_at": r.due_at.isoformat(),
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        "last_error": r.last_error,
    }


def _show(env: Env, state: str | None, before: int | None, limit: int, as_json: bool) -> None:
    with desk_session(env, write=False) as (session, actor):
        rows = outbox_page(session, state=state, before_id=before, limit=limit)
        zone = agent_zone(session, actor)
        if as_json:
            out_json(
                [
                    {
                        **_row_json(r),
                        "attempt_answers": [a.answer for a in attempts_of(session, r.id)],
                    }
                    for r in rows
                ]
            )
            return
    if not rows:
        out(_("No messages."))
        return
    for r in rows:
        when = _local(r.sent_at or r.due_at, zone)
        out(
            f"{r.id:>7} {r.state:<8} {r.channel:<8} {r.to or '—':<16} {r.record or '—':<11} "
            f"{r.attempts:>2} {when}  {r.message}"
        )
        if r.last_error and r.state != "sent":
            out(f"{'':>8}{r.last_error}")


def _local(moment: datetime, zone: object) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")  # type: ignore[arg-type]


@notify.command("list")
@click.option("--state", type=click.Choice(STATES), help=_("Only messages in this state."))
@click.option("--before", type=int, help=_("Only messages older than this id (the next page)."))
@click.option("--limit", type=click.IntRange(1, 1000), default=PAGE, show_default=True)
@json_option
@pass_env
def list_(env: Env, state: str | None, before: int | None, limit: int, as_json: bool) -> None:
    """The outbox, newest first: id, state, channel, to, ticket, attempts, when, message."""
    _show(env, state, before, limit, as_json)


@notify.command("dead")
@click.option("--before", type=int, help=_("Only messages older than this id (the next page)."))
@click.option("--limit", type=click.IntRange(1, 1000), default=PAGE, show_default=True)
@json_option
@pass_env
def dead(env: Env, before: int | None, limit: int, as_json: bool) -> None:
    """Dead letters: messages given up on after the last attempt, with the last answer."""
    _show(env, "dead", before, limit, as_json)


@notify.command("retry")
@click.argument("outbox_id", metavar="ID", type=int)
@pass_env
def retry(env: Env, outbox_id: int) -> None:
    """Send dead letter ID again (administrators), with a fresh set of attempts."""
    write(env, lambda s, actor, now: retry_dead_letter(s, actor, outbox_id, now))
    out(_("Outbox message {id} is queued again.").format(id=outbox_id))
