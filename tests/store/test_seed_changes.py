"""The seeded change history keeps the change process's rules: every change's audit trail
is a walk through its type's state machine, the CAB's quorum and membership hold, reviews
are there where required, holding changes do not conflict unless a change manager said
why, implementers are never in two changes at once, first-time success is near target."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data.change_outcomes import first_time_success_clause
from itsm_tui.data.change_schedule import HOLDING_STATUSES, find_conflicts
from itsm_tui.data.models import (
    AuditEvent,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    Ticket,
)
from itsm_tui.data.seed import seed_store
from itsm_tui.data.seed.catalogue import planned_request_count
from itsm_tui.data.store import Store
from itsm_tui.desk.changes import cab_members, needs_review, risk_facts
from itsm_tui.desk.changes.authorization import approvals_rule
from itsm_tui.desk.changes.common import questionnaire
from itsm_tui.desk.records import audit_value
from itsm_tui.domain import change_risk
from itsm_tui.domain.change_process import approvals_needed
from itsm_tui.domain.workflow import CHANGE_TYPES, CHANGE_WORKFLOWS

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
TICKETS = 6_000


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@pytest.fixture
def seeded(store: Store) -> Store:
    with store.write() as s:
        apply_config(s, load_default_desk(), now=NOW - timedelta(days=40))
    seed_store(store, tickets=TICKETS, days=45, seed=5, now=NOW)
    return store


def test_seeded_changes_keep_the_process_rules(seeded: Store) -> None:
    with seeded.read() as s:
        changes = list(s.scalars(select(Change).order_by(Change.id)))
        events: dict[int, list[AuditEvent]] = defaultdict(list)
        for e in s.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_type == "change")
            .order_by(AuditEvent.record_id, AuditEvent.record_version, AuditEvent.id)
        ):
            events[e.record_id].append(e)
        ballots: dict[int, list[ChangeApproval]] = defaultdict(list)
        for b in s.scalars(select(ChangeApproval)):
            ballots[b.change_id].append(b)

        # One change for every 50 tickets of the bulk history (the planned requests, written
        # through the desk after it, are not), every state of every type's machine.
        assert len(changes) == (TICKETS - planned_request_count(TICKETS)) // 50
        pairs = {(c.change_type, c.status) for c in changes}
        for kind in CHANGE_TYPES:
            for status in CHANGE_WORKFLOWS[kind].statuses:
                assert (kind, status) in pairs, (kind, status)

        for c in changes:
            flow = CHANGE_WORKFLOWS[c.change_type]
            trail = events[c.id]
            # The audit trail: one version per desk call, in time order, ending at the row.
            assert trail[0].record_version == 1
            versions = sorted({e.record_version for e in trail})
            assert versions == list(range(1, c.version + 1)), c.number
            times = [utc(e.at) for e in trail]
            assert times == sorted(times), c.number
            assert trail[0].action == "create"
            assert json.loads(trail[0].new_value)["type"] == c.change_type
            # Its statuses are a walk through its type's machine.
            status = flow.initial
            for e in trail:
                if e.field == "status":
                    assert e.old_value == status, c.number
                    assert flow.can_move(status, e.new_value), (c.number, status, e.new_value)
                    status = e.new_value
            assert status == c.status, c.number
            assert c.is_open == flow.is_open(c.status)
            # Every field an event set holds what the event says, unless set again later.
            last: dict[str, str | None] = {}
            for e in trail:
                if e.field in ("planned_start", "planned_end", "risk", "outcome", "quorum"):
                    last[e.field] = e.new_value
            for field, value in last.items():
                assert audit_value(_aware(getattr(c, field))) == value, (c.number, field)

            # The CAB: members only, never the requester or owner; quorum as the desk says.
            cast = ballots[c.id]
            members = {m.id for m in cab_members(s, c.change_type)}
            for b in cast:
                assert b.approver_id in members
                assert b.approver_id not in (c.owner_id, c.requested_by_id)
            approved = sum(b.decision == "approved" for b in cast)
            rejected = [b for b in cast if b.decision == "rejected"]
            if c.change_type == "standard":
                assert not cast
                assert (c.authorized_at is not None) == (c.submitted_at is not None)
            elif any(e.field == "status" and e.new_value == "authorization" for e in trail):
                needed = approvals_needed(approvals_rule(s, c), len(members))
                assert c.quorum == needed, c.number
                if c.authorized_at is not None:
                    assert approved >= c.quorum, c.number
                else:
                    assert approved < c.quorum, c.number
                assert (c.status == "rejected") == bool(rejected), c.number
                assert len(rejected) <= 1
            else:
                assert not cast
            if c.change_type == "normal" and c.status in ("scheduled", "implementing", "review"):
                assert c.authorized_at is not None
            if c.change_type == "emergency" and c.actual_start is not None:
                assert approved >= 1, c.number

            # Risk: what assess() gives for the kept answers and the rules' facts.
            if c.risk_answers is not None:
                facts = risk_facts(s, c)
                majors = tuple(
                    r["text"] for r in c.risk_reasons or () if r["key"] == "major_incident"
                )
                result = change_risk.assess(
                    questionnaire(s),
                    c.risk_answers,
                    change_risk.RiskFacts(
                        critical_services=facts.critical_services,
                        has_backout_plan=facts.has_backout_plan,
                        outside_maintenance=facts.outside_maintenance,
                        major_incident_services=("?",) if majors else (),
                    ),
                )
                assert (c.risk, c.risk_score) == (result.level, result.score), c.number
            # Implementation and review.
            if c.status in ("review", "closed"):
                assert c.outcome is not None and c.actual_start and c.actual_end
                assert c.actual_start <= c.actual_end
            if c.status == "closed" and needs_review(s, c):
                assert c.reviewed_at is not None and c.review_notes and c.lessons_learned
            if c.status == "implementing":
                assert c.actual_start is not None and utc(c.actual_start) <= NOW


def _aware(value: object) -> object:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def test_holding_changes_have_no_conflict_but_those_a_manager_accepted(seeded: Store) -> None:
    with seeded.read() as s:
        holding = list(s.scalars(select(Change).where(Change.status.in_(HOLDING_STATUSES))))
        assert len(holding) >= 6
        overridden = 0
        for c in holding:
            accepted = {(o["kind"], o["name"], o["starts_at"]) for o in c.schedule_overrides or ()}
            overridden += bool(accepted)
            found = find_conflicts(
                s,
                services=list(c.services),
                start=_aware(c.planned_start),
                end=_aware(c.planned_end),
                implementer_id=c.implementer_id,
                exclude_change_id=c.id,
            )
            left = [
                f.message
                for f in found
                if (f.kind, f.name, audit_value(f.starts_at)) not in accepted
            ]
            assert not left, (c.number, left)
        # Overrides carry their reason and the manager, in the record and the audit log.
        with_overrides = list(
            s.scalars(select(Change).where(Change.schedule_overrides.is_not(None)))
        )
        assert with_overrides
        for c in with_overrides:
            for o in c.schedule_overrides:
                assert o["reason"] and o["by"] == "change.manager" and o["conflict"]
            reasons = s.scalars(
                select(AuditEvent.reason).where(
                    AuditEvent.record_id == c.id,
                    AuditEvent.record_type == "change",
                    AuditEvent.field == "schedule_overrides",
                )
            ).all()
            assert reasons == [c.schedule_overrides[0]["reason"]]
        # A couple running now; scheduled ones in the coming weeks.
        assert any(c.status == "implementing" for c in holding)
        upcoming = [c for c in holding if c.status == "scheduled"]
        assert upcoming and all(utc(c.planned_start) > NOW for c in upcoming)


def test_implementers_are_never_in_two_changes_at_once(seeded: Store) -> None:
    with seeded.read() as s:
        rows = s.execute(
            select(Change.implementer_id, Change.planned_start, Change.planned_end, Change.number)
            .where(Change.implementer_id.is_not(None), Change.planned_start.is_not(None))
            .order_by(Change.implementer_id, Change.planned_start)
        ).all()
    assert len(rows) > 50
    for before, after in pairwise(rows):
        if before[0] == after[0]:
            assert before[2] <= after[1], (before[3], after[3])


def test_first_time_success_near_target_and_caused_incidents_linked(seeded: Store) -> None:
    with seeded.read() as s:
        ran = s.scalar(select(func.count()).where(Change.outcome.is_not(None)))
        good = s.scalar(
            select(func.count()).where(Change.outcome.is_not(None), first_time_success_clause())
        )
        outcomes = Counter(s.scalars(select(Change.outcome).where(Change.outcome.is_not(None))))
        assert ran and 0.90 <= good / ran < 1.0, (good, ran)
        assert outcomes["failed"] and outcomes["backed_out"]
        links = list(s.scalars(select(ChangeCausedIncident)))
        assert links
        for link in links:
            change = s.get_one(Change, link.change_id)
            incident = s.get_one(Ticket, link.ticket_id)
            assert incident.type == "incident"
            assert incident.opened_at >= change.actual_start
            assert incident.change_id is not None
            note = s.scalars(
                select(AuditEvent.new_value).where(
                    AuditEvent.record_id == change.id,
                    AuditEvent.record_type == "change",
                    AuditEvent.action == "link",
                )
            ).all()
            assert incident.number in note
        # Some changes were raised from problems: the problem names them back.
        raised = list(s.scalars(select(Change).where(Change.problem_id.is_not(None))))
        assert raised
        for c in raised:
            problem = s.get_one(Ticket, c.problem_id)
            assert problem.type == "problem"
            assert problem.opened_at <= c.opened_at
            create = s.scalars(
                select(AuditEvent.new_value).where(
                    AuditEvent.record_id == c.id,
                    AuditEvent.record_type == "change",
                    AuditEvent.action == "create",
                    AuditEvent.field.is_(None),
                )
            ).one()
            assert json.loads(create)["problem"] == problem.number


def test_change_history_runs_up_to_the_seeds_last_days(seeded: Store) -> None:
    """Closed changes are spread over the whole history, not its first half: the
    dashboard's default 30 days must hold changes that ran, as on a working desk."""
    with seeded.read() as s:
        closed = [
            utc(at)
            for at in s.scalars(
                select(Change.closed_at).where(
                    Change.outcome.is_not(None), Change.status == "closed"
                )
            )
        ]
    assert closed
    # Closes stop 3 days before the seed's end (the last ones are in review); the 10
    # days before that hold about their share of the 40-odd days' closes.
    last_ten_days = [at for at in closed if at >= NOW - timedelta(days=10)]
    assert len(last_ten_days) >= len(closed) // 12, (len(last_ten_days), len(closed))
    assert max(closed) <= NOW
