"""The ticket's SLA clocks as the detail screen shows them: a snapshot of each clock taken
with the read, and the countdown line drawn from it every second (no database call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text

from itsm_tui.data.sla_standing import (  # the standings, defined once
    BREACHED,
    CANCELLED,
    MET,
    PAUSED,
    RUNNING,
    WARNED,
    clock_standing,
)
from itsm_tui.desk import sla
from itsm_tui.domain.calendar import BusinessCalendar, business_time_between
from itsm_tui.i18n import _
from itsm_tui.screens.text import shown_time


def duration(delta: timedelta, *, seconds: bool = True) -> str:
    """`2d 03h 04m`, `1h 05m 09s`, `4m 02s`: the countdown's face."""
    total = int(abs(delta.total_seconds()))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m" + (f" {secs:02d}s" if seconds else "")
    return f"{minutes}m" + (f" {secs:02d}s" if seconds else "")


def short_duration(delta: timedelta) -> str:
    """A target as people say it: `30m`, `7h 30m`, `4d`, `1d 4h`."""
    total = int(abs(delta.total_seconds())) // 60
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return " ".join(p for p in parts if p) or "0m"


# ---------------------------------------------------------------------------
# SLA clocks as loaded: enough to count down every second without the database


@dataclass(frozen=True)
class ClockSnapshot:
    """One SLA clock at the last load, with its business calendar."""

    kind: str
    state: str
    policy: str | None
    target_minutes: int
    spent_seconds: int
    running_since: datetime | None
    stopped_at: datetime | None
    due_at: datetime | None
    breached_at: datetime | None
    warn_percents: tuple[int, ...]
    calendar: BusinessCalendar
    # What "warned" reads (data/sla_standing.py): events fired, and the next one's instant.
    fired_percent: int = 0
    next_event_at: datetime | None = None
    # The target as the desk says it, when it is a request's delivery standard
    # ("5 working days", fulfilment.delivery_standard); else None (a duration).
    target_said: str | None = None

    @classmethod
    def of(cls, clock: Any) -> ClockSnapshot:
        policy = clock.policy
        return cls(
            kind=clock.kind,
            state=clock.state,
            policy=policy.name if policy is not None else None,
            target_minutes=clock.target_minutes,
            spent_seconds=clock.spent_seconds,
            running_since=clock.running_since,
            stopped_at=clock.stopped_at,
            due_at=clock.due_at,
            breached_at=clock.breached_at,
            warn_percents=tuple(
                sorted(int(p) for p in (policy.warn_at_percent if policy else sla.DEFAULT_WARNINGS))
            ),
            calendar=sla.calendar_of(policy.calendar) if policy is not None else sla.UTC_24X7,
            fired_percent=clock.fired_percent,
            next_event_at=clock.next_event_at,
        )

    def spent(self, now: datetime) -> timedelta:
        total = timedelta(seconds=self.spent_seconds)
        if self.state in sla.COUNTING and self.stopped_at is None and self.running_since:
            total += business_time_between(
                self.calendar, self.running_since, max(now, self.running_since)
            )
        return total

    def live(self, now: datetime) -> tuple[str, timedelta | None, float]:
        """(standing, business time left or None when stopped, percent of the target
        spent); the standing is the queue's and the views' (data/sla_standing.py)."""
        spent = self.spent(now)
        target = timedelta(minutes=self.target_minutes)
        percent = 100.0 if self.target_minutes <= 0 else spent / target * 100
        standing = clock_standing(self, now)
        if self.stopped_at is not None or self.state in (MET, CANCELLED):
            return standing, None, percent
        return standing, target - spent, percent


STATE_STYLE = {
    RUNNING: "green",
    WARNED: "bold yellow",
    BREACHED: "bold red",
    PAUSED: "cyan",
    MET: "dim green",
    CANCELLED: "dim",
}


def clock_line(clock: ClockSnapshot, now: datetime, zone: tzinfo) -> Text:
    state, left, percent = clock.live(now)
    label = {sla.RESPONSE: _("Response"), sla.RESOLUTION: _("Resolution")}.get(
        clock.kind, clock.kind
    )
    line = Text()
    line.append(f"{label:<11}", style="bold")
    shown_state = _(state)
    # Padded to line the times up; a state as long as the column ("cancelled") still
    # gets its space before the time.
    line.append(f"{shown_state:<8} ", style=STATE_STYLE.get(state, ""))
    if left is not None and clock.due_at is not None and state != PAUSED:
        # Counting down to the due instant, as the queue's SLA column does: the business
        # calendar already placed it, and wall time is what the agent has left.
        left = clock.due_at - now
    if left is None:
        when = clock.stopped_at
        line.append(_("stopped {at}").format(at=shown_time(when, zone)), style="dim")
    elif left < timedelta(0):
        line.append(_("overdue {time}").format(time=duration(left)), style="bold red")
    else:
        line.append(_("{time} left").format(time=duration(left)), style=STATE_STYLE.get(state, ""))
    if clock.due_at is not None and left is not None and state != PAUSED and not clock.target_said:
        # A request timed by its standard falls due at its promise, which the Promised
        # line shows: said once, the line keeps to 80 columns with the standard in words.
        line.append("  " + _("due {at}").format(at=shown_time(clock.due_at, zone)), style="dim")
    target = timedelta(minutes=clock.target_minutes)
    said = clock.target_said or short_duration(target)
    if state in (BREACHED, MET, CANCELLED) or left is None:
        # Overdue or stopped says it already; a share of the target adds nothing.
        line.append("  " + _("target {time}").format(time=said), style="dim")
    else:
        # Capped: a clock paused for months would otherwise show five digits.
        share = f"{min(percent, 999):.0f}%"
        line.append(
            "  " + _("{share} of {time}").format(share=share, time=said),
            style="dim",
        )
    return line
