"""A seeded ticket's story played through the desk's rules: each write moves the SLA clocks
as desk/tickets.py would (status moves, the first response, resolution, reopening),
and between writes the escalator sweeps whatever came due. What a sweep does to the
ticket (a reassignment to the escalation team) is answered the way a desk answers it:
an agent of the new team takes the ticket over and the story goes on with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from itsm_tui.data.seed.escalations import SweepWriter, TicketState, sweep_tick
from itsm_tui.data.seed.sla import MICRO, TicketClocks
from itsm_tui.data.seed.story import Event, SeedTicket
from itsm_tui.desk import sla
from itsm_tui.desk.fulfilment import promise_of
from itsm_tui.desk.records import audit_value
from itsm_tui.domain.calendar import BusinessCalendar
from itsm_tui.domain.workflow import INCIDENT, WORKFLOWS

if TYPE_CHECKING:
    from itsm_tui.data.seed.fulfilment import PlannedRequest

# How soon someone of the escalation team takes a ticket a breach moved to them.
TAKE_OVER_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Promise:
    """What a catalogue request's promise needs (fulfilment.promise_of): its item's delivery
    standard, the calendar of the policy that times it, and the seed's time origin."""

    minutes: int
    calendar: BusinessCalendar
    base: datetime  # seed second 0, in UTC

    def at(self, start: int) -> datetime:
        return promise_of(self.calendar, self.base + timedelta(seconds=start), self.minutes)


@dataclass(frozen=True, slots=True)
class DeskFacts:
    """What every replay of a run consults: agents by name and their teams, what counts
    as the first response on this desk, and the seed's time origin (seed second 0, UTC)."""

    agent_id: dict[str, int]
    agent_team: dict[int, int]
    met_by: tuple[str, ...]
    base: datetime


# The reason a seeded reopen gives (reopen_ticket keeps it on its events and as a work note).
REOPEN_REASON = "Requester reports the fault is back."
# How the audit log reads the open flag (records.audit_value of a bool).
_FLAG = {True: "true", False: "false"}


class Replay:
    """Plays one ticket's writes in time order with the sweeps between them."""

    def __init__(
        self,
        tk: SeedTicket,
        clocks: TicketClocks | None,
        index: Any,
        sweeps: SweepWriter,
        facts: DeskFacts,
        promise: Promise | None = None,
        planned: PlannedRequest | None = None,
    ) -> None:
        self.tk, self.clocks, self.index, self.sweeps = tk, clocks, index, sweeps
        self.promise, self.planned = promise, planned
        # The request's promised instant, once the desk has made one (fulfilment._promise).
        self.promised_at: datetime | None = None
        self.facts = facts
        self.flow = WORKFLOWS[tk.tname]
        self.state = TicketState(
            tid=tk.tid,
            number=tk.number,
            tname=tk.tname,
            team=tk.team,
            assignee=None,
            status=tk.initial_status,
            priority=tk.priority,
        )
        self.first_response: int | None = None
        # What the desk's writes have stamped on the ticket so far.
        self.approved_by: int | None = None
        self.approved_at: int | None = None
        self.closed_at: int | None = None
        self.resolved_at: int | None = None
        self.reopens = 0
        # A problem's analysis as the desk's writes left it, each with when it was written.
        self.root_cause = ""
        self.root_cause_at: int | None = None
        self.workaround = ""
        self.workaround_at: int | None = None
        # When it became a major incident (the first incident linked under it): at, actor,
        # and its team and assignee then (whom raise_major_incident tells).
        self.made_major: tuple[int, Any, Any, Any] | None = None
        # Comments a write adds besides the story's own (a reopen's reason):
        # (at, author, kind, body).
        self.comments: list[tuple[int, Any, str, str]] = []
        # (at, actor, action, field, old, new, version, reason), in the order written.
        self.audit: list[tuple[Any, ...]] = []
        # The author of each of the story's comments, in the order written.
        self.authors: list[Any] = []
        # After a take-over, the agent who now does what the story gave the old one.
        self.stand_in: dict[int, int] = {}

    def run(self, now: int) -> None:
        events = list(self.tk.events)
        state = self.state
        self._write(events[0])
        i = 1
        clocks = self.clocks
        while True:
            story_at = events[i][0] if i < len(events) else None
            nxt = clocks.next_event() if clocks is not None else None
            if nxt is not None and story_at is not None and nxt > story_at * MICRO:
                nxt = None  # nothing comes due before the next write
            tick = sweep_tick(nxt) if nxt is not None else None
            if story_at is None and tick is not None and tick > now >= -(-nxt // MICRO):
                # The seed ends with a sweep at `now` (as `itsm escalate` would run): no
                # clock is left overdue but unfired for the first view that reads it.
                tick = now
            if tick is not None and tick <= now and (story_at is None or tick <= story_at):
                assert self.clocks is not None
                self.sweeps.sweep(state, self.clocks, self.index, tick)
                if state.audit:
                    state.version += 1
                    for fld, old, new, reason in state.audit:
                        self.audit.append(
                            (tick, None, "escalation", fld, old, new, state.version, reason)
                        )
                    state.audit.clear()
                if state.reassigned:
                    take = self._take_over(tick, story_at, now)
                    if take is not None:
                        events.insert(i, take)
                continue
            if story_at is None:
                break
            self._write(events[i])
            i += 1

    def _take_over(self, at: int, story_at: int | None, now: int) -> Event | None:
        """The team a breach moved the ticket to carries its story on: one of its agents
        does what the story gave the old team's agent, and takes the ticket over at
        once when the breach took it from someone."""
        state, tk = self.state, self.tk
        taken_from = state.taken_from
        state.reassigned, state.taken_from = False, None
        pool = self.sweeps.teams.agents.get(state.team or 0) or []
        if not pool:
            return None
        agent = pool[state.tid % len(pool)]
        # Whoever the story or an earlier take-over had working on it, the new agent now.
        olds = {tk.assignee, tk.assignee_pick, taken_from, *self.stand_in, *self.stand_in.values()}
        for old in olds - {None, agent}:
            self.stand_in[old] = agent
        self.stand_in.pop(agent, None)
        if taken_from is None:
            return None
        when = at + TAKE_OVER_SECONDS
        if story_at is not None:
            when = min(when, at + (story_at - at) // 2)
        if when > now:
            return None
        name = self.sweeps.teams.agent_name[agent]
        if state.tname == INCIDENT and state.status == "new":
            return (when, agent, "transition", "status", "new", "in_progress")
        return (when, agent, "assign", "assignee", None, name)

    def _write(self, event: Event) -> None:
        """One desk write of the story, with every audit event the desk's function writes
        in it (desk/tickets.py, in its order) and what it does to the clocks."""
        at, actor, action, fld, old, new = event
        state = self.state
        if action == "task.done":
            # fulfilment.complete_task, by a member of the step's team (whoever a breach
            # moved the request to does not stand in: the step stays with its team).
            assert self.planned is not None
            state.version += 1
            self.planned.step_done(self, at, actor, new)
            return
        if actor is not None and action != "link":
            # A link is made by whoever runs the other record, not by this ticket's agent.
            actor = self.stand_in.get(actor, actor)
        elif action == "transition" and new == "closed":
            # The close a few days after the work ended: by whoever holds the ticket, or
            # (a request turned down) its approver, as a person closes it at the desk.
            actor = state.assignee if state.assignee is not None else self.approved_by
        names = self.sweeps.teams.agent_name
        if action == "assign":
            agent = self.facts.agent_id[new]
            agent = self.stand_in.get(agent, agent)
            if agent == state.assignee:
                return  # the take-over did it already
            state.version += 1
            # assign_ticket: giving it to a person moves it to that person's team.
            team = self.facts.agent_team.get(agent)
            if team is not None and team != state.team:
                teams = self.sweeps.teams.name
                old_team = teams[state.team] if state.team is not None else None
                self.note(at, actor, action, "team", old_team, teams[team])
                state.team = team
            old = names.get(state.assignee) if state.assignee else None
            state.assignee = agent
            self.note(at, actor, action, "assignee", old, names[agent])
            if state.tname == INCIDENT and state.status == "new":
                self.moved(at, actor, action, "assigned")
        elif action == "resolve":
            if new == state.status:
                return  # the take-over did it already
            state.version += 1
            tk = self.tk
            self.fulfil(at, actor, action, tk.code, tk.res_notes)
        elif action == "reopen":
            if new == state.status:
                return
            state.version += 1
            self.reopen(at, actor)
        elif action == "transition":
            if new == state.status:
                return  # the take-over did it already
            state.version += 1
            self.transition(at, actor, new)
        elif action == "root_cause":
            self.record_root_cause(at, actor, new)
        elif action == "workaround":
            self.publish_workaround(at, actor, new)
        else:
            state.version += 1
            self.note(at, actor, action, fld, old, new)
            if action == "comment.reply":
                self._responded("reply", at, actor, "comment")
            elif action == "link" and fld == "is_major":
                self.made_major = (at, actor, state.team, state.assignee)
        if fld == "comment":
            # Written by whoever now carries the story (a take-over's agent).
            self.authors.append(actor)
        if self.promise is not None and (
            (action == "create" and state.status != "awaiting_approval")
            or (action == "transition" and new == "approved")
        ):
            self._promise(at, actor, action)
        planned = self.planned
        if planned is not None:
            if action == "create":
                planned.created(self, at, actor)
            elif action == "transition" and new in ("approved", "rejected"):
                planned.decided(self, at, actor, new == "approved")

    def transition(self, at: int, actor: Any, target: str) -> None:
        """tickets.transition_ticket's events (but the request's promise and steps)."""
        state = self.state
        action = "transition"
        if target == "in_progress" and state.assignee is None:
            # Whoever starts the work holds the ticket.
            state.assignee = actor
            self.note(at, actor, action, "assignee", None, self.sweeps.teams.agent_name[actor])
        self.moved(at, actor, action, target)
        if target == "in_progress":
            self._responded("in_progress", at, actor, action)
        if target in ("approved", "rejected"):
            self.approved_by, self.approved_at = actor, at
            self.note(at, actor, action, "approved_by", None, self.sweeps.teams.agent_name[actor])
            self.note(at, actor, action, "approved_at", None, self.stamp(at))
        if target in ("closed", "cancelled", "rejected") and self.closed_at is None:
            self.closed_at = at
            self.note(at, actor, action, "closed_at", None, self.stamp(at))

    def record_root_cause(self, at: int, actor: Any, cause: str) -> None:
        """problems.record_root_cause (no analysis): the cause in one write; a new problem
        then moves to investigating in the next."""
        state = self.state
        state.version += 1
        self.note(at, actor, "update", "root_cause", self.root_cause, cause)
        self.root_cause, self.root_cause_at = cause, at
        if state.status == "new":
            state.version += 1
            self.transition(at, actor, "investigating")

    def publish_workaround(self, at: int, actor: Any, workaround: str) -> None:
        """problems.publish_workaround: the workaround and the known-error flag in one write,
        then the move to known_error in the next."""
        state = self.state
        state.version += 1
        self.note(at, actor, "update", "workaround", self.workaround, workaround)
        if self.workaround_at is None:
            self.note(at, actor, "update", "known_error", _FLAG[False], _FLAG[True])
        self.workaround, self.workaround_at = workaround, at
        if state.status != "known_error":
            state.version += 1
            self.transition(at, actor, "known_error")

    def fulfil(self, at: int, actor: Any, action: str, code: Any, notes: Any) -> None:
        """tickets._fulfil: resolve (fulfil) within the write `action`."""
        state = self.state
        if state.assignee is None:
            state.assignee = actor
            self.note(at, actor, action, "assignee", None, self.sweeps.teams.agent_name[actor])
        # A resolution answers the requester too, whatever counts as a response here.
        self._responded("resolution", at, actor, action)
        self.note(at, actor, action, "resolution_code", None, code)
        self.note(at, actor, action, "resolution_notes", None, notes)
        self.resolved_at = at
        self.note(at, actor, action, "resolved_at", None, self.stamp(at))
        target = self.flow.resolved
        assert target is not None
        self.moved(at, actor, action, target)

    def reopen(self, at: int, actor: Any) -> None:
        """tickets.reopen_ticket: back into work, the resolution undone, the reason kept
        (on each event, and as a work note of the same write)."""
        tk, why = self.tk, REOPEN_REASON
        assert self.flow.reopen_to is not None and self.resolved_at is not None
        self.moved(at, actor, "reopen", self.flow.reopen_to, why)
        for fld, old in (
            ("resolved_at", self.stamp(self.resolved_at)),
            ("resolution_code", tk.code),
            ("resolution_notes", tk.res_notes),
        ):
            self.note(at, actor, "reopen", fld, old, None, why)
        self.resolved_at = None
        self.reopens += 1
        self.note(
            at, actor, "reopen", "reopen_count", str(self.reopens - 1), str(self.reopens), why
        )
        self.note(at, actor, "comment.work_note", "comment", None, "work_note", why)
        self.comments.append((at, actor, "work_note", why))

    def moved(self, at: int, actor: Any, action: str, target: str, why: str | None = None) -> None:
        """tickets._move: the status, the open flag when it changes, and the clocks."""
        old = self.state.status
        self.note(at, actor, action, "status", old, target, why)
        was_open, is_open = self.flow.is_open(old), self.flow.is_open(target)
        if was_open != is_open:
            self.note(at, actor, action, "is_open", _FLAG[was_open], _FLAG[is_open], why)
        self._move(target, at)

    def stamp(self, at: int) -> str:
        """An instant as the audit log reads it (records.audit_value of a datetime)."""
        return (self.facts.base + timedelta(seconds=at)).isoformat()

    def note(
        self,
        at: int,
        actor: Any,
        action: str,
        fld: str | None,
        old: Any,
        new: Any,
        why: str | None = None,
    ) -> None:
        """One more audit event of the write being played (Edit.set / Edit.note)."""
        self.audit.append((at, actor, action, fld, old, new, self.state.version, why))

    def promise_minutes(self) -> int:
        assert self.promise is not None
        return self.promise.minutes

    def _promise(self, at: int, actor: Any, action: str) -> None:
        """fulfilment.request_created / request_decided: the promise counts from the
        submission, or from the approval when the request waited for one (a rejection
        keeps whatever was promised), audited in the write that makes it."""
        assert self.promise is not None
        promised = self.promise.at(at)
        if promised == self.promised_at:
            return
        old, self.promised_at = self.promised_at, promised
        self.note(at, actor, action, "promised_at", audit_value(old), audit_value(promised))

    def responded(self, how: str, at: int, actor: Any, action: str) -> None:
        self._responded(how, at, actor, action)

    def _move(self, target: str, at: int) -> None:
        old = self.state.status
        self.state.status = target
        if self.clocks is not None:
            self.clocks.status_changed(old, target, at)

    def _responded(self, how: str, at: int, actor: Any, action: str) -> None:
        """desk.tickets._responded: the first response, if `how` counts as one here,
        audited in the write `action` that gave it."""
        if self.first_response is not None:
            return
        if how != "resolution" and how not in self.facts.met_by:
            return
        if how == "reply" and not self.flow.is_open(self.state.status):
            return
        self.first_response = at
        self.note(at, actor, action, "first_response_at", None, self.stamp(at))
        if self.clocks is not None:
            self.clocks.meet(sla.RESPONSE, at)


def audit_rows(replay: Replay, first_id: int) -> list[tuple[Any, ...]]:
    """The replay's audit events as rows, `at` in seed seconds (stamped by the writer)."""
    tk = replay.tk
    return [
        (first_id + k, at, actor, "ticket", tk.tid, tk.number, action, fld, old, new, v, why)
        for k, (at, actor, action, fld, old, new, v, why) in enumerate(replay.audit)
    ]
