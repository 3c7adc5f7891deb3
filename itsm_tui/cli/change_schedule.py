"""`itsm change conflicts|next-slot|calendar`: the change schedule from the command line."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from typing import Any

import click

from itsm_tui.cli.env import Env, desk_session, pass_env
from itsm_tui.cli.options import ISO, Duration, json_option
from itsm_tui.cli.output import out, out_json
from itsm_tui.data.change_schedule import (
    Calendar,
    CalendarInterval,
    calendar,
    change_conflicts,
    next_free_slot,
)
from itsm_tui.desk import InvalidInput
from itsm_tui.desk.records import get_agent, get_change, get_service
from itsm_tui.desk.zones import agent_zone
from itsm_tui.domain.change_windows import MAX_PLANNED_WINDOW, planned_window_problem
from itsm_tui.i18n import _

# A calendar longer than a year is a report, not a schedule: refused as a likely typo.
LONGEST_CALENDAR = timedelta(days=366)
DEFAULT_CALENDAR = timedelta(days=28)
SLOT_STEP = timedelta(minutes=15)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _when(start: datetime, end: datetime, zone: tzinfo) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    tail = f"{e:%H:%M}" if s.date() == e.date() else f"{e:%Y-%m-%d %H:%M}"
    return f"{s:%Y-%m-%d %H:%M}–{tail} {s.strftime('%Z')}"


def _duration_text(value: timedelta) -> str:
    """2h, 1h30m, 45m: as the option is written."""
    minutes = int(value.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            _("{what} {value} has no time zone; add one, e.g. {value}+08:00 or {value}Z").format(
                what=what, value=value.isoformat()
            )
        )
    return value


def _quarter_hour_after(moment: datetime) -> datetime:
    """The next quarter hour at or after `moment` (a slot starting at 10:07:13 reads oddly)."""
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + SLOT_STEP


@click.command("conflicts")
@click.argument("number")
@json_option
@pass_env
def change_conflicts_command(env: Env, number: str, as_json: bool) -> None:
    """What a change's planned window clashes with: freezes, other changes, its
    implementer's other work, the services' maintenance windows."""
    with desk_session(env, write=False) as (session, actor):
        change = get_change(session, number.strip().upper())
        try:
            found = change_conflicts(session, change)
        except ValueError as exc:  # a window stored before the desk checked it
            raise InvalidInput(f"{change.number}: {exc}") from None
        zone = agent_zone(session, actor)
        start, end = change.planned_start, change.planned_end
        number = change.number
    if as_json:
        out_json(
            {
                "number": number,
                "planned_start": _iso(start) if start else None,
                "planned_end": _iso(end) if end else None,
                "conflicts": [c.as_json() for c in found],
            }
        )
        return
    if start is None or end is None:
        out(_("{number} has no planned window yet").format(number=number))
        return
    if not found:
        out(_("{number} {when}: no conflicts").format(number=number, when=_when(start, end, zone)))
        return
    out(
        _("{number} {when}: conflicts: {n}").format(
            number=number, when=_when(start, end, zone), n=len(found)
        )
    )
    for c in found:
        out(f"  {c.kind:<12} {c.message}")


@click.command("next-slot")
@click.option(
    "--service", "services", multiple=True, required=True, help=_("Affected service; repeat.")
)
@click.option("--duration", type=Duration(), required=True, help=_("How long, e.g. 2h or 90m."))
@click.option("--after", type=ISO, help=_("Earliest start (ISO 8601 with a zone); default: now."))
@click.option("--implementer", metavar="USERNAME", help=_("Who carries it out."))
@click.option(
    "--within-days",
    type=click.IntRange(1, 366),
    default=90,
    show_default=True,
    help=_("How far ahead to look."),
)
@json_option
@pass_env
def change_next_slot(
    env: Env,
    services: tuple[str, ...],
    duration: timedelta,
    after: datetime | None,
    implementer: str | None,
    within_days: int,
    as_json: bool,
) -> None:
    """The earliest free window of the given length: inside the services' maintenance
    windows, clear of freezes, of other changes and of the implementer's other work."""
    if duration <= timedelta(0):
        raise InvalidInput(_("the duration must be longer than zero"))
    if duration > MAX_PLANNED_WINDOW:
        raise InvalidInput(
            planned_window_problem(datetime.min, datetime.min + duration) or str(duration)
        )
    start = _aware(after, "--after") if after else _quarter_hour_after(env.now())
    with desk_session(env, write=False) as (session, actor):
        names = [get_service(session, s.strip()).name for s in services]
        implementer_id = get_agent(session, implementer.strip()).id if implementer else None
        slot = next_free_slot(
            session,
            services=names,
            duration=duration,
            after=start,
            implementer_id=implementer_id,
            horizon=timedelta(days=within_days),
        )
        zone = agent_zone(session, actor)
    if as_json:
        out_json(
            {
                "services": names,
                "duration_minutes": duration.total_seconds() / 60,
                "after": _iso(start),
                "starts_at": _iso(slot[0]) if slot else None,
                "ends_at": _iso(slot[1]) if slot else None,
            }
        )
        return
    if slot is None:
        out(
            _("no free window of {duration} within {days} days after {after}").format(
                duration=_duration_text(duration),
                days=within_days,
                after=start.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            )
        )
        return
    out(_when(slot[0], slot[1], zone))


def _interval_json(i: CalendarInterval) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": i.name,
        "starts_at": _iso(i.starts_at),
        "ends_at": _iso(i.ends_at),
    }
    if i.reason:
        value["reason"] = i.reason
    return value


def _calendar_json(cal: Calendar) -> dict[str, Any]:
    return {
        "from": _iso(cal.start),
        "to": _iso(cal.end),
        "freezes": [_interval_json(f) for f in cal.freezes],
        "services": [
            {
                "service": row.service,
                "changes": [
                    {
                        "number": c.number,
                        "title": c.title,
                        "change_type": c.change_type,
                        "status": c.status,
                        "risk": c.risk,
                        "starts_at": _iso(c.starts_at),
                        "ends_at": _iso(c.ends_at),
                        "services": list(c.services),
                        "in_conflict": c.in_conflict,
                    }
                    for c in row.changes
                ],
                "freezes": [_interval_json(f) for f in row.freezes],
                "maintenance": [_interval_json(m) for m in row.maintenance],
            }
            for row in cal.rows
        ],
    }


def _calendar_lines(cal: Calendar, zone: tzinfo) -> list[str]:
    lines = [_("Changes {when}").format(when=_when(cal.start, cal.end, zone))]
    for f in cal.freezes:
        lines.append(
            "  "
            + _("freeze (all services) {name}: {when}").format(
                name=f.name, when=_when(f.starts_at, f.ends_at, zone)
            )
        )
    for row in cal.rows:
        entries: list[tuple[datetime, str]] = []
        for c in row.changes:
            mark = "!" if c.in_conflict else " "
            entries.append(
                (
                    c.starts_at,
                    f"{mark} {c.number}  {_when(c.starts_at, c.ends_at, zone)}  "
                    f"{c.status} · {c.change_type} · {c.risk or '—'}  {c.title}",
                )
            )
        for f in row.freezes:
            entries.append(
                (
                    f.starts_at,
                    "  "
                    + _("freeze {name}: {when}").format(
                        name=f.name, when=_when(f.starts_at, f.ends_at, zone)
                    ),
                )
            )
        for m in row.maintenance:
            entries.append(
                (
                    m.starts_at,
                    "  "
                    + _("maintenance {name}: {when}").format(
                        name=m.name, when=_when(m.starts_at, m.ends_at, zone)
                    ),
                )
            )
        if not entries:
            continue
        lines.append(row.service)
        lines.extend(f"  {text}" for _at, text in sorted(entries, key=lambda e: e[0]))
    if len(lines) == 1 + len(cal.freezes):
        lines.append(_("nothing planned"))
    return lines


@click.command("calendar")
@click.option("--from", "start", type=ISO, help=_("First day or instant; default: today."))
@click.option("--to", "end", type=ISO, help=_("End (exclusive); default: four weeks on."))
@click.option("--service", "services", multiple=True, help=_("Only this service; repeat."))
@json_option
@pass_env
def change_calendar(
    env: Env,
    start: datetime | None,
    end: datetime | None,
    services: tuple[str, ...],
    as_json: bool,
) -> None:
    """Planned windows per service, with freeze and maintenance windows; a change marked
    '!' has a conflict. A date without a zone is read in your time zone."""
    with desk_session(env, write=False) as (session, actor):
        zone = agent_zone(session, actor)
        names = [get_service(session, s.strip()).name for s in services] or None
        today = datetime.combine(env.now().astimezone(zone).date(), time(), zone)
        frm = (start if start.tzinfo else start.replace(tzinfo=zone)) if start else today
        to = (end if end.tzinfo else end.replace(tzinfo=zone)) if end else frm + DEFAULT_CALENDAR
        if to <= frm:
            raise InvalidInput(_("--to must come after --from"))
        if to - frm > LONGEST_CALENDAR:
            raise InvalidInput(_("a calendar covers at most 366 days; narrow --from and --to"))
        cal = calendar(session, start=frm, end=to, services=names)
    if as_json:
        out_json(_calendar_json(cal))
        return
    for line in _calendar_lines(cal, zone):
        out(line)


def register(group: click.Group) -> None:
    """Add the schedule's commands to `itsm change`."""
    group.add_command(change_conflicts_command)
    group.add_command(change_next_slot)
    group.add_command(change_calendar)
