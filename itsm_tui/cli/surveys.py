"""`itsm survey`: a resolved ticket's one-use survey link, and the requester's answer with it."""

from __future__ import annotations

from typing import Any

import click

from itsm_tui.cli.env import Env, opened, pass_env, write
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data import record_json
from itsm_tui.data.models import Ticket
from itsm_tui.desk.surveys import record_survey_by_token, send_survey
from itsm_tui.i18n import _


@click.group()
def survey() -> None:
    """Satisfaction surveys sent to requesters as one-use links."""


@survey.command("send")
@click.argument("number")
@json_option
@pass_env
def survey_send(env: Env, number: str, as_json: bool) -> None:
    """Make a resolved ticket's survey link and print its token (shown only this once)."""
    sent = write(env, lambda s, actor, now: send_survey(s, actor, number, now=now))
    if as_json:
        out_json({"ticket": sent.number, "requester": sent.requester, "token": sent.token})
    else:
        out(
            _("Survey link for {number} (to {requester}): itsm survey record {token}").format(
                number=sent.number, requester=sent.requester or "—", token=sent.token
            )
        )


@survey.command("record")
@click.argument("token")
@click.option("--rating", type=int, required=True, help=_("1 (poor) to 5 (excellent)."))
@click.option("--comment", default="")
@json_option
@pass_env
def survey_record(env: Env, token: str, rating: int, comment: str, as_json: bool) -> None:
    """Record the requester's answer from their link; the token is the authority, once."""
    # No agent acts: the requester answers, whoever relays it. The token is checked instead.
    with opened(env) as store, store.write() as session:
        s = record_survey_by_token(session, token, rating, comment=comment, now=env.now())
        ticket = session.get(Ticket, s.ticket_id)
        assert ticket is not None
        result: dict[str, Any] = {
            "ticket": ticket.number,
            "rating": s.rating,
            "comment": s.comment,
            "submitted_at": record_json.iso(s.submitted_at),
        }
    if as_json:
        out_json(result)
    else:
        out(_("Survey for {ticket} recorded: {rating}/5.").format(**result))
