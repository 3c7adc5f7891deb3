"""What happened to one seeded ticket: how long each stage took, the status it reached,
and its writes (assign, transitions, resolve, reopen, close) and comments, in order."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.desk import Policy
from itsm_tui.data.seed.texts import REPLIES, RESOLUTION_NOTES, WORK_NOTES
from itsm_tui.data.seed.timeline import DAY, MINUTE
from itsm_tui.domain.workflow import TICKET_TYPES, WORKFLOWS

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder

# One write of a ticket's story: (time, actor, action, field, old value, new value).
Event = tuple[int, Any, str, Any, Any, Any]
# One comment: (time, author, kind, body).
Note = tuple[int, Any, str, str]

# The new value of a ticket's "create" audit event, per (type index, priority).
_CREATE_TEXT = {
    (t, p): json.dumps({"type": tname, "status": WORKFLOWS[tname].initial, "priority": f"P{p}"})
    for t, tname in enumerate(TICKET_TYPES)
    for p in (1, 2, 3, 4)
}


@dataclass(slots=True)
class SeedTicket:
    """A ticket being generated: what it is, then (filled in by its story) what happened."""

    index: int
    tid: int
    t: int  # index into TICKET_TYPES
    tname: str
    opened: int
    priority: int
    team: int
    creator: int
    assignee_pick: int
    requester: int | None
    needs_approval: bool
    is_major: bool
    parent: int | None
    policy: Policy | None
    resp_target: int
    res_target: int
    status: str = ""
    is_open: bool = False
    # When the work finished (or, for an open ticket, would have).
    done_at: int = 0
    age: int = 0
    first_response: int | None = None
    resolved: int | None = None
    closed: int | None = None
    approved_by: int | None = None
    approved_at: int | None = None
    code: str | None = None
    res_notes: str | None = None
    reopen: int = 0
    paused_at: int | None = None
    assignee: int | None = None
    events: list[Event] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def tell_story(
    run: Seeder, tk: SeedTicket, rnd: Callable[[], float], expo: Callable[[float], float]
) -> None:
    """Fill in `tk`'s status, timestamps, writes and comments (draws from the run's rng)."""
    i, t, tname, o, priority = tk.index, tk.t, tk.tname, tk.opened, tk.priority
    resp_target, res_target = tk.resp_target, tk.res_target
    needs_approval, is_major, parent = tk.needs_approval, tk.is_major, tk.parent
    team, creator, assignee_pick = tk.team, tk.creator, tk.assignee_pick
    now = run.clock.now
    agent_name, supervisor = run.staff.agent_name, run.staff.supervisor
    work_notes, replies = WORK_NOTES, REPLIES
    n_notes, n_replies = len(work_notes), len(replies)

    # How long each stage takes (seconds): tuned so ≈90% meet their SLA targets.
    rd = int(expo(1.0 / (0.4 * resp_target * MINUTE))) + 30
    if t == 0:
        work = expo(1.0 / (0.4 * res_target * MINUTE))
    elif t == 1:
        work = (
            expo(1.0 / (22 * MINUTE)) if rnd() > 0.03 else expo(1.0 / (0.8 * res_target * MINUTE))
        )
    else:
        work = expo(1.0 / (10 * DAY))
    approval_wait = int(expo(1.0 / (15 * MINUTE))) if needs_approval else 0
    s = o + rd + approval_wait + int(work) + 60
    if is_major:
        rd = 2 * MINUTE + int(rnd() * 5 * MINUTE)
        s = run.majors[i][2] + int(5 * MINUTE + rnd() * 15 * MINUTE)
    elif parent is not None:
        s = max(s, run.major_info[run.children[i]][1])

    age = now - o
    if t == 2:
        p_open = 0.3 + 0.5 * math.exp(-age / (14 * DAY))
    else:
        p_open = 0.6 * math.exp(-age / (2 * DAY)) + 0.03
    p_open += run.backlog * (1 - p_open)
    is_open = s >= now or (not is_major and rnd() < p_open)
    responded = o + rd < now

    # The story of the ticket as a list of writes: (time, actor, action, field, old, new).
    ev: list[Event] = []
    notes: list[Note] = []
    first_response = resolved = closed = None
    approved_by = approved_at = None
    code = res_notes = None
    reopen = 0
    paused_at = None
    assignee = assignee_pick
    r = o + rd
    ev.append((o, creator, "create", None, None, _CREATE_TEXT[(t, priority)]))
    if is_open:
        end = now - 1
        if t == 0:
            if not responded:
                status = "new" if rnd() < 0.4 else "assigned"
            else:
                # Some sit unassigned in the queue: their response clock still runs.
                x = rnd()
                status = (
                    "new"
                    if x < 0.08
                    else "assigned"
                    if x < 0.25
                    else "in_progress"
                    if x < 0.75
                    else "pending"
                )
        elif t == 1:
            if needs_approval:
                if not responded:
                    status = "awaiting_approval" if rnd() < 0.6 else "submitted"
                else:
                    x = rnd()
                    status = (
                        "awaiting_approval"
                        if x < 0.3
                        else ("approved" if x < 0.5 else "fulfilling")
                    )
            else:
                status = "fulfilling" if responded and rnd() < 0.8 else "submitted"
        else:
            x = rnd()
            status = "new" if x < 0.2 else ("investigating" if x < 0.65 else "known_error")
        worked = status not in ("new", "submitted", "awaiting_approval", "approved")
        if not worked:
            assignee = None
        if t == 0:
            if assignee is not None:
                ev.append((min(r, end), creator, "assign", "assignee", None, agent_name[assignee]))
            if status in ("in_progress", "pending") or (status == "assigned" and responded):
                first_response = r
            if status in ("in_progress", "pending"):
                ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
            if status == "pending":
                paused_at = r + int((end - r) * rnd())
                ev.append((paused_at, assignee, "transition", "status", "in_progress", "pending"))
        elif t == 1:
            prev = "submitted"
            if needs_approval and status != "submitted":
                ev.append(
                    (
                        min(o + 60, end),
                        creator,
                        "transition",
                        "status",
                        prev,
                        "awaiting_approval",
                    )
                )
                prev = "awaiting_approval"
                if status == "awaiting_approval":
                    # Still waiting: the policy's pause status holds its clocks.
                    paused_at = min(o + 60, end)
            if status in ("approved", "fulfilling") and needs_approval:
                approved_at = min(r, end)
                approved_by = supervisor.get(team, assignee_pick)
                ev.append((approved_at, approved_by, "transition", "status", prev, "approved"))
                prev = "approved"
            if status == "fulfilling":
                first_response = r
                ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
                ev.append((r, assignee, "transition", "status", prev, "fulfilling"))
        else:
            if status != "new":
                first_response = r
                ev.append(
                    (
                        min(r, end),
                        assignee,
                        "assign",
                        "assignee",
                        None,
                        agent_name[assignee],
                    )
                )
                ev.append((r, assignee, "transition", "status", "new", "investigating"))
                if status == "known_error":
                    ev.append(
                        (
                            r + int((end - r) * rnd()),
                            assignee,
                            "transition",
                            "status",
                            "investigating",
                            "known_error",
                        )
                    )
        if first_response is not None and rnd() < 0.3:
            notes.append(
                (
                    r + int((end - r) * rnd()),
                    assignee,
                    "work_note",
                    work_notes[int(rnd() * n_notes)],
                )
            )
    else:
        # Finished: resolved / fulfilled, and closed a few days later; some cancelled.
        end = s
        first_response = r
        x = rnd()
        if t == 0:
            if rnd() < 0.5:
                # Picked from the queue: starting the work takes the ticket (one write).
                ev.append((r, assignee, "transition", "status", "new", "in_progress"))
            else:
                at = r - min(rd // 2, 300)
                ev.append((at, creator, "assign", "assignee", None, agent_name[assignee]))
                ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
            if x < 0.03 and not is_major:
                status = "cancelled"
                closed = s
                ev.append((s, assignee, "transition", "status", "in_progress", "cancelled"))
            else:
                y = rnd()
                code = (
                    "fixed"
                    if y < 0.7
                    else (
                        "workaround"
                        if y < 0.85
                        else (
                            "no_fault_found"
                            if y < 0.9
                            else (
                                "user_error"
                                if y < 0.95
                                else ("duplicate" if y < 0.98 else "not_reproducible")
                            )
                        )
                    )
                )
                status = "resolved"
        elif t == 1:
            if needs_approval:
                ev.append(
                    (
                        o + 60,
                        creator,
                        "transition",
                        "status",
                        "submitted",
                        "awaiting_approval",
                    )
                )
                approved_at = min(o + 60 + approval_wait, s)
                approved_by = supervisor.get(team, assignee_pick)
                if x < 0.12:
                    status = "rejected"
                    assignee = None
                    closed = approved_at
                    ev.append(
                        (
                            approved_at,
                            approved_by,
                            "transition",
                            "status",
                            "awaiting_approval",
                            "rejected",
                        )
                    )
                    first_response = min(r, approved_at)
                    s = approved_at
                else:
                    ev.append(
                        (
                            approved_at,
                            approved_by,
                            "transition",
                            "status",
                            "awaiting_approval",
                            "approved",
                        )
                    )
                    status = "approved"
            else:
                status = "submitted"
            if status != "rejected":
                r = max(r, approved_at or r)
                first_response = r
                ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
                ev.append((r, assignee, "transition", "status", status, "fulfilling"))
                if x > 0.98:
                    status = "cancelled"
                    closed = s
                    ev.append((s, assignee, "transition", "status", "fulfilling", "cancelled"))
                else:
                    status = "fulfilled"
                    code = "fulfilled"
        else:
            ev.append((r, assignee, "assign", "assignee", None, agent_name[assignee]))
            ev.append((r, assignee, "transition", "status", "new", "investigating"))
            if x < 0.4:
                ev.append(
                    (
                        r + (s - r) // 3,
                        assignee,
                        "transition",
                        "status",
                        "investigating",
                        "known_error",
                    )
                )
            code = "fixed" if rnd() < 0.7 else "workaround"
            status = "resolved"
        if code is not None:
            wf = WORKFLOWS[tname]
            prev = (
                "known_error"
                if (t == 2 and x < 0.4)
                else ("fulfilling" if t == 1 else "in_progress")
            )
            res_notes = RESOLUTION_NOTES[code]
            if rnd() < (0.04 if t == 0 else 0.01):
                # Resolved once too early, reopened by the requester, resolved again.
                first_fix = r + (s - r) // 2
                back = first_fix + (s - first_fix) // 3
                ev.append((first_fix, assignee, "resolve", "status", prev, wf.resolved))
                ev.append((back, assignee, "reopen", "status", wf.resolved, wf.reopen_to))
                notes.append((back, assignee, "work_note", "Requester reports the fault is back."))
                prev = wf.reopen_to
                reopen = 1
            ev.append((s, assignee, "resolve", "status", prev, wf.resolved))
            resolved = s
            close_after = 7 * DAY if t == 2 else 3 * DAY
            if s + close_after <= now:
                closed = s + close_after
                status = "closed"
                ev.append((closed, None, "transition", "status", wf.resolved, "closed"))
            if rnd() < 0.3:
                notes.append((s, assignee, "reply", replies[int(rnd() * n_replies)]))
        elif (
            status == "rejected"
            and approved_at is not None
            and approved_at + 3 * DAY <= now
            # Half of the rejected requests are never formally closed.
            and rnd() < 0.5
        ):
            closed = approved_at + 3 * DAY
            ev.append((closed, None, "transition", "status", "rejected", "closed"))
            status = "closed"
        if first_response is not None and rnd() < 0.3:
            notes.append(
                (
                    r + int((s - r) * rnd()),
                    assignee,
                    "work_note",
                    work_notes[int(rnd() * n_notes)],
                )
            )
    if first_response is not None and rnd() < 0.45:
        author = assignee if assignee is not None else approved_by
        notes.append((first_response, author, "reply", replies[int(rnd() * n_replies)]))

    tk.status, tk.is_open, tk.done_at, tk.age = status, is_open, s, age
    tk.first_response, tk.resolved, tk.closed = first_response, resolved, closed
    tk.approved_by, tk.approved_at = approved_by, approved_at
    tk.code, tk.res_notes, tk.reopen = code, res_notes, reopen
    tk.paused_at, tk.assignee = paused_at, assignee
    tk.events, tk.notes = ev, notes
