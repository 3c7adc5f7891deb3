"""The escalation sweep: fire every SLA event that has come due, exactly once.

One indexed UPDATE … RETURNING claims the clocks whose next event is due and
clears their `next_event_at` in the same statement. Under several sweepers at
once each clock is claimed by exactly one of them: on PostgreSQL the others wait
on the row lock and then re-check the WHERE against the committed row (whose next
event has moved on); on SQLite the sweep is one IMMEDIATE write transaction, so
sweepers take turns. The unique key of `escalations` (clock, kind, level) is the
database's own tripwire should that ever fail. Everything else — escalation rows,
notifications, reassignment, priority raises, audit events, the clocks' next
events — is written with bulk statements in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from itsm_tui.config.readers import oncall_rotations
from itsm_tui.data.models import (
    Agent,
    AuditEvent,
    CatalogueItem,
    Escalation,
    Notification,
    Service,
    SlaClock,
    SlaPolicy,
    Team,
    Ticket,
)
from itsm_tui.data.models import (
    BusinessCalendar as CalendarRow,
)
from itsm_tui.desk import paging, sla
from itsm_tui.desk.changes.schedule import announce_changes_starting
from itsm_tui.domain.calendar import BusinessCalendar, next_working_instant
from itsm_tui.domain.oncall import Rotation, on_call_at
from itsm_tui.domain.priority import priority_label
from itsm_tui.domain.workflow import INCIDENT
from itsm_tui.i18n import _
from itsm_tui.notify.outbox import enqueue

# Claimed clocks are read back in slices: bounded IN lists on both databases.
CHUNK = 2000

# Actions an escalation rule may name (the desk file is validated against this list).
ACTIONS = (
    "notify_assignee",
    "notify_team",
    "notify_supervisor",
    "notify_desk_manager",
    "reassign_escalation_team",
    "raise_priority",
    "page_on_call",
)


@dataclass
class SweepResult:
    """What one sweep did, as `itsm escalate --json` prints it."""

    warned: list[dict[str, Any]] = field(default_factory=list)
    breached: list[dict[str, Any]] = field(default_factory=list)
    escalated: list[dict[str, Any]] = field(default_factory=list)
    # Pages sent by the rota: a chain's first and each one passed on (no tokens here).
    paged: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    # Changes whose window began: their `change_starting` notices were written.
    changes_starting: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "warned": self.warned,
            "breached": self.breached,
            "escalated": self.escalated,
            "paged": self.paged,
        }

    @property
    def empty(self) -> bool:
        return not (self.warned or self.breached or self.escalated or self.paged)

    def record_pages(self, sent: Sequence[paging.PageSent]) -> None:
        self.paged += [
            {
                "page": p.page_id,
                "number": p.number,
                "team": p.team,
                "agent": p.agent,
                "level": p.level,
            }
            for p in sent
        ]


@dataclass
class _Desk:
    """The small tables a sweep consults, read once."""

    policies: dict[int, SlaPolicy]
    calendars: dict[int, BusinessCalendar]
    rules: list[Any]
    teams: dict[int, Team]
    agent_names: dict[int, str]
    desk_manager_id: int | None
    rotations: dict[str, Rotation]
    active_agents: frozenset[str]

    @classmethod
    def load(cls, session: Session) -> _Desk:
        policies = {p.id: p for p in session.scalars(select(SlaPolicy))}
        calendars = {c.id: sla.calendar_of(c) for c in session.scalars(select(CalendarRow))}
        teams = {t.id: t for t in session.scalars(select(Team))}
        first_line = min(teams.values(), key=lambda t: (t.tier, t.name), default=None)
        return cls(
            policies=policies,
            calendars=calendars,
            rules=sla.all_rules(session),
            teams=teams,
            agent_names={i: name for i, name in session.execute(select(Agent.id, Agent.username))},
            # The desk manager is the supervisor of the first line (the lowest tier).
            desk_manager_id=first_line.supervisor_id if first_line else None,
            rotations=oncall_rotations(session),
            active_agents=frozenset(
                session.scalars(select(Agent.username).where(Agent.active.is_(True)))
            ),
        )

    def on_call(self, team: Team | None, now: datetime) -> str | None:
        """Who the rota pages for `team` at `now`; None: no rota, nobody yet, or inactive."""
        rotation = self.rotations.get(team.name) if team is not None else None
        holder = on_call_at(rotation, now) if rotation is not None else None
        return holder.agent if holder and holder.agent in self.active_agents else None

    def calendar(self, policy_id: int | None) -> BusinessCalendar:
        policy = self.policies.get(policy_id) if policy_id is not None else None
        return self.calendar_of_policy(policy)

    def calendar_of_policy(self, policy: SlaPolicy | None) -> BusinessCalendar:
        return sla.UTC_24X7 if policy is None else self.calendars[policy.calendar_id]

    @property
    def ranked_policies(self) -> list[SlaPolicy]:
        return sorted(self.policies.values(), key=lambda p: (p.rank, p.name))


@dataclass
class _TicketChange:
    """Accumulated changes to one ticket in this sweep (a ticket may fire several events)."""

    row: Any
    team_id: int | None
    assignee_id: int | None
    status: str
    priority: int
    escalation_level: int
    audit: list[tuple[str, str | None, str | None, str]] = field(default_factory=list)
    pages: list[paging.PageWanted] = field(default_factory=list)


# A priority raise can make a clock late at once; a sweep claims again for those, and a
# ticket rises at most three steps (P4 to P1), so a few rounds always suffice.
MAX_ROUNDS = 5


def sweep(session: Session, now: datetime) -> SweepResult:
    """Fire every due warning, breach and escalation level; the caller commits."""
    result = SweepResult()
    desk: _Desk | None = None
    for _round in range(MAX_ROUNDS):
        claimed = list(
            session.execute(
                update(SlaClock)
                .where(SlaClock.next_event_at <= now)
                .values(next_event_at=None)
                .returning(SlaClock.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        if not claimed:
            break
        desk = desk or _Desk.load(session)
        retargeted = False
        for start in range(0, len(claimed), CHUNK):
            chunk = sorted(claimed[start : start + CHUNK])
            retargeted |= _fire(session, desk, chunk, now, result)
        if not retargeted:
            break
    result.record_pages(paging.pass_on_unanswered(session, now))
    # Not a clock's event, but the same rhythm: a change's window beginning is told once.
    result.changes_starting = announce_changes_starting(session, now)
    return result


def _fire(
    session: Session, desk: _Desk, clock_ids: Sequence[int], now: datetime, result: SweepResult
) -> bool:
    """Fire these clocks' due events; True when a priority raise re-targeted a clock."""
    rows = session.execute(
        select(
            SlaClock.id,
            SlaClock.ticket_id,
            SlaClock.kind,
            SlaClock.policy_id,
            SlaClock.target_minutes,
            SlaClock.running_since,
            SlaClock.spent_seconds,
            SlaClock.fired_percent,
            SlaClock.warnings_fired,
            SlaClock.escalation_level,
            SlaClock.breached_at,
            SlaClock.due_at,
            SlaClock.state,
            Ticket.number,
            Ticket.type,
            Ticket.status,
            Ticket.priority,
            Ticket.team_id,
            Ticket.assignee_id,
            Ticket.escalation_level.label("ticket_level"),
            Ticket.version,
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(SlaClock.id.in_(clock_ids))
        .order_by(SlaClock.id)
    ).all()

    clock_updates: list[dict[str, Any]] = []
    escalations: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    tickets: dict[int, _TicketChange] = {}

    for row in rows:
        if row.running_since is None:
            continue  # stopped or paused after it was scheduled: nothing counts any more
        cal = desk.calendar(row.policy_id)
        policy = desk.policies.get(row.policy_id) if row.policy_id is not None else None
        change = tickets.get(row.ticket_id)
        if change is None:
            change = tickets[row.ticket_id] = _TicketChange(
                row=row,
                team_id=row.team_id,
                assignee_id=row.assignee_id,
                status=row.status,
                priority=row.priority,
                escalation_level=row.ticket_level,
            )
        events = sla.events_of(policy, desk.rules, row.kind, sla.TicketKey(row.type, row.priority))
        pending = sla.pending_events(events, row.fired_percent, row.escalation_level)

        def at(percent: float, row: Any = row, cal: BusinessCalendar = cal) -> datetime:
            return sla.instant_at_percent(
                cal, row.running_since, row.spent_seconds, row.target_minutes, percent
            )

        due = [e for e in pending if at(e.percent) <= now]
        later = [e for e in pending if at(e.percent) > now]
        fired_percent, warnings_fired = row.fired_percent, row.warnings_fired
        clock_level, breached_at, state = row.escalation_level, row.breached_at, row.state
        deliver_at = _delivery(cal, now)
        # Catching up after the sweeper was down: a warning that a breach overtakes in the
        # same sweep is recorded, but telling anyone about it would only be noise.
        overtaken = any(e.kind != "warning" for e in due)
        for event in due:
            fired_percent = max(fired_percent, event.percent)
            entry = {"number": row.number, "kind": row.kind}
            actions: list[str]
            ticket_wide = False
            if event.kind == "warning":
                warnings_fired += 1
                actions = (
                    []
                    if overtaken
                    else ["notify_assignee" if change.assignee_id else "notify_team"]
                )
                result.warned.append({**entry, "threshold": event.percent})
                message = _("{number}: {kind} SLA at {percent}% ({priority})").format(
                    number=row.number,
                    kind=row.kind,
                    percent=event.percent,
                    priority=priority_label(change.priority),
                )
                reason = _("{percent}% of the {kind} target elapsed").format(
                    percent=event.percent, kind=row.kind
                )
            elif event.kind == "breach":
                # When the target ran out: already known if a pause, a stop or a re-target
                # saw it first; else the due instant the write path stored.
                breached_at = breached_at or row.due_at or at(event.percent)
                state = sla.BREACHED
                actions = ["notify_assignee" if change.assignee_id else "notify_team"]
                result.breached.append(entry)
                message = _("{number} breached its {kind} SLA ({priority})").format(
                    number=row.number, kind=row.kind, priority=priority_label(change.priority)
                )
                reason = _("{kind} target of {minutes} business minutes missed").format(
                    kind=row.kind, minutes=row.target_minutes
                )
            else:
                rule = event.rule
                assert rule is not None
                clock_level = max(clock_level, event.level)
                actions = list(rule.actions)
                result.escalated.append({**entry, "level": event.level})
                message = _("{number} escalated to level {level}: {kind} SLA at {percent}%").format(
                    number=row.number, level=event.level, kind=row.kind, percent=event.percent
                )
                reason = _("rule {rule}: {percent}% of the {kind} target").format(
                    rule=rule.name, percent=event.percent, kind=row.kind
                )
                # Reassigning and raising priority act on the ticket: once per ticket level,
                # however many of its clocks reach that level.
                ticket_wide = event.level > change.escalation_level
                if ticket_wide:
                    change.audit.append(
                        ("escalation_level", str(change.escalation_level), str(event.level), reason)
                    )
                    change.escalation_level = event.level
            escalations.append(
                {
                    "ticket_id": row.ticket_id,
                    "clock_id": row.id,
                    "kind": event.kind,
                    "level": event.level,
                    "at": now,
                    "rule": event.rule.name if event.rule else None,
                    "reason": reason,
                    "actions": actions,
                }
            )
            # The notice's kind is the event's (warning, breach, escalation): routed apart.
            notice = event.kind
            notifications += _act(
                desk,
                change,
                actions,
                row,
                message,
                reason,
                notice,
                now,
                deliver_at,
                ticket_wide=event.kind == "escalation" and ticket_wide,
            )
        clock_updates.append(
            {
                "cid": row.id,
                "fired_percent": fired_percent,
                "warnings_fired": warnings_fired,
                "escalation_level": clock_level,
                "breached_at": breached_at,
                "state": state,
                "next_event_at": at(later[0].percent) if later else None,
            }
        )

    if clock_updates:
        table = SlaClock.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("cid"))
            .values(
                fired_percent=bindparam("fired_percent"),
                warnings_fired=bindparam("warnings_fired"),
                escalation_level=bindparam("escalation_level"),
                breached_at=bindparam("breached_at"),
                state=bindparam("state"),
                next_event_at=bindparam("next_event_at"),
            ),
            clock_updates,
        )
    if escalations:
        session.execute(Escalation.__table__.insert(), escalations)
    if notifications:
        ids = session.scalars(
            Notification.__table__.insert().returning(Notification.__table__.c.id),
            notifications,
        ).all()
        enqueue(session.connection(), ids)
        result.notifications += len(notifications)
    wanted = [p for c in tickets.values() for p in c.pages]
    if wanted:
        result.record_pages(paging.start_chains(session, wanted, desk.rotations, now))
    changed = [c for c in tickets.values() if c.audit]
    _write_tickets(session, changed, now)
    return _follow_ticket_changes(session, desk, changed, now)


def _delivery(cal: BusinessCalendar, now: datetime) -> datetime:
    """Outside working time a notice waits for the next working minute, unless 24x7."""
    return now if cal.always_open else next_working_instant(cal, now)


def _act(
    desk: _Desk,
    change: _TicketChange,
    actions: Sequence[str],
    row: Any,
    message: str,
    reason: str,
    kind: str,
    now: datetime,
    deliver_at: datetime,
    *,
    ticket_wide: bool,
) -> list[dict[str, Any]]:
    """Carry out one event's actions on the ticket's accumulated state; return its notices."""
    notices: list[dict[str, Any]] = []

    def notify(
        agent_id: int | None = None,
        team_id: int | None = None,
        *,
        kind: str = "escalation",
        when: datetime = deliver_at,
    ) -> None:
        if agent_id is None and team_id is None:
            return
        notices.append(
            {
                "agent_id": agent_id,
                "team_id": team_id,
                "ticket_id": row.ticket_id,
                "change_id": None,
                "kind": kind,
                "message": message,
                "created_at": now,
                "deliver_at": when,
                "read_at": None,
                "sent_at": None,
            }
        )

    for action in actions:
        # Actions run in the rule's order: after a reassignment, "the team" is the new one.
        team = desk.teams.get(change.team_id) if change.team_id is not None else None
        if action == "notify_assignee":
            notify(agent_id=change.assignee_id, kind=kind)
        elif action == "notify_team":
            notify(team_id=change.team_id, kind=kind)
        elif action == "notify_supervisor" and team is not None:
            notify(agent_id=team.supervisor_id)
        elif action == "notify_desk_manager":
            notify(agent_id=desk.desk_manager_id)
        elif action == "page_on_call" and team is not None and desk.on_call(team, now):
            # The rota's page chain: whoever is on call now, then the next if unanswered.
            change.pages.append(paging.PageWanted(row.ticket_id, row.number, team.id, reason))
        elif action == "page_on_call":
            # No rota (or nobody on it yet): the team and its supervisor, at once, whatever
            # the calendar says.
            notify(team_id=change.team_id, kind="page", when=now)
            if team is not None:
                notify(agent_id=team.supervisor_id, kind="page", when=now)
        elif action == "raise_priority" and ticket_wide and change.priority > 1:
            change.audit.append(
                (
                    "priority",
                    priority_label(change.priority),
                    priority_label(change.priority - 1),
                    reason,
                )
            )
            change.priority -= 1
        elif (
            action == "reassign_escalation_team"
            and ticket_wide
            and team is not None
            and team.escalation_team_id
        ):
            target = desk.teams[team.escalation_team_id]
            change.audit.append(("team", team.name, target.name, reason))
            change.team_id = target.id
            if change.assignee_id is not None:
                name = desk.agent_names.get(change.assignee_id)
                change.audit.append(("assignee", name, None, reason))
                change.assignee_id = None
            if row.type == INCIDENT and change.status in ("assigned", "in_progress"):
                # Nobody in the new team holds it yet: it waits in their queue as new.
                change.audit.append(("status", change.status, "new", reason))
                change.status = "new"
            # Tell the team that has it now.
            notify(team_id=change.team_id)
    return notices


def _write_tickets(session: Session, changes: Sequence[_TicketChange], now: datetime) -> None:
    if not changes:
        return
    table = Ticket.__table__
    session.execute(
        update(table)
        .where(table.c.id == bindparam("tid"))
        .values(
            team_id=bindparam("team_id"),
            assignee_id=bindparam("assignee_id"),
            status=bindparam("status"),
            priority=bindparam("priority"),
            escalation_level=bindparam("escalation_level"),
            version=table.c.version + 1,
            updated_at=bindparam("updated_at"),
        ),
        [
            {
                "tid": c.row.ticket_id,
                "team_id": c.team_id,
                "assignee_id": c.assignee_id,
                "status": c.status,
                "priority": c.priority,
                "escalation_level": c.escalation_level,
                "updated_at": now,
            }
            for c in changes
        ],
    )
    session.execute(
        AuditEvent.__table__.insert(),
        [
            {
                "at": now,
                "actor_id": None,
                "record_type": "ticket",
                "record_id": c.row.ticket_id,
                "record_number": c.row.number,
                "action": "escalation",
                "field": field_name,
                "old_value": old,
                "new_value": new,
                "record_version": c.row.version + 1,
                "reason": reason,
            }
            for c in changes
            for field_name, old, new, reason in c.audit
        ],
    )


def _follow_ticket_changes(
    session: Session, desk: _Desk, changes: Sequence[_TicketChange], now: datetime
) -> bool:
    """The clocks follow what the sweep did to their tickets, by the desk's own rules: a
    status move pauses or resumes them as a transition does, a priority raise re-targets
    them as an override does. Set-based: one read of the tickets, one of their clocks,
    batched writes. True when a clock was re-targeted (it may be due at once)."""
    moved = {
        c.row.ticket_id: c
        for c in changes
        if c.status != c.row.status or c.priority != c.row.priority
    }
    if not moved:
        return False
    ids = sorted(moved)
    facts = {
        r.id: r
        for r in session.execute(
            select(
                Ticket.id,
                Ticket.number,
                Ticket.type,
                Ticket.priority,
                Ticket.version,
                Service.name.label("service"),
                CatalogueItem.code.label("item"),
                CatalogueItem.fulfilment_minutes.label("standard"),
            )
            .outerjoin(Service, Service.id == Ticket.service_id)
            .outerjoin(CatalogueItem, CatalogueItem.id == Ticket.catalogue_item_id)
            .where(Ticket.id.in_(ids))
        )
    }
    clocks: dict[int, list[SlaClock]] = {}
    for clock in session.scalars(
        select(SlaClock)
        .where(SlaClock.ticket_id.in_(ids), SlaClock.stopped_at.is_(None))
        .order_by(SlaClock.id)
        # The claim and the bulk updates above went around the ORM: read what they wrote.
        .execution_options(populate_existing=True)
    ):
        clocks.setdefault(clock.ticket_id, []).append(clock)
    ranked = desk.ranked_policies
    audit: list[dict[str, Any]] = []
    retargeted = False
    for ticket_id in ids:
        change, fact = moved[ticket_id], facts[ticket_id]
        live = clocks.get(ticket_id, [])
        key = sla.TicketKey(fact.type, fact.priority)
        if change.status != change.row.status:
            for clock in live:
                sla.follow_status(
                    clock,
                    desk.calendar_of_policy(clock.policy),
                    fact.type,
                    change.row.status,
                    change.status,
                    now,
                )
        if change.priority != change.row.priority:
            policy = sla.matching_policy(ranked, fact.type, fact.priority, fact.service, fact.item)
            reason = next((r for f, _o, _n, r in change.audit if f == "priority"), None)
            for clock_moved in sla.retarget_clocks(
                live,
                policy,
                key,
                calendar=desk.calendar_of_policy,
                rules=desk.rules,
                now=now,
                standard=sla.standard_of(fact.type, fact.standard),
            ):
                retargeted = True
                audit += sla.retarget_audit(
                    clock_moved,
                    ticket_id=ticket_id,
                    number=fact.number,
                    version=fact.version,
                    priority=fact.priority,
                    actor_id=None,
                    now=now,
                    reason=reason,
                )
        for clock in live:
            sla.schedule(
                clock,
                desk.calendar_of_policy(clock.policy),
                sla.events_of(clock.policy, desk.rules, clock.kind, key),
            )
    if audit:
        session.execute(AuditEvent.__table__.insert(), audit)
    sla.refresh_sla_due(session, ids)
    return retargeted
