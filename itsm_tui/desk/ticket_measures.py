"""What a ticket in a desk export carries besides its own columns, and its import.

The KPIs read these (data/kpi): the SLA clocks as they measured the ticket (due, breached,
paused and counted time: a response figure is the clock's counted time, never
recomputed), the escalations they fired, the time booked with its cost at booking, the
requester's survey, and the reassignments (audit events of a team or assignee change).
Each travels nested in its ticket's record, so a file streams one ticket at a time and
the import writes them in the ticket's own batch, by bulk INSERT.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm_tui.data.models import Escalation, SlaClock, SlaPolicy, Survey, TimeEntry
from itsm_tui.data.sla_standing import BREACHED, CANCELLED, MET, PAUSED, RUNNING
from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import check_text
from itsm_tui.i18n import _

if TYPE_CHECKING:
    from itsm_tui.desk.ticket_records import TicketRecord

CLOCK_KINDS = ("response", "resolution")
CLOCK_STATES = (RUNNING, PAUSED, MET, BREACHED, CANCELLED)
ESCALATION_KINDS = ("warning", "breach", "escalation")
REASSIGNED_FIELDS = ("team", "assignee")
SURVEY_RATINGS = range(1, 6)


@dataclass(frozen=True, kw_only=True)
class ClockRecord:
    """One SLA clock as the desk kept it (docs/sla.md names each field)."""

    kind: str
    # The SLA policy by name (desk file); None when none matched.
    policy: str | None = None
    target_minutes: int
    started_at: datetime
    due_at: datetime | None = None
    state: str
    running_since: datetime | None = None
    paused_at: datetime | None = None
    paused_seconds: int = 0
    spent_seconds: int = 0
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    fired_percent: int = 0
    warnings_fired: int = 0
    next_event_at: datetime | None = None
    escalation_level: int = 0


@dataclass(frozen=True, kw_only=True)
class EscalationRecord:
    """A warning, breach or escalation level a clock fired."""

    clock: str | None = None  # the kind of the clock that fired it
    kind: str
    level: int
    at: datetime
    rule: str | None = None
    reason: str = ""
    actions: list[Any] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TimeEntryRecord:
    """Time booked on the ticket, with its cost at the agent's rate when booked."""

    agent: str | None = None
    minutes: int
    cost: Decimal
    logged_at: datetime
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SurveyRecord:
    rating: int
    comment: str = ""
    submitted_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReassignmentRecord:
    """A team or assignee change: the reassignment KPI counts each version once."""

    at: datetime
    field: str
    old: str
    new: str | None = None
    by: str | None = None
    action: str = "assign"
    version: int | None = None


# ---------------------------------------------------------------------------
# Checks that need no database


def check_measures(record: TicketRecord) -> None:
    """Refuse what the store cannot hold or the KPIs would misread, naming the part."""
    kinds = [c.kind for c in record.sla_clocks]
    for n, clock in enumerate(record.sla_clocks, start=1):
        where = _("SLA clock {n}").format(n=n)
        _one_of(clock.kind, CLOCK_KINDS, f"{where} kind")
        _one_of(clock.state, CLOCK_STATES, f"{where} state")
        for name in ("target_minutes", "paused_seconds", "spent_seconds", "fired_percent"):
            _not_negative(getattr(clock, name), f"{where} {name}")
        if clock.stopped_at is not None and clock.stopped_at < clock.started_at:
            raise InvalidInput(_("{where} stopped before it started").format(where=where))
    repeated = sorted({k for k in kinds if kinds.count(k) > 1})
    if repeated:
        raise InvalidInput(
            _("a ticket has one {kind} clock at most").format(kind=", ".join(repeated))
        )
    for n, esc in enumerate(record.escalations, start=1):
        where = _("escalation {n}").format(n=n)
        _one_of(esc.kind, ESCALATION_KINDS, f"{where} kind")
        if esc.clock is not None and esc.clock not in kinds:
            raise InvalidInput(
                _("{where} names a {kind} clock the ticket does not have").format(
                    where=where, kind=esc.clock
                )
            )
        check_text(esc.reason, f"{where} reason")
    for n, entry in enumerate(record.time_entries, start=1):
        where = _("time entry {n}").format(n=n)
        _not_negative(entry.minutes, f"{where} minutes")
        if entry.cost < 0 or entry.cost.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidInput(
                _("{where} cost {cost} must be 0 or more, in cents at most").format(
                    where=where, cost=entry.cost
                )
            )
        check_text(entry.note, f"{where} note")
    if record.survey is not None:
        if record.survey.rating not in SURVEY_RATINGS:
            raise InvalidInput(
                _("survey rating {rating} must be 1 to 5").format(rating=record.survey.rating)
            )
        check_text(record.survey.comment, _("survey comment"))
    for n, move in enumerate(record.reassignments, start=1):
        _one_of(move.field, REASSIGNED_FIELDS, _("reassignment {n} field").format(n=n))


def _one_of(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise InvalidInput(
            _("{what} {value!r} is not one of {allowed}").format(
                what=what, value=value, allowed=", ".join(allowed)
            )
        )


def _not_negative(value: int, what: str) -> None:
    if value < 0:
        raise InvalidInput(
            _("{what} must be 0 or more, not {value}").format(what=what, value=value)
        )


def measure_times(record: TicketRecord) -> list[tuple[str, datetime]]:
    """Every time the ticket's measures carry, for the import's "not in the future" check."""
    times: list[tuple[str, datetime | None]] = []
    for c in record.sla_clocks:
        times += [(f"{c.kind} clock started_at", c.started_at), (f"{c.kind} clock", c.stopped_at)]
    times += [(_("escalation"), e.at) for e in record.escalations]
    times += [(_("time entry"), t.logged_at) for t in record.time_entries]
    times += [(_("reassignment"), m.at) for m in record.reassignments]
    if record.survey is not None:
        times.append((_("survey"), record.survey.submitted_at))
    return [(what, at) for what, at in times if at is not None]


# ---------------------------------------------------------------------------
# Writing a batch


class MeasureWriter:
    """Writes the measures of one batch of imported tickets, a bulk INSERT per table."""

    def __init__(self, session: Session, agent: Callable[[str | None, str], int | None]) -> None:
        self.session = session
        self.agent = agent
        self.policies = dict(session.execute(select(SlaPolicy.name, SlaPolicy.id)).all())
        self.clocks = self.time_entries = self.surveys = self.escalations = 0

    def policy(self, name: str | None) -> int | None:
        if name is None:
            return None
        if name not in self.policies:
            raise InvalidInput(
                _("SLA policy {name!r} is not on this desk; policies: {known}").format(
                    name=name, known=", ".join(sorted(self.policies)) or "—"
                )
            )
        return self.policies[name]

    def check_names(self, record: TicketRecord) -> None:
        """Names resolved while the record is read, so an error names its line."""
        for clock in record.sla_clocks:
            self.policy(clock.policy)
        for entry in record.time_entries:
            self.agent(entry.agent, _("time entry agent"))
        for move in record.reassignments:
            self.agent(move.by, _("reassigned by"))

    def write(self, batch: list[tuple[int, str, TicketRecord]]) -> list[dict[str, Any]]:
        """Clocks, escalations, time and surveys of (ticket id, number, record); returns the
        reassignments' audit rows for the caller's one audit INSERT."""
        clock_rows = [
            {
                "ticket_id": ticket_id,
                "kind": c.kind,
                "policy_id": self.policy(c.policy),
                "target_minutes": c.target_minutes,
                "started_at": c.started_at,
                "due_at": c.due_at,
                "state": c.state,
                "running_since": c.running_since,
                "paused_at": c.paused_at,
                "paused_seconds": c.paused_seconds,
                "spent_seconds": c.spent_seconds,
                "stopped_at": c.stopped_at,
                "breached_at": c.breached_at,
                "fired_percent": c.fired_percent,
                "warnings_fired": c.warnings_fired,
                "next_event_at": c.next_event_at,
                "escalation_level": c.escalation_level,
            }
            for ticket_id, _number, record in batch
            for c in record.sla_clocks
        ]
        if clock_rows:
            self.session.execute(SlaClock.__table__.insert(), clock_rows)
            self.clocks += len(clock_rows)
        escalated = [(ticket_id, r) for ticket_id, _n, r in batch if r.escalations]
        if escalated:
            clock_ids = {
                (ticket_id, kind): id_
                for id_, ticket_id, kind in self.session.execute(
                    select(SlaClock.id, SlaClock.ticket_id, SlaClock.kind).where(
                        SlaClock.ticket_id.in_([t for t, _r in escalated])
                    )
                )
            }
            rows = [
                {
                    "ticket_id": ticket_id,
                    "clock_id": clock_ids.get((ticket_id, e.clock)) if e.clock else None,
                    "kind": e.kind,
                    "level": e.level,
                    "at": e.at,
                    "rule": e.rule,
                    "reason": e.reason,
                    "actions": e.actions,
                }
                for ticket_id, record in escalated
                for e in record.escalations
            ]
            self.session.execute(Escalation.__table__.insert(), rows)
            self.escalations += len(rows)
        time_rows = [
            {
                "ticket_id": ticket_id,
                "agent_id": self.agent(t.agent, _("time entry agent")),
                "minutes": t.minutes,
                "cost": t.cost,
                "logged_at": t.logged_at,
                "note": t.note,
            }
            for ticket_id, _number, record in batch
            for t in record.time_entries
        ]
        if time_rows:
            self.session.execute(TimeEntry.__table__.insert(), time_rows)
            self.time_entries += len(time_rows)
        survey_rows = [
            {
                "ticket_id": ticket_id,
                "rating": r.survey.rating,
                "comment": r.survey.comment,
                "submitted_at": r.survey.submitted_at,
            }
            for ticket_id, _number, r in batch
            if r.survey is not None
        ]
        if survey_rows:
            self.session.execute(Survey.__table__.insert(), survey_rows)
            self.surveys += len(survey_rows)
        return [
            {
                "at": m.at,
                "actor_id": self.agent(m.by, _("reassigned by")),
                "record_type": "ticket",
                "record_id": ticket_id,
                "record_number": number,
                "action": m.action,
                "field": m.field,
                "old_value": m.old,
                "new_value": m.new,
                "record_version": m.version,
                "reason": None,
            }
            for ticket_id, number, record in batch
            for m in record.reassignments
        ]
