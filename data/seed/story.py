"""What happened to one seeded ticket: how long each stage took, the status it reached,
and its writes (assign, transitions, resolve, reopen, close) and comments, in order."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.texts import (
    ACKNOWLEDGEMENTS,
    CAUSES_BY_CATEGORY,
    PENDING_QUESTIONS,
    PROBLEM_ACKNOWLEDGEMENTS,
    REQUEST_ACKNOWLEDGEMENTS,
    RESOLUTION_NOTES,
    RESOLVED_REPLIES,
    WORK_NOTES,
    WORKAROUNDS_BY_CATEGORY,
)
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE
from itsm_tui.domain.workflow import WORKFLOWS

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder
    from itsm_tui.data.seed.sla import PolicyClocks

# One write of a ticket's story: (time, actor, action, field, old value, new value).
Event = tuple[int, Any, str, Any, Any, Any]
# One comment: (time, author, kind, body).
Note = tuple[int, Any, str, str]


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
    # Its catalogue item requires approval: created waiting for it (desk.create_ticket).
    born_waiting: bool
    is_major: bool
    parent: int | None
    policy: PolicyClocks | None
    resp_target: int
    res_target: int
    number: str = ""
    # Its kind of fault (a problem's root cause and workaround are true to it).
    category: str = ""
    initial_status: str = ""
    status: str = ""
    # Whether its resolution took longer than the target (business time).
    late: bool = False
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


# Business time taken, as a share of the target: most work ends well within it, about
# one clock in fifteen runs late. A late one ends before 145 %: the desk's longer
# escalation levels (150 %) raise priorities, and a seeded history stays short of them.
MEAN_SHARE = 0.36
LATE_CAP = 1.45


def _share(rnd: Callable[[], float], expo: Callable[[float], float]) -> float:
    share = expo(1.0 / MEAN_SHARE)
    return share if share < LATE_CAP else 1.0 + (LATE_CAP - 1.0) * rnd()


def tell_story(
    run: Seeder,
    tk: SeedTicket,
    rnd: Callable[[], float],
    expo: Callable[[float], float],
    index: Any,
) -> None:
    """Fill in `tk`'s status, timestamps, writes and comments (draws from the run's rng).

    Durations are business time of the ticket's calendar (`index`), so a ticket's SLA
    outcome is what its story says: answered and resolved within target most of the
    time. Open tickets are mostly recent; the few older ones wait on someone (pending
    on the requester, awaiting an approver), so no old ticket sits in progress.
    """
    i, t, tname, o = tk.index, tk.t, tk.tname, tk.opened
    resp_target, res_target = tk.resp_target, tk.res_target
    needs_approval, is_major, parent = tk.needs_approval, tk.is_major, tk.parent
    creator, assignee = tk.creator, tk.assignee_pick
    now = run.clock.now
    name = run.staff.agent_name

    def after(start: int, seconds: float) -> int:
        """The instant `seconds` of business time after `start` (whole seconds)."""
        if seconds <= 0:
            return index.next_working(start)
        return -(-index.add_micro(start, int(seconds * 1_000_000)) // 1_000_000)

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rnd() * len(options))]

    # When the work starts (the first response) and when it ends (resolution).
    # An item that requires approval is created waiting for it; other requests that need
    # one are sent for approval a minute after they come in.
    approval_at = (o if tk.born_waiting else o + MINUTE) if needs_approval else None
    approved_at = None
    response_share = _share(rnd, expo)
    resolution_share = _share(rnd, expo)
    if approval_at is not None:
        # Approvers answer within hours, not minutes; the clocks wait with them.
        approved_at = approval_at + 60 + int(expo(1.0 / (3 * HOUR)))
        r = after(approved_at, response_share * resp_target * MINUTE)
    else:
        r = after(o, max(30.0, response_share * resp_target * MINUTE))
    if t == 0:
        s = max(r + MINUTE, after(o, resolution_share * res_target * MINUTE))
    elif t == 1:
        # Most requests are quick to fulfil once picked up (the default desk aims at 30
        # minutes from arrival to fulfilment on average); a few take their time.
        work = expo(1.0 / (15 * MINUTE)) if rnd() > 0.03 else 0.3 * res_target * MINUTE
        s = r + MINUTE + int(work)
    else:
        s = r + int(expo(1.0 / (10 * DAY)))
    tk.late = t != 2 and resolution_share > 1.0
    if is_major:
        r = o + 2 * MINUTE + int(rnd() * 5 * MINUTE)
        s = run.majors[i][2] + int(5 * MINUTE + rnd() * 15 * MINUTE)
    elif parent is not None:
        s = max(s, run.major_info[run.children[i]][1])

    age = now - o
    if t == 2:
        p_open = 0.3 + 0.5 * math.exp(-age / (14 * DAY))
    else:
        p_open = 0.5 * math.exp(-age / DAY) + 0.004
    p_open += run.backlog * (1 - p_open)
    is_open = s >= now or (not is_major and rnd() < p_open)
    # Requests without an approval step cannot wait on anyone: they are done or recent.
    if is_open and s < now and t == 1 and not needs_approval:
        is_open = False
    responded = r < now

    tk.initial_status = "awaiting_approval" if tk.born_waiting else WORKFLOWS[tname].initial
    # The create's summary is written by the ticket writer (it knows the team and service).
    ev: list[Event] = [(o, creator, "create", None, None, None)]
    notes: list[Note] = []
    resolved = closed = None
    approved_by = None
    code = res_notes = None
    reopen = 0
    paused_at = None
    end = now - 1 if is_open else s
    if approval_at is not None and not tk.born_waiting and approval_at <= end:
        ev.append((approval_at, creator, "transition", "status", "submitted", "awaiting_approval"))
    if is_open:
        if t == 0:
            if not responded:
                status = "new" if rnd() < 0.4 else "assigned"
            elif s >= now or now < after(o, 1.4 * res_target * MINUTE):
                # Still being worked on: not done yet, or a little late.
                x = rnd()
                status = (
                    "new"
                    if x < 0.05
                    else "assigned"
                    if x < 0.15
                    else "in_progress"
                    if x < 0.8
                    else "pending"
                )
            else:
                status = "pending"  # an older one still open waits on the requester
            if status == "new":
                assignee = None
                if responded:
                    # Answered from the queue, not yet taken by anyone.
                    notes.append((r, creator, "reply", pick(ACKNOWLEDGEMENTS)))
            else:
                ev.append(
                    (
                        min(r, end) if status == "assigned" else r,
                        creator,
                        "assign",
                        "assignee",
                        None,
                        name[assignee],
                    )
                )
            if status == "assigned" and responded:
                notes.append((r, assignee, "reply", pick(ACKNOWLEDGEMENTS)))
            if status in ("in_progress", "pending"):
                ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
                if rnd() < 0.3:
                    notes.append((r, assignee, "reply", pick(ACKNOWLEDGEMENTS)))
            if status == "pending":
                # On hold: the clock waits with the requester. An older one went on hold
                # anywhere up to 140 % of its target (lingering tickets are often late).
                hold_until = min(end, s if s >= now else after(o, 1.4 * res_target * MINUTE))
                paused_at = min(end, r + 1 + int((hold_until - r - 1) * rnd()))
                notes.append((paused_at, assignee, "reply", pick(PENDING_QUESTIONS)))
                ev.append((paused_at, assignee, "transition", "status", "in_progress", "pending"))
        elif t == 1:
            if needs_approval and (approved_at >= now or s < now):
                # Still with the approver (an older one has waited long for them).
                status = "awaiting_approval" if approval_at <= end else "submitted"
                assignee = None
            elif needs_approval:
                # Approved, and waiting to be picked up or already in hand.
                status = "approved" if not responded or rnd() < 0.3 else "fulfilling"
            else:
                status = "fulfilling" if responded else "submitted"
            if status in ("approved", "fulfilling") and needs_approval:
                approved_by = run.staff.supervisor.get(tk.team, tk.assignee_pick)
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
            if status == "approved":
                assignee = None
                notes.append((approved_at, approved_by, "reply", REQUEST_ACKNOWLEDGEMENTS[1]))
            elif status == "fulfilling":
                ev.append((r, assignee, "assign", "assignee", None, name[assignee]))
                ev.append(
                    (
                        r,
                        assignee,
                        "transition",
                        "status",
                        "approved" if needs_approval else "submitted",
                        "fulfilling",
                    )
                )
                notes.append((r, assignee, "reply", REQUEST_ACKNOWLEDGEMENTS[0]))
            else:
                assignee = None
        else:
            if not responded:
                status = "new"
                assignee = None
            else:
                status = "known_error" if rnd() < 0.45 else "investigating"
                ev.append((r, assignee, "assign", "assignee", None, name[assignee]))
                ev.append((r, assignee, "transition", "status", "new", "investigating"))
                notes.append((r, assignee, "reply", pick(PROBLEM_ACKNOWLEDGEMENTS)))
                # Still investigating: most have found the cause, some are still looking.
                known = r + int((end - r) * rnd()) if status == "known_error" else None
                if known is not None or rnd() < 0.6:
                    ev.append(
                        _root_cause(r, end if known is None else known, assignee, tk.category, rnd)
                    )
                if known is not None:
                    ev.append(_workaround(known, assignee, tk.category, rnd))
        if responded and assignee is not None and rnd() < 0.3:
            notes.append((r + int((end - r) * rnd()), assignee, "work_note", pick(WORK_NOTES)))
    else:
        x = rnd()
        if t == 0:
            if rnd() < 0.5:
                # Picked from the queue: starting the work takes the ticket (one write).
                ev.append((r, assignee, "transition", "status", "new", "in_progress"))
            else:
                ev.append(
                    (r - min(r - o, 300) // 2, creator, "assign", "assignee", None, name[assignee])
                )
                ev.append((r, assignee, "transition", "status", "assigned", "in_progress"))
            if rnd() < 0.3:
                notes.append((r, assignee, "reply", pick(ACKNOWLEDGEMENTS)))
            if x < 0.03 and not is_major:
                status = "cancelled"
                closed = s
                ev.append((s, assignee, "transition", "status", "in_progress", "cancelled"))
            else:
                y = rnd()
                code = (
                    "fixed"
                    if y < 0.7
                    else "workaround"
                    if y < 0.85
                    else "no_fault_found"
                    if y < 0.9
                    else "user_error"
                    if y < 0.95
                    else "duplicate"
                    if y < 0.98
                    else "not_reproducible"
                )
                status = "resolved"
        elif t == 1:
            status = "submitted"
            if needs_approval:
                approved_by = run.staff.supervisor.get(tk.team, tk.assignee_pick)
                if x < 0.12:
                    # Turned down: the approver says why; the clocks stop, neither met nor late.
                    status = "rejected"
                    assignee = None
                    closed = s = approved_at
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
            if status != "rejected":
                ev.append((r, assignee, "assign", "assignee", None, name[assignee]))
                ev.append((r, assignee, "transition", "status", status, "fulfilling"))
                notes.append((r, assignee, "reply", pick(REQUEST_ACKNOWLEDGEMENTS[:1])))
                if x > 0.98:
                    status = "cancelled"
                    closed = s
                    ev.append((s, assignee, "transition", "status", "fulfilling", "cancelled"))
                else:
                    status = "fulfilled"
                    code = "fulfilled"
        else:
            ev.append((r, assignee, "assign", "assignee", None, name[assignee]))
            ev.append((r, assignee, "transition", "status", "new", "investigating"))
            notes.append((r, assignee, "reply", pick(PROBLEM_ACKNOWLEDGEMENTS)))
            # The cause is found in the first third of the work; four in ten publish a
            # workaround then (a known error) before the permanent fix.
            known = r + (s - r) // 3
            ev.append(_root_cause(r, known, assignee, tk.category, rnd))
            if x < 0.4:
                ev.append(_workaround(known, assignee, tk.category, rnd))
            # Resolved by its workaround only where one was published.
            code = "workaround" if x < 0.4 and rnd() < 0.4 else "fixed"
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
                # The reopen's reason is its work note (written by the replay, as the desk).
                ev.append((back, assignee, "reopen", "status", wf.resolved, wf.reopen_to))
                prev = wf.reopen_to
                reopen = 1
            ev.append((s, assignee, "resolve", "status", prev, wf.resolved))
            resolved = s
            if rnd() < 0.5:
                notes.append((s, assignee, "reply", pick(RESOLVED_REPLIES[tname])))
            close_after = 7 * DAY if t == 2 else 3 * DAY
            if s + close_after <= now:
                closed = s + close_after
                status = "closed"
                ev.append((closed, None, "transition", "status", wf.resolved, "closed"))
        elif (
            status == "rejected"
            and approved_at is not None
            and approved_at + 3 * DAY <= now
            # Half of the rejected requests are never formally closed.
            and rnd() < 0.5
        ):
            # closed_at stays the rejection's: the desk stamps it when the request ends.
            ev.append((approved_at + 3 * DAY, None, "transition", "status", "rejected", "closed"))
            status = "closed"
        if assignee is not None and rnd() < 0.3:
            notes.append((r + int((s - r) * rnd()), assignee, "work_note", pick(WORK_NOTES)))

    tk.status, tk.is_open, tk.done_at, tk.age = status, is_open, s, age
    tk.resolved, tk.closed = resolved, closed
    tk.approved_by = approved_by
    tk.approved_at = approved_at if status not in ("awaiting_approval", "submitted") else None
    tk.code, tk.res_notes, tk.reopen = code, res_notes, reopen
    tk.paused_at, tk.assignee = paused_at, assignee
    tk.events, tk.notes = ev, notes


def _root_cause(
    after: int, before: int, actor: Any, category: str, rnd: Callable[[], float]
) -> Event:
    """problems.record_root_cause at a moment of the investigation (without an analysis:
    the seed does not make up the five whys)."""
    causes = CAUSES_BY_CATEGORY[category]
    at = after + int((before - after) * rnd())
    return (at, actor, "root_cause", "root_cause", "", causes[int(rnd() * len(causes))])


def _workaround(at: int, actor: Any, category: str, rnd: Callable[[], float]) -> Event:
    """problems.publish_workaround: the problem becomes a known error."""
    ways = WORKAROUNDS_BY_CATEGORY[category]
    return (at, actor, "workaround", "workaround", "", ways[int(rnd() * len(ways))])
