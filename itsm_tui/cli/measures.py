"""`itsm outage` and `itsm complaint`: what the availability and complaint KPIs count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, pass_env, write
from itsm_tui.cli.options import ISO, json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data import record_json
from itsm_tui.data.models import Agent
from itsm_tui.desk import record_complaint, record_outage
from itsm_tui.desk.records import get_ticket
from itsm_tui.i18n import _


@click.group()
def outage() -> None:
    """Service outages (availability)."""


@outage.command("record")
@click.option("--service", required=True)
@click.option("--start", "started_at", type=ISO, required=True)
@click.option("--end", "ended_at", type=ISO, help=_("Omit while it is still down."))
@click.option("--ticket", "number", metavar="NUMBER", help=_("The incident behind it."))
@click.option("--notes", default="")
@json_option
@pass_env
def outage_record(
    env: Env,
    service: str,
    started_at: datetime,
    ended_at: datetime | None,
    number: str | None,
    notes: str,
    as_json: bool,
) -> None:
    """Record that a service was down."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        o = record_outage(
            s,
            actor,
            service=service,
            started_at=started_at,
            ended_at=ended_at,
            number=number,
            notes=notes,
            now=now,
        )
        return {
            "id": o.id,
            "service": o.service.name,
            "started_at": record_json.iso(o.started_at),
            "ended_at": record_json.iso(o.ended_at),
            "ticket": get_ticket(s, number).number if number else None,
            "notes": o.notes,
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(
            _("Outage of {service} recorded: {start} – {end}.").format(
                service=result["service"],
                start=result["started_at"],
                end=result["ended_at"] or "…",
            )
        )


@click.group()
def complaint() -> None:
    """Requesters' formal complaints."""


@complaint.command("record")
@click.option("--summary", required=True)
@click.option("--ticket", "number", metavar="NUMBER")
@click.option("--requester", metavar="EMAIL")
@click.option("--at", type=ISO, help=_("When it was received (default now)."))
@json_option
@pass_env
def complaint_record(
    env: Env,
    summary: str,
    number: str | None,
    requester: str | None,
    at: datetime | None,
    as_json: bool,
) -> None:
    """Record a complaint, about a ticket or the service in general."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        c = record_complaint(
            s, actor, summary=summary, number=number, requester=requester, at=at, now=now
        )
        return {
            "id": c.id,
            "ticket": get_ticket(s, number).number if number else None,
            "received_at": record_json.iso(c.received_at),
            "summary": c.summary,
        }

    result = write(env, action)
    if as_json:
        out_json(result)
    else:
        out(_("Complaint {id} recorded.").format(id=result["id"]))
