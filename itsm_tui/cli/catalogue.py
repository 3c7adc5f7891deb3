"""`itsm catalog`: the service catalogue, and a request raised from one of its items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from itsm_tui.cli.env import Env, desk_session, pass_env, write
from itsm_tui.cli.options import json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.cli.views import emit_ticket
from itsm_tui.data import record_json
from itsm_tui.data.catalogue import CatalogueEntry, catalogue_entries
from itsm_tui.data.models import Agent
from itsm_tui.desk import create_ticket
from itsm_tui.desk.fulfilment import (
    StepView,
    complete_task,
    delivery_standard,
    request_steps,
    working_day_of_ticket,
)
from itsm_tui.desk.records import get_catalogue_item, get_ticket
from itsm_tui.domain.workflow import REQUEST
from itsm_tui.i18n import _


@click.group()
def catalog() -> None:
    """The service catalogue: items, their forms, requests."""


def _entry_line(e: CatalogueEntry) -> str:
    approval = _("approval") if e.requires_approval else "—"
    return f"{e.code:<20} {e.name[:40]:<40} {e.standard():>14}  {approval}"


@catalog.command("list")
@click.option("--search", default="", help=_("Words in the code, name, description or category."))
@click.option("--category")
@json_option
@pass_env
def catalog_list(env: Env, search: str, category: str | None, as_json: bool) -> None:
    """The active items by category."""
    with desk_session(env, write=False) as (session, _actor):
        entries = catalogue_entries(session, search=search, category=category)
    if as_json:
        out_json([e.as_json() for e in entries])
        return
    shown: str | None = None
    for e in entries:
        if e.category != shown:
            shown = e.category
            out(shown or _("(no category)"))
        out("  " + _entry_line(e))


def _format_entry(e: CatalogueEntry) -> str:
    lines = [
        f"{e.code}  {e.name}",
        f"{_('Category')}: {e.category or '—'}",
        f"{_('Fulfilled by')}: {e.team or '—'}",
        f"{_('Service')}: {e.service or '—'}",
        f"{_('Delivery standard')}: {e.standard()}",
        f"{_('Approval')}: {e.approval()}",
    ]
    if e.description:
        lines += ["", e.description]
    if e.tasks:
        lines += ["", _("Fulfilment steps:")]
        for position, t in enumerate(e.tasks, start=1):
            expected = (
                f" ~{delivery_standard(t['minutes'], e.working_day_minutes)}"
                if t.get("minutes")
                else ""
            )
            lines.append(f"  {position}. {t['name']} — {t['team']}{expected}")
    if e.form:
        lines += ["", _("Form:")]
        for f in e.form:
            kind = str(f.get("kind", "text"))
            if f.get("choices"):
                kind += ": " + " | ".join(str(c) for c in f["choices"])
            required = " *" if f.get("required") else ""
            lines.append(f"  {f['name']:<16} {f.get('label') or f['name']}{required} ({kind})")
    return "\n".join(lines)


@catalog.command("show")
@click.argument("code")
@json_option
@pass_env
def catalog_show(env: Env, code: str, as_json: bool) -> None:
    """One item with its form: each field's name, label, kind and whether it is required."""
    with desk_session(env, write=False) as (session, _actor):
        wanted = get_catalogue_item(session, code).code
        entry = next(e for e in catalogue_entries(session, search=wanted) if e.code == wanted)
    if as_json:
        out_json(entry.as_json())
    else:
        out(_format_entry(entry))


def _answers(values: Sequence[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                _("{item!r} is not name=value").format(item=item), param_hint="--field"
            )
        answers[name.strip()] = value
    return answers


@catalog.command("request")
@click.argument("code")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=_("Form answer."))
@click.option("--title", help=_("Default: the item's name."))
@click.option("--description", default="")
@click.option("--requester", metavar="EMAIL")
@click.option("--impact", type=int, default=3, show_default=True)
@click.option("--urgency", type=int, default=3, show_default=True)
@json_option
@pass_env
def catalog_request(
    env: Env,
    code: str,
    fields: tuple[str, ...],
    title: str | None,
    description: str,
    requester: str | None,
    impact: int,
    urgency: int,
    as_json: bool,
) -> None:
    """Request an item: its form answered with --field, checked field by field."""
    answers = _answers(fields)

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        item = get_catalogue_item(s, code)
        ticket = create_ticket(
            s,
            actor,
            type=REQUEST,
            title=title if title is not None else item.name,
            impact=impact,
            urgency=urgency,
            description=description,
            requester=requester,
            catalogue_item=item.code,
            form_data=answers,
            now=now,
        )
        return record_json.ticket_record(s, ticket)

    emit_ticket(write(env, action), as_json, full=True)


def _step_line(v: StepView, day_minutes: int | None) -> str:
    expected = (
        f" ~{delivery_standard(v.expected_minutes, day_minutes)}" if v.expected_minutes else ""
    )
    by = f" ({v.done_by})" if v.done_by else ""
    return f"{v.position}. {v.status:<9} {v.name} — {v.team or '—'}{expected}{by}"


@catalog.command("tasks")
@click.argument("number")
@json_option
@pass_env
def catalog_tasks(env: Env, number: str, as_json: bool) -> None:
    """A request's fulfilment steps in order: done, open (with its team), waiting."""
    with desk_session(env, write=False) as (session, _actor):
        ticket = get_ticket(session, number)
        steps = request_steps(session, ticket)
        day = working_day_of_ticket(session, ticket)
        promised = ticket.promised_at
        shown = ticket.number
    if as_json:
        out_json(
            {
                "number": shown,
                "promised_at": promised.isoformat() if promised else None,
                "steps": [v.as_json() for v in steps],
            }
        )
        return
    if not steps:
        out(_("{number} has no fulfilment steps").format(number=shown))
    for v in steps:
        out(_step_line(v, day))


@catalog.command("done")
@click.argument("number")
@click.option("--note", default="", help=_("What was done (kept with the step)."))
@json_option
@pass_env
def catalog_done(env: Env, number: str, note: str, as_json: bool) -> None:
    """Complete the request's open step; the next goes to its team, the last fulfils it."""

    def action(s: Session, actor: Agent, now: datetime) -> dict[str, Any]:
        ticket = get_ticket(s, number)
        complete_task(s, actor, ticket.number, note=note, now=now)
        return {
            "number": ticket.number,
            "status": ticket.status,
            "steps": [v.as_json() for v in request_steps(s, ticket)],
        }

    result = write(env, action)
    if as_json:
        out_json(result)
        return
    out(f"{result['number']}  {result['status']}")
    for v in result["steps"]:
        out(f"  {v['position']}. {v['status']:<9} {v['name']} — {v['team'] or '—'}")
