"""The SLA clocks of a seeded ticket: response and resolution, met or breached when their
story stopped them, still counting (or paused) at the seed's `now` otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itsm_tui.data.models import SLA_DUE_NEVER_TEXT
from itsm_tui.data.seed.story import SeedTicket
from itsm_tui.data.seed.timeline import MINUTE

CLOCK_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "policy_id",
    "target_minutes",
    "started_at",
    "due_at",
    "state",
    "running_since",
    "paused_at",
    "paused_seconds",
    "spent_seconds",
    "stopped_at",
    "breached_at",
    "fired_percent",
    "warnings_fired",
    "next_event_at",
    "escalation_level",
)


def add_clocks(
    clocks: list[tuple[Any, ...]], kid: int, tk: SeedTicket, now: int, ts: Callable[[int], Any]
) -> tuple[int, str]:
    """Append `tk`'s clock rows from id `kid`; return the next id and the ticket's SLA key.

    The key is tickets.sla_due_at: the nearest due time of a counting clock (as the desk's
    refresh_sla_due computes it); texts of one format compare as the instants do.
    """
    t, tid, o, policy, status = tk.t, tk.tid, tk.opened, tk.policy, tk.status
    resp_target, res_target = tk.resp_target, tk.res_target
    first_response, resolved, paused_at = tk.first_response, tk.resolved, tk.paused_at
    is_open, s = tk.is_open, tk.done_at
    never, counting = SLA_DUE_NEVER_TEXT, ("running", "breached")
    first_clock = len(clocks)
    if policy is not None or t != 2:
        pid = policy.id if policy else None
        # Open in one of its policy's pause statuses (pending, awaiting approval).
        paused = paused_at is not None and policy is not None and status in policy.pauses
        events = policy.events if policy else (50, 75, 100)
        levels = policy.levels if policy else ()
        if not (policy and policy.response is None):
            due = o + resp_target * MINUTE
            if first_response is not None:
                met = first_response <= due
                clocks.append(
                    (
                        kid,
                        tid,
                        "response",
                        pid,
                        resp_target,
                        ts(o),
                        ts(due),
                        "met" if met else "breached",
                        None,
                        None,
                        0,
                        first_response - o,
                        ts(first_response),
                        None if met else ts(due),
                        0,
                        0,
                        None,
                        0,
                    )
                )
            else:
                clocks.append(
                    counting_clock(
                        kid,
                        tid,
                        "response",
                        pid,
                        resp_target,
                        o,
                        now,
                        ts,
                        events,
                        levels,
                        paused_at=paused_at if paused else None,
                    )
                )
            kid += 1
        if not (policy and policy.resolution is None):
            due = o + res_target * MINUTE
            stop = resolved if resolved is not None else (None if is_open else s)
            if stop is not None:
                met = stop <= due
                clocks.append(
                    (
                        kid,
                        tid,
                        "resolution",
                        pid,
                        res_target,
                        ts(o),
                        ts(due),
                        "met" if met else "breached",
                        None,
                        None,
                        0,
                        stop - o,
                        ts(stop),
                        None if met else ts(due),
                        0,
                        0,
                        None,
                        0,
                    )
                )
            elif paused:
                clocks.append(
                    counting_clock(
                        kid,
                        tid,
                        "resolution",
                        pid,
                        res_target,
                        o,
                        now,
                        ts,
                        events,
                        levels,
                        paused_at=paused_at,
                    )
                )
            else:
                clocks.append(
                    counting_clock(
                        kid, tid, "resolution", pid, res_target, o, now, ts, events, levels
                    )
                )
            kid += 1
    # tickets.sla_due_at: the nearest due time of a counting clock (as the desk's
    # refresh_sla_due computes it); texts of one format compare as the instants do.
    sla_due = never
    for c in clocks[first_clock:]:
        if c[7] in counting and c[12] is None and c[6] is not None and c[6] < sla_due:
            sla_due = c[6]
    return kid, sla_due


def counting_clock(
    kid: int,
    tid: int,
    kind: str,
    pid: int | None,
    target: int,
    opened: int,
    now: int,
    ts: Callable[[int], Any],
    events: tuple[int, ...],
    levels: tuple[int, ...],
    paused_at: int | None = None,
) -> tuple[Any, ...]:
    """A clock still running at `now` (or paused since `paused_at`), as if an escalator
    had swept up to then.

    Thresholds already passed count as fired, and a clock past its target is breached
    as of its due time (so the first sweep of a seeded desk escalates only what comes
    due from now on, and a resumed clock stays late); `next_event_at` is the next one.
    A paused clock has spent the time up to its pause and has no due time or next event.
    """
    length = target * MINUTE
    counted_until = now if paused_at is None else paused_at
    elapsed_percent = (counted_until - opened) * 100 / length
    fired = [p for p in events if p <= elapsed_percent]
    later = [p for p in events if p > elapsed_percent]
    breached = bool(fired) and fired[-1] >= 100
    running = paused_at is None
    return (
        kid,
        tid,
        kind,
        pid,
        target,
        ts(opened),
        ts(opened + length) if running else None,
        ("breached" if breached else "running") if running else "paused",
        ts(opened) if running else None,
        None if running else ts(paused_at),
        0,
        0 if running else paused_at - opened,
        None,
        ts(opened + length) if breached else None,
        fired[-1] if fired else 0,
        sum(1 for p in fired if p < 100),
        ts(opened + length * later[0] // 100) if later and running else None,
        sum(1 for p in levels if p <= elapsed_percent),
    )
