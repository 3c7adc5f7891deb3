"""The on-call rota: who holds a team's pager at an instant, and the schedule between two.

A rotation hands the pager from one member to the next at a local wall time (09:00 in
the rota's zone) every `shift_days` days, counted from the local date `starts`; the
shifts are laid out in local dates and wall times, so a 09:00 handover stays 09:00 across
a DST change (the shift that spans the change is an hour longer or shorter). An override
puts someone else on call from one instant to another: for one member's shifts only
(`covers`, a swap) or whoever's shift it is (a holiday cover). Pure rules: instants in,
instants out, no clock read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Override:
    """`agent` is on call from `starts` to `ends` (aware instants) instead of the rota's
    member; only during `covers`'s shifts when it names someone."""

    agent: str
    starts: datetime
    ends: datetime
    covers: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Rotation:
    team: str
    members: tuple[str, ...]
    starts: date
    handover: time = time(9, 0)
    shift_days: int = 7
    timezone: str = "UTC"
    ack_timeout_minutes: int = 15
    overrides: tuple[Override, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class OnCall:
    """Who is on call over [starts, ends): `agent`, covering `member`'s shift when an
    override put them there (else `member` == `agent`). `shift` numbers the rota's shift."""

    agent: str
    member: str
    shift: int
    starts: datetime
    ends: datetime
    override: Override | None = None


def shift_start(rotation: Rotation, shift: int) -> datetime:
    """The instant shift number `shift` begins (shift 0 begins on `starts`), in UTC.

    The wall time is read in the rota's zone: a handover in the hour a spring-forward
    skips happens at the same wall time's instant after the jump, and one in the hour an
    autumn fall-back repeats happens the first time round (fold 0).
    """
    day = rotation.starts + timedelta(days=shift * rotation.shift_days)
    local = datetime.combine(day, rotation.handover, tzinfo=rotation.zone)
    return local.astimezone(UTC)


def shift_at(rotation: Rotation, instant: datetime) -> int | None:
    """The number of the shift that holds `instant`; None before the rota starts."""
    local_day = instant.astimezone(rotation.zone).date()
    shift = (local_day - rotation.starts).days // rotation.shift_days
    # The local date puts us in the right shift or the one after it (before the handover
    # time on a handover day): step back while the shift has not begun.
    while shift >= 0 and shift_start(rotation, shift) > instant:
        shift -= 1
    while shift_start(rotation, shift + 1) <= instant:
        shift += 1
    return shift if shift >= 0 else None


def member_of_shift(rotation: Rotation, shift: int) -> str:
    return rotation.members[shift % len(rotation.members)]


def on_call_at(rotation: Rotation, instant: datetime) -> OnCall | None:
    """Who is on call at `instant` (an aware datetime), and over which stretch; None
    before the rota starts or when it has no members."""
    if not rotation.members:
        return None
    shift = shift_at(rotation, instant)
    if shift is None:
        return None
    pieces = _shift_pieces(rotation, shift)
    return next(p for p in pieces if p.starts <= instant < p.ends)


def schedule(rotation: Rotation, start: datetime, end: datetime) -> list[OnCall]:
    """Who is on call from `start` to `end`, stretch by stretch in time order, clipped to
    the window: each shift, cut where overrides begin and end."""
    if not rotation.members or end <= start:
        return []
    first = shift_at(rotation, start)
    if first is None:
        begins = shift_start(rotation, 0)
        if begins >= end:
            return []
        first = 0
    out: list[OnCall] = []
    shift = first
    while shift_start(rotation, shift) < end:
        for piece in _shift_pieces(rotation, shift):
            lo, hi = max(piece.starts, start), min(piece.ends, end)
            if lo < hi:
                out.append(_clipped(piece, lo, hi))
        shift += 1
    return _joined(out)


def chain_order(rotation: Rotation, instant: datetime) -> list[str]:
    """Whom a page chain tries after the one on call at `instant`: the members in rota
    order from the next shift on. A member whose shift an override covers is away (a
    holiday, a swap) and is left out."""
    shift = shift_at(rotation, instant)
    base = 0 if shift is None else shift + 1
    now = on_call_at(rotation, instant)
    away = now.member if now is not None and now.override is not None else None
    order: list[str] = []
    for step in range(len(rotation.members)):
        member = member_of_shift(rotation, base + step)
        if member != away and member not in order:
            order.append(member)
    return order


def _shift_pieces(rotation: Rotation, shift: int) -> list[OnCall]:
    """One shift cut at every override boundary inside it, each piece with its agent."""
    starts, ends = shift_start(rotation, shift), shift_start(rotation, shift + 1)
    member = member_of_shift(rotation, shift)
    relevant = [
        o
        for o in rotation.overrides
        if o.starts < ends and o.ends > starts and o.covers in (None, member)
    ]
    cuts = sorted({starts, ends, *(o.starts for o in relevant), *(o.ends for o in relevant)})
    cuts = [c for c in cuts if starts <= c <= ends]
    pieces: list[OnCall] = []
    for lo, hi in pairwise(cuts):
        # The override written last wins where two overlap: the newest arrangement.
        cover = next((o for o in reversed(relevant) if o.starts <= lo and o.ends >= hi), None)
        agent = cover.agent if cover else member
        pieces.append(OnCall(agent, member, shift, lo, hi, cover))
    return _joined(pieces)


def _clipped(piece: OnCall, lo: datetime, hi: datetime) -> OnCall:
    return OnCall(piece.agent, piece.member, piece.shift, lo, hi, piece.override)


def _joined(pieces: list[OnCall]) -> list[OnCall]:
    """Adjacent pieces of one shift with the same agent and override are one stretch."""
    out: list[OnCall] = []
    for p in pieces:
        last = out[-1] if out else None
        if (
            last is not None
            and last.ends == p.starts
            and (last.agent, last.shift, last.override) == (p.agent, p.shift, p.override)
        ):
            out[-1] = _clipped(last, last.starts, p.ends)
        else:
            out.append(p)
    return out
