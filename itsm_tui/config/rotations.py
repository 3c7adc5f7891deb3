"""The [[rotations]] section: each team's on-call rota, read, stored and written back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from itsm_tui.config.checker import Table
from itsm_tui.config.model import OverrideConfig, RotationConfig
from itsm_tui.config.sections import _date, _instant
from itsm_tui.config.vocabulary import _TIME
from itsm_tui.domain.oncall import WEEKDAYS, Override, Rotation
from itsm_tui.i18n import _

ROTATION_KEYS = (
    "team",
    "members",
    "starts",
    "handover",
    "handover_day",
    "shift_days",
    "timezone",
    "ack_timeout_minutes",
    "overrides",
)
OVERRIDE_KEYS = ("agent", "covers", "starts_at", "ends_at", "reason")
# An override is a swap or a holiday, not a second rota: a quarter at most.
OVERRIDE_MAX_DAYS = 92


def parse_rotation(t: Table) -> RotationConfig | None:
    t.check_keys(ROTATION_KEYS)
    team = t.text("team", required=True)
    members = t.strings("members")
    if "members" not in t.raw or not members:
        t.error(
            "members" if "members" in t.raw else None, _("members must name at least one agent")
        )
    starts = _date(t, "starts") if "starts" in t.raw else None
    if "starts" not in t.raw:
        t.error(None, _("'starts' is missing: the date the first member's shift begins"))
    handover = t.text("handover", default="09:00")
    if handover is not None and (not _TIME.match(handover) or handover == "24:00"):
        t.error("handover", _('handover must be a time HH:MM, e.g. "09:00"'))
        handover = None
    shift_days = t.integer("shift_days", lo=1, hi=28, default=7)
    zone = t.timezone("timezone", default="UTC")
    ack = t.integer("ack_timeout_minutes", lo=1, hi=24 * 60, default=15)
    day = t.text("handover_day")
    if day is not None and starts is not None:
        if day not in WEEKDAYS:
            t.error(
                "handover_day",
                _("handover_day '{day}' is not one of: {days}").format(
                    day=day, days=", ".join(WEEKDAYS)
                ),
            )
        elif shift_days is not None and shift_days % 7:
            t.error(
                "handover_day",
                _("handover_day needs a shift of whole weeks (shift_days 7, 14, …)"),
            )
        elif WEEKDAYS[starts.weekday()] != day:
            t.error(
                "starts",
                _("starts {date} is a {weekday}, not the handover_day {day}").format(
                    date=starts.isoformat(), weekday=WEEKDAYS[starts.weekday()], day=day
                ),
            )
    overrides: list[OverrideConfig] = []
    for i, raw in t.tables("overrides") or []:
        o = Table(t.chk, (*t.path, "overrides", i), raw, t.context)
        o.check_keys(OVERRIDE_KEYS)
        agent = o.text("agent", required=True)
        begins, ends = _instant(o, "starts_at"), _instant(o, "ends_at")
        if "starts_at" not in o.raw or "ends_at" not in o.raw:
            o.error(None, _("an override needs starts_at and ends_at"))
        if begins is not None and ends is not None:
            if ends <= begins:
                o.error("ends_at", _("ends_at must be after starts_at"))
                continue
            if (ends - begins).days > OVERRIDE_MAX_DAYS:
                o.error(
                    "ends_at",
                    _("an override lasts at most {days} days; change the rota instead").format(
                        days=OVERRIDE_MAX_DAYS
                    ),
                )
                continue
        if agent is None or begins is None or ends is None:
            continue
        overrides.append(
            OverrideConfig(
                agent=agent,
                starts_at=begins,
                ends_at=ends,
                covers=o.text("covers"),
                reason=o.text("reason", default="", max_len=200),
                path=o.path,
            )
        )
    if team is None or not members or starts is None or handover is None:
        return None
    return RotationConfig(
        team=team,
        members=members,
        starts=starts,
        handover=handover,
        shift_days=shift_days,
        timezone=zone,
        ack_timeout_minutes=ack,
        overrides=tuple(overrides),
        path=t.path,
    )


def check_rotation_references(
    rotations: Sequence[RotationConfig],
    teams: set[Any] | None,
    agents: set[Any] | None,
    check: Any,
    label: Any,
) -> None:
    """Each rota's team, members and overrides' people exist; a team has one rota."""
    for r in rotations:
        ctx = label(r)
        check(r, ctx, "team", r.team, teams, _("team"))
        for i, member in enumerate(r.members):
            check(r, ctx, ("members", i), member, agents, _("agent"))
        for i, o in enumerate(r.overrides):
            check(r, ctx, ("overrides", i, "agent"), o.agent, agents, _("agent"))
            if o.covers is not None and o.covers not in r.members:
                check(r, ctx, ("overrides", i, "covers"), o.covers, set(r.members), _("member"))


def rotations_value(rotations: Sequence[RotationConfig]) -> dict[str, Any]:
    # Keyed by team, so a plan names the team and the field that changed.
    return {
        r.team: {
            "members": list(r.members),
            "starts": r.starts.isoformat(),
            "handover": r.handover,
            "shift_days": r.shift_days,
            "timezone": r.timezone,
            "ack_timeout_minutes": r.ack_timeout_minutes,
            "overrides": [
                {
                    "agent": o.agent,
                    "covers": o.covers,
                    "starts_at": o.starts_at.isoformat(),
                    "ends_at": o.ends_at.isoformat(),
                    "reason": o.reason,
                }
                for o in r.overrides
            ],
        }
        for r in rotations
    }


def rotations_from_value(v: Mapping[str, Any]) -> tuple[RotationConfig, ...]:
    return tuple(
        RotationConfig(
            team=team,
            members=tuple(fields["members"]),
            starts=date.fromisoformat(fields["starts"]),
            handover=fields["handover"],
            shift_days=int(fields["shift_days"]),
            timezone=fields["timezone"],
            ack_timeout_minutes=int(fields["ack_timeout_minutes"]),
            overrides=tuple(
                OverrideConfig(
                    agent=o["agent"],
                    covers=o.get("covers"),
                    starts_at=datetime.fromisoformat(o["starts_at"]),
                    ends_at=datetime.fromisoformat(o["ends_at"]),
                    reason=o.get("reason") or "",
                )
                for o in fields.get("overrides") or ()
            ),
        )
        for team, fields in v.items()
    )


def as_rotation(r: RotationConfig) -> Rotation:
    """The rota as the on-call rules read it."""
    hours, minutes = (int(x) for x in r.handover.split(":"))
    return Rotation(
        team=r.team,
        members=r.members,
        starts=r.starts,
        handover=time(hours, minutes),
        shift_days=r.shift_days,
        timezone=r.timezone,
        ack_timeout_minutes=r.ack_timeout_minutes,
        overrides=tuple(
            Override(o.agent, o.starts_at, o.ends_at, o.covers, o.reason) for o in r.overrides
        ),
    )


def dump_rotations(w: Any, rotations: Sequence[RotationConfig]) -> None:
    """Each rota as [[rotations]] and its [[rotations.overrides]], instants in its zone."""
    for r in rotations:
        w.header("rotations", array=True)
        whole_weeks = r.shift_days % 7 == 0
        w.pairs(
            {
                "team": r.team,
                "members": list(r.members),
                "starts": r.starts,
                "handover_day": WEEKDAYS[r.starts.weekday()] if whole_weeks else None,
                "handover": r.handover,
                "shift_days": r.shift_days,
                "timezone": r.timezone,
                "ack_timeout_minutes": r.ack_timeout_minutes,
            }
        )
        zone = ZoneInfo(r.timezone)
        for o in r.overrides:
            w.header("rotations.overrides", array=True)
            w.pairs(
                {
                    "agent": o.agent,
                    "covers": o.covers,
                    "starts_at": o.starts_at.astimezone(zone),
                    "ends_at": o.ends_at.astimezone(zone),
                    "reason": o.reason or None,
                }
            )
