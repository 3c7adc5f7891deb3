"""The escalator's sweeps over one seeded ticket: warnings, breaches and escalation levels
fired once each, with the escalation rows, notifications and ticket changes that
itsm_tui/escalation/sweep.py writes for them (its `_fire` and `_act`, rule for rule;
the messages are its words). A seeded sweep runs on the escalator's 30-second ticks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from itsm_tui.data.seed.sla import MICRO, Clock, TicketClocks
from itsm_tui.desk import sla
from itsm_tui.domain.priority import priority_label
from itsm_tui.domain.workflow import INCIDENT
from itsm_tui.i18n import _

# The escalator's interval (escalation/scheduler.py): a due event is fired by the first
# sweep at or after it.
SWEEP_EVERY = 30

ESCALATION_COLUMNS = (
    "id",
    "ticket_id",
    "clock_id",
    "kind",
    "level",
    "at",
    "rule",
    "reason",
    "actions",
)
NOTIFICATION_COLUMNS = (
    "id",
    "agent_id",
    "team_id",
    "ticket_id",
    "change_id",
    "kind",
    "message",
    "created_at",
    "deliver_at",
    "read_at",
    "sent_at",
)

# NOTIFICATION_COLUMNS held in seed seconds (BulkWriter.insert's `stamped`).
NOTICE_STAMPED = ("created_at", "deliver_at", "read_at", "sent_at")


def sweep_tick(instant: int) -> int:
    """The first sweep (seconds) at or after an instant in µs."""
    step = SWEEP_EVERY * MICRO
    return -(-instant // step) * step // MICRO


@dataclass
class Teams:
    """What the sweep's actions consult: teams, their supervisors and escalation teams."""

    name: dict[int, str]
    supervisor: dict[int, int | None]
    escalation_team: dict[int, int | None]
    agents: dict[int, list[int]]
    agent_name: dict[int, str]
    desk_manager: int | None


@dataclass
class TicketState:
    """The ticket as the sweep sees and changes it (sweep._TicketChange)."""

    tid: int
    number: str
    tname: str
    team: int | None
    assignee: int | None
    status: str
    priority: int
    level: int = 0
    version: int = 0
    # Set when a breach moved the ticket to the escalation team: the assignee it took
    # the ticket from, if any (the replay hands the story on to the new team).
    reassigned: bool = False
    taken_from: int | None = None
    audit: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)


class SweepWriter:
    """Rows the seeded sweeps write, for one chunk of tickets (instants in seed seconds:
    the columns of ESCALATION_COLUMNS' `at` and NOTICE_STAMPED)."""

    def __init__(self, teams: Teams, now: int) -> None:
        self.teams, self.now = teams, now
        self.escalations: list[tuple[Any, ...]] = []
        self.notifications: list[tuple[Any, ...]] = []
        self.next_escalation = 0
        self.next_notification = 0

    def notice(
        self,
        agent: int | None,
        team: int | None,
        tid: int,
        kind: str,
        message: str,
        at: int,
        deliver_at: int | None = None,
    ) -> None:
        """One notice of a ticket, written at `at` and delivered at `deliver_at` (then).
        Later history, not the writer's: notices were sent out when due, and an agent read
        their own within a quarter of an hour."""
        when = at if deliver_at is None else deliver_at
        read = when + 900 if agent is not None and when + 900 <= self.now else None
        self.next_notification += 1
        self.notifications.append(
            (
                self.next_notification,
                agent,
                team,
                tid,
                None,
                kind,
                message,
                at,
                when,
                read,
                when if when <= self.now else None,
            )
        )

    def sweep(self, ticket: TicketState, clocks: TicketClocks, index: Any, at: int) -> None:
        """One sweep at `at` (seconds) over the ticket's clocks whose next event is due."""
        at_micro = at * MICRO
        deliver_at = index.next_working(at)
        for clock in clocks.clocks:  # in id order, as the sweep reads them
            if clock.next is None or clock.next > at_micro:
                continue
            clock.next = None  # the claim
            clock.scheduled = None
            if clock.running_since is None:
                continue
            self._fire(ticket, clock, at, at_micro, deliver_at)

    def _fire(
        self, ticket: TicketState, clock: Clock, at: int, at_micro: int, deliver_at: int
    ) -> None:
        pending = clock.pending()
        # Events in percent order fall due in that order: the first one still ahead ends it.
        due = []
        ahead = None
        for e in pending:
            when = clock.instant(e.percent)
            if when > at_micro:
                ahead = when
                break
            due.append(e)
        overtaken = any(e.kind != "warning" for e in due)
        kind, number = clock.kind, ticket.number
        for event in due:
            clock.fired = max(clock.fired, event.percent)
            ticket_wide = False
            if event.kind == "warning":
                clock.warnings += 1
                actions = (
                    [] if overtaken else ["notify_assignee" if ticket.assignee else "notify_team"]
                )
                message = _("{number}: {kind} SLA at {percent}% ({priority})").format(
                    number=number,
                    kind=kind,
                    percent=event.percent,
                    priority=priority_label(ticket.priority),
                )
                reason = _("{percent}% of the {kind} target elapsed").format(
                    percent=event.percent, kind=kind
                )
            elif event.kind == "breach":
                # When the target ran out: known already if a pause or a stop saw it,
                # else the due instant the write path stored.
                if clock.breached_at is None:
                    clock.breached_at = (
                        clock.due if clock.due is not None else clock.instant(event.percent)
                    )
                clock.state = sla.BREACHED
                actions = ["notify_assignee" if ticket.assignee else "notify_team"]
                message = _("{number} breached its {kind} SLA ({priority})").format(
                    number=number, kind=kind, priority=priority_label(ticket.priority)
                )
                reason = _("{kind} target of {minutes} business minutes missed").format(
                    kind=kind, minutes=clock.target
                )
            else:
                clock.level = max(clock.level, event.level)
                actions = list(event.actions)
                message = _("{number} escalated to level {level}: {kind} SLA at {percent}%").format(
                    number=number, level=event.level, kind=kind, percent=event.percent
                )
                reason = _("rule {rule}: {percent}% of the {kind} target").format(
                    rule=event.rule, percent=event.percent, kind=kind
                )
                ticket_wide = event.level > ticket.level
                if ticket_wide:
                    ticket.audit.append(
                        ("escalation_level", str(ticket.level), str(event.level), reason)
                    )
                    ticket.level = event.level
            self.next_escalation += 1
            self.escalations.append(
                (
                    self.next_escalation,
                    ticket.tid,
                    clock.id,
                    event.kind,
                    event.level,
                    at,
                    event.rule,
                    reason,
                    _actions_text(actions),
                )
            )
            notice = event.kind
            self._act(
                ticket,
                actions,
                message,
                reason,
                notice,
                at,
                deliver_at,
                ticket_wide=event.kind == "escalation" and ticket_wide,
            )
        clock.next = ahead
        clock.scheduled = None  # the sweep set next_event_at, not schedule

    def _act(
        self,
        ticket: TicketState,
        actions: list[str],
        message: str,
        reason: str,
        kind: str,
        at: int,
        deliver_at: int,
        *,
        ticket_wide: bool,
    ) -> None:
        teams = self.teams

        def notify(
            agent: int | None = None,
            team: int | None = None,
            *,
            kind: str = "escalation",
            when: int = deliver_at,
        ) -> None:
            if agent is None and team is None:
                return
            self.notice(agent, team, ticket.tid, kind, message, at, when)

        for action in actions:
            team = ticket.team
            if action == "notify_assignee":
                notify(agent=ticket.assignee, kind=kind)
            elif action == "notify_team":
                notify(team=team, kind=kind)
            elif action == "notify_supervisor" and team is not None:
                notify(agent=teams.supervisor.get(team))
            elif action == "notify_desk_manager":
                notify(agent=teams.desk_manager)
            elif action == "page_on_call":
                notify(team=team, kind="page", when=at)
                if team is not None:
                    notify(agent=teams.supervisor.get(team), kind="page", when=at)
            elif action == "raise_priority" and ticket_wide and ticket.priority > 1:
                ticket.audit.append(
                    (
                        "priority",
                        priority_label(ticket.priority),
                        priority_label(ticket.priority - 1),
                        reason,
                    )
                )
                ticket.priority -= 1
            elif (
                action == "reassign_escalation_team"
                and ticket_wide
                and team is not None
                and teams.escalation_team.get(team)
            ):
                target = teams.escalation_team[team]
                assert target is not None
                ticket.audit.append(("team", teams.name[team], teams.name[target], reason))
                ticket.team = target
                ticket.reassigned = True
                if ticket.assignee is not None:
                    name = teams.agent_name.get(ticket.assignee)
                    ticket.audit.append(("assignee", name, None, reason))
                    ticket.taken_from = ticket.assignee
                    ticket.assignee = None
                if ticket.tname == INCIDENT and ticket.status in ("assigned", "in_progress"):
                    ticket.audit.append(("status", ticket.status, "new", reason))
                    ticket.status = "new"
                notify(team=ticket.team)


_ACTIONS_TEXT: dict[tuple[str, ...], str] = {}


def _actions_text(actions: list[str]) -> str:
    """The JSON of an escalation's actions (a handful of distinct lists, encoded once)."""
    key = tuple(actions)
    text = _ACTIONS_TEXT.get(key)
    if text is None:
        text = _ACTIONS_TEXT[key] = json.dumps(actions)
    return text
