"""Bulk catalogue requests for items with a fulfilment plan: their story (approved or
turned down, each step done by a member of its team, fulfilled at the last, or still at a
step at the seed's `now`) and, as the replay plays it, what itsm_tui/desk/fulfilment.py
writes at each move: the `fulfilment_tasks` rows, the request moving to `fulfilling` and
to the team of its open step, the step's notice to that team, and the public replies
that tell the requester (worded by the desk's own functions).

A step done is one write of the request (`complete_task`): the step's row ends, the
requester is told (which answers them: the first response when replies count as one),
and the next step is handed out or the request is fulfilled. The replay's clocks and
sweeps see the same moves as the desk's (tests/store/test_seed_replay.py compares a
sample with what the desk's functions write for the same story).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.story import SeedTicket, _share
from itsm_tui.data.seed.texts import REQUEST_ACKNOWLEDGEMENTS
from itsm_tui.data.seed.timeline import DAY, HOUR, MINUTE
from itsm_tui.desk import fulfilment as desk

if TYPE_CHECKING:
    from itsm_tui.data.seed.history import Seeder
    from itsm_tui.data.seed.replay import Replay

# Of the planned requests an approver answers, this share is turned down (the bulk
# story's share for requests).
TURNED_DOWN = 0.12
# A step takes this share of its expected time, and up to one more expected time.
STEP_PACE = 0.3
# A step with no expected time is paced as if it had one of this many minutes.
STEP_DEFAULT_MINUTES = 60

TASK_COLUMNS = (
    "ticket_id",
    "position",
    "steps",
    "name",
    "team_id",
    "expected_minutes",
    "status",
    "started_at",
    "ended_at",
    "done_by_id",
    "note",
)
TASK_STAMPED = ("started_at", "ended_at")
STEP_NOTES = ("Done as the checklist says.", "Checked with the requester.", "")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    team: int
    team_name: str
    minutes: int | None


@dataclass(frozen=True, slots=True)
class Plan:
    """An item's steps as the seed reads them once (the desk file's `tasks`)."""

    item: str
    approval_role: str | None
    steps: tuple[Step, ...]


def plan_of(name: str, approval_role: str | None, tasks: Any, team_ids: dict[str, int]) -> Plan:
    raw = json.loads(tasks) if isinstance(tasks, str) else tasks
    return Plan(
        name,
        approval_role,
        tuple(
            Step(str(t["name"]), team_ids[t["team"]], str(t["team"]), t.get("minutes")) for t in raw
        ),
    )


def tell_planned_story(
    run: Seeder,
    tk: SeedTicket,
    plan: Plan,
    rnd: Callable[[], float],
    expo: Callable[[float], float],
    index: Any,
) -> None:
    """`story.tell_story` for a request of a planned item: its writes are the create, the
    approver's answer, a reply of the first step's team, each step done, the close."""
    o, now = tk.opened, run.clock.now
    team_agents = run.staff.team_agents

    def after(start: int, seconds: float) -> int:
        if seconds <= 0:
            return index.next_working(start)
        return -(-index.add_micro(start, int(seconds * 1_000_000)) // 1_000_000)

    def member(team: int) -> int:
        pool = team_agents.get(team) or run.staff.all_agents
        return pool[int(rnd() * len(pool))]

    initial = tk.initial_status = "awaiting_approval" if tk.born_waiting else "submitted"
    ev: list[Any] = [(o, tk.creator, "create", None, None, None)]
    notes: list[Any] = []
    status, start = "fulfilling", o
    approved_by = approved_at = resolved = closed = code = res_notes = None
    done_at = now
    if tk.born_waiting:
        # Approvers answer within hours (the bulk story's pace).
        answer = o + 60 + int(expo(1.0 / (3 * HOUR)))
        if answer >= now:
            status = "awaiting_approval"
        else:
            approved_by = run.staff.supervisor.get(tk.team, tk.assignee_pick)
            approved_at = start = answer
            if rnd() < TURNED_DOWN:
                status, closed, done_at = "rejected", answer, answer
                ev.append((answer, approved_by, "transition", "status", initial, "rejected"))
                if answer + 3 * DAY <= now and rnd() < 0.5:
                    ev.append((answer + 3 * DAY, None, "transition", "status", status, "closed"))
                    status = "closed"
            else:
                ev.append((answer, approved_by, "transition", "status", initial, "approved"))
    if status == "fulfilling":
        steps = plan.steps
        at = start
        first = steps[0]
        # Someone of the first step's team answers the requester once it is in hand.
        reply_at = after(start, max(30.0, _share(rnd, expo) * tk.resp_target * MINUTE))
        ends = []
        for step in steps:
            at = after(at, (step.minutes or STEP_DEFAULT_MINUTES) * MINUTE * (STEP_PACE + rnd()))
            ends.append(at)
        if reply_at < min(ends[0], now):
            notes.append((reply_at, member(first.team), "reply", REQUEST_ACKNOWLEDGEMENTS[0]))
        for step, end in zip(steps, ends, strict=True):
            if end >= now:
                break
            # The event's last value is the note the agent leaves with the step.
            note = STEP_NOTES[int(rnd() * len(STEP_NOTES))]
            ev.append((end, member(step.team), "task.done", "task", step.name, note))
        else:
            status, code = "fulfilled", "fulfilled"
            resolved = done_at = ends[-1]
            res_notes = desk.fulfilled_notes(plan.item)
            if resolved + 3 * DAY <= now:
                closed = resolved + 3 * DAY
                ev.append((closed, None, "transition", "status", "fulfilled", "closed"))
                status = "closed"
        tk.late = done_at > after(start, tk.res_target * MINUTE)
    tk.status, tk.is_open = status, status in ("awaiting_approval", "fulfilling")
    tk.done_at, tk.age = done_at, now - o
    tk.resolved, tk.closed = resolved, closed
    tk.approved_by, tk.approved_at = approved_by, approved_at
    tk.code, tk.res_notes = code, res_notes
    tk.events, tk.notes = ev, notes


@dataclass
class PlannedRequest:
    """What the desk's fulfilment hooks write for one request as its replay plays it:
    the step rows, the team notices and the desk's replies (collected here, written by
    the ticket writer), and the moves and audit events (on the replay itself)."""

    plan: Plan
    number: str
    # The working day of the calendar that times the request (fulfilment.working_day_of).
    day_minutes: int | None
    team_names: dict[int, str]
    agent_names: dict[int, str]
    # [position, status, started, ended, done by, note], in position order.
    tasks: list[list[Any]] = field(default_factory=list)
    notices: list[tuple[int, int, str]] = field(default_factory=list)  # team, at, message
    replies: list[tuple[int, Any, str]] = field(default_factory=list)  # at, author, body

    def _reply(self, replay: Replay, at: int, actor: Any, body: str) -> None:
        """fulfilment._reply: a public reply in the same write (no response clock stops)."""
        self.replies.append((at, actor, body))
        replay.note(at, actor, "comment.reply", "comment", None, "reply")

    def created(self, replay: Replay, at: int, actor: Any) -> None:
        """fulfilment.request_created (after the promise)."""
        plan = self.plan
        standard = desk.delivery_standard(replay.promise_minutes(), self.day_minutes)
        self._reply(replay, at, actor, desk.said_submitted(self.number, plan.item, standard))
        if replay.state.status == "awaiting_approval":
            self._reply(
                replay, at, actor, desk.said_needs_approval(self.number, plan.approval_role)
            )
            return
        self.start_step(replay, 1, at, actor, "create")

    def decided(self, replay: Replay, at: int, actor: Any, approved: bool) -> None:
        """fulfilment.request_decided (after the promise)."""
        if not approved:
            self._reply(replay, at, actor, desk.said_not_approved(self.number))
            return
        self._reply(replay, at, actor, desk.said_approved(self.number))
        self.start_step(replay, 1, at, actor, "transition")

    def start_step(self, replay: Replay, position: int, at: int, actor: Any, action: str) -> None:
        """fulfilment._start_step."""
        steps = self.plan.steps
        step = steps[position - 1]
        state = replay.state
        self.tasks.append([position, desk.OPEN, at, None, None, ""])
        if state.status != "fulfilling":
            replay.moved(at, actor, action, "fulfilling")
        if state.team != step.team:
            old_team = self.team_names.get(state.team) if state.team is not None else None
            replay.note(at, actor, action, "team", old_team, step.team_name)
            state.team = step.team
        if state.assignee is not None:
            replay.note(at, actor, action, "assignee", self.agent_names[state.assignee], None)
            state.assignee = None
        replay.note(at, actor, "task.start", "task", None, step.name)
        self.notices.append(
            (step.team, at, desk.step_notice(self.number, position, len(steps), step.name))
        )
        self._reply(
            replay,
            at,
            actor,
            desk.said_step_started(
                position, len(steps), step.name, step.team_name, step.minutes, self.day_minutes
            ),
        )

    def step_done(self, replay: Replay, at: int, actor: Any, note: str) -> None:
        """fulfilment.complete_task: the open step done by `actor` (one of its team)."""
        steps = self.plan.steps
        task = self.tasks[-1]
        position = task[0]
        step = steps[position - 1]
        task[1:] = [desk.DONE, task[2], at, actor, note]
        replay.note(at, actor, "task.done", "task", step.name, desk.DONE)
        self._reply(replay, at, actor, desk.said_step_done(position, len(steps), step.name))
        replay.responded("reply", at, actor, "task.done")
        if position < len(steps):
            self.start_step(replay, position + 1, at, actor, "task.done")
            return
        # tickets._fulfil: whoever ends the work holds the request, which is fulfilled.
        replay.fulfil(at, actor, "task.done", "fulfilled", desk.fulfilled_notes(self.plan.item))
        self._reply(replay, at, actor, desk.said_fulfilled(self.number))

    def task_rows(self, tid: int) -> list[tuple[Any, ...]]:
        steps = self.plan.steps
        return [
            (
                tid,
                position,
                len(steps),
                steps[position - 1].name,
                steps[position - 1].team,
                steps[position - 1].minutes,
                status,
                started,
                ended,
                done_by,
                note,
            )
            for position, status, started, ended, done_by, note in self.tasks
        ]
